/**
 * The worker thread behind `fit`, `evaluate` and `predict`: runs one task, streams its events
 * to the parent and posts the result (or the error) as the last message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SepconvError } from '../errors.js';
import type { TrainConfig } from './config.js';
import type { FitEvent } from './events.js';
import { runEvaluate } from './evaluate.js';
import type { EvaluateOptions } from './evaluate.js';
import { runPredict } from './predict.js';
import type { PredictOptions } from './predict.js';
import { runFit } from './run.js';
import type { RunMode } from './rundir.js';

export type WorkerTask =
  | { kind: 'fit'; config: TrainConfig; mode: RunMode }
  | { kind: 'evaluate'; options: EvaluateOptions }
  | { kind: 'predict'; options: PredictOptions };

export type WorkerMessage =
  | { kind: 'event'; event: FitEvent }
  | { kind: 'result'; result: unknown }
  | { kind: 'error'; message: string; stack?: string; userError: boolean };

/** What a task gets from its worker: an event channel and the stop flag. */
export interface JobContext {
  emit(event: FitEvent): void;
  /** True once the caller asked to stop (checked between steps). */
  stopRequested(): boolean;
  /** Blocks until a stop is requested or `timeoutMs` passes (for the SIGINT test hook). */
  waitForStop(timeoutMs: number): boolean;
}

if (parentPort !== null) {
  const port = parentPort;
  const { task, stopFlag } = workerData as { task: WorkerTask; stopFlag: SharedArrayBuffer };
  const stop = new Int32Array(stopFlag);
  const context: JobContext = {
    emit: (event) => port.postMessage({ kind: 'event', event } satisfies WorkerMessage),
    stopRequested: () => Atomics.load(stop, 0) === 1,
    waitForStop: (timeoutMs) => Atomics.wait(stop, 0, 0, timeoutMs) !== 'timed-out',
  };
  const job = task.kind === 'fit' ? runFit(task.config, task.mode, context) : task.kind === 'evaluate' ? runEvaluate(task.options, context) : runPredict(task.options, context);
  job.then(
    (result) => port.postMessage({ kind: 'result', result } satisfies WorkerMessage),
    (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      port.postMessage({ kind: 'error', message: error.message, stack: error.stack, userError: error instanceof SepconvError } satisfies WorkerMessage);
    },
  );
}
