/**
 * Augmentations as plain data (`sc.data.transforms`). A transform is a small JSON-safe object,
 * so the DataLoader can hand it to its worker threads; the code that applies it is in
 * augment.ts. Transforms that move pixels (flip, crop, rotation) move the mask with the
 * image; the others change the image only. Images are float32 in [0, 1] until `normalize`.
 *
 * @example
 * const { transforms: T } = sc.data;
 * const augment = T.compose(T.randomCrop(32, { padding: 4 }), T.randomHorizontalFlip(), T.normalize(CIFAR_MEAN, CIFAR_STD));
 * const loader = new sc.data.DataLoader(train, { batchSize: 128, shuffle: true, transform: augment });
 */
import { describe, invalidArg } from '../errors.js';

export interface HorizontalFlip {
  readonly kind: 'randomHorizontalFlip';
  readonly p: number;
}
export interface RandomCrop {
  readonly kind: 'randomCrop';
  readonly height: number;
  readonly width: number;
  readonly padding: number;
  readonly fill: number;
  readonly maskFill: number;
}
export interface ColorJitter {
  readonly kind: 'colorJitter';
  readonly brightness: number;
  readonly contrast: number;
  readonly saturation: number;
}
export interface RandomRotation {
  readonly kind: 'randomRotation';
  readonly degrees: number;
  readonly fill: number;
  readonly maskFill: number;
}
export interface ChannelDropout {
  readonly kind: 'channelDropout';
  readonly p: number;
  readonly fill: number;
}
export interface RandomErasing {
  readonly kind: 'randomErasing';
  readonly p: number;
  readonly scale: readonly [number, number];
  readonly ratio: readonly [number, number];
  readonly value: number;
}
export interface Normalize {
  readonly kind: 'normalize';
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** One augmentation step; build them with the functions of this module. */
export type Transform = HorizontalFlip | RandomCrop | ColorJitter | RandomRotation | ChannelDropout | RandomErasing | Normalize;
/** A transform or a (nested) list of them, run in order. */
export type TransformList = Transform | readonly TransformList[];

/** Mask value for pixels that crops and rotations bring in from outside the image:
 *  1 is "background" in Oxford-IIIT Pet's trimap − 1 labelling. */
export const DEFAULT_MASK_FILL = 1;

function probability(op: string, p: unknown): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw invalidArg(op, 'p', 'a probability in [0, 1]', describe(p));
  return p;
}

function finiteNumber(op: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArg(op, argument, 'a finite number', describe(value));
  return value;
}

function nonNegative(op: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value))
    throw invalidArg(op, argument, 'a finite number ≥ 0', describe(value));
  return value;
}

function maskValue(op: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 255)
    throw invalidArg(op, 'options.maskFill', 'an integer class id in 0–255', describe(value));
  return value as number;
}

function range(op: string, argument: string, value: unknown): [number, number] {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => typeof v === 'number' && v > 0 && Number.isFinite(v)) || value[0] > value[1])
    throw invalidArg(op, argument, 'a range [low, high] of positive numbers with low ≤ high', describe(value));
  return [value[0], value[1]];
}

/**
 * Mirrors image and mask left–right with probability `p`.
 *
 * @example
 * sc.data.transforms.randomHorizontalFlip(0.5)
 */
export function randomHorizontalFlip(p = 0.5): HorizontalFlip {
  return { kind: 'randomHorizontalFlip', p: probability('randomHorizontalFlip', p) };
}

/**
 * Pads by `padding` on every side (image with `fill`, mask with `maskFill`), then crops a
 * random `size` window (a number for square crops, or [height, width]).
 *
 * @example
 * sc.data.transforms.randomCrop(32, { padding: 4 }) // the classic CIFAR augmentation
 */
export function randomCrop(
  size: number | readonly [number, number],
  options: { padding?: number; fill?: number; maskFill?: number } = {},
): RandomCrop {
  const op = 'randomCrop';
  const [height, width] = typeof size === 'number' ? [size, size] : Array.isArray(size) ? size : [NaN, NaN];
  if (!Number.isInteger(height) || !Number.isInteger(width) || height! < 1 || width! < 1)
    throw invalidArg(op, 'size', 'a positive integer or [height, width] of positive integers', describe(size));
  const padding = options.padding ?? 0;
  if (!Number.isInteger(padding) || padding < 0) throw invalidArg(op, 'options.padding', 'an integer ≥ 0', describe(padding));
  return {
    kind: op,
    height: height!,
    width: width!,
    padding,
    fill: finiteNumber(op, 'options.fill', options.fill ?? 0),
    maskFill: maskValue(op, options.maskFill ?? DEFAULT_MASK_FILL),
  };
}

/**
 * Random brightness, contrast and saturation changes (torchvision's ColorJitter without hue):
 * each factor is drawn from [max(0, 1 − v), 1 + v] and the three are applied in random order.
 * Place it before `normalize` (it clamps to [0, 1]).
 *
 * @example
 * sc.data.transforms.colorJitter({ brightness: 0.2, contrast: 0.2, saturation: 0.2 })
 */
export function colorJitter(options: { brightness?: number; contrast?: number; saturation?: number }): ColorJitter {
  const op = 'colorJitter';
  return {
    kind: op,
    brightness: nonNegative(op, 'options.brightness', options.brightness ?? 0),
    contrast: nonNegative(op, 'options.contrast', options.contrast ?? 0),
    saturation: nonNegative(op, 'options.saturation', options.saturation ?? 0),
  };
}

/**
 * Rotates image (bilinear) and mask (nearest) together by an angle drawn from
 * [−degrees, degrees] about the centre; corners brought in are `fill` / `maskFill`.
 *
 * @example
 * sc.data.transforms.randomRotation(15)
 */
export function randomRotation(degrees: number, options: { fill?: number; maskFill?: number } = {}): RandomRotation {
  const op = 'randomRotation';
  return {
    kind: op,
    degrees: nonNegative(op, 'degrees', degrees),
    fill: finiteNumber(op, 'options.fill', options.fill ?? 0),
    maskFill: maskValue(op, options.maskFill ?? DEFAULT_MASK_FILL),
  };
}

/**
 * With probability `p`, sets one randomly chosen colour channel to `fill`.
 *
 * @example
 * sc.data.transforms.channelDropout(0.1)
 */
export function channelDropout(p = 0.1, options: { fill?: number } = {}): ChannelDropout {
  const op = 'channelDropout';
  return { kind: op, p: probability(op, p), fill: finiteNumber(op, 'options.fill', options.fill ?? 0) };
}

/**
 * With probability `p`, fills a random rectangle of the image with `value` (torchvision's
 * RandomErasing: area fraction from `scale`, aspect ratio from `ratio`, log-uniform).
 * The mask keeps its labels: the object is hidden, not removed.
 *
 * @example
 * sc.data.transforms.randomErasing({ p: 0.25 })
 */
export function randomErasing(
  options: { p?: number; scale?: readonly [number, number]; ratio?: readonly [number, number]; value?: number } = {},
): RandomErasing {
  const op = 'randomErasing';
  const scale = range(op, 'options.scale', options.scale ?? [0.02, 0.33]);
  if (scale[1] > 1) throw invalidArg(op, 'options.scale', 'area fractions within (0, 1]', describe(options.scale));
  return {
    kind: op,
    p: probability(op, options.p ?? 0.5),
    scale,
    ratio: range(op, 'options.ratio', options.ratio ?? [0.3, 3.3]),
    value: finiteNumber(op, 'options.value', options.value ?? 0),
  };
}

/**
 * Per-channel (x − mean) / std. One value applies to every channel.
 *
 * @example
 * sc.data.transforms.normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
 */
export function normalize(mean: number | readonly number[], std: number | readonly number[]): Normalize {
  const op = 'normalize';
  const list = (argument: string, v: unknown): number[] => {
    const values = typeof v === 'number' ? [v] : Array.isArray(v) ? (v as unknown[]) : null;
    if (values === null || values.length === 0 || !values.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw invalidArg(op, argument, 'a number or a non-empty array of finite numbers', describe(v));
    return values as number[];
  };
  const stds = list('std', std);
  if (stds.some((s) => s <= 0)) throw invalidArg(op, 'std', 'positive values', `[${stds.join(', ')}]`);
  return { kind: op, mean: list('mean', mean), std: stds };
}

const KINDS = new Set<string>(['randomHorizontalFlip', 'randomCrop', 'colorJitter', 'randomRotation', 'channelDropout', 'randomErasing', 'normalize']);

function isTransform(value: unknown): value is Transform {
  return value !== null && typeof value === 'object' && KINDS.has((value as { kind?: unknown }).kind as string);
}

/**
 * Chains transforms (nested lists are flattened); they run in the order given.
 *
 * @example
 * const t = sc.data.transforms;
 * const augment = t.compose(t.randomHorizontalFlip(), t.randomRotation(10));
 */
export function compose(...transforms: readonly TransformList[]): Transform[] {
  return flattenTransforms('compose', transforms);
}

/** @internal Flattens and checks a transform list (from compose or DataLoader options). */
export function flattenTransforms(op: string, value: unknown): Transform[] {
  const out: Transform[] = [];
  const visit = (v: unknown, depth: number): void => {
    if (Array.isArray(v) && depth < 8) for (const item of v) visit(item, depth + 1);
    else if (isTransform(v)) out.push(v);
    else
      throw invalidArg(
        op,
        'transform',
        'transforms made by sc.data.transforms (custom functions cannot cross into the loader worker threads)',
        typeof v === 'function' ? 'a function' : describe(v),
      );
  };
  if (value !== undefined) visit(value, 0);
  return out;
}
