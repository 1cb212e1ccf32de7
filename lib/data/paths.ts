/**
 * Where data sets live: `--data-dir` (or a factory's `dir` option), else $SEPCONV_DATA, else
 * ./datasets. One rule for every command, and one message when a data set is not there.
 */
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SepconvError } from '../errors.js';

export interface DataDir {
  /** Absolute folder that holds cifar-10-batches-bin/, oxford-iiit-pet/, … */
  dir: string;
  /** Which rule chose it, for messages. */
  from: '--data-dir' | '$SEPCONV_DATA' | 'the default ./datasets';
}

/**
 * Resolves the data folder: an explicit value (a `--data-dir` flag or `dir` option) wins, then
 * $SEPCONV_DATA, then ./datasets (relative to the working directory).
 *
 * @example
 * const { dir } = sc.data.resolveDataDir(flags['data-dir']);
 */
export function resolveDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): DataDir {
  if (explicit) return { dir: resolve(explicit), from: '--data-dir' };
  if (env.SEPCONV_DATA) return { dir: resolve(env.SEPCONV_DATA), from: '$SEPCONV_DATA' };
  return { dir: resolve('datasets'), from: 'the default ./datasets' };
}

/** The ids `npm run datasets -- <id>` accepts, with what each downloads into. */
export const DATASETS = {
  cifar10: { title: 'CIFAR-10', folder: 'cifar-10-batches-bin', command: 'cifar10' },
  'oxford-pets': { title: 'Oxford-IIIT Pet', folder: 'oxford-iiit-pet', command: 'pets' },
} as const;
export type DatasetId = keyof typeof DATASETS;

export class DatasetNotFoundError extends SepconvError {
  override name = 'DatasetNotFoundError';
}

/** The data set's folder under the resolved data dir, or one clear error saying where we looked. */
export async function locateDataset(op: string, id: DatasetId, explicitDir: string | undefined): Promise<string> {
  const { dir, from } = resolveDataDir(explicitDir);
  const { title, folder, command } = DATASETS[id];
  const path = join(dir, folder);
  const found = await stat(path).then((s) => s.isDirectory(), () => false);
  // A data folder pointing at the data set itself: name its parent rather than suggest a nested download.
  if (!found && basename(dir) === folder)
    throw new DatasetNotFoundError(
      `${op}: ${title} not found: ${dir} (from ${from}) is the ${folder}/ folder itself; the data folder is the one that holds it: ` +
        `use ${dirname(dir)}`,
    );
  if (!found)
    throw new DatasetNotFoundError(
      `${op}: ${title} not found: looked for ${path} (data folder ${dir}, from ${from}; ` +
        'the data folder is --data-dir, else $SEPCONV_DATA, else ./datasets). ' +
        `Download it with \`npm run datasets -- ${command} --dir ${dir}\`, or point --data-dir or SEPCONV_DATA at a folder that holds ${folder}/.`,
    );
  return path;
}
