/**
 * `Layer`: a module from one tensor to one tensor whose output shape follows from its input
 * shape. Its `outputShape` is the single place a layer checks its input — `forward` calls it
 * before any kernel runs, and `summary` calls it instead of computing — so a wrong shape is
 * reported the same way everywhere, naming the layer's path and the shapes.
 */
import { describe, invalidArg, shapeStr } from '../errors.js';
import { expectFloatTensor } from '../functional/validate.js';
import { empty } from '../tensor.js';
import type { Shape, Tensor } from '../tensor.js';
import { fanIn, kaimingUniform_, uniform_, xavierUniform_, zeros_ } from './init.js';
import type { InitScheme } from './init.js';
import { Module } from './module.js';

/**
 * @example
 * class Square extends sc.nn.Layer {
 *   outputShape(input: sc.Shape): number[] { return input.slice(); }
 *   forward(x: sc.Tensor): sc.Tensor { this.checkInput(x); return x.mul(x); }
 * }
 */
export abstract class Layer extends Module<[Tensor], Tensor> {
  /** Checks an input shape and returns the output shape; errors name this layer and both shapes. */
  abstract outputShape(input: Shape): number[];

  /** Checks `x` (a live float tensor of an acceptable shape); returns the output shape. */
  protected checkInput(x: unknown): number[] {
    return this.outputShape(expectFloatTensor(this.label(), 'input', x).shape);
  }

  protected override dryForward(x: Tensor): Tensor {
    return empty(this.checkInput(x), x.dtype, x.device);
  }
}

// ------------------------------------------------------------------- argument checks

/** An integer >= min, or an error naming the layer and the argument. */
export function intArg(layer: string, argument: string, value: unknown, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min) throw invalidArg(layer, argument, `an integer >= ${min}`, describe(value));
  return value as number;
}

/** A number in [low, high) (or [low, high] when `closed`). */
export function rangeArg(layer: string, argument: string, value: unknown, low: number, high: number, closed = false): number {
  const ok = typeof value === 'number' && value >= low && (closed ? value <= high : value < high);
  if (!ok) throw invalidArg(layer, argument, `a number in [${low}, ${high}${closed ? ']' : ')'}`, describe(value));
  return value;
}

/** Checks a 4-D NCHW shape (and its channel count when given). */
export function expectNCHW(layer: string, input: Shape, channels?: number): void {
  const c = channels ?? 'C';
  if (input.length !== 4 || (channels !== undefined && input[1] !== channels))
    throw invalidArg(layer, 'input', `a 4-D [N, ${c}, H, W] tensor`, `shape ${shapeStr(input)}`);
}

export interface Window {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
}

/**
 * Output H, W of a sliding window (convolution, pooling) over an NCHW shape:
 * floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1, which must be >= 1.
 */
export function slidingOutput(layer: string, input: Shape, w: Window): [number, number] {
  const out = [0, 1].map((d) => {
    const span = w.dilation[d]! * (w.kernel[d]! - 1) + 1;
    return Math.floor((input[2 + d]! + 2 * w.padding[d]! - span) / w.stride[d]!) + 1;
  });
  if (out[0]! < 1 || out[1]! < 1) {
    const span = [0, 1].map((d) => w.dilation[d]! * (w.kernel[d]! - 1) + 1);
    throw invalidArg(
      layer,
      'input',
      `H, W of at least ${span[0]}x${span[1]} after padding ${w.padding[0]}x${w.padding[1]} (the ${w.dilation[0] > 1 || w.dilation[1] > 1 ? 'dilated ' : ''}kernel)`,
      `shape ${shapeStr(input)}`,
    );
  }
  return [out[0]!, out[1]!];
}

/**
 * A weight and its bias drawn under a scheme: 'torch' — Kaiming-uniform (a = √5), bias
 * U(±1/√fan_in); 'keras' — glorot_uniform with Keras' fans (`kerasFans`, default the shape's
 * fan_in/fan_out, which is what Keras counts for its conv and dense kernels), bias zeros.
 */
export function initWeights(weight: Tensor, bias: Tensor | null, scheme: InitScheme, kerasFans?: { fanIn: number; fanOut: number }): void {
  if (scheme === 'keras') {
    xavierUniform_(weight, kerasFans ?? {});
    if (bias !== null) zeros_(bias);
    return;
  }
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias !== null) {
    const bound = 1 / Math.sqrt(fanIn(weight.shape));
    uniform_(bias, -bound, bound);
  }
}
