/**
 * The run directory: what a run writes, the refusal to write over another run unless asked
 * (`--resume` or `--overwrite`), and reading a run back to resume it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { native } from '../native.js';
import { configError, flagName, quoted, resolveConfig, RESUMABLE_CHANGES } from './config.js';
import type { TrainConfig, TrainOptions } from './config.js';

/** The files (and folders) a training run owns in its directory. */
export const RUN_FILES = {
  config: 'config.json',
  metricsJsonl: 'metrics.jsonl',
  metricsCsv: 'metrics.csv',
  /** Model weights after the last saved step (a plain state dict, with the run's identity). */
  last: 'last.safetensors',
  /** Weights of the epoch with the best validation metric. */
  best: 'best.safetensors',
  /** Everything a resume needs in one atomically replaced file: weights, optimizer, scheduler, RNG, progress. */
  resume: 'resume.safetensors',
  curves: 'curves.png',
  masks: 'masks.png',
  masksGif: 'masks.gif',
  maskFrames: 'masks',
} as const;

/** What marks a directory as holding a run. */
const RUN_MARKERS = [RUN_FILES.config, RUN_FILES.metricsJsonl, RUN_FILES.last, RUN_FILES.resume];

export interface RunOptions {
  /** Continue the run in this directory (its config.json decides what is trained). */
  resume?: string;
  /** Replace a run already in the output directory. */
  overwrite?: boolean;
}

export type RunMode = 'fresh' | 'resume' | 'overwrite';

/** A validated run: its full configuration and how to start it. */
export interface RunPlan {
  config: TrainConfig;
  mode: RunMode;
  /** One line for the user when the plan is not what was asked literally (a stranded run restarted). */
  note?: string;
}

/**
 * Settings of runs whose config.json predates them: what those runs trained with, so a resume
 * keeps training the same way (a preset's newer values would otherwise fill them in).
 */
const SETTINGS_BEFORE_THEY_WERE_RECORDED: Partial<TrainConfig> = { eps: 1e-8, init: 'torch', pixels: 'unit', rotate: 0, channelDropout: 0, erase: 0 };

const restartNote = (dir: string): string =>
  `${dir} holds a run that stopped before its first checkpoint: restarting it from the beginning`;

/** The markers of a run present in `dir` (empty when it holds none). */
export function runMarkers(dir: string, markers: readonly string[] = RUN_MARKERS): string[] {
  return markers.filter((name) => existsSync(join(dir, name)));
}

/** Refuses an output directory that already holds a run, unless resuming or overwriting. */
export function refuseExistingRun(dir: string, what: string, found: readonly string[], mode: RunMode): void {
  if (found.length > 0 && mode === 'fresh')
    throw configError(
      `${dir} already holds a ${what} (${found.join(', ')}); pass --resume ${dir} to continue it or --overwrite to replace it`,
    );
}

function readConfig(dir: string): TrainConfig {
  const path = join(dir, RUN_FILES.config);
  try {
    return JSON.parse(readFileSync(path, 'utf8')).config as TrainConfig;
  } catch (err) {
    throw configError(`cannot resume ${dir}: ${path} is unreadable (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * The configuration of a run and how to start it. With `resume`, the run's config.json is
 * the base and explicit options must agree with it (except epochs, threads, data dir);
 * otherwise the options are resolved and an existing run in `out` is refused unless
 * `overwrite` is set.
 *
 * @example
 * const { config, mode } = sc.train.planRun({ resume: 'runs/vgg-dsc', epochs: 20 }); // mode 'resume'
 */
export function planRun(options: TrainOptions & RunOptions): RunPlan {
  const plan = planRunConfig(options);
  if (plan.config.device === 'cuda' && !native.backend().cuda)
    throw configError(`--device cuda: ${native.backend().cudaUnavailable}; use --device cpu`);
  return plan;
}

function planRunConfig(options: TrainOptions & RunOptions): RunPlan {
  const { resume, overwrite, ...trainOptions } = options;
  if (resume !== undefined && overwrite) throw configError('--resume and --overwrite exclude each other: resume a run, or replace it');
  if (resume === undefined) {
    const config = resolveConfig(trainOptions);
    const found = runMarkers(config.out);
    // A run stopped before its first checkpoint (resume.safetensors, written before last.safetensors)
    // has nothing to resume from, even if it wrote its first metrics row: start it again.
    if (!overwrite && found.length > 0 && !found.includes(RUN_FILES.resume)) return { config, mode: 'overwrite', note: restartNote(config.out) };
    const mode: RunMode = overwrite ? 'overwrite' : 'fresh';
    refuseExistingRun(config.out, 'training run', found, mode);
    return { config, mode };
  }
  const dir = resume;
  if (!existsSync(join(dir, RUN_FILES.config)))
    throw configError(`${dir} holds no run to resume (it needs ${RUN_FILES.config} and ${RUN_FILES.resume}); start a run there without --resume`);
  const saved = { ...SETTINGS_BEFORE_THEY_WERE_RECORDED, ...readConfig(dir) };
  if (trainOptions.out !== undefined && resolve(trainOptions.out) !== resolve(dir))
    throw configError(`--out ${trainOptions.out} differs from the run being resumed (${dir}); a resumed run writes to its own directory`);
  const conflicts = (Object.keys(trainOptions) as (keyof TrainConfig)[]).filter((key) => {
    const value = trainOptions[key];
    if (value === undefined || RESUMABLE_CHANGES.includes(key)) return false;
    return JSON.stringify(value) !== JSON.stringify(saved[key]);
  });
  if (conflicts.length > 0) {
    const identity = `${saved.model} ${saved.conv}`;
    const asked = `${trainOptions.model ?? saved.model} ${trainOptions.conv ?? saved.conv}`;
    const head = identity !== asked ? `${dir} holds a ${identity} run, not ${asked}` : `${dir} was trained with other settings`;
    throw configError(
      `${head}: ${conflicts.map((k) => `${flagName(k)} ${quoted(saved[k])} (asked ${quoted(trainOptions[k])})`).join(', ')}. ` +
        'Resume without those flags, or start a new run elsewhere.',
    );
  }
  const changes = Object.fromEntries(RESUMABLE_CHANGES.filter((k) => trainOptions[k] !== undefined).map((k) => [k, trainOptions[k]]));
  const config = resolveConfig({ ...saved, ...changes, out: dir });
  // The resume file is replaced atomically and holds the metrics rows too, so it is the run's
  // last consistent state; without one the run never got far enough to save: start over.
  if (!existsSync(join(dir, RUN_FILES.resume))) return { config, mode: 'overwrite', note: restartNote(dir) };
  return { config, mode: 'resume' };
}

/** Removes what an earlier run left in `dir` (only the files a run owns). */
export async function clearRun(dir: string): Promise<void> {
  await Promise.all(Object.values(RUN_FILES).map((name) => rm(join(dir, name), { recursive: true, force: true })));
}
