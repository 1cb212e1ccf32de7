/**
 * `predict`: runs a checkpoint on images (the task behind `sepconv predict`), files or encoded
 * bytes, through the preprocessing every other path uses (`sc.data.imageToTensor`'s).
 * Classifiers give the top classes with probabilities; segmenters give a colour mask and an
 * overlay per image, at the image's own size. Every image is decoded before anything is
 * written, so an unreadable file leaves no partial output.
 */
import { mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { SepconvError } from '../errors.js';
import { imageInput } from '../data/image.js';
import type { ImageSource } from '../data/image.js';
import { forwardBatch } from '../infer/forward.js';
import type { ClassificationResult, SegmentationResult } from '../infer/outputs.js';
import { classFractions, colourMaskPng, overlayPng } from '../infer/outputs.js';
import { native } from '../native.js';
import type { ConvKind, ModelName } from './config.js';
import { writeFileAtomic } from './files.js';
import { loadCheckpointModel, taskOfIdentity } from './setup.js';
import type { JobContext } from './job.js';

export interface PredictOptions {
  checkpoint: string;
  /** Images: file paths, or encoded bytes (Buffer/Uint8Array of JPEG, PNG, WebP…). */
  images: ImageSource[];
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
  /** The file, or `image <n>` (1-based) for bytes. */
  image: string;
  /** Classifiers: the best classes, best first. */
  top?: { class: string; index: number; probability: number }[];
  /** Segmenters: the files written and the share of the image each class covers. */
  mask?: string;
  overlay?: string;
  classFractions?: Record<string, number>;
}

/** `stem`, or `stem-2`, `stem-3`, … when images of the same name come from different folders. */
function uniqueStem(stem: string, used: Set<string>): string {
  let name = stem;
  for (let n = 2; used.has(name); n++) name = `${stem}-${n}`;
  used.add(name);
  return name;
}

export async function runPredict(options: PredictOptions, _context: JobContext): Promise<Prediction[]> {
  if (options.threads !== undefined) native.setNumThreads(options.threads);
  if (!Array.isArray(options.images) || options.images.length === 0)
    throw new SepconvError('predict: options.images must list at least one image (a file path or encoded bytes)');
  const { model, identity } = await loadCheckpointModel(options.checkpoint, options);
  const task = taskOfIdentity(identity);
  if (task === 'segmentation' && options.out === undefined)
    throw new SepconvError('predict: a segmentation checkpoint writes mask files; set options.out to a folder');
  const size = identity.imageSize;
  const names = options.images.map((image, i) => (typeof image === 'string' ? image : `image ${i + 1}`));
  const decoded = await Promise.all(options.images.map((image, i) => imageInput('predict', image, size, names[i])));
  const setup = { model, task, classes: identity.classes, size, device: 'cpu' as const, topK: options.topK ?? 5 };

  const predictions: Prediction[] = [];
  const files: [string, Buffer][] = [];
  const usedStems = new Set<string>();
  for (const [i, input] of decoded.entries()) {
    const [result] = await forwardBatch(setup, [input]);
    if (task === 'classification') {
      const { top } = result as ClassificationResult;
      predictions.push({ image: names[i]!, top: top.map((t) => ({ class: t.name, index: t.class, probability: t.p })) });
      continue;
    }
    const { mask, width, height } = result as SegmentationResult;
    const image = options.images[i]!;
    const stem = uniqueStem(typeof image === 'string' ? basename(image, extname(image)) : `image-${i + 1}`, usedStems);
    files.push([`${stem}.mask.png`, await colourMaskPng(mask, width, height)], [`${stem}.overlay.png`, await overlayPng(image, mask, width, height)]);
    predictions.push({ image: names[i]!, mask: join(options.out!, `${stem}.mask.png`), overlay: join(options.out!, `${stem}.overlay.png`), classFractions: classFractions(mask, identity.classes) });
  }
  if (options.out !== undefined) {
    await mkdir(options.out, { recursive: true });
    for (const [name, bytes] of files) await writeFileAtomic(join(options.out, name), bytes);
    await writeFileAtomic(join(options.out, 'predictions.json'), JSON.stringify(predictions, null, 2) + '\n');
  }
  return predictions;
}
