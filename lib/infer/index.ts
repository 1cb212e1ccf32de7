/**
 * Inference sessions (`sc.infer`): a checkpoint loaded once into a worker thread, answering
 * tensors, float arrays and encoded images, with concurrent calls micro-batched.
 *
 * @example
 * const session = await sc.infer.load('runs/vgg-dsc/best.safetensors');
 * const { top } = await session.run(readFileSync('plane.png')); // [{ class: 0, name: 'airplane', p: 0.91 }, …]
 * await session.close();
 */
export { load, InferenceSession } from './session.js';
import { classFractions as fractionsOf } from './outputs.js';
import type { SegmentationResult } from './outputs.js';

/**
 * The share of a segmentation's pixels in each class, by class name.
 *
 * @example
 * sc.infer.classFractions(await session.run(photo)); // { pet: 0.31, background: 0.62, border: 0.07 }
 */
export function classFractions(result: SegmentationResult): Record<string, number> {
  return fractionsOf(result.mask, result.classes);
}
export type { SessionOptions, RunOptions, InferenceInput, InferenceErrorCode } from './session.js';
export type { ClassificationResult, SegmentationResult, InferenceResult, ClassScore } from './outputs.js';
