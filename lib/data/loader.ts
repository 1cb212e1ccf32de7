/**
 * The DataLoader: batches, seeded shuffling and augmentation, with decoding and augmentation
 * in worker threads while the current batch trains. The main thread only copies one float32
 * and one int32 array per batch into native tensors.
 */
import { availableParallelism } from 'node:os';
import { describe, invalidArg } from '../errors.js';
import { isDevice } from '../dtype.js';
import type { Device } from '../dtype.js';
import { requireCuda, tensor } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import { sourceLoader } from './batch.js';
import type { BatchArrays, RawSample, SampleLoader } from './batch.js';
import { isWorkerReady, reportSkipped, workerSource } from './dataset.js';
import type { Dataset } from './dataset.js';
import { InlineRunner, WorkerPool } from './pool.js';
import type { BatchRunner } from './pool.js';
import { shuffledOrder } from './rng.js';
import { flattenTransforms } from './transforms.js';
import type { Transform, TransformList } from './transforms.js';

export interface DataLoaderOptions {
  /** Items per batch (default 1). */
  batchSize?: number;
  /** Reshuffle every epoch (default false: dataset order). */
  shuffle?: boolean;
  /** Fixes the shuffle order and every item's augmentation, per epoch (default 0). */
  seed?: number;
  /** Augmentations from sc.data.transforms (a list or one transform). */
  transform?: TransformList;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Batches prepared ahead of the one being used (default 2 per worker). */
  prefetch?: number;
  /** Worker threads decoding and augmenting (default: the machine's cores, at most 4; 0 = this thread). */
  workers?: number;
  /** Where batches are delivered (default 'cpu'); 'cuda' uploads them through pinned memory. */
  device?: Device;
}

/** One batch: x float32 [B, C, H, W]; y int32 [B] (labels) or [B, H, W] (masks). */
export interface Batch {
  x: Tensor;
  y: Tensor;
  /** The dataset index of each row. */
  indices: number[];
}

/** Items of datasets the loader can batch: CHW pixels (uint8, or float32 in [0, 1]) with a label or an H×W mask. */
export interface LoaderItem {
  image: Uint8Array | Float32Array;
  label?: number;
  mask?: Uint8Array;
}

function integerAtLeast(argument: string, value: unknown, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min) throw invalidArg('DataLoader', argument, `an integer ≥ ${min}`, describe(value));
  return value as number;
}

/** Reads items of a dataset that workers cannot rebuild (user datasets) in this thread. */
function datasetLoader(dataset: Dataset<LoaderItem>): SampleLoader {
  const [channels, height, width] = dataset.imageShape;
  return async (index): Promise<RawSample> => {
    const item = await dataset.get(index);
    const ok =
      (item?.image instanceof Uint8Array || item?.image instanceof Float32Array) &&
      item.image.length === channels * height * width &&
      (item.mask === undefined ? Number.isInteger(item.label) : item.mask instanceof Uint8Array && item.mask.length === height * width);
    if (!ok)
      throw invalidArg(
        'DataLoader',
        `dataset.get(${index})`,
        `{ image: Uint8Array or Float32Array of ${channels}×${height}×${width}, label: integer } or { image, mask: Uint8Array of ${height}×${width} }`,
        describe(item),
      );
    return { pixels: item.image, channels, height, width, label: item.label ?? null, mask: item.mask ?? null };
  };
}

/**
 * Iterates a dataset in batches (`for await`). Each pass is one epoch; epochs count up from
 * `epoch` (settable), and (seed, epoch) fix the order and every augmentation, whatever the
 * number of workers. Batch tensors belong to the caller: dispose them after the step (or let
 * the garbage collector free them).
 *
 * @example
 * const train = await sc.data.cifar10({ split: 'train' });
 * const T = sc.data.transforms;
 * const loader = new sc.data.DataLoader(train, {
 *   batchSize: 128, shuffle: true, seed: 1,
 *   transform: [T.randomCrop(32, { padding: 4 }), T.randomHorizontalFlip(), T.normalize([0.49, 0.48, 0.45], [0.25, 0.24, 0.26])],
 * });
 * for await (const { x, y } of loader) { // x [128, 3, 32, 32] float32, y [128] int32
 *   // ... train step ...
 *   x.dispose(); y.dispose();
 * }
 */
export class DataLoader implements AsyncIterable<Batch> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly prefetch: number;
  readonly workers: number;
  readonly device: Device;
  readonly transforms: readonly Transform[];
  /** The epoch the next iteration runs (incremented as each one starts). */
  epoch = 0;
  private runner: BatchRunner | null = null;

  constructor(
    readonly dataset: Dataset<LoaderItem>,
    options: DataLoaderOptions = {},
  ) {
    if (dataset === null || typeof dataset !== 'object' || typeof dataset.get !== 'function' || !Number.isInteger(dataset.length))
      throw invalidArg('DataLoader', 'dataset', 'a dataset with length and get(index)', describe(dataset));
    const shape = dataset.imageShape as unknown;
    if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0))
      throw invalidArg('DataLoader', 'dataset.imageShape', '[channels, height, width]', describe(shape));
    this.batchSize = integerAtLeast('options.batchSize', options.batchSize ?? 1, 1);
    this.shuffle = options.shuffle ?? false;
    this.seed = integerAtLeast('options.seed', options.seed ?? 0, 0);
    this.dropLast = options.dropLast ?? false;
    this.workers = integerAtLeast('options.workers', options.workers ?? Math.min(4, availableParallelism()), 0);
    this.prefetch = integerAtLeast('options.prefetch', options.prefetch ?? 2 * Math.max(1, this.workers), 1);
    this.transforms = flattenTransforms('DataLoader', options.transform);
    const device = options.device ?? 'cpu';
    if (!isDevice(device)) throw invalidArg('DataLoader', 'options.device', "'cpu' or 'cuda'", describe(device));
    if (device === 'cuda') requireCuda('DataLoader');
    this.device = device;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The dataset indices of each batch of `epoch`, in order. */
  batchIndices(epoch: number): number[][] {
    const n = this.dataset.length;
    const order = this.shuffle ? shuffledOrder(n, this.seed, epoch) : Array.from({ length: n }, (_, i) => i);
    return Array.from({ length: this.length }, (_, b) => order.slice(b * this.batchSize, (b + 1) * this.batchSize));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    const epoch = this.epoch++;
    const jobs = this.batchIndices(epoch);
    const runner = this.ensureRunner();
    const inFlight: Promise<BatchArrays>[] = [];
    let next = 0;
    const refill = (): void => {
      while (next < jobs.length && inFlight.length < this.prefetch) {
        const pending = runner.run({ indices: jobs[next++]!, epoch });
        pending.catch(() => undefined); // awaited in order below; this only marks it handled meanwhile
        inFlight.push(pending);
      }
    };
    refill();
    while (inFlight.length > 0) {
      const arrays = await inFlight.shift()!;
      refill();
      if (isWorkerReady(this.dataset)) for (const entry of arrays.skipped) this.dataset[reportSkipped](entry);
      if (arrays.indices.length === 0) continue;
      yield {
        x: tensor(arrays.x, arrays.xShape, { dtype: 'float32', device: this.device }),
        y: tensor(arrays.y, arrays.yShape, { dtype: 'int32', device: this.device }),
        indices: arrays.indices,
      };
    }
  }

  /** Stops the worker threads (they are also stopped at exit; idle ones never hold the process open). */
  async close(): Promise<void> {
    const runner = this.runner;
    this.runner = null;
    await runner?.close();
  }

  private ensureRunner(): BatchRunner {
    if (this.runner) return this.runner;
    const seed = this.seed;
    const transforms = [...this.transforms];
    if (!isWorkerReady(this.dataset)) this.runner = new InlineRunner(datasetLoader(this.dataset), transforms, seed);
    else if (this.workers === 0) this.runner = new InlineRunner(sourceLoader(this.dataset[workerSource]()), transforms, seed);
    else this.runner = new WorkerPool(this.workers, { source: this.dataset[workerSource](), transforms, seed });
    return this.runner;
  }
}
