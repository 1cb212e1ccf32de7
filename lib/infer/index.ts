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
export type { SessionOptions, RunOptions, InferenceInput } from './session.js';
export type { ClassificationResult, SegmentationResult, InferenceResult, ClassScore } from './outputs.js';
