/**
 * The worker thread behind `fit`, `evaluate` and `predict` (an entry script: nothing imports
 * it): runs one task, streams its events to the parent and posts the result (or the error) as
 * the last message.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import '../tensor-methods.js'; // this thread's entry: attach Tensor's op methods
import { SepconvError } from '../errors.js';
import { runEvaluate } from './evaluate.js';
import type { JobContext, JobHooks, WorkerMessage, WorkerTask } from './job.js';
import { runPredict } from './predict.js';
import { runFit } from './run.js';

/** The hooks exported by the module SEPCONV_JOB_HOOKS names (a path or URL), else none. */
async function loadHooks(): Promise<JobHooks> {
  const spec = process.env['SEPCONV_JOB_HOOKS'];
  if (spec === undefined || spec === '') return {};
  const url = /^[a-z]+:/i.test(spec) && !isAbsolute(spec) ? spec : pathToFileURL(resolve(spec)).href;
  return (await import(url)) as JobHooks;
}

if (parentPort !== null) {
  const port = parentPort;
  const { task, stopFlag } = workerData as { task: WorkerTask; stopFlag: SharedArrayBuffer };
  const stop = new Int32Array(stopFlag);
  const post = (message: WorkerMessage): void => port.postMessage(message);
  const run = async (): Promise<unknown> => {
    const context: JobContext = {
      emit: (event) => post({ kind: 'event', event }),
      stopRequested: () => Atomics.load(stop, 0) === 1,
      waitForStop: (timeoutMs) => Atomics.wait(stop, 0, 0, timeoutMs) !== 'timed-out',
      hooks: await loadHooks(),
    };
    return task.kind === 'fit' ? runFit(task.config, task.mode, context) : task.kind === 'evaluate' ? runEvaluate(task.options, context) : runPredict(task.options, context);
  };
  run().then(
    (result) => post({ kind: 'result', result }),
    (err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      post({ kind: 'error', message: error.message, stack: error.stack, userError: error instanceof SepconvError });
    },
  );
}
