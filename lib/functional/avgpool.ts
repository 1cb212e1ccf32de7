/**
 * Average pooling of NCHW tensors: fixed windows (PyTorch's F.avg_pool2d) and adaptive
 * windows (F.adaptive_avg_pool2d; output 1 is MobileNet's global average pool).
 */
import { record } from '../autograd/graph.js';
import { describe, invalidArg, shapeStr } from '../errors.js';
import { empty, runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import { outputSize } from './output-size.js';
import { expectFloatTensor, expectRank, optionalBoolean, pair } from './validate.js';

export interface AvgPool2dOptions {
  /** Window [h, w] (or one number for both). */
  kernelSize: number | readonly [number, number];
  /** Step between windows; defaults to kernelSize. */
  stride?: number | readonly [number, number];
  /** Implicit zero padding on each side, at most half the kernel; default 0. */
  padding?: number | readonly [number, number];
  /** Round the output size up, so a last partial window is pooled; default false. */
  ceilMode?: boolean;
  /** Count padded zeros in the divisor; default true (PyTorch's default). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead of its size. */
  divisorOverride?: number;
}

/**
 * Averages each kernelSize window of an NCHW tensor, as PyTorch's F.avg_pool2d.
 *
 * @example
 * const y = sc.F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false });
 */
export function avgPool2d(input: Tensor, options: AvgPool2dOptions): Tensor {
  expectFloatTensor('avgPool2d', 'input', input);
  expectRank('avgPool2d', 'input', input, 4, '(N, C, H, W)');
  if (options === null || typeof options !== 'object')
    throw invalidArg('avgPool2d', 'options', 'an object with kernelSize', describe(options));
  const [kh, kw] = pair('avgPool2d', 'options.kernelSize', options.kernelSize, 1);
  const [sh, sw] = options.stride === undefined ? [kh, kw] : pair('avgPool2d', 'options.stride', options.stride, 1);
  const [ph, pw] = pair('avgPool2d', 'options.padding', options.padding ?? 0, 0);
  if (2 * ph > kh || 2 * pw > kw)
    throw invalidArg('avgPool2d', 'options.padding', `at most half of kernelSize [${kh}, ${kw}]`, `[${ph}, ${pw}]`);
  const ceilMode = optionalBoolean('avgPool2d', 'options.ceilMode', options.ceilMode, false);
  const countIncludePad = optionalBoolean('avgPool2d', 'options.countIncludePad', options.countIncludePad, true);
  const divisor = options.divisorOverride;
  if (divisor !== undefined && !(Number.isInteger(divisor) && divisor > 0))
    throw invalidArg('avgPool2d', 'options.divisorOverride', 'a positive integer', describe(divisor));
  const [n, c, h, w] = input.shape as [number, number, number, number];
  const oh = outputSize(h, kh, sh, ph, 1, ceilMode), ow = outputSize(w, kw, sw, pw, 1, ceilMode);
  if (oh < 1 || ow < 1)
    throw invalidArg('avgPool2d', 'input', `H and W that give an output of at least 1x1 (kernelSize [${kh}, ${kw}], padding [${ph}, ${pw}])`,
      `shape ${shapeStr(input.shape)} (output would be ${oh}x${ow})`);
  const params = { kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padH: ph, padW: pw, countIncludePad, divisorOverride: divisor ?? 0 };
  const out = empty([n, c, oh, ow], input.dtype, input.device);
  runKernel(ops.avg_pool2d_forward, [input], [out], params);
  return record('avgPool2d', out, [input], [], { inputShape: input.shape, params });
}

/**
 * Averages an NCHW tensor down to `outputSize` [h, w] (or one number for both; null keeps
 * that input size) with PyTorch's adaptive windows [floor(i*H/h), ceil((i+1)*H/h)).
 *
 * @example
 * const pooled = sc.F.adaptiveAvgPool2d(features, 1); // global average pool: [N, C, 1, 1]
 */
export function adaptiveAvgPool2d(input: Tensor, outputSize: number | readonly [number | null, number | null]): Tensor {
  expectFloatTensor('adaptiveAvgPool2d', 'input', input);
  expectRank('adaptiveAvgPool2d', 'input', input, 4, '(N, C, H, W)');
  const [n, c, h, w] = input.shape as [number, number, number, number];
  if (h === 0 || w === 0)
    throw invalidArg('adaptiveAvgPool2d', 'input', 'a non-empty H and W', `shape ${shapeStr(input.shape)}`);
  const filled = Array.isArray(outputSize) && outputSize.length === 2 ? [outputSize[0] ?? h, outputSize[1] ?? w] : outputSize;
  const [oh, ow] = pair('adaptiveAvgPool2d', 'outputSize', filled, 1);
  const out = empty([n, c, oh, ow], input.dtype, input.device);
  runKernel(ops.adaptive_avg_pool2d_forward, [input], [out]);
  return record('adaptiveAvgPool2d', out, [input], [], { inputShape: input.shape });
}
