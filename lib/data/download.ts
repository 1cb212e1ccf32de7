/**
 * Downloads the official archives, checks their MD5 and extracts them. Resumable (an
 * interrupted download continues from its `.part` file with an HTTP Range request) and
 * idempotent (what is already extracted is not fetched again). Extraction goes to a
 * temporary folder that is renamed into place, so a half-extracted data set is never seen.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { describe, invalidArg, opError } from '../errors.js';
import { DATASETS, resolveDataDir } from './paths.js';
import type { DatasetId } from './paths.js';

/** One archive: where it comes from, its checksum, and the top-level folders it extracts. */
export interface ArchiveSpec {
  url: string;
  md5: string;
  provides: readonly string[];
}

/**
 * The official archives. CIFAR-10's MD5 is the one published on its page
 * (https://www.cs.toronto.edu/~kriz/cifar.html). Oxford's page publishes no checksums: the
 * Pets MD5s are the ones torchvision verifies (torchvision/datasets/oxford_iiit_pet.py,
 * `_RESOURCES`), for the same two files.
 */
export const OFFICIAL_ARCHIVES: Record<DatasetId, { subfolder: string; archives: readonly ArchiveSpec[] }> = {
  cifar10: {
    subfolder: '',
    archives: [
      { url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', provides: ['cifar-10-batches-bin'] },
    ],
  },
  'oxford-pets': {
    subfolder: 'oxford-iiit-pet',
    archives: [
      { url: 'https://thor.robots.ox.ac.uk/datasets/pets/images.tar.gz', md5: '5c4f3ee8e5d25df40f4fd59a7f44e54c', provides: ['images'] },
      { url: 'https://thor.robots.ox.ac.uk/datasets/pets/annotations.tar.gz', md5: '95a8c909bbe2e81eed6a22bccdf3f68f', provides: ['annotations'] },
    ],
  },
};

export interface DownloadProgress {
  file: string;
  received: number;
  /** Total bytes, when the server says. */
  total: number | null;
}

export interface DownloadOptions {
  /** The data folder (default: $SEPCONV_DATA, else ./datasets). */
  dir?: string;
  /** Fetch the same file names from this base URL instead of the official host. */
  mirror?: string;
  /** Draw a progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
  /** Receives status lines (default: console.error). */
  log?: (line: string) => void;
  onProgress?: (p: DownloadProgress) => void;
}

const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** A one-line bar redrawn in place on a terminal, at most ten times a second. */
function progressBar(file: string): (p: DownloadProgress, done?: boolean) => void {
  const started = Date.now();
  let last = 0;
  return (p, done = false) => {
    const now = Date.now();
    if (!done && now - last < 100) return;
    last = now;
    const fraction = p.total ? p.received / p.total : 0;
    const width = 24;
    const bar = p.total ? '█'.repeat(Math.round(fraction * width)).padEnd(width, '·') : '·'.repeat(width);
    const rate = p.received / Math.max(0.001, (now - started) / 1000);
    const size = p.total ? `${mb(p.received)}/${mb(p.total)} MB` : `${mb(p.received)} MB`;
    const percent = p.total ? `${Math.floor(fraction * 100)}%`.padStart(4) : '';
    process.stderr.write(`\r${file} [${bar}] ${percent} ${size} ${mb(rate)} MB/s\x1b[K${done ? '\n' : ''}`);
  };
}

async function md5Of(file: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Fetches `url` into `part`, continuing from its current length when the server allows. */
async function fetchResumable(url: string, part: string, report: (p: DownloadProgress) => void): Promise<void> {
  let offset = await stat(part).then((s) => s.size, () => 0);
  // identity: the bytes as stored (some servers label .tar.gz as gzip-encoded, and fetch would inflate it).
  const headers: Record<string, string> = { 'Accept-Encoding': 'identity', ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) };
  const response = await fetch(url, { headers }).catch((err: Error) => {
    throw opError('download', `cannot reach ${url} (${err.cause instanceof Error ? err.cause.message : err.message})`);
  });
  if (response.status === 416 && offset > 0) return; // the part is already whole; the checksum decides
  const resumed = response.status === 206 && response.headers.get('content-range')?.startsWith(`bytes ${offset}-`) === true;
  if (!resumed && response.status !== 200) throw opError('download', `${url} answered ${response.status} ${response.statusText}`);
  if (!resumed) offset = 0;
  const length = Number(response.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? offset + length : null;
  const file = basename(part, '.part');
  let received = offset;
  // Chunk by chunk with awaited writes: whatever arrived before a failure is on disk to resume from.
  const out = await open(part, resumed ? 'a' : 'w');
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      await out.write(chunk);
      received += chunk.length;
      report({ file, received, total });
    }
  } catch (err) {
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    throw opError('download', `${url} stopped after ${mb(received)} MB (${reason}); run the command again to resume`);
  } finally {
    await out.close();
  }
  if (total !== null && received !== total)
    throw opError('download', `${url} ended after ${mb(received)} of ${mb(total)} MB; run the command again to resume`);
}

/** Extracts `archive` into `target` through a temporary folder renamed into place. */
async function extractInto(archive: string, spec: ArchiveSpec, target: string): Promise<void> {
  const temp = join(target, `.extract-${randomBytes(6).toString('hex')}`);
  await mkdir(temp, { recursive: true });
  try {
    const { extract } = await import('tar'); // only downloads need it
    await extract({ file: archive, cwd: temp, strict: true });
    for (const folder of spec.provides) {
      if (!(await exists(join(temp, folder)))) throw opError('download', `${archive} does not contain ${folder}/ (is it the right archive?)`);
      if (!(await exists(join(target, folder)))) await rename(join(temp, folder), join(target, folder));
    }
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * Makes sure the folders each archive provides exist under `target`: fetches (resuming),
 * verifies the MD5, extracts. Archives whose folders are already there are left alone.
 */
export async function installArchives(archives: readonly ArchiveSpec[], target: string, options: Omit<DownloadOptions, 'dir'> = {}): Promise<void> {
  const log = options.log ?? ((line: string) => console.error(line));
  const drawBar = options.progress ?? process.stderr.isTTY === true;
  await mkdir(target, { recursive: true });
  for (const spec of archives) {
    const present = await Promise.all(spec.provides.map((f) => exists(join(target, f))));
    if (present.every(Boolean)) {
      log(`${spec.provides.map((f) => join(target, f)).join(', ')} already present`);
      continue;
    }
    const name = basename(new URL(spec.url).pathname);
    const url = options.mirror ? new URL(name, options.mirror.endsWith('/') ? options.mirror : `${options.mirror}/`).href : spec.url;
    const archive = join(target, name);
    if ((await exists(archive)) && (await md5Of(archive)) !== spec.md5) await rm(archive);
    if (!(await exists(archive))) {
      const part = `${archive}.part`;
      const bar = drawBar ? progressBar(name) : null;
      let latest: DownloadProgress = { file: name, received: 0, total: null };
      log(`downloading ${url}`);
      await fetchResumable(url, part, (p) => {
        latest = p;
        bar?.(p);
        options.onProgress?.(p);
      });
      bar?.(latest, true);
      const md5 = await md5Of(part);
      if (md5 !== spec.md5) {
        await rm(part, { force: true });
        throw opError('download', `${name} from ${url} has MD5 ${md5} but the published checksum is ${spec.md5}; the file was deleted, run the command again to retry`);
      }
      await rename(part, archive);
    }
    log(`extracting ${archive}`);
    await extractInto(archive, spec, target);
    await rm(archive);
  }
}

const ALIASES: Record<string, DatasetId> = { cifar10: 'cifar10', 'cifar-10': 'cifar10', 'oxford-pets': 'oxford-pets', pets: 'oxford-pets' };

/**
 * Downloads a data set's official archives into the data folder (verifying the published
 * MD5), unless it is already there. Returns the data set's folder.
 *
 * @example
 * await sc.data.download('cifar10', { dir: './datasets' }); // → ./datasets/cifar-10-batches-bin
 */
export async function download(name: 'cifar10' | 'oxford-pets' | 'pets', options: DownloadOptions = {}): Promise<string> {
  const id = ALIASES[name as string];
  if (id === undefined) throw invalidArg('download', 'name', "'cifar10' or 'oxford-pets' (alias 'pets')", describe(name));
  const { dir } = resolveDataDir(options.dir);
  const { subfolder, archives } = OFFICIAL_ARCHIVES[id];
  const target = join(dir, subfolder);
  await installArchives(archives, target, options);
  return join(dir, DATASETS[id].folder);
}
