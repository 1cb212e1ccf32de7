/**
 * Batch assembly: load items, augment each with its own (seed, epoch, index) generator, and
 * pack them into one float32 image array and one int32 target array. Runs in the loader's
 * worker threads (or in the main thread with `workers: 0`), so it imports nothing that loads
 * the native addon. Datasets reach the workers as a `DatasetSource`: plain data (shared memory
 * for CIFAR, file lists for Pets) that each worker turns into a sample loader.
 */
import { applyTransforms, toFloatImage } from './augment.js';
import { DiskCache } from './cache.js';
import { mapConcurrent, settleAs } from './concurrency.js';
import { loadPet, SkipError } from './pets-decode.js';
import type { PetFiles } from './pets-decode.js';
import { itemRng } from './rng.js';
import type { Transform } from './transforms.js';

export const CIFAR_IMAGE_BYTES = 3 * 32 * 32;

export interface CifarSource {
  kind: 'cifar10';
  /** count × 3072 pixel bytes (CHW per image) and count label bytes, shared with the workers. */
  images: SharedArrayBuffer;
  labels: SharedArrayBuffer;
}

export interface PetsSource {
  kind: 'oxford-pets';
  size: number;
  files: PetFiles[];
  cacheDir: string | null;
}

export type DatasetSource = CifarSource | PetsSource;

/** One decoded item before augmentation: uint8 CHW pixels and a class label or an H×W mask. */
export interface RawSample {
  /** uint8, or float32 already in [0, 1] (a user's dataset). */
  pixels: Uint8Array | Float32Array;
  channels: number;
  height: number;
  width: number;
  label: number | null;
  mask: Uint8Array | null;
}

export type SampleLoader = (index: number) => Promise<RawSample>;

/** A loader reading items straight from a source (in a worker or in the main thread). */
export function sourceLoader(source: DatasetSource): SampleLoader {
  if (source.kind === 'cifar10') {
    const images = new Uint8Array(source.images);
    const labels = new Uint8Array(source.labels);
    return async (index) => ({
      pixels: images.subarray(index * CIFAR_IMAGE_BYTES, (index + 1) * CIFAR_IMAGE_BYTES),
      channels: 3,
      height: 32,
      width: 32,
      label: labels[index]!,
      mask: null,
    });
  }
  const cache = source.cacheDir === null ? null : new DiskCache(source.cacheDir);
  return async (index) => {
    const { image, mask } = await loadPet(source.files[index]!, source.size, cache);
    return { pixels: image, channels: 3, height: source.size, width: source.size, label: null, mask };
  };
}

export interface BatchJob {
  indices: number[];
  epoch: number;
}

export interface SkippedFile {
  file: string;
  reason: string;
}

/** A packed batch: x [B, C, H, W] float32, y [B] (labels) or [B, H, W] (masks) int32. */
export interface BatchArrays {
  x: Float32Array;
  xShape: number[];
  y: Int32Array;
  yShape: number[];
  /** Dataset indices of the rows, in order (items that failed to load are left out). */
  indices: number[];
  skipped: SkippedFile[];
}

/** Items decode concurrently (sharp runs off the JS thread) but at most this many at once. */
const LOAD_CONCURRENCY = 4;

export async function assembleBatch(
  load: SampleLoader,
  job: BatchJob,
  transforms: readonly Transform[],
  seed: number,
): Promise<BatchArrays> {
  const loaded = await mapConcurrent(job.indices, LOAD_CONCURRENCY, (index) => settleAs(load(index), SkipError));
  const skipped: SkippedFile[] = [];
  const kept: { index: number; raw: RawSample }[] = [];
  loaded.forEach((raw, i) => {
    if (raw instanceof SkipError) skipped.push({ file: raw.file, reason: raw.reason });
    else kept.push({ index: job.indices[i]!, raw });
  });
  const rows = kept.length;
  let x = new Float32Array(0);
  let y = new Int32Array(0);
  let itemShape: number[] = [];
  let targetShape: number[] = [];
  kept.forEach(({ index, raw }, row) => {
    const s = applyTransforms(
      { image: toFloatImage(raw.pixels), channels: raw.channels, height: raw.height, width: raw.width, mask: raw.mask },
      transforms,
      itemRng(seed, job.epoch, index),
    );
    if (row === 0) {
      // Every item has the dataset's image shape, and transforms map one shape to one shape.
      itemShape = [s.channels, s.height, s.width];
      targetShape = s.mask ? [s.height, s.width] : [];
      x = new Float32Array(rows * s.image.length);
      y = new Int32Array(rows * (s.mask ? s.mask.length : 1));
    }
    x.set(s.image, row * s.image.length);
    if (s.mask) y.set(s.mask, row * s.mask.length);
    else if (raw.label !== null) y[row] = raw.label;
  });
  return {
    x,
    xShape: [rows, ...itemShape],
    y,
    yShape: [rows, ...targetShape],
    indices: kept.map((k) => k.index),
    skipped,
  };
}
