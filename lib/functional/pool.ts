/**
 * Max-pooling with argmax indices and max-unpooling, as PyTorch's
 * `F.max_pool2d(..., return_indices=True)` and `F.max_unpool2d`.
 */
import { record } from '../autograd/graph.js';
import { describe, invalidArg, shapeStr } from '../errors.js';
import { empty, runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import { outputSize } from './output-size.js';
import { expectFloatTensor, expectRank, expectTensor, pair } from './validate.js';

type IntPair = number | [number, number];

export interface MaxPool2dOptions {
  /** Window size. */
  kernelSize: IntPair;
  /** Step between windows (default: kernelSize). */
  stride?: IntPair;
  /** Implicit -inf padding on each side, at most half the kernel (default 0). */
  padding?: IntPair;
  /** Spacing between window elements (default 1). */
  dilation?: IntPair;
  /** Count a last partial window that starts inside the input or left padding (default false). */
  ceilMode?: boolean;
}

export interface MaxUnpool2dOptions {
  /** The pooling's window size. */
  kernelSize: IntPair;
  /** The pooling's stride (default: kernelSize). */
  stride?: IntPair;
  /** The pooling's padding (default 0). */
  padding?: IntPair;
  /** Output size [H, W] (or [N, C, H, W]); default (in - 1) * stride - 2 * padding + kernelSize. */
  outputSize?: readonly number[];
}

function optionsObject(op: string, options: unknown): Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw invalidArg(op, 'options', 'an object with kernelSize', describe(options));
  return options as Record<string, unknown>;
}

const pairStr = (p: readonly number[]): string => `[${p.join(', ')}]`;

/**
 * 2-D max-pooling over an [N, C, H, W] tensor. Returns the pooled tensor and, for each
 * output element, the flat position of its maximum within the input's H×W plane (int32,
 * PyTorch's layout; the first maximum in scan order; NaN counts as the maximum).
 * Differentiable with respect to `input`.
 *
 * @example
 * const { output, indices } = sc.F.maxPool2d(x, { kernelSize: 2 }); // [N, C, H/2, W/2]
 */
export function maxPool2d(input: Tensor, options: MaxPool2dOptions): { output: Tensor; indices: Tensor } {
  const op = 'maxPool2d';
  expectFloatTensor(op, 'input', input);
  expectRank(op, 'input', input, 4, '[N, C, H, W]');
  const o = optionsObject(op, options);
  const kernel = pair(op, 'options.kernelSize', o['kernelSize'], 1);
  const stride = o['stride'] === undefined ? kernel : pair(op, 'options.stride', o['stride'], 1);
  const padding = pair(op, 'options.padding', o['padding'] ?? 0, 0);
  const dilation = pair(op, 'options.dilation', o['dilation'] ?? 1, 1);
  const ceilMode = o['ceilMode'] ?? false;
  if (typeof ceilMode !== 'boolean') throw invalidArg(op, 'options.ceilMode', 'a boolean', describe(ceilMode));
  if (padding[0] * 2 > kernel[0] || padding[1] * 2 > kernel[1])
    throw invalidArg(op, 'options.padding', `at most half of kernelSize ${pairStr(kernel)}`, pairStr(padding));
  const [n, c, h, w] = input.shape as [number, number, number, number];
  const outH = outputSize(h, kernel[0], stride[0], padding[0], dilation[0], ceilMode);
  const outW = outputSize(w, kernel[1], stride[1], padding[1], dilation[1], ceilMode);
  if (outH < 1 || outW < 1) {
    const span = [dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1];
    throw invalidArg(op, 'input', `a padded plane (${h + 2 * padding[0]}x${w + 2 * padding[1]}) at least as large as the dilated kernel (${span[0]}x${span[1]})`, `shape ${shapeStr(input.shape)}`);
  }
  if (h * w >= 2 ** 31) throw invalidArg(op, 'input', 'planes of fewer than 2^31 elements (indices are int32)', `shape ${shapeStr(input.shape)}`);
  const output = empty([n, c, outH, outW], input.dtype, input.device);
  const indices = empty([n, c, outH, outW], 'int32', input.device);
  runKernel(ops.max_pool2d_forward, [input], [output, indices], {
    kernelH: kernel[0], kernelW: kernel[1], strideH: stride[0], strideW: stride[1], padH: padding[0], padW: padding[1], dilationH: dilation[0], dilationW: dilation[1], ceilMode,
  });
  record('maxPool2d', output, [input], [indices], { inputShape: input.shape });
  return { output, indices };
}

/**
 * The inverse of max-pooling: places each input value at the position `indices` names in
 * a zero-filled [N, C, H, W] output (PyTorch's `F.max_unpool2d`). Differentiable with
 * respect to `input`.
 *
 * @example
 * const { output, indices } = sc.F.maxPool2d(x, { kernelSize: 2 });
 * const restored = sc.F.maxUnpool2d(output, indices, { kernelSize: 2, outputSize: [x.shape[2], x.shape[3]] });
 */
export function maxUnpool2d(input: Tensor, indices: Tensor, options: MaxUnpool2dOptions): Tensor {
  const op = 'maxUnpool2d';
  expectFloatTensor(op, 'input', input);
  expectRank(op, 'input', input, 4, '[N, C, H, W]');
  expectTensor(op, 'indices', indices);
  if (indices.dtype !== 'int32' || indices.shape.join() !== input.shape.join())
    throw invalidArg(op, 'indices', `an int32 tensor of shape ${shapeStr(input.shape)} (the shape of input)`, `a ${indices.dtype} tensor of shape ${shapeStr(indices.shape)}`);
  const o = optionsObject(op, options);
  const kernel = pair(op, 'options.kernelSize', o['kernelSize'], 1);
  const stride = o['stride'] === undefined ? kernel : pair(op, 'options.stride', o['stride'], 1);
  const padding = pair(op, 'options.padding', o['padding'] ?? 0, 0);
  const [n, c, h, w] = input.shape as [number, number, number, number];
  const defaults = [(h - 1) * stride[0] - 2 * padding[0] + kernel[0], (w - 1) * stride[1] - 2 * padding[1] + kernel[1]];
  let size = defaults;
  if (o['outputSize'] !== undefined) {
    const given = o['outputSize'];
    const valid = Array.isArray(given) && (given.length === 2 || given.length === 4) && given.every((d) => Number.isInteger(d) && d > 0);
    if (!valid) throw invalidArg(op, 'options.outputSize', 'an array [H, W] or [N, C, H, W] of positive integers', describe(given));
    size = (given as number[]).slice(-2);
    // PyTorch's rule: within one stride of the default size.
    for (let d = 0; d < 2; d++) {
      const lo = defaults[d]! - stride[d]!, hi = defaults[d]! + stride[d]!;
      if (!(size[d]! > lo && size[d]! < hi))
        throw invalidArg(op, 'options.outputSize', `${d === 0 ? 'H' : 'W'} between ${lo} and ${hi} (exclusive) for input ${shapeStr(input.shape)}`, pairStr(given as number[]));
    }
  }
  if (size[0]! < 1 || size[1]! < 1) throw invalidArg(op, 'input', 'a shape that unpools to a non-empty plane', `shape ${shapeStr(input.shape)}`);
  const output = empty([n, c, size[0]!, size[1]!], input.dtype, input.device);
  runKernel(ops.max_unpool2d_forward, [input, indices], [output]);
  return record('maxUnpool2d', output, [input], [indices], { inputShape: input.shape });
}
