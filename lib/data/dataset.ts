/** What every dataset offers, and the hooks the DataLoader uses to move work to its workers. */
import { describe, invalidArg } from '../errors.js';
import type { DatasetSource, SkippedFile } from './batch.js';

export type { SkippedFile } from './batch.js';

/**
 * A random-access collection of items. `length` counts usable items only; what was left out
 * is listed in `skipped`.
 */
export interface Dataset<Item> {
  readonly length: number;
  get(index: number): Promise<Item>;
  /** Names of the target classes, by label value. */
  readonly classes: readonly string[];
  /** Files that could not be used, each with the reason. */
  readonly skipped: readonly SkippedFile[];
  /** [channels, height, width] of every item's image. */
  readonly imageShape: readonly [number, number, number];
}

/** @internal The plain-data description worker threads rebuild the dataset from. */
export const workerSource = Symbol('sepconv.data.workerSource');
/** @internal Records an item found unusable while loading (after the up-front check). */
export const reportSkipped = Symbol('sepconv.data.reportSkipped');

/** @internal */
export interface WorkerReadyDataset {
  [workerSource](): DatasetSource;
  [reportSkipped](entry: SkippedFile): void;
}

export function isWorkerReady(value: object): value is WorkerReadyDataset {
  return typeof (value as Partial<WorkerReadyDataset>)[workerSource] === 'function';
}

export function checkIndex(op: string, index: unknown, length: number): number {
  if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= length)
    throw invalidArg(op, 'index', `an integer in [0, ${length})`, describe(index));
  return index as number;
}

/** The shared bookkeeping of skipped files: listed once each, one warning line each. */
export class SkipList {
  readonly entries: SkippedFile[] = [];
  private readonly seen = new Set<string>();
  constructor(
    private readonly op: string,
    private readonly warn: (message: string) => void,
  ) {}
  add(entry: SkippedFile): void {
    const key = `${entry.file}\0${entry.reason}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.entries.push(entry);
    this.warn(`${this.op}: skipping ${entry.file}: ${entry.reason}`);
  }
}
