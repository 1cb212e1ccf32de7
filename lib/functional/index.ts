/** The functional API (`sc.F`): differentiable ops with PyTorch's names and argument order. */
export { add, sub, mul, div, neg, sum, mean, reshape, flatten, relu, broadcastShapes } from './elementwise.js';
export { depthwiseConv2d } from './depthwise.js';
export type { DepthwiseConv2dOptions } from './depthwise.js';
