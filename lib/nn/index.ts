/**
 * `sc.nn`: modules and layers with PyTorch's names, defaults and initialisation, plus the
 * depthwise / pointwise / separable convolutions sepconv is about.
 */
export { Module } from './module.js';
export type { AnyModule, StateDict, LoadStateDictResult } from './module.js';
export { Sequential, ModuleList } from './containers.js';
export type { TensorModule } from './containers.js';
export { Layer } from './layer.js';
export { Conv2d, DepthwiseConv2d, PointwiseConv2d, SeparableConv2d, ConvTranspose2d } from './conv.js';
export type { Conv2dOptions, DepthwiseConv2dOptions, PointwiseConv2dOptions, SeparableConv2dOptions, ConvTranspose2dOptions } from './conv.js';
export { Linear, Flatten } from './linear.js';
export { BatchNorm2d } from './norm.js';
export type { BatchNorm2dOptions } from './norm.js';
export { ReLU, Dropout } from './activation.js';
export { MaxPool2d, MaxUnpool2d, AvgPool2d, AdaptiveAvgPool2d, Upsample } from './pooling.js';
export type { MaxPool2dResult, PoolOptions, UpsampleOptions } from './pooling.js';
export * as init from './init.js';
