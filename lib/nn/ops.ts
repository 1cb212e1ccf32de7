/**
 * The functional ops the layers wrap. Those on main are re-exported; the rest (issue 3's
 * `extras` ops) are TRANSITIONAL run-time lookups that report a missing op by name until
 * they land — then they become re-exports too and this file goes.
 */
import * as F from '../functional/index.js';
import { opError } from '../errors.js';
import type { Tensor } from '../tensor.js';

export { conv2d, convTranspose2d } from '../functional/conv.js';
export { depthwiseConv2d } from '../functional/depthwise.js';
export { linear } from '../functional/linear.js';
export { maxPool2d, maxUnpool2d } from '../functional/pool.js';
export { batchNorm2d } from '../functional/norm.js';

type Pair = number | [number, number];

interface PoolOptions {
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair;
}
interface InterpolateOptions {
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

export const dropout = pending<(x: Tensor, p: number, training: boolean) => Tensor>('dropout');
export const interpolate = pending<(x: Tensor, opts: InterpolateOptions) => Tensor>('interpolate');
export const adaptiveAvgPool2d = pending<(x: Tensor, outputSize: Pair) => Tensor>('adaptiveAvgPool2d');
export const avgPool2d = pending<(x: Tensor, opts: PoolOptions) => Tensor>('avgPool2d');
export const cat = pending<(tensors: readonly Tensor[], dim?: number) => Tensor>('cat');
