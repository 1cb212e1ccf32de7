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
import { describe, SepconvError } from '../errors.js';
import type { DatasetName, TrainConfig } from './config.js';
import { taskOf } from './config.js';
import type { Task } from './pictures.js';
import { callExport, moduleLabel } from './user-module.js';
import type { ResolvedModuleSpec } from './user-module.js';
import { arraySplit, isArrayData, summarizeArrays } from './arrays.js';

export interface RunData {
  train: Dataset<LoaderItem>;
  val: Dataset<LoaderItem>;
  classes: readonly string[];
  /** Segmentation when items carry masks. */
  task: Task;
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
  if (isArrayData(config.dataset)) {
    const arrays = config.dataset;
    const { task } = summarizeArrays(arrays).inMemory;
    return { train: firstItems(arraySplit(arrays, 'train'), config.limit), val: firstItems(arraySplit(arrays, 'val'), config.valLimit), classes: arrays.classes, task };
  }
  if (typeof config.dataset !== 'string') return openUserData(config.dataset, config);
  const common = { dir: config.dataDir, imageSize: config.imageSize, warn };
  const [train, val] = await Promise.all([
    openSplit(config.dataset, 'train', { ...common, limit: config.limit }),
    openSplit(config.dataset, 'test', { ...common, limit: config.valLimit }),
  ]);
  return { train, val, classes: train.classes, task: taskOf(config.dataset) };
}

/** What a user's dataset export returns (sync or as a promise). */
export interface UserData {
  train: { length: number; get(index: number): LoaderItem | Promise<LoaderItem> };
  val: { length: number; get(index: number): LoaderItem | Promise<LoaderItem> };
  /** Class names by label value (segmentation: by mask value). */
  classes: readonly string[];
  /** [channels, height, width] of every image. */
  imageShape: readonly [number, number, number];
}

/** A user's split as a Dataset the DataLoader reads in the training worker. */
function userSplit(split: UserData['train'], data: UserData): Dataset<LoaderItem> {
  return { length: split.length, get: async (index: number) => split.get(index), classes: data.classes, skipped: [], imageShape: data.imageShape };
}

/** Imports a user's dataset module and checks what its export returns, naming what is wrong. */
async function openUserData(spec: ResolvedModuleSpec, config: TrainConfig): Promise<RunData> {
  const where = `dataset: export '${spec.export}' of ${moduleLabel(spec)}`;
  const data = (await callExport('dataset', spec, '{ train, val, classes, imageShape }')) as Partial<UserData> | null;
  const isSplit = (s: unknown): s is UserData['train'] => s !== null && typeof s === 'object' && Number.isInteger((s as UserData['train']).length) && typeof (s as UserData['train']).get === 'function';
  if (data === null || typeof data !== 'object' || !isSplit(data.train) || !isSplit(data.val))
    throw new SepconvError(`${where} returned ${describe(data)}; expected { train, val, classes, imageShape } where train and val have length and get(index)`);
  if (!Array.isArray(data.classes) || data.classes.length < 2 || !data.classes.every((c) => typeof c === 'string'))
    throw new SepconvError(`${where}: classes must list at least two class names but is ${describe(data.classes)}`);
  const shape = data.imageShape as unknown;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0))
    throw new SepconvError(`${where}: imageShape must be [channels, height, width] but is ${describe(shape)}`);
  if (data.train.length === 0 || data.val.length === 0) throw new SepconvError(`${where}: train has ${data.train.length} items and val ${data.val.length}; both need at least one`);
  const full = data as UserData;
  const first = await full.train.get(0);
  const task: Task = first !== null && typeof first === 'object' && 'mask' in first && first.mask !== undefined ? 'segmentation' : 'classification';
  return { train: firstItems(userSplit(full.train, full), config.limit), val: firstItems(userSplit(full.val, full), config.valLimit), classes: full.classes, task };
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
