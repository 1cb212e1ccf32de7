/**
 * The functional ops the layers wrap, with the names and signatures fixed by issue 2.
 * TRANSITIONAL: they are being written on other branches; until each lands on main it is
 * looked up at run time and reports that it is missing. Replace each entry by a direct
 * import from '../functional/index.js' as it lands.
 */
import * as F from '../functional/index.js';
import { opError } from '../errors.js';
import type { Tensor } from '../tensor.js';

type Pair = number | [number, number];

export interface ConvOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}
export interface ConvTransposeOptions extends ConvOptions {
  outputPadding?: Pair;
}
export interface PoolOptions {
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair;
}
export interface BatchNormOptions {
  training: boolean;
  momentum: number;
  eps: number;
}
export interface InterpolateOptions {
  size?: [number, number];
  scaleFactor?: number | [number, number];
  mode?: 'nearest' | 'bilinear';
  alignCorners?: boolean;
}

function pending<Fn>(name: string): Fn {
  const wrapper = (...args: unknown[]): unknown => {
    const fn = (F as Record<string, unknown>)[name];
    if (typeof fn !== 'function') throw opError(name, `sc.F.${name} is not in this build yet`);
    return (fn as (...a: unknown[]) => unknown)(...args);
  };
  return wrapper as Fn;
}

export const conv2d = pending<(x: Tensor, weight: Tensor, bias: Tensor | null, opts: ConvOptions) => Tensor>('conv2d');
export const convTranspose2d = pending<(x: Tensor, weight: Tensor, bias: Tensor | null, opts: ConvTransposeOptions) => Tensor>('convTranspose2d');
export const linear = pending<(x: Tensor, weight: Tensor, bias: Tensor | null) => Tensor>('linear');
export const maxPool2d = pending<(x: Tensor, opts: PoolOptions) => { output: Tensor; indices: Tensor }>('maxPool2d');
export const maxUnpool2d = pending<(x: Tensor, indices: Tensor, opts: PoolOptions & { outputSize: [number, number] }) => Tensor>('maxUnpool2d');
export const batchNorm2d = pending<
  (x: Tensor, runningMean: Tensor, runningVar: Tensor, weight: Tensor | null, bias: Tensor | null, opts: BatchNormOptions) => Tensor
>('batchNorm2d');
export const dropout = pending<(x: Tensor, p: number, training: boolean) => Tensor>('dropout');
export const depthwiseConv2d = pending<(x: Tensor, weight: Tensor, bias: Tensor | null, opts: Omit<ConvOptions, 'groups'>) => Tensor>('depthwiseConv2d');
export const interpolate = pending<(x: Tensor, opts: InterpolateOptions) => Tensor>('interpolate');
export const adaptiveAvgPool2d = pending<(x: Tensor, outputSize: Pair) => Tensor>('adaptiveAvgPool2d');
export const avgPool2d = pending<(x: Tensor, opts: PoolOptions) => Tensor>('avgPool2d');
export const cat = pending<(tensors: readonly Tensor[], dim?: number) => Tensor>('cat');
