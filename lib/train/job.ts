/**
 * What passes between `fit`/`evaluate`/`predict` and the worker thread that runs them: the
 * task, the messages back, and the context a running job gets. Types only, so the worker
 * entry (worker.ts) imports the jobs and nothing imports the worker entry.
 */
import type { TrainConfig } from './config.js';
import type { FitEvent } from './events.js';
import type { EvaluateOptions } from './evaluate.js';
import type { PredictOptions } from './predict.js';
import type { RunMode } from './rundir.js';

export type WorkerTask =
  | { kind: 'fit'; config: TrainConfig; mode: RunMode }
  | { kind: 'evaluate'; options: EvaluateOptions }
  | { kind: 'predict'; options: PredictOptions };

export type WorkerMessage =
  | { kind: 'event'; event: FitEvent }
  | { kind: 'result'; result: unknown }
  | { kind: 'error'; message: string; stack?: string; userError: boolean };

/**
 * Observers of the training loop, exported by the module that SEPCONV_JOB_HOOKS names (tests
 * use them to interrupt or poison a run at an exact step through the real code paths).
 */
export interface JobHooks {
  /** The loss value the loop goes on with, from the one it read (identity when absent). */
  lossValue?(epoch: number, step: number, loss: number): number;
  /** Runs after each training step's event was emitted, before the stop check. */
  afterStep?(epoch: number, step: number, context: JobContext): void;
}

/** What a task gets from its worker: an event channel, the stop flag and the hooks. */
export interface JobContext {
  emit(event: FitEvent): void;
  /** True once the caller asked to stop (checked between steps). */
  stopRequested(): boolean;
  /** Blocks until a stop is requested or `timeoutMs` passes (lets a hook wait for a stop it caused). */
  waitForStop(timeoutMs: number): boolean;
  readonly hooks: JobHooks;
}
