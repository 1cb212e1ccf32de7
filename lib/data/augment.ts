/**
 * Applies transforms (transforms.ts) to one sample. Runs inside the loader's worker threads,
 * so it imports nothing that loads the native addon.
 */
import { invalidArg, shapeStr } from '../errors.js';
import type { Rng } from './rng.js';
import type {
  ChannelDropout,
  ColorJitter,
  HorizontalFlip,
  Normalize,
  RandomCrop,
  RandomErasing,
  RandomRotation,
  Transform,
} from './transforms.js';

/** An image as float32 CHW (values in [0, 1] before normalisation) and its optional H×W mask. */
export interface Sample {
  image: Float32Array;
  channels: number;
  height: number;
  width: number;
  mask: Uint8Array | null;
}

/** Converts uint8 CHW pixels to float32 in [0, 1]; float32 pixels (a user's dataset, already in [0, 1]) are copied. */
export function toFloatImage(pixels: Uint8Array | Float32Array): Float32Array {
  if (pixels instanceof Float32Array) return pixels.slice();
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 255;
  return out;
}

/** Float32 pixels in [0, 1] as uint8 (for pictures); uint8 ones as they are. */
export function toByteImage(pixels: Uint8Array | Float32Array): Uint8Array {
  if (pixels instanceof Uint8Array) return pixels;
  return Uint8Array.from(pixels, (v) => Math.round(255 * Math.min(1, Math.max(0, v))));
}

function horizontalFlip(s: Sample, t: HorizontalFlip, rng: Rng): Sample {
  if (rng.next() >= t.p) return s;
  const { width: w, height: h } = s;
  const flipRows = <A extends Float32Array | Uint8Array>(data: A, planes: number): void => {
    for (let row = 0; row < planes * h; row++) data.subarray(row * w, row * w + w).reverse();
  };
  flipRows(s.image, s.channels);
  if (s.mask) flipRows(s.mask, 1);
  return s;
}

/** Copies an out.h × out.w window whose top-left is (top, left) in source coordinates
 *  (may lie outside the source: those pixels take the fill values). */
function window(s: Sample, top: number, left: number, height: number, width: number, fill: number, maskFill: number): Sample {
  const image = new Float32Array(s.channels * height * width).fill(fill);
  const mask = s.mask ? new Uint8Array(height * width).fill(maskFill) : null;
  const y0 = Math.max(0, -top);
  const y1 = Math.min(height, s.height - top);
  const x0 = Math.max(0, -left);
  const x1 = Math.min(width, s.width - left);
  if (x1 > x0) {
    for (let y = y0; y < y1; y++) {
      const src = (y + top) * s.width + left;
      for (let c = 0; c < s.channels; c++) {
        const plane = c * s.height * s.width;
        image.set(s.image.subarray(plane + src + x0, plane + src + x1), c * height * width + y * width + x0);
      }
      if (mask && s.mask) mask.set(s.mask.subarray(src + x0, src + x1), y * width + x0);
    }
  }
  return { image, channels: s.channels, height, width, mask };
}

function randomCrop(s: Sample, t: RandomCrop, rng: Rng): Sample {
  const paddedH = s.height + 2 * t.padding;
  const paddedW = s.width + 2 * t.padding;
  if (t.height > paddedH || t.width > paddedW)
    throw invalidArg('randomCrop', 'size', `at most the padded image size ${shapeStr([paddedH, paddedW])}`, shapeStr([t.height, t.width]));
  const top = rng.int(paddedH - t.height + 1) - t.padding;
  const left = rng.int(paddedW - t.width + 1) - t.padding;
  return window(s, top, left, t.height, t.width, t.fill, t.maskFill);
}

const LUMA = [0.299, 0.587, 0.114] as const;

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/** image = clamp(factor·image + (1 − factor)·value, 0, 1). */
function blendWithConstant(image: Float32Array, factor: number, value: number): void {
  const offset = (1 - factor) * value;
  for (let i = 0; i < image.length; i++) image[i] = clamp01(factor * image[i]! + offset);
}

/** Each plane of image = clamp(factor·plane + (1 − factor)·gray, 0, 1). */
function blendWithGray(image: Float32Array, factor: number, gray: Float32Array): void {
  const plane = gray.length;
  for (let base = 0; base < image.length; base += plane)
    for (let i = 0; i < plane; i++) image[base + i] = clamp01(factor * image[base + i]! + (1 - factor) * gray[i]!);
}

function grayscale(s: Sample): Float32Array {
  const plane = s.height * s.width;
  if (s.channels !== 3) return s.image.slice(0, plane);
  const gray = new Float32Array(plane);
  for (let i = 0; i < plane; i++) gray[i] = LUMA[0] * s.image[i]! + LUMA[1] * s.image[plane + i]! + LUMA[2] * s.image[2 * plane + i]!;
  return gray;
}

function colorJitter(s: Sample, t: ColorJitter, rng: Rng): Sample {
  const factor = (v: number): number => rng.uniform(Math.max(0, 1 - v), 1 + v);
  const brightness = (): void => {
    if (t.brightness > 0) blendWithConstant(s.image, factor(t.brightness), 0);
  };
  const contrast = (): void => {
    if (t.contrast === 0) return;
    const gray = grayscale(s);
    blendWithConstant(s.image, factor(t.contrast), gray.reduce((a, b) => a + b, 0) / gray.length);
  };
  const saturation = (): void => {
    if (t.saturation > 0 && s.channels === 3) blendWithGray(s.image, factor(t.saturation), grayscale(s));
  };
  // torchvision applies the three in a random order.
  const steps = [brightness, contrast, saturation];
  for (let i = steps.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [steps[i], steps[j]] = [steps[j]!, steps[i]!];
  }
  for (const step of steps) step();
  return s;
}

function randomRotation(s: Sample, t: RandomRotation, rng: Rng): Sample {
  const angle = (rng.uniform(-t.degrees, t.degrees) * Math.PI) / 180;
  const { width: w, height: h, channels } = s;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const plane = w * h;
  const src = s.image;
  const image = new Float32Array(channels * plane);
  const mask = s.mask ? new Uint8Array(plane) : null;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse map (counter-clockwise rotation on screen): where does this output pixel come from?
      const sx = cos * (x - cx) - sin * (y - cy) + cx;
      const sy = sin * (x - cx) + cos * (y - cy) + cy;
      const out = y * w + x;
      // One inside test for image and mask keeps their borders aligned.
      if (sx < -0.5 || sy < -0.5 || sx >= w - 0.5 || sy >= h - 0.5) {
        for (let c = 0; c < channels; c++) image[c * plane + out] = t.fill;
        if (mask) mask[out] = t.maskFill;
        continue;
      }
      const x0 = Math.min(Math.max(Math.floor(sx), 0), w - 1);
      const y0 = Math.min(Math.max(Math.floor(sy), 0), h - 1);
      const dx = Math.min(x0 + 1, w - 1) - x0;
      const dy = (Math.min(y0 + 1, h - 1) - y0) * w;
      const fx = Math.min(Math.max(sx - x0, 0), 1);
      const fy = Math.min(Math.max(sy - y0, 0), 1);
      const i00 = y0 * w + x0;
      for (let base = 0; base < channels * plane; base += plane) {
        const top = src[base + i00]! * (1 - fx) + src[base + i00 + dx]! * fx;
        const bottom = src[base + i00 + dy]! * (1 - fx) + src[base + i00 + dy + dx]! * fx;
        image[base + out] = top * (1 - fy) + bottom * fy;
      }
      if (mask && s.mask) mask[out] = s.mask[Math.round(sy) * w + Math.round(sx)]!;
    }
  }
  return { image, channels, height: h, width: w, mask };
}

function channelDropout(s: Sample, t: ChannelDropout, rng: Rng): Sample {
  if (rng.next() >= t.p) return s;
  const plane = s.height * s.width;
  const c = rng.int(s.channels);
  s.image.fill(t.fill, c * plane, (c + 1) * plane);
  return s;
}

function randomErasing(s: Sample, t: RandomErasing, rng: Rng): Sample {
  if (rng.next() >= t.p) return s;
  const area = s.height * s.width;
  const logRatio = [Math.log(t.ratio[0]), Math.log(t.ratio[1])] as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(t.scale[0], t.scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const h = Math.round(Math.sqrt(target * aspect));
    const w = Math.round(Math.sqrt(target / aspect));
    if (h < 1 || w < 1 || h >= s.height || w >= s.width) continue;
    const top = rng.int(s.height - h + 1);
    const left = rng.int(s.width - w + 1);
    for (let c = 0; c < s.channels; c++)
      for (let y = top; y < top + h; y++) {
        const row = c * area + y * s.width;
        s.image.fill(t.value, row + left, row + left + w);
      }
    return s;
  }
  return s;
}

function normalize(s: Sample, t: Normalize): Sample {
  for (const [argument, values] of [['mean', t.mean], ['std', t.std]] as const)
    if (values.length !== 1 && values.length !== s.channels)
      throw invalidArg('normalize', argument, `1 or ${s.channels} values (one per channel)`, `${values.length} values`);
  const plane = s.height * s.width;
  for (let c = 0; c < s.channels; c++) {
    const mean = t.mean.length === 1 ? t.mean[0]! : t.mean[c]!;
    const scale = 1 / (t.std.length === 1 ? t.std[0]! : t.std[c]!);
    for (let i = c * plane; i < (c + 1) * plane; i++) s.image[i] = (s.image[i]! - mean) * scale;
  }
  return s;
}

const APPLY: { [K in Transform['kind']]: (s: Sample, t: Extract<Transform, { kind: K }>, rng: Rng) => Sample } = {
  randomHorizontalFlip: horizontalFlip,
  randomCrop,
  colorJitter,
  randomRotation,
  channelDropout,
  randomErasing,
  normalize,
};

/** Runs `transforms` in order; every random draw comes from `rng` (one per item and epoch). */
export function applyTransforms(sample: Sample, transforms: readonly Transform[], rng: Rng): Sample {
  let s = sample;
  for (const t of transforms) s = (APPLY[t.kind] as (s: Sample, t: Transform, rng: Rng) => Sample)(s, t, rng);
  return s;
}
