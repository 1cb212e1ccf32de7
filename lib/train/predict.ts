/**
 * `predict`: runs a checkpoint on image files (the task behind `sepconv predict`).
 * Classifiers give the top classes with probabilities; segmenters write a colour mask and an
 * overlay per image, at the image's own size. Every image is decoded before anything is
 * written, so an unreadable file leaves no partial output.
 */
import { mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import sharp from 'sharp';
import { noGrad } from '../autograd/graph.js';
import { SepconvError } from '../errors.js';
import { native } from '../native.js';
import { tensor } from '../tensor.js';
import type { ConvKind, ModelName } from './config.js';
import { taskOf } from './config.js';
import { writeFileAtomic } from './files.js';
import { argmaxClasses, topK } from './metrics.js';
import { MASK_PALETTE } from './pictures.js';
import { loadCheckpointModel } from './setup.js';
import type { JobContext } from './job.js';

export interface PredictOptions {
  checkpoint: string;
  /** Image files (any format sharp reads). */
  images: string[];
  /** Where masks, overlays and predictions.json go (required for segmentation). */
  out?: string;
  /** Classes listed per image by classifiers (default 5). */
  topK?: number;
  threads?: number;
  /** Needed only for checkpoints without sepconv metadata; checked against it otherwise. */
  model?: ModelName;
  conv?: ConvKind;
}

export interface Prediction {
  image: string;
  /** Classifiers: the best classes, best first. */
  top?: { class: string; index: number; probability: number }[];
  /** Segmenters: the files written and the share of the image each class covers. */
  mask?: string;
  overlay?: string;
  classFractions?: Record<string, number>;
}

interface DecodedImage {
  file: string;
  /** The model input: float32 CHW in [0, 1] at size×size. */
  input: Float32Array;
  width: number;
  height: number;
}

async function decode(file: string, size: number): Promise<DecodedImage> {
  try {
    const image = sharp(file).removeAlpha().toColourspace('srgb');
    const { width = 0, height = 0 } = await image.metadata();
    const { data } = await image.resize(size, size, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    const plane = size * size;
    const input = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) input[c * plane + i] = data[i * 3 + c]! / 255;
    return { file, input, width, height };
  } catch (err) {
    throw new SepconvError(`predict: cannot read ${file} as an image (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** `stem`, or `stem-2`, `stem-3`, … when images of the same name come from different folders. */
function uniqueStem(stem: string, used: Set<string>): string {
  let name = stem;
  for (let n = 2; used.has(name); n++) name = `${stem}-${n}`;
  used.add(name);
  return name;
}

function softmax(scores: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(scores));
  const exps = Array.from(scores, (s) => Math.exp(s - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Colour mask and overlay PNGs at the original image's size. */
async function maskPictures(file: string, labels: Int32Array, size: number, width: number, height: number): Promise<{ mask: Buffer; overlay: Buffer }> {
  const rgba = Buffer.alloc(size * size * 4);
  labels.forEach((label, i) => {
    const [r, g, b] = MASK_PALETTE[label % MASK_PALETTE.length]!;
    rgba.set([r, g, b, 255], i * 4);
  });
  const mask = await sharp(rgba, { raw: { width: size, height: size, channels: 4 } }).resize(width, height, { fit: 'fill', kernel: 'nearest' }).removeAlpha().png().toBuffer();
  const translucent = await sharp(mask).ensureAlpha(0.45).png().toBuffer();
  const overlay = await sharp(file).removeAlpha().toColourspace('srgb').composite([{ input: translucent }]).png().toBuffer();
  return { mask, overlay };
}

export async function runPredict(options: PredictOptions, _context: JobContext): Promise<Prediction[]> {
  if (options.threads !== undefined) native.setNumThreads(options.threads);
  if (!Array.isArray(options.images) || options.images.length === 0) throw new SepconvError('predict: give at least one image file');
  const { model, identity } = await loadCheckpointModel(options.checkpoint, options);
  const task = taskOf(identity.dataset);
  if (task === 'segmentation' && options.out === undefined) throw new SepconvError('predict: a segmentation checkpoint writes mask files; pass --out DIR');
  const size = identity.imageSize;
  const decoded = await Promise.all(options.images.map((file) => decode(file, size)));

  const predictions: Prediction[] = [];
  const files: [string, Buffer][] = [];
  const usedStems = new Set<string>();
  for (const image of decoded) {
    const scores = noGrad(() => {
      const x = tensor(image.input, [1, 3, size, size]);
      const logits = model.call(x);
      const result = { values: logits.toArray(), shape: logits.shape.slice() };
      x.dispose();
      logits.dispose();
      return result;
    });
    if (task === 'classification') {
      const top = topK(softmax(scores.values), options.topK ?? 5).map(({ index, score }) => ({ class: identity.classes[index] ?? String(index), index, probability: score }));
      predictions.push({ image: image.file, top });
      continue;
    }
    const labels = argmaxClasses(scores.values, scores.shape);
    const stem = uniqueStem(basename(image.file, extname(image.file)), usedStems);
    const { mask, overlay } = await maskPictures(image.file, labels, size, image.width, image.height);
    const counts = new Array<number>(identity.numClasses).fill(0);
    for (const l of labels) counts[l]!++;
    const classFractions = Object.fromEntries(identity.classes.map((name, c) => [name, counts[c]! / labels.length]));
    files.push([`${stem}.mask.png`, mask], [`${stem}.overlay.png`, overlay]);
    predictions.push({ image: image.file, mask: join(options.out!, `${stem}.mask.png`), overlay: join(options.out!, `${stem}.overlay.png`), classFractions });
  }
  if (options.out !== undefined) {
    await mkdir(options.out, { recursive: true });
    for (const [name, bytes] of files) await writeFileAtomic(join(options.out, name), bytes);
    await writeFileAtomic(join(options.out, 'predictions.json'), JSON.stringify(predictions, null, 2) + '\n');
  }
  return predictions;
}
