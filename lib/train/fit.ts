/**
 * The asynchronous entry points: `fit`, `evaluate` and `predict` run in a worker_thread so a
 * long job never blocks the caller's event loop; progress streams back as events. Stopping
 * is cooperative: an AbortSignal sets a flag in shared memory that the worker reads after
 * every step (messages could wait behind a busy worker; shared memory cannot).
 */
import { Worker } from 'node:worker_threads';
import { SepconvError } from '../errors.js';
import type { TrainOptions } from './config.js';
import type { FitEvent, FitResult } from './events.js';
import type { EvaluateOptions, EvaluateResult } from './evaluate.js';
import type { PredictOptions, Prediction } from './predict.js';
import { planRun } from './rundir.js';
import type { RunOptions, RunPlan } from './rundir.js';
import type { WorkerMessage, WorkerTask } from './job.js';

export interface FitOptions extends TrainOptions, RunOptions {}

export interface JobHandlers {
  /** Progress events as they happen (start, step, validate, epoch, warning). */
  onEvent?: (event: FitEvent) => void;
  /** Aborting finishes the current step, saves a checkpoint and resolves with status 'interrupted'. */
  signal?: AbortSignal;
}

function runInWorker<R>(task: WorkerTask, handlers: JobHandlers = {}): Promise<R> {
  const stopFlag = new SharedArrayBuffer(4);
  const stop = (): void => {
    const flag = new Int32Array(stopFlag);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
  return new Promise<R>((resolvePromise, reject) => {
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      handlers.signal?.removeEventListener('abort', stop);
      // The job is over; the worker may still hold idle pools (data loading) that keep it alive.
      void worker.terminate();
      fn();
    };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { task, stopFlag } });
    if (handlers.signal?.aborted) stop();
    handlers.signal?.addEventListener('abort', stop, { once: true });
    worker.on('message', (message: WorkerMessage) => {
      if (message.kind === 'event') handlers.onEvent?.(message.event);
      else if (message.kind === 'result') settle(() => resolvePromise(message.result as R));
      else settle(() => reject(Object.assign(message.userError ? new SepconvError(message.message) : new Error(message.message), { stack: message.stack })));
    });
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) => settle(() => reject(new Error(`sepconv: the ${task.kind} worker exited with code ${code} before finishing`))));
  });
}

/**
 * Trains a model (in a worker thread) and resolves when the run completes, is interrupted
 * through `signal`, or stops on a NaN/Inf loss. Writes config.json, metrics.jsonl/.csv,
 * checkpoints and pictures to `options.out` (default `runs/<model>-<conv>`).
 *
 * @example
 * const result = await sc.train.fit(
 *   { preset: 'keras-vgg', conv: 'dsc', epochs: 1, dataDir: '../shared/datasets', out: 'runs/try' },
 *   { onEvent: (e) => e.type === 'epoch' && console.log(e.metrics) },
 * );
 * console.log(result.status, result.best);
 */
export async function fit(options: FitOptions, handlers?: JobHandlers): Promise<FitResult> {
  return startFit(planRun(options), handlers);
}

/**
 * Trains a run already planned (validated) by `planRun`, so a caller can report bad options
 * before anything starts.
 *
 * @example
 * const plan = sc.train.planRun({ preset: 'keras-vgg', conv: 'dsc' }); // throws on bad options
 * const result = await sc.train.startFit(plan);
 */
export function startFit(plan: RunPlan, handlers?: JobHandlers): Promise<FitResult> {
  if (plan.note !== undefined) handlers?.onEvent?.({ type: 'warning', message: plan.note });
  return runInWorker<FitResult>({ kind: 'fit', config: plan.config, mode: plan.mode }, handlers);
}

/**
 * Evaluates a checkpoint on a data split (in a worker thread): loss and the task's metrics.
 *
 * @example
 * const { metrics } = await sc.train.evaluate({ checkpoint: 'runs/vgg-dsc/best.safetensors', dataDir: '../shared/datasets' });
 */
export function evaluate(options: EvaluateOptions, handlers?: JobHandlers): Promise<EvaluateResult> {
  return runInWorker<EvaluateResult>({ kind: 'evaluate', options }, handlers);
}

/**
 * Runs a checkpoint on image files (in a worker thread): top-5 classes for classifiers; for
 * segmenters, a mask PNG and an overlay PNG per image written to `options.out`.
 *
 * @example
 * const [p] = await sc.train.predict({ checkpoint: 'runs/segnet-dsc/best.safetensors', images: ['cat.jpg'], out: 'pred' });
 */
export function predict(options: PredictOptions, handlers?: JobHandlers): Promise<Prediction[]> {
  return runInWorker<Prediction[]>({ kind: 'predict', options }, handlers);
}
