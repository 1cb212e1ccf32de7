/** The functional API (`sc.F`): differentiable ops with PyTorch's names and argument order. */
// Their backward rules, registered with the autograd engine on import.
import '../autograd/derivatives.js';
export { add, sub, mul, div, neg, sum, mean, reshape, flatten, relu, broadcastShapes } from './elementwise.js';
export { maxPool2d, maxUnpool2d } from './pool.js';
export type { MaxPool2dOptions, MaxUnpool2dOptions } from './pool.js';
export { batchNorm2d } from './norm.js';
export type { BatchNormOptions } from './norm.js';
export { softmax, logSoftmax } from './softmax.js';
export { crossEntropy } from './loss.js';
export type { CrossEntropyOptions, Reduction } from './loss.js';
export { matmul, linear } from './linear.js';
export { conv2d, convTranspose2d } from './conv.js';
export type { Conv2dOptions, ConvTranspose2dOptions, Size2 } from './conv.js';
export { depthwiseConv2d } from './depthwise.js';
export type { DepthwiseConv2dOptions } from './depthwise.js';
export { cat, narrow, split, chunk } from './concat.js';
export { interpolate } from './interpolate.js';
export type { InterpolateMode, InterpolateOptions } from './interpolate.js';
export { avgPool2d, adaptiveAvgPool2d } from './avgpool.js';
export type { AvgPool2dOptions } from './avgpool.js';
export { dropout, dropout2d } from './dropout.js';
