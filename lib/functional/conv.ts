/**
 * 2-D convolution and transposed convolution (PyTorch semantics, NCHW), differentiable.
 * Native side: im2col + GEMM batched over the images, or Winograd F(4×4, 3×3) for float32 3×3
 * stride-1 convolutions with >= 16 channels where sc.setFloat32Precision allows (native/cpu/ops/conv_ops.cc).
 */
import { record } from '../autograd/graph.js';
import { invalidArg, shapeStr } from '../errors.js';
import { empty, runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import { outputSize } from './output-size.js';
import type { OpParams } from '../ops.js';
import type { Shape } from '../tensor.js';
import { depthwiseConv2d } from './depthwise.js';
import { reshape } from './elementwise.js';
import { expectFloatTensor, expectSameDevice, expectSameDtype, pair } from './validate.js';

/** A size per spatial dim: one number for both, or [height, width]. */
export type Size2 = number | readonly [number, number];

export interface Conv2dOptions {
  stride?: Size2;
  padding?: Size2;
  dilation?: Size2;
  groups?: number;
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows/columns on the bottom/right of the output (to pick among sizes a strided conv maps to one). */
  outputPadding?: Size2;
}

/** The params every native conv op takes. */
export interface ConvParams {
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

const nativeParams = (p: ConvParams): OpParams['conv2d_forward'] => ({
  strideH: p.stride[0], strideW: p.stride[1], padH: p.padding[0], padW: p.padding[1], dilationH: p.dilation[0], dilationW: p.dilation[1], groups: p.groups,
});

function convParams(op: string, opts: Conv2dOptions): ConvParams {
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw invalidArg(op, 'groups', 'a positive integer', String(groups));
  return {
    stride: pair(op, 'stride', opts.stride ?? 1, 1),
    padding: pair(op, 'padding', opts.padding ?? 0, 0),
    dilation: pair(op, 'dilation', opts.dilation ?? 1, 1),
    groups,
  };
}

/** Checks the operands shared by both convolutions; returns input as 4-D (a 3-D input gains a batch of 1). */
function checkOperands(op: string, input: Tensor, weight: Tensor, bias: Tensor | null, weightLayout: string): Tensor {
  expectFloatTensor(op, 'input', input);
  expectFloatTensor(op, 'weight', weight);
  expectSameDtype(op, 'weight', weight, input, 'input');
  expectSameDevice(op, 'weight', weight, input, 'input');
  if (input.ndim !== 4 && input.ndim !== 3)
    throw invalidArg(op, 'input', 'a 4-D tensor [N, C, H, W] (or 3-D [C, H, W])', `shape ${shapeStr(input.shape)}`);
  if (weight.ndim !== 4) throw invalidArg(op, 'weight', `a 4-D tensor ${weightLayout}`, `shape ${shapeStr(weight.shape)}`);
  if (bias !== null) {
    expectFloatTensor(op, 'bias', bias);
    expectSameDtype(op, 'bias', bias, input, 'input');
    expectSameDevice(op, 'bias', bias, input, 'input');
  }
  return input.ndim === 4 ? input : reshape(input, [1, ...input.shape]);
}

function checkBias(op: string, bias: Tensor | null, channels: number, weight: Tensor): void {
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== channels))
    throw invalidArg(op, 'bias', `null or a 1-D tensor [${channels}] (one per output channel of weight ${shapeStr(weight.shape)})`, `shape ${shapeStr(bias.shape)}`);
}

function checkGroupedChannels(op: string, x: Tensor, input: Tensor, weight: Tensor, expected: number, groups: number): void {
  const channels = x.shape[1]!;
  if (channels !== expected)
    throw invalidArg(op, 'input', `${expected} channels (given groups=${groups} and weight of shape ${shapeStr(weight.shape)})`, `shape ${shapeStr(input.shape)} (${channels} channels)`);
}

/** Output size of a convolution along one dim, or a clear error when the kernel does not fit. */
function convOutSize(op: string, x: Tensor, weight: Tensor, p: ConvParams): [number, number] {
  const out: number[] = [];
  for (const d of [0, 1]) out.push(outputSize(x.shape[2 + d]!, weight.shape[2 + d]!, p.stride[d]!, p.padding[d]!, p.dilation[d]!));
  if (out[0]! < 1 || out[1]! < 1) {
    const padded = [0, 1].map((d) => x.shape[2 + d]! + 2 * p.padding[d]!);
    const spans = [0, 1].map((d) => p.dilation[d]! * (weight.shape[2 + d]! - 1) + 1);
    throw invalidArg(op, 'weight',
      `a kernel that fits the padded input (${padded.join(' x ')}: input ${shapeStr(x.shape)} with padding [${p.padding.join(', ')}])`,
      `shape ${shapeStr(weight.shape)} (spanning ${spans.join(' x ')} with dilation [${p.dilation.join(', ')}])`);
  }
  return out as [number, number];
}

/** Drops the batch dim again for an unbatched (3-D) call. */
function matchBatching(out: Tensor, input: Tensor): Tensor {
  if (input.ndim === 4) return out;
  const view = reshape(out, out.shape.slice(1));
  out.dispose();
  return view;
}

export function rawConv2dForward(x: Tensor, weight: Tensor, bias: Tensor | null, outShape: Shape, p: ConvParams): Tensor {
  const y = empty(outShape, x.dtype, x.device);
  runKernel(ops.conv2d_forward, bias ? [x, weight, bias] : [x, weight], [y], nativeParams(p));
  return y;
}

export function rawConv2dBackwardInput(dy: Tensor, weight: Tensor, bias: Tensor | null, inputShape: Shape, p: ConvParams): Tensor {
  const dx = empty(inputShape, dy.dtype, dy.device);
  runKernel(ops.conv2d_backward_input, bias ? [dy, weight, bias] : [dy, weight], [dx], nativeParams(p));
  return dx;
}

export function rawConv2dBackwardWeight(x: Tensor, dy: Tensor, weightShape: Shape, p: ConvParams): Tensor {
  const dw = empty(weightShape, x.dtype, x.device);
  runKernel(ops.conv2d_backward_weight, [x, dy], [dw], nativeParams(p));
  return dw;
}

/**
 * 2-D convolution (cross-correlation, as in PyTorch) of `input` [N, C_in, H, W] with `weight`
 * [C_out, C_in/groups, kH, kW] plus an optional `bias` [C_out]. A 3-D input is one image.
 * groups == C_in (depthwise) runs the direct depthwise kernels; 1×1 stride-1 unpadded
 * convolutions are a plain GEMM on the NCHW tensor; everything else is im2col + GEMM.
 *
 * @example
 * const x = sc.randn([8, 3, 32, 32]);
 * const w = sc.randn([16, 3, 3, 3], { requiresGrad: true });
 * const y = sc.F.conv2d(x, w, null, { padding: 1 }); // [8, 16, 32, 32]
 */
export function conv2d(input: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  const x = checkOperands(op, input, weight, bias, '[out_channels, in_channels/groups, kH, kW]');
  const p = convParams(op, opts);
  const outChannels = weight.shape[0]!;
  if (outChannels % p.groups !== 0)
    throw invalidArg(op, 'weight', `out_channels (dim 0) divisible by groups=${p.groups}`, `shape ${shapeStr(weight.shape)}`);
  checkGroupedChannels(op, x, input, weight, weight.shape[1]! * p.groups, p.groups);
  checkBias(op, bias, outChannels, weight);
  const [oh, ow] = convOutSize(op, x, weight, p);
  if (p.groups > 1 && p.groups === x.shape[1]) {
    // Depthwise (out_channels a multiple of the input's, as groups divides both): direct kernels, no im2col.
    const out = depthwiseConv2d(x, weight, bias, { stride: p.stride, padding: p.padding, dilation: p.dilation });
    if (x !== input) x.dispose();
    return matchBatching(out, input);
  }
  const y = rawConv2dForward(x, weight, bias, [x.shape[0]!, outChannels, oh, ow], p);
  const out = record('conv2d', y, [x, weight, bias], [x, weight], { ...p, inputShape: x.shape, weightShape: weight.shape, outChannels });
  if (x !== input) x.dispose();
  return matchBatching(out, input);
}

/**
 * 2-D transposed convolution (PyTorch's conv_transpose2d): the gradient of conv2d with respect
 * to its input, used as a forward op (learned upsampling). `input` [N, C_in, H, W], `weight`
 * [C_in, C_out/groups, kH, kW], `bias` [C_out] or null. Output size per dim:
 * (H - 1)·stride - 2·padding + dilation·(kH - 1) + outputPadding + 1.
 *
 * @example
 * const up = sc.F.convTranspose2d(sc.randn([1, 16, 8, 8]), sc.randn([16, 8, 2, 2]), null, { stride: 2 }); // [1, 8, 16, 16]
 */
export function convTranspose2d(input: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  const x = checkOperands(op, input, weight, bias, '[in_channels, out_channels/groups, kH, kW]');
  const p = convParams(op, opts);
  const outputPadding = pair(op, 'outputPadding', opts.outputPadding ?? 0, 0);
  for (const d of [0, 1])
    if (outputPadding[d]! >= Math.max(p.stride[d]!, p.dilation[d]!))
      throw invalidArg(op, 'outputPadding', `values smaller than stride [${p.stride.join(', ')}] or dilation [${p.dilation.join(', ')}]`, `[${outputPadding.join(', ')}]`);
  const inChannels = weight.shape[0]!;
  if (inChannels % p.groups !== 0)
    throw invalidArg(op, 'weight', `in_channels (dim 0) divisible by groups=${p.groups}`, `shape ${shapeStr(weight.shape)}`);
  checkGroupedChannels(op, x, input, weight, inChannels, p.groups);
  const outChannels = weight.shape[1]! * p.groups;
  checkBias(op, bias, outChannels, weight);
  const size = [0, 1].map((d) => (x.shape[2 + d]! - 1) * p.stride[d]! - 2 * p.padding[d]! + p.dilation[d]! * (weight.shape[2 + d]! - 1) + outputPadding[d]! + 1);
  if (size[0]! < 1 || size[1]! < 1)
    throw invalidArg(op, 'padding', `at most what leaves a non-empty output (input ${shapeStr(x.shape)}, weight ${shapeStr(weight.shape)})`, `[${p.padding.join(', ')}] (output ${size.join(' x ')})`);
  const y = rawConv2dBackwardInput(x, weight, bias, [x.shape[0]!, outChannels, size[0]!, size[1]!], p);
  const out = record('convTranspose2d', y, [x, weight, bias], [x, weight], { ...p, inputShape: x.shape, weightShape: weight.shape, outChannels });
  if (x !== input) x.dispose();
  return matchBatching(out, input);
}
