/** Pooling and resampling layers: max pool with indices and its unpool, average pools, Upsample. */
import { describe, invalidArg, shapeStr } from '../errors.js';
import { expectFloatTensor, expectTensor, pair } from '../functional/validate.js';
import { empty } from '../tensor.js';
import type { Shape, Tensor } from '../tensor.js';
import { expectNCHW, Layer, slidingOutput } from './layer.js';
import type { Window } from './layer.js';
import { Module } from './module.js';
import { adaptiveAvgPool2d, avgPool2d } from '../functional/avgpool.js';
import { interpolate } from '../functional/interpolate.js';
import { maxPool2d, maxUnpool2d } from '../functional/pool.js';

type Pair = number | [number, number];

export interface PoolOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  /** Default 0 (at most half the kernel). */
  padding?: Pair;
}

/** Kernel, stride and padding of a pooling layer, checked once. */
function poolWindow(layer: string, kernelSize: Pair, opts: PoolOptions): Window {
  const kernel = pair(layer, 'kernelSize', kernelSize, 1);
  const stride = pair(layer, 'stride', opts.stride ?? kernel, 1);
  const padding = pair(layer, 'padding', opts.padding ?? 0, 0);
  if (padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2)
    throw invalidArg(layer, 'padding', `at most half the kernel size ${shapeStr(kernel)}`, shapeStr(padding));
  return { kernel, stride, padding, dilation: [1, 1] };
}

function poolArgs(w: Window): { kernelSize: [number, number]; stride: [number, number]; padding: [number, number] } {
  return { kernelSize: w.kernel, stride: w.stride, padding: w.padding };
}

function windowRepr(w: Window): string {
  return `kernelSize=${shapeStr(w.kernel)}, stride=${shapeStr(w.stride)}${w.padding.some((p) => p > 0) ? `, padding=${shapeStr(w.padding)}` : ''}`;
}

export interface MaxPool2dResult {
  output: Tensor;
  /** int32 argmax positions within each H×W input plane (PyTorch's convention). */
  indices: Tensor;
}

/**
 * Max pooling (PyTorch's nn.MaxPool2d). With `returnIndices: true` it returns
 * `{ output, indices }` for a later `MaxUnpool2d`, as SegNet needs.
 *
 * @example
 * const pool = new sc.nn.MaxPool2d(2, { returnIndices: true });
 * const { output, indices } = pool.call(x);
 */
export class MaxPool2d<R extends boolean = false> extends Module<[Tensor], R extends true ? MaxPool2dResult : Tensor> {
  readonly window: Window;
  readonly returnIndices: R;

  constructor(kernelSize: Pair, opts: PoolOptions & { returnIndices?: R } = {}) {
    super();
    this.window = poolWindow('MaxPool2d', kernelSize, opts);
    this.returnIndices = (opts.returnIndices ?? false) as R;
  }

  outputShape(input: Shape): number[] {
    expectNCHW(this.label(), input);
    return [input[0]!, input[1]!, ...slidingOutput(this.label(), input, this.window)];
  }

  forward(x: Tensor): R extends true ? MaxPool2dResult : Tensor {
    this.outputShape(expectFloatTensor(this.label(), 'input', x).shape);
    return this.shape(maxPool2d(x, poolArgs(this.window)));
  }

  protected override dryForward(x: Tensor): R extends true ? MaxPool2dResult : Tensor {
    const shape = this.outputShape(expectFloatTensor(this.label(), 'input', x).shape);
    return this.shape({ output: empty(shape, x.dtype, x.device), indices: empty(shape, 'int32', x.device) });
  }

  private shape(result: MaxPool2dResult): R extends true ? MaxPool2dResult : Tensor {
    return (this.returnIndices ? result : result.output) as R extends true ? MaxPool2dResult : Tensor;
  }

  protected override extraRepr(): string {
    return windowRepr(this.window) + (this.returnIndices ? ', returnIndices=true' : '');
  }
}

/**
 * Inverse of max pooling (PyTorch's nn.MaxUnpool2d): puts each value back at its argmax
 * position, zeros elsewhere. `outputSize` ([H, W] or a full NCHW shape) picks among the
 * input sizes a pool could have come from (default (H − 1)·stride − 2·padding + kernel).
 *
 * @example
 * const pool = new sc.nn.MaxPool2d(2, { returnIndices: true });
 * const unpool = new sc.nn.MaxUnpool2d(2);
 * const { output, indices } = pool.call(x);           // x: [1, 64, 25, 25]
 * unpool.call(output, indices, x.shape).shape;       // [1, 64, 25, 25]
 */
export class MaxUnpool2d extends Module<[Tensor, Tensor, (readonly number[])?], Tensor> {
  readonly window: Window;

  constructor(kernelSize: Pair, opts: PoolOptions = {}) {
    super();
    this.window = poolWindow('MaxUnpool2d', kernelSize, opts);
  }

  /** Checks the input, its indices and the requested size; returns the output shape. */
  outputShape(input: Shape, indices: Shape, outputSize?: readonly number[]): number[] {
    const label = this.label();
    expectNCHW(label, input);
    if (shapeStr(indices) !== shapeStr(input)) throw invalidArg(label, 'indices', `the input's shape ${shapeStr(input)}`, `shape ${shapeStr(indices)}`);
    const { kernel, stride, padding } = this.window;
    const smallest = [0, 1].map((d) => (input[2 + d]! - 1) * stride[d]! - 2 * padding[d]! + kernel[d]!);
    if (outputSize === undefined) return [input[0]!, input[1]!, smallest[0]!, smallest[1]!];
    const size = Array.isArray(outputSize) && (outputSize.length === 2 || outputSize.length === 4) ? outputSize.slice(-2) : null;
    if (size === null || size.some((s, d) => !Number.isInteger(s) || s < smallest[d]! || s >= smallest[d]! + stride[d]!))
      throw invalidArg(
        label,
        'outputSize',
        `[H, W] with H in [${smallest[0]}, ${smallest[0]! + stride[0] - 1}] and W in [${smallest[1]}, ${smallest[1]! + stride[1] - 1}] for input ${shapeStr(input)}`,
        Array.isArray(outputSize) ? shapeStr(outputSize) : describe(outputSize),
      );
    return [input[0]!, input[1]!, size[0]!, size[1]!];
  }

  private check(x: Tensor, indices: Tensor, outputSize?: readonly number[]): number[] {
    const label = this.label();
    expectFloatTensor(label, 'input', x);
    expectTensor(label, 'indices', indices);
    if (indices.dtype !== 'int32') throw invalidArg(label, 'indices', 'an int32 tensor (from MaxPool2d with returnIndices)', `a ${indices.dtype} tensor`);
    return this.outputShape(x.shape, indices.shape, outputSize);
  }

  forward(x: Tensor, indices: Tensor, outputSize?: readonly number[]): Tensor {
    const shape = this.check(x, indices, outputSize);
    return maxUnpool2d(x, indices, { ...poolArgs(this.window), outputSize: [shape[2]!, shape[3]!] });
  }

  protected override dryForward(x: Tensor, indices: Tensor, outputSize?: readonly number[]): Tensor {
    return empty(this.check(x, indices, outputSize), x.dtype, x.device);
  }

  protected override extraRepr(): string {
    return windowRepr(this.window);
  }
}

/**
 * Average pooling (PyTorch's nn.AvgPool2d; padded zeros count in the average).
 *
 * @example
 * new sc.nn.AvgPool2d(2).call(sc.ones([1, 3, 8, 8])).shape; // [1, 3, 4, 4]
 */
export class AvgPool2d extends Layer {
  readonly window: Window;

  constructor(kernelSize: Pair, opts: PoolOptions = {}) {
    super();
    this.window = poolWindow('AvgPool2d', kernelSize, opts);
  }

  outputShape(input: Shape): number[] {
    expectNCHW(this.label(), input);
    return [input[0]!, input[1]!, ...slidingOutput(this.label(), input, this.window)];
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return avgPool2d(x, poolArgs(this.window));
  }

  protected override extraRepr(): string {
    return windowRepr(this.window);
  }
}

/**
 * Average pooling to a fixed output size (1 = global average pooling), PyTorch's nn.AdaptiveAvgPool2d.
 *
 * @example
 * new sc.nn.AdaptiveAvgPool2d(1).call(sc.ones([2, 1024, 7, 7])).shape; // [2, 1024, 1, 1]
 */
export class AdaptiveAvgPool2d extends Layer {
  readonly outputSize: [number, number];

  constructor(outputSize: Pair) {
    super();
    this.outputSize = pair('AdaptiveAvgPool2d', 'outputSize', outputSize, 1);
  }

  outputShape(input: Shape): number[] {
    expectNCHW(this.label(), input);
    return [input[0]!, input[1]!, ...this.outputSize];
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return adaptiveAvgPool2d(x, this.outputSize);
  }

  protected override extraRepr(): string {
    return `outputSize=${shapeStr(this.outputSize)}`;
  }
}

export interface UpsampleOptions {
  /** Output [H, W]; give this or `scaleFactor`. */
  size?: Pair;
  /** H, W multiplier (output = floor(size · factor)); give this or `size`. */
  scaleFactor?: number | [number, number];
  /** Default 'nearest'. */
  mode?: 'nearest' | 'bilinear';
  /** Bilinear only: align the corner pixels' centres (PyTorch's align_corners). Default false. */
  alignCorners?: boolean;
}

/**
 * Upsampling by nearest-neighbour or bilinear interpolation (PyTorch's nn.Upsample).
 *
 * @example
 * const up = new sc.nn.Upsample({ scaleFactor: 2, mode: 'bilinear' });
 */
export class Upsample extends Layer {
  readonly size: [number, number] | null;
  readonly scaleFactor: [number, number] | null;
  readonly mode: 'nearest' | 'bilinear';
  readonly alignCorners: boolean;

  constructor(opts: UpsampleOptions) {
    super();
    const name = 'Upsample';
    if ((opts?.size === undefined) === (opts?.scaleFactor === undefined))
      throw invalidArg(name, 'options', 'exactly one of size and scaleFactor', opts?.size === undefined ? 'neither' : 'both');
    this.size = opts.size === undefined ? null : pair(name, 'size', opts.size, 1);
    const factor = opts.scaleFactor;
    const positive = (v: unknown): v is number => typeof v === 'number' && v > 0 && Number.isFinite(v);
    if (factor !== undefined && !(positive(factor) || (Array.isArray(factor) && factor.length === 2 && factor.every(positive))))
      throw invalidArg(name, 'scaleFactor', 'a positive number or a pair [h, w] of them', describe(factor));
    this.scaleFactor = factor === undefined ? null : typeof factor === 'number' ? [factor, factor] : [factor[0], factor[1]];
    const mode = opts.mode ?? 'nearest';
    if (mode !== 'nearest' && mode !== 'bilinear') throw invalidArg(name, 'mode', "'nearest' or 'bilinear'", describe(mode));
    this.mode = mode;
    if (opts.alignCorners !== undefined && mode !== 'bilinear') throw invalidArg(name, 'alignCorners', "undefined with mode 'nearest'", String(opts.alignCorners));
    this.alignCorners = opts.alignCorners ?? false;
  }

  outputShape(input: Shape): number[] {
    expectNCHW(this.label(), input);
    const size = this.size ?? [0, 1].map((d) => Math.floor(input[2 + d]! * this.scaleFactor![d]!));
    if (size[0]! < 1 || size[1]! < 1) throw invalidArg(this.label(), 'input', 'H, W that scale to at least 1', `shape ${shapeStr(input)}`);
    return [input[0]!, input[1]!, size[0]!, size[1]!];
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    const resize = this.size !== null ? { size: this.size } : { scaleFactor: this.scaleFactor! };
    return interpolate(x, { ...resize, mode: this.mode, ...(this.mode === 'bilinear' ? { alignCorners: this.alignCorners } : {}) });
  }

  protected override extraRepr(): string {
    const what = this.size !== null ? `size=${shapeStr(this.size)}` : `scaleFactor=${shapeStr(this.scaleFactor!)}`;
    return `${what}, mode='${this.mode}'${this.alignCorners ? ', alignCorners=true' : ''}`;
  }
}
