/**
 * A loader worker thread: receives its dataset source, transforms and seed once (workerData),
 * then assembles the batches it is asked for and transfers their buffers back. Imports only
 * the addon-free data modules, so starting one costs a few milliseconds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { assembleBatch, sourceLoader } from './batch.js';
import type { BatchJob } from './batch.js';
import { SepconvError } from '../errors.js';
import type { WorkerJobMessage, WorkerReply, WorkerSetup } from './pool.js';

const setup = workerData as WorkerSetup;
const load = sourceLoader(setup.source);

parentPort!.on('message', (message: WorkerJobMessage) => {
  const job: BatchJob = message.job;
  assembleBatch(load, job, setup.transforms, setup.seed).then(
    (batch) => parentPort!.postMessage({ id: message.id, batch } satisfies WorkerReply, [batch.x.buffer as ArrayBuffer, batch.y.buffer as ArrayBuffer]),
    (err: unknown) =>
      parentPort!.postMessage({
        id: message.id,
        error: err instanceof Error ? (err instanceof SepconvError ? err.message : err.stack ?? err.message) : String(err),
        known: err instanceof SepconvError,
      } satisfies WorkerReply),
  );
});
