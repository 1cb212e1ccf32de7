/**
 * Convolution layers: `Conv2d` (PyTorch's), its depthwise and pointwise special cases, the
 * Keras-style `SeparableConv2d` built from them, and `ConvTranspose2d`.
 */
import { invalidArg, shapeStr } from '../errors.js';
import { expectFloatTensor, pair } from '../functional/validate.js';
import { empty } from '../tensor.js';
import type { Shape, Tensor } from '../tensor.js';
import { expectNCHW, initWeights, intArg, Layer, slidingOutput } from './layer.js';
import { initScheme } from './init.js';
import type { Initialisable, InitScheme } from './init.js';
import type { Window } from './layer.js';
import { Module } from './module.js';
import { conv2d, convTranspose2d } from '../functional/conv.js';
import { depthwiseConv2d } from '../functional/depthwise.js';

type Pair = number | [number, number];

export interface Conv2dOptions {
  stride?: Pair;
  /** Zero padding per side; 'same' keeps H, W at stride 1 (odd kernels), 'valid' is 0. Default 0. */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** How weight and bias are drawn: 'torch' (PyTorch's defaults, the default) or 'keras' (glorot_uniform, zero bias). */
  init?: InitScheme;
}

function resolvePadding(layer: string, padding: Conv2dOptions['padding'], kernel: [number, number], stride: [number, number], dilation: [number, number]): [number, number] {
  if (padding === 'valid') return [0, 0];
  if (padding !== 'same') return pair(layer, 'padding', padding ?? 0, 0);
  const spans = [0, 1].map((d) => dilation[d]! * (kernel[d]! - 1));
  if (stride[0] !== 1 || stride[1] !== 1 || spans.some((s) => s % 2 !== 0))
    throw invalidArg(layer, 'padding', "'same' only with stride 1 and an odd (dilated) kernel size", `'same' with stride ${shapeStr(stride)} and kernel ${shapeStr(kernel)}`);
  return [spans[0]! / 2, spans[1]! / 2];
}

function repr(name: string, value: readonly number[], fallback: number): string {
  return value.every((v) => v === fallback) ? '' : `, ${name}=${shapeStr(value)}`;
}

/**
 * What Conv2d and ConvTranspose2d share (PyTorch's _ConvNd): the checked geometry and the
 * weight ([out, in/groups, kh, kw], or [in, out/groups, kh, kw] when transposed) and bias,
 * initialised as PyTorch does unless `init: 'keras'`.
 */
abstract class ConvLayer extends Layer implements Initialisable {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  protected constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: Conv2dOptions,
    transposed: boolean,
  ) {
    super();
    const name = this.constructor.name;
    intArg(name, 'inChannels', inChannels, 1);
    intArg(name, 'outChannels', outChannels, 1);
    this.groups = intArg(name, 'groups', opts.groups ?? 1, 1);
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0)
      throw invalidArg(name, 'groups', `a divisor of inChannels (${inChannels}) and outChannels (${outChannels})`, String(this.groups));
    this.kernelSize = pair(name, 'kernelSize', kernelSize, 1);
    this.stride = pair(name, 'stride', opts.stride ?? 1, 1);
    this.dilation = pair(name, 'dilation', opts.dilation ?? 1, 1);
    this.padding = transposed ? pair(name, 'padding', opts.padding ?? 0, 0) : resolvePadding(name, opts.padding, this.kernelSize, this.stride, this.dilation);
    const [kh, kw] = this.kernelSize;
    const weightShape = transposed ? [inChannels, outChannels / this.groups, kh, kw] : [outChannels, inChannels / this.groups, kh, kw];
    this.weight = this.registerParameter('weight', empty(weightShape));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : empty([outChannels]));
    this.resetParameters(initScheme(name, 'init', opts.init));
  }

  /** Re-draws weight and bias under `scheme` (PyTorch's reset_parameters, with a scheme). */
  resetParameters(scheme: InitScheme): void {
    initWeights(this.weight, this.bias, scheme);
  }

  protected override extraRepr(): string {
    return (
      `${this.inChannels}, ${this.outChannels}, kernelSize=${shapeStr(this.kernelSize)}` +
      repr('stride', this.stride, 1) +
      repr('padding', this.padding, 0) +
      repr('dilation', this.dilation, 1) +
      (this.groups === 1 ? '' : `, groups=${this.groups}`) +
      (this.bias === null ? ', bias=false' : '')
    );
  }
}

/**
 * 2-D convolution over NCHW input (PyTorch's nn.Conv2d): weight [out, in/groups, kh, kw],
 * bias [out]; initialised as PyTorch does (Kaiming-uniform a=√5, bias U(±1/√fan_in)), or as
 * Keras does with `init: 'keras'` (glorot_uniform, zero bias).
 *
 * @example
 * const conv = new sc.nn.Conv2d(16, 32, 3, { padding: 1, bias: false });
 * conv.call(sc.randn([1, 16, 128, 128])).shape; // [1, 32, 128, 128]
 */
export class Conv2d extends ConvLayer {
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: Conv2dOptions = {}) {
    super(inChannels, outChannels, kernelSize, opts, false);
  }

  private get window(): Window {
    return { kernel: this.kernelSize, stride: this.stride, padding: this.padding, dilation: this.dilation };
  }

  outputShape(input: Shape): number[] {
    expectNCHW(this.label(), input, this.inChannels);
    return [input[0]!, this.outChannels, ...slidingOutput(this.label(), input, this.window)];
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  /** weight elements × N × H_out × W_out. */
  override multAdds(_input: Shape, output: Shape): number {
    return this.weight.numel * output[0]! * output[2]! * output[3]!;
  }
}

export interface DepthwiseConv2dOptions extends Omit<Conv2dOptions, 'groups'> {
  /** Output channels per input channel (Keras' depth_multiplier). Default 1. */
  depthMultiplier?: number;
}

/**
 * Depthwise convolution: one k×k filter per channel (`Conv2d` with groups = channels),
 * weight [channels·multiplier, 1, kh, kw]. Runs on the direct depthwise kernel.
 *
 * @example
 * const dw = new sc.nn.DepthwiseConv2d(32, 3, { stride: 2, padding: 1, bias: false });
 * dw.call(sc.randn([1, 32, 56, 56])).shape; // [1, 32, 28, 28]
 */
export class DepthwiseConv2d extends Conv2d {
  constructor(channels: number, kernelSize: Pair, opts: DepthwiseConv2dOptions = {}) {
    const multiplier = intArg('DepthwiseConv2d', 'depthMultiplier', opts.depthMultiplier ?? 1, 1);
    intArg('DepthwiseConv2d', 'channels', channels, 1);
    super(channels, channels * multiplier, kernelSize, { ...opts, groups: channels });
  }

  /**
   * Keras counts a depthwise kernel (kh, kw, channels, multiplier) as fan_in = kh·kw·channels
   * and fan_out = kh·kw·multiplier, unlike the [channels·multiplier, 1, kh, kw] weight's own fans.
   */
  override resetParameters(scheme: InitScheme): void {
    const taps = this.kernelSize[0] * this.kernelSize[1];
    const multiplier = this.outChannels / this.inChannels;
    initWeights(this.weight, this.bias, scheme, { fanIn: taps * this.inChannels, fanOut: taps * multiplier });
  }

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    return depthwiseConv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation });
  }
}

export interface PointwiseConv2dOptions {
  stride?: Pair;
  groups?: number;
  /** Default true. */
  bias?: boolean;
  /** 'torch' (default) or 'keras', as for Conv2d. */
  init?: InitScheme;
}

/**
 * Pointwise (1×1) convolution: a per-pixel linear map across channels, run as one GEMM.
 *
 * @example
 * const pw = new sc.nn.PointwiseConv2d(32, 64);
 * pw.call(sc.randn([1, 32, 28, 28])).shape; // [1, 64, 28, 28]
 */
export class PointwiseConv2d extends Conv2d {
  constructor(inChannels: number, outChannels: number, opts: PointwiseConv2dOptions = {}) {
    super(inChannels, outChannels, 1, opts);
  }
}

export interface SeparableConv2dOptions {
  stride?: Pair;
  padding?: Conv2dOptions['padding'];
  dilation?: Pair;
  /** Bias of the pointwise conv, the one bias of Keras' SeparableConv2D. Default true. */
  bias?: boolean;
  /** Also give the depthwise conv a bias (the two-conv PyTorch form). Default false. */
  depthwiseBias?: boolean;
  /** Default 1. */
  depthMultiplier?: number;
  /** 'torch' (default) or 'keras' (SeparableConv2D's glorot_uniform for both kernels, zero bias). */
  init?: InitScheme;
}

/**
 * Depthwise separable convolution: `depthwise` (k×k per channel, carrying stride, padding
 * and dilation) then `pointwise` (1×1 across channels), with no norm or activation between.
 * Keras' SeparableConv2D by default (one bias, after the pointwise conv); `depthwiseBias: true`
 * gives the two-conv PyTorch form. Parameter names: `depthwise.weight`, `pointwise.weight`, `pointwise.bias`.
 *
 * @example
 * const sep = new sc.nn.SeparableConv2d(3, 64, 3, { padding: 1 });
 * sep.parameters().reduce((n, p) => n + p.numel, 0); // 283 = 27 + 192 + 64
 */
export class SeparableConv2d extends Module {
  readonly depthwise: DepthwiseConv2d;
  readonly pointwise: PointwiseConv2d;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: SeparableConv2dOptions = {},
  ) {
    super();
    const { bias, depthwiseBias, depthMultiplier, init, ...window } = opts;
    this.depthwise = this.registerModule('depthwise', new DepthwiseConv2d(inChannels, kernelSize, { ...window, depthMultiplier, bias: depthwiseBias ?? false, init }));
    this.pointwise = this.registerModule('pointwise', new PointwiseConv2d(this.depthwise.outChannels, outChannels, { bias: bias ?? true, init }));
  }

  /** Checks an input shape (naming this layer) and returns the output shape. */
  outputShape(input: Shape): number[] {
    expectNCHW(this.label(), input, this.inChannels);
    return this.pointwise.outputShape(this.depthwise.outputShape(input));
  }

  forward(x: Tensor): Tensor {
    this.outputShape(expectFloatTensor(this.label(), 'input', x).shape);
    return this.pointwise.call(this.depthwise.call(x));
  }

  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}`;
  }
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  /** Extra rows/columns on one side of the output (< stride or dilation). Default 0. */
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  /** 'torch' (default) or 'keras', as for Conv2d. */
  init?: InitScheme;
}

/**
 * Transposed 2-D convolution (PyTorch's nn.ConvTranspose2d), weight [in, out/groups, kh, kw]:
 * H_out = (H − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1.
 *
 * @example
 * const up = new sc.nn.ConvTranspose2d(64, 32, 2, { stride: 2 }); // doubles H and W
 */
export class ConvTranspose2d extends ConvLayer {
  readonly outputPadding: [number, number];

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: ConvTranspose2dOptions = {}) {
    super(inChannels, outChannels, kernelSize, opts, true);
    this.outputPadding = pair('ConvTranspose2d', 'outputPadding', opts.outputPadding ?? 0, 0);
    if (this.outputPadding.some((p, d) => p >= Math.max(this.stride[d]!, this.dilation[d]!)))
      throw invalidArg('ConvTranspose2d', 'outputPadding', `values smaller than stride or dilation (${shapeStr(this.stride)}, ${shapeStr(this.dilation)})`, shapeStr(this.outputPadding));
  }

  outputShape(input: Shape): number[] {
    expectNCHW(this.label(), input, this.inChannels);
    const size = [0, 1].map((d) => (input[2 + d]! - 1) * this.stride[d]! - 2 * this.padding[d]! + this.dilation[d]! * (this.kernelSize[d]! - 1) + this.outputPadding[d]! + 1);
    if (size[0]! < 1 || size[1]! < 1)
      throw invalidArg(this.label(), 'input', `H, W giving a positive output size (padding ${shapeStr(this.padding)})`, `shape ${shapeStr(input)}`);
    return [input[0]!, this.outChannels, size[0]!, size[1]!];
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return convTranspose2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  /** weight elements × N × H_in × W_in: each input pixel scatters through the whole weight. */
  override multAdds(input: Shape): number {
    return this.weight.numel * input[0]! * input[2]! * input[3]!;
  }

  protected override extraRepr(): string {
    return super.extraRepr() + repr('outputPadding', this.outputPadding, 0);
  }
}
