/** The functional API (`sc.F`): differentiable ops with PyTorch's names and argument order. */
export { add, sub, mul, div, neg, sum, mean, reshape, flatten, relu, broadcastShapes } from './elementwise.js';
export { cat, narrow, split, chunk } from './concat.js';
export { interpolate } from './interpolate.js';
export type { InterpolateMode, InterpolateOptions } from './interpolate.js';
export { avgPool2d, adaptiveAvgPool2d } from './avgpool.js';
export type { AvgPool2dOptions } from './avgpool.js';
export { dropout, dropout2d } from './dropout.js';
