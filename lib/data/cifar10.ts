/**
 * CIFAR-10 from the official binary layout (cifar-10-batches-bin/): records of one label byte
 * and 3072 pixel bytes (1024 red, 1024 green, 1024 blue; rows top to bottom). The whole split
 * is read into shared memory once, so the loader's workers read it without copies.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, invalidArg, opError } from '../errors.js';
import { CIFAR_IMAGE_BYTES } from './batch.js';
import type { CifarSource, SkippedFile } from './batch.js';
import { checkIndex, reportSkipped, workerSource } from './dataset.js';
import type { Dataset, WorkerReadyDataset } from './dataset.js';
import { locateDataset } from './paths.js';

const RECORD_BYTES = 1 + CIFAR_IMAGE_BYTES;
const SPLIT_FILES = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
} as const;

export interface Cifar10Options {
  /** The folder that holds cifar-10-batches-bin/ (default: $SEPCONV_DATA, else ./datasets). */
  dir?: string;
  split: 'train' | 'test';
}

export interface Cifar10Item {
  /** uint8 CHW pixels, 3×32×32. */
  image: Uint8Array;
  /** 0–9, an index into `classes`. */
  label: number;
}

export class Cifar10Dataset implements Dataset<Cifar10Item>, WorkerReadyDataset {
  readonly skipped: readonly SkippedFile[] = [];
  readonly imageShape = [3, 32, 32] as const;
  readonly length: number;
  private readonly images: Uint8Array;
  private readonly labelBytes: Uint8Array;

  /** @internal Use sc.data.cifar10(). */
  constructor(
    readonly classes: readonly string[],
    private readonly source: CifarSource,
  ) {
    this.images = new Uint8Array(source.images);
    this.labelBytes = new Uint8Array(source.labels);
    this.length = this.labelBytes.length;
  }

  async get(index: number): Promise<Cifar10Item> {
    const i = checkIndex('cifar10.get', index, this.length);
    return { image: this.images.slice(i * CIFAR_IMAGE_BYTES, (i + 1) * CIFAR_IMAGE_BYTES), label: this.labelBytes[i]! };
  }

  /** Every item's label, in order (a copy). */
  labels(): Uint8Array {
    return this.labelBytes.slice();
  }

  /** @internal */
  [workerSource](): CifarSource {
    return this.source;
  }
  /** @internal CIFAR items are all checked up front; nothing can fail later. */
  [reportSkipped](): void {}
}

async function readClassNames(folder: string): Promise<string[]> {
  const file = join(folder, 'batches.meta.txt');
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw opError('cifar10', `cannot read ${file} (${err.code === 'ENOENT' ? 'missing' : err.message})`);
  });
  const names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (names.length !== 10) throw opError('cifar10', `${file} names ${names.length} classes; CIFAR-10 has 10 (one name a line)`);
  return names;
}

/** Checks sizes of all files first (so a truncated file fails before anything is read). */
async function recordCounts(folder: string, files: readonly string[]): Promise<number[]> {
  return Promise.all(
    files.map(async (name) => {
      const file = join(folder, name);
      const { size } = await stat(file).catch(() => {
        throw opError('cifar10', `${file} is missing`);
      });
      if (size === 0) throw opError('cifar10', `${file} is empty`);
      if (size % RECORD_BYTES !== 0) {
        const whole = Math.floor(size / RECORD_BYTES);
        throw opError(
          'cifar10',
          `${file} is truncated: ${size} bytes is not a whole number of ${RECORD_BYTES}-byte records ` +
            `(record ${whole} has ${size % RECORD_BYTES} of its ${RECORD_BYTES} bytes)`,
        );
      }
      return size / RECORD_BYTES;
    }),
  );
}

/**
 * Loads a CIFAR-10 split (train: 50,000 items from data_batch_1..5.bin; test: 10,000 from
 * test_batch.bin). Structural damage (a missing or truncated batch file, a label above 9)
 * is an error naming the file and record.
 *
 * @example
 * const train = await sc.data.cifar10({ split: 'train' });
 * const { image, label } = await train.get(0); // image: Uint8Array 3×32×32, label: 0–9
 * console.log(train.classes[label]);
 */
export async function cifar10(options: Cifar10Options): Promise<Cifar10Dataset> {
  const split = options?.split;
  if (split !== 'train' && split !== 'test') throw invalidArg('cifar10', 'options.split', "'train' or 'test'", describe(split));
  const folder = await locateDataset('cifar10', 'cifar10', options.dir);
  const classes = await readClassNames(folder);
  const files = SPLIT_FILES[split];
  const counts = await recordCounts(folder, files);
  const total = counts.reduce((a, b) => a + b, 0);
  const source: CifarSource = {
    kind: 'cifar10',
    images: new SharedArrayBuffer(total * CIFAR_IMAGE_BYTES),
    labels: new SharedArrayBuffer(total),
  };
  const images = new Uint8Array(source.images);
  const labels = new Uint8Array(source.labels);
  let item = 0;
  for (let f = 0; f < files.length; f++) {
    const file = join(folder, files[f]!);
    const data = await readFile(file);
    if (data.length !== counts[f]! * RECORD_BYTES) throw opError('cifar10', `${file} changed while it was read`);
    for (let r = 0; r < counts[f]!; r++, item++) {
      const offset = r * RECORD_BYTES;
      const label = data[offset]!;
      if (label > 9) throw opError('cifar10', `${file} record ${r} (byte offset ${offset}) has label ${label}; CIFAR-10 labels are 0–9`);
      labels[item] = label;
      images.set(data.subarray(offset + 1, offset + RECORD_BYTES), item * CIFAR_IMAGE_BYTES);
    }
  }
  return new Cifar10Dataset(classes, source);
}
