/**
 * Depthwise conv2d (groups == input channels), the spatial half of a depthwise separable
 * convolution, on direct native kernels (no im2col). `F.conv2d` routes groups == C here.
 */
import { record } from '../autograd/graph.js';
import { describe, invalidArg, shapeStr } from '../errors.js';
import { empty, runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import { rawSumTo } from './elementwise.js';
import { outputSize } from './output-size.js';
import { expectFloatTensor, expectRank, expectSameDevice, expectSameDtype, pair } from './validate.js';

export interface DepthwiseConv2dOptions {
  /** Step between output positions: a number or [h, w] (default 1). */
  stride?: number | readonly [number, number];
  /** Zeros added on each side: a number or [h, w] (default 0). */
  padding?: number | readonly [number, number];
  /** Spacing between kernel taps: a number or [h, w] (default 1). */
  dilation?: number | readonly [number, number];
}

const OP = 'depthwiseConv2d';

/**
 * Depthwise 2-D convolution of `input` [N, C, H, W] with `weight` [C·m, 1, kH, kW]: output
 * channel o (of C·m) convolves input channel floor(o / m) with its own kH×kW kernel, as
 * PyTorch's `conv2d(..., groups=C)` does. `bias` is [C·m] or null. Differentiable in all
 * three tensors.
 *
 * @example
 * const x = sc.randn([8, 32, 56, 56]);
 * const w = sc.randn([32, 1, 3, 3], { requiresGrad: true });
 * const y = sc.F.depthwiseConv2d(x, w, null, { padding: 1 }); // [8, 32, 56, 56]
 * const down = sc.F.depthwiseConv2d(x, w, null, { stride: 2, padding: 1 }); // [8, 32, 28, 28]
 */
export function depthwiseConv2d(input: Tensor, weight: Tensor, bias: Tensor | null, options: DepthwiseConv2dOptions = {}): Tensor {
  expectFloatTensor(OP, 'input', input);
  expectFloatTensor(OP, 'weight', weight);
  expectRank(OP, 'input', input, 4, '[N, C, H, W]');
  expectRank(OP, 'weight', weight, 4, '[C·m, 1, kH, kW]');
  expectSameDtype(OP, 'weight', weight, input, 'input');
  expectSameDevice(OP, 'weight', weight, input, 'input');
  const [n, channels, height, width] = input.shape as [number, number, number, number];
  const [outChannels, perGroup, kernelH, kernelW] = weight.shape as [number, number, number, number];
  if (perGroup !== 1 || outChannels === 0 || outChannels % channels !== 0)
    throw invalidArg(
      OP,
      'weight',
      `shape [C·m, 1, kH, kW] with C·m a multiple of the input's ${channels} channels (input shape ${shapeStr(input.shape)})`,
      `shape ${shapeStr(weight.shape)}`,
    );
  if (bias !== null) {
    expectFloatTensor(OP, 'bias', bias);
    expectSameDtype(OP, 'bias', bias, input, 'input');
    expectSameDevice(OP, 'bias', bias, input, 'input');
    if (bias.ndim !== 1 || bias.shape[0] !== outChannels)
      throw invalidArg(OP, 'bias', `shape [${outChannels}] (one per output channel of weight ${shapeStr(weight.shape)})`, `shape ${shapeStr(bias.shape)}`);
  }
  if (options === null || typeof options !== 'object') throw invalidArg(OP, 'options', 'an object', describe(options));
  const [strideH, strideW] = pair(OP, 'stride', options.stride ?? 1, 1);
  const [padH, padW] = pair(OP, 'padding', options.padding ?? 0, 0);
  const [dilationH, dilationW] = pair(OP, 'dilation', options.dilation ?? 1, 1);
  const outH = outputSize(height, kernelH, strideH, padH, dilationH);
  const outW = outputSize(width, kernelW, strideW, padW, dilationW);
  if (outH < 1 || outW < 1)
    throw invalidArg(
      OP,
      'input',
      `a spatial size of at least ${dilationH * (kernelH - 1) + 1}x${dilationW * (kernelW - 1) + 1} (the dilated kernel) after padding [${padH}, ${padW}]`,
      `shape ${shapeStr(input.shape)}`,
    );

  const params = { strideH, strideW, padH, padW, dilationH, dilationW };
  const out = empty([n, outChannels, outH, outW], input.dtype, input.device);
  runKernel(ops.depthwise_conv2d_forward, bias === null ? [input, weight] : [input, weight, bias], [out], params);
  return record('depthwiseConv2d', out, [input, weight, bias], [input, weight], { params, outChannels });
}
