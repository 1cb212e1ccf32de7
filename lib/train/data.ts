/**
 * The data side of a run: the training and validation splits of the configured data set,
 * `--limit`/`--val-limit` views of them, and the DataLoader of each epoch. Validation is the
 * test split, as in both reference experiments.
 */
import { cifar10 } from '../data/cifar10.js';
import type { Dataset, SkippedFile } from '../data/dataset.js';
import { DataLoader } from '../data/loader.js';
import type { LoaderItem } from '../data/loader.js';
import { oxfordPets } from '../data/pets.js';
import * as T from '../data/transforms.js';
import type { Transform } from '../data/transforms.js';
import type { Device } from '../dtype.js';
import type { DatasetName, TrainConfig } from './config.js';

export interface RunData {
  train: Dataset<LoaderItem>;
  val: Dataset<LoaderItem>;
  classes: readonly string[];
}

/**
 * The first `count` items of a dataset as a dataset (all of it when count is null or larger).
 * Items keep their indices, so augmentation (seeded per index) matches the full dataset's.
 */
export function firstItems<Item extends LoaderItem>(dataset: Dataset<Item>, count: number | null): Dataset<Item> {
  if (count === null || count >= dataset.length) return dataset;
  return {
    length: count,
    get: (index: number) => dataset.get(index),
    get classes() {
      return dataset.classes;
    },
    get skipped(): readonly SkippedFile[] {
      return dataset.skipped;
    },
    imageShape: dataset.imageShape,
  };
}

export type Split = 'train' | 'test';

export interface SplitOptions {
  dir: string | null;
  imageSize: number;
  limit: number | null;
  warn: (message: string) => void;
}

/** One split of a data set ('train' is Pets' trainval), limited to its first items. */
export async function openSplit(dataset: DatasetName, split: Split, options: SplitOptions): Promise<Dataset<LoaderItem>> {
  const dir = options.dir ?? undefined;
  const full =
    dataset === 'cifar10'
      ? await cifar10({ dir, split })
      : await oxfordPets({ dir, split: split === 'train' ? 'trainval' : 'test', size: options.imageSize, onWarning: options.warn });
  return firstItems<LoaderItem>(full, options.limit);
}

/** Opens both splits; errors (missing data, damaged files) happen here, before anything is written. */
export async function openRunData(config: TrainConfig, warn: (message: string) => void): Promise<RunData> {
  const common = { dir: config.dataDir, imageSize: config.imageSize, warn };
  const [train, val] = await Promise.all([
    openSplit(config.dataset, 'train', { ...common, limit: config.limit }),
    openSplit(config.dataset, 'test', { ...common, limit: config.valLimit }),
  ]);
  return { train, val, classes: train.classes };
}

/** The training augmentations of a configuration (images stay in [0, 1]; no normalisation, as in Keras' x / 255). */
export function trainTransforms(config: TrainConfig): Transform[] {
  const list: Transform[] = [];
  if (config.hflip) list.push(T.randomHorizontalFlip(0.5));
  if (config.contrast > 0) list.push(T.colorJitter({ contrast: config.contrast }));
  if (config.rotate > 0) list.push(T.randomRotation(config.rotate));
  if (config.channelDropout > 0) list.push(T.channelDropout(config.channelDropout));
  if (config.erase > 0) list.push(T.randomErasing({ p: config.erase }));
  return list;
}

/**
 * The training loader: each epoch's order and augmentations depend only on (seed, epoch),
 * so a resumed run that sets `loader.epoch` sees exactly the batches the uninterrupted one would.
 */
export function trainLoader(config: TrainConfig, data: RunData): DataLoader {
  return new DataLoader(data.train, { batchSize: config.batchSize, shuffle: true, seed: config.seed, transform: trainTransforms(config), device: config.device });
}

/** An evaluation loader: dataset order, no augmentation. */
export function evalLoader(dataset: Dataset<LoaderItem>, batchSize: number, device: Device = 'cpu'): DataLoader {
  return new DataLoader(dataset, { batchSize, shuffle: false, device });
}
