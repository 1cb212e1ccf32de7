/**
 * Where batches are assembled: a pool of worker threads (the default), or the calling thread
 * (`workers: 0`, and datasets that cannot be described to a worker). Both take batch jobs and
 * return packed arrays; the loader does not know which one it has.
 */
import { Worker } from 'node:worker_threads';
import { opError, SepconvError } from '../errors.js';
import { assembleBatch } from './batch.js';
import type { BatchArrays, BatchJob, DatasetSource, SampleLoader } from './batch.js';
import type { Transform } from './transforms.js';

export interface BatchRunner {
  run(job: BatchJob): Promise<BatchArrays>;
  close(): Promise<void>;
}

/** What every worker is started with. */
export interface WorkerSetup {
  source: DatasetSource;
  transforms: Transform[];
  seed: number;
}

export interface WorkerJobMessage {
  id: number;
  job: BatchJob;
}

/** `known` marks SepconvErrors (argument and data errors), re-raised with the same message. */
export type WorkerReply = { id: number; batch: BatchArrays } | { id: number; error: string; known: boolean };

interface PendingJob {
  id: number;
  job: BatchJob;
  resolve: (batch: BatchArrays) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  current: PendingJob | null;
}

/** Runs batch jobs in the calling thread. */
export class InlineRunner implements BatchRunner {
  constructor(
    private readonly load: SampleLoader,
    private readonly transforms: Transform[],
    private readonly seed: number,
  ) {}
  run(job: BatchJob): Promise<BatchArrays> {
    return assembleBatch(this.load, job, this.transforms, this.seed);
  }
  async close(): Promise<void> {}
}

/**
 * A fixed set of worker threads, one job each at a time, jobs queued in order. Idle workers
 * are unref'd so an unfinished loop does not keep the process alive.
 */
export class WorkerPool implements BatchRunner {
  private readonly slots: Slot[];
  private readonly queue: PendingJob[] = [];
  private nextId = 0;
  private failure: Error | null = null;

  constructor(size: number, setup: WorkerSetup) {
    this.slots = Array.from({ length: size }, () => {
      // Node flags that only make sense for the main script (e.g. --input-type with -e) break a worker's start.
      const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: setup, execArgv });
      const slot: Slot = { worker, current: null };
      slot.worker.on('message', (reply: WorkerReply) => this.finish(slot, reply));
      slot.worker.on('error', (err) => this.fail(opError('DataLoader', `a loader worker failed: ${err.message}`)));
      slot.worker.on('exit', (code) => this.fail(opError('DataLoader', `a loader worker exited unexpectedly (code ${code})`)));
      slot.worker.unref();
      return slot;
    });
  }

  run(job: BatchJob): Promise<BatchArrays> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.fail(opError('DataLoader', 'the loader was closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.current !== null) continue;
      const pending = this.queue.shift();
      if (!pending) return;
      slot.current = pending;
      slot.worker.ref();
      slot.worker.postMessage({ id: pending.id, job: pending.job } satisfies WorkerJobMessage);
    }
  }

  private finish(slot: Slot, reply: WorkerReply): void {
    const pending = slot.current;
    if (!pending || pending.id !== reply.id) return;
    slot.current = null;
    slot.worker.unref();
    if ('error' in reply) pending.reject(reply.known ? new SepconvError(reply.error) : opError('DataLoader', `a loader worker threw: ${reply.error}`));
    else pending.resolve(reply.batch);
    this.dispatch();
  }

  /** The first failure wins: every running and queued job is rejected with it, and later ones too. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const slot of this.slots) {
      slot.current?.reject(err);
      slot.current = null;
    }
    for (const pending of this.queue.splice(0)) pending.reject(err);
  }
}
