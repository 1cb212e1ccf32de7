/**
 * A user's dataset handed to `fit` as arrays: the training worker receives them with its task,
 * so arrays on SharedArrayBuffers are shared with it (no copy) and others are copied once.
 * config.json records their shape, not their contents; resuming takes the same arrays again.
 */
import { describe, SepconvError } from '../errors.js';
import type { Dataset } from '../data/dataset.js';
import type { LoaderItem } from '../data/loader.js';
import type { TrainConfig } from './config.js';
import type { Task } from './pictures.js';

/** N images (CHW each; uint8, or float32 in [0, 1]) and N class ids, or N H×W masks of class ids. */
export interface ArraySplit {
  images: Uint8Array | Float32Array;
  labels?: Uint8Array | Int32Array;
  masks?: Uint8Array;
}

export interface ArrayData {
  train: ArraySplit;
  val: ArraySplit;
  /** Class names by id. */
  classes: string[];
  /** [channels, height, width] of each image. */
  imageShape: [number, number, number];
}

/** What config.json keeps of in-memory data. */
export interface ArrayDataSummary {
  inMemory: { trainItems: number; valItems: number; task: Task; classes: string[]; imageShape: [number, number, number] };
}

export function isArrayData(value: unknown): value is ArrayData {
  return value !== null && typeof value === 'object' && 'train' in value && 'imageShape' in value && !('module' in value);
}

export function isArraySummary(value: unknown): value is ArrayDataSummary {
  return value !== null && typeof value === 'object' && 'inMemory' in value;
}

/** Checks the arrays' sizes against each other, naming the array at fault; returns their summary. */
export function summarizeArrays(data: ArrayData): ArrayDataSummary {
  const shape = data.imageShape as unknown;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0))
    throw new SepconvError(`dataset.imageShape must be [channels, height, width] but is ${describe(shape)}`);
  if (!Array.isArray(data.classes) || data.classes.length < 2 || !data.classes.every((c) => typeof c === 'string'))
    throw new SepconvError(`dataset.classes must list at least two class names but is ${describe(data.classes)}`);
  const [c, h, w] = data.imageShape;
  const items = (name: 'train' | 'val'): { count: number; task: Task } => {
    const split = data[name];
    if (split === null || typeof split !== 'object' || !(split.images instanceof Uint8Array || split.images instanceof Float32Array))
      throw new SepconvError(`dataset.${name}.images must be a Uint8Array or Float32Array of N×${c}×${h}×${w} values but is ${describe(split?.images)}`);
    const count = split.images.length / (c * h * w);
    if (!Number.isInteger(count) || count === 0)
      throw new SepconvError(`dataset.${name}.images holds ${split.images.length} values, not a whole number (≥ 1) of ${c}×${h}×${w} images`);
    if (split.masks !== undefined) {
      if (!(split.masks instanceof Uint8Array) || split.masks.length !== count * h * w)
        throw new SepconvError(`dataset.${name}.masks must be a Uint8Array of ${count}×${h}×${w} class ids (one mask per image) but is ${describe(split.masks)}${split.masks instanceof Uint8Array ? ` of ${split.masks.length}` : ''}`);
      return { count, task: 'segmentation' };
    }
    if (!(split.labels instanceof Uint8Array || split.labels instanceof Int32Array) || split.labels.length !== count)
      throw new SepconvError(`dataset.${name}.labels must be a Uint8Array or Int32Array of ${count} class ids (one per image), or give masks, but is ${describe(split.labels)}`);
    return { count, task: 'classification' };
  };
  const train = items('train');
  const val = items('val');
  if (train.task !== val.task) throw new SepconvError('dataset.train and dataset.val must both have labels or both have masks');
  return { inMemory: { trainItems: train.count, valItems: val.count, task: train.task, classes: [...data.classes], imageShape: [c, h, w] } };
}

/** A split's arrays as a Dataset the DataLoader reads (items are views, not copies). */
export function arraySplit(data: ArrayData, name: 'train' | 'val'): Dataset<LoaderItem> {
  const { images, labels, masks } = data[name];
  const [c, h, w] = data.imageShape;
  const size = c * h * w;
  return {
    length: images.length / size,
    get: async (i: number) => ({
      image: images.subarray(i * size, (i + 1) * size),
      ...(masks ? { mask: masks.subarray(i * h * w, (i + 1) * h * w) } : { label: labels![i]! }),
    }),
    classes: data.classes,
    skipped: [],
    imageShape: data.imageShape,
  };
}

/** The configuration as config.json keeps it: in-memory data by its summary. */
export function configForFile(config: TrainConfig): TrainConfig | (Omit<TrainConfig, 'dataset'> & { dataset: ArrayDataSummary }) {
  return isArrayData(config.dataset) ? { ...config, dataset: summarizeArrays(config.dataset) } : config;
}
