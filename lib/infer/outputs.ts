/**
 * What inference gives back, shared by `sc.infer` sessions and `sc.train.predict`: the top
 * classes of a classifier, and a segmenter's mask at the input's own size with the pictures
 * drawn from it (colour mask, overlay) and the share of the image each class covers.
 */
import { loadSharp } from '../data/decode-image.js';
import type { ImageSource } from '../data/decode-image.js';
import { topK } from '../train/metrics.js';
import { MASK_PALETTE } from '../train/pictures.js';

/** One of a classifier's best classes: its id, its name and its probability. */
export interface ClassScore {
  class: number;
  name: string;
  p: number;
}

export interface ClassificationResult {
  /** Softmax over the classes, by class id. */
  probabilities: Float32Array;
  /** The best classes, best first. */
  top: ClassScore[];
}

export interface SegmentationResult {
  /** Class id per pixel, row-major height×width, at the input's own size. */
  mask: Uint8Array;
  width: number;
  height: number;
  /** Class names by id. */
  classes: readonly string[];
  /** With `{ probabilities: true }`: softmax per pixel, [classes, S, S] at the model's input size S. */
  probabilities?: Float32Array;
}

export type InferenceResult = ClassificationResult | SegmentationResult;

/** The `k` most probable classes, best first. */
export function topClasses(probabilities: Float32Array, classes: readonly string[], k: number): ClassScore[] {
  return topK(probabilities, k).map(({ index, score }) => ({ class: index, name: classes[index] ?? String(index), p: score }));
}

/** A size×size label map resized (nearest neighbour, as masks must be) to width×height. */
export async function maskAtSize(labels: Uint8Array, size: number, width: number, height: number): Promise<Uint8Array> {
  if (width === size && height === size) return labels;
  const sharp = await loadSharp();
  const resized = await sharp(labels, { raw: { width: size, height: size, channels: 1 } }).resize(width, height, { fit: 'fill', kernel: 'nearest' }).extractChannel(0).raw().toBuffer();
  return new Uint8Array(resized.buffer, resized.byteOffset, resized.length);
}

/** The share of the pixels of each class, by class name. */
export function classFractions(mask: Uint8Array, classes: readonly string[]): Record<string, number> {
  const counts = new Array<number>(classes.length).fill(0);
  for (const label of mask) counts[label]!++;
  return Object.fromEntries(classes.map((name, c) => [name, counts[c]! / mask.length]));
}

/** The mask as an RGB PNG, one palette colour per class (as `predict` and masks.png draw them). */
export async function colourMaskPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  const rgb = Buffer.alloc(width * height * 3);
  mask.forEach((label, i) => rgb.set(MASK_PALETTE[label % MASK_PALETTE.length]!, i * 3));
  const sharp = await loadSharp();
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** The colour mask laid over the image it was computed from (`opacity` of the mask, default 0.45), as PNG. */
export async function overlayPng(image: ImageSource, mask: Uint8Array, width: number, height: number, opacity = 0.45): Promise<Buffer> {
  const sharp = await loadSharp();
  const translucent = await sharp(await colourMaskPng(mask, width, height)).ensureAlpha(opacity).png().toBuffer();
  return sharp(image).removeAlpha().toColourspace('srgb').composite([{ input: translucent }]).png().toBuffer();
}
