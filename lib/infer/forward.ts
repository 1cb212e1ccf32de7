/**
 * One forward pass over a batch of decoded inputs, and the per-input answers: class
 * probabilities and the top classes, or a class mask at each input's own size. Runs where the
 * model lives (an inference session's worker, the `predict` worker).
 */
import { noGrad } from '../autograd/graph.js';
import type { Device } from '../dtype.js';
import { opError, shapeStr } from '../errors.js';
import { softmax } from '../functional/index.js';
import { tensor } from '../tensor.js';
import { argmaxClasses } from '../train/metrics.js';
import type { Task } from '../train/pictures.js';
import type { Model } from '../train/setup.js';
import { maskAtSize, topClasses } from './outputs.js';
import type { InferenceResult } from './outputs.js';

/** A model input (float32 CHW at the model's size) and the size its answer is wanted at. */
export interface ModelInput {
  data: Float32Array;
  width: number;
  height: number;
  /** Segmenters: also return the per-pixel probabilities. */
  probabilities?: boolean;
}

export interface ForwardSetup {
  model: Model;
  task: Task;
  classes: readonly string[];
  /** The side of the square the model takes. */
  size: number;
  device: Device;
  topK: number;
}

/** Runs `inputs` as one batch; answers are in input order. */
export async function forwardBatch(setup: ForwardSetup, inputs: readonly ModelInput[]): Promise<InferenceResult[]> {
  const { model, size, classes } = setup;
  const item = 3 * size * size;
  const batch = new Float32Array(inputs.length * item);
  inputs.forEach((input, i) => batch.set(input.data, i * item));
  const wantProbabilities = setup.task === 'classification' || inputs.some((input) => input.probabilities);
  const { logits, probabilities, shape } = noGrad(() => {
    const x = tensor(batch, [inputs.length, 3, size, size], { device: setup.device });
    const out = model.call(x);
    x.dispose();
    const probs = wantProbabilities ? softmax(out, 1) : null;
    const result = { logits: setup.task === 'segmentation' ? (out.toArray() as Float32Array) : null, probabilities: (probs?.toArray() as Float32Array | undefined) ?? null, shape: out.shape.slice() };
    out.dispose();
    probs?.dispose();
    return result;
  });
  const expected = setup.task === 'classification' ? [inputs.length, classes.length] : [inputs.length, classes.length, size, size];
  if (shape.join() !== expected.join())
    throw opError('infer', `the model returned ${shapeStr(shape)} for a ${shapeStr([inputs.length, 3, size, size])} batch; a ${setup.task} model of ${classes.length} classes must return ${shapeStr(expected)}`);
  const perInput = shape.slice(1).reduce((a, b) => a * b, 1);
  const slice = (i: number): Float32Array => probabilities!.slice(i * perInput, (i + 1) * perInput);
  if (setup.task === 'classification') return inputs.map((_, i) => ({ probabilities: slice(i), top: topClasses(slice(i), classes, setup.topK) }));
  const labels = argmaxClasses(logits!, shape);
  const plane = size * size;
  return Promise.all(
    inputs.map(async (input, i) => ({
      mask: await maskAtSize(Uint8Array.from(labels.subarray(i * plane, (i + 1) * plane)), size, input.width, input.height),
      width: input.width,
      height: input.height,
      classes,
      ...(input.probabilities ? { probabilities: slice(i) } : {}),
    })),
  );
}
