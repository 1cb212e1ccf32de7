/** The functional API (`sc.F`): differentiable ops with PyTorch's names and argument order. */
export { add, sub, mul, div, neg, sum, mean, reshape, flatten, relu, broadcastShapes } from './elementwise.js';
export { matmul, linear } from './linear.js';
export { conv2d, convTranspose2d } from './conv.js';
export type { Conv2dOptions, ConvTranspose2dOptions, Size2 } from './conv.js';
