/**
 * The backward rules of every differentiable op, in one table keyed by op (after PyTorch's
 * derivatives.yaml and tinygrad's gradient table). Each entry's comment gives the forward;
 * the rule maps the output's gradient `g`, the tensors the forward saved and its context to
 * one gradient per input (null where `needs` says no input wants it). The forwards live in
 * lib/functional/*, which validate, run the native kernels and `record(op, …)` against these
 * rules; the test in test/derivatives.test.ts checks every entry against finite differences.
 *
 * Registered with the engine on import (lib/functional/index.ts, which every entry point
 * reaches, imports this module), so the functional modules and this table do not import
 * each other.
 */
import { empty, runKernel, transferCopy } from '../tensor.js';
import { ops } from '../ops.js';
import type { NativeOp, OpName, OpParams, OpParamsArg } from '../ops.js';
import type { Shape, Tensor } from '../tensor.js';
import type { Device } from '../dtype.js';
import { rawNarrow, narrowCopy } from '../functional/concat.js';
import { rawConv2dBackwardInput, rawConv2dBackwardWeight, rawConv2dForward } from '../functional/conv.js';
import type { ConvParams } from '../functional/conv.js';
import { rawAffine, rawBinary, rawSumTo } from '../functional/elementwise.js';
import { rawGemm, viewAs } from '../functional/linear.js';
import type { GemmOptions } from '../functional/linear.js';
import { registerDerivatives } from './graph.js';

type Grads = (Tensor | null)[];
type Rule<C> = (g: Tensor, saved: readonly Tensor[], needs: readonly boolean[], ctx: C) => Grads;
const rule = <C = void>(r: Rule<C>): Rule<C> => r;

// ------------------------------------------------------------------------------ helpers
function negatedSumTo(g: Tensor, shape: Shape): Tensor {
  return rawAffine(rawSumTo(g, shape), -1, 0);
}
function productSumTo(g: Tensor, other: Tensor, shape: Shape): Tensor {
  return rawSumTo(rawBinary('mul', g, other), shape);
}
/** Broadcasts `g` (viewed with keep-dims shape `kept`) back to `shape`. */
function expandTo(g: Tensor, kept: Shape, shape: Shape): Tensor {
  const gv = g.alias(kept);
  const zeros = empty(shape, g.dtype, g.device);
  runKernel(ops.fill, [], [zeros], { value: 0 });
  const out = rawBinary('add', zeros, gv);
  zeros.dispose();
  gv.dispose();
  return out;
}
/** A new tensor of `shape` from one native op over `inputs` (the backward kernels' common form). */
function kernelInto<N extends OpName>(op: NativeOp<N>, inputs: readonly Tensor[], shape: Shape, ...params: OpParamsArg<N>): Tensor {
  const out = empty(shape, inputs[0]!.dtype, inputs[0]!.device);
  runKernel(op, inputs, [out], ...params);
  return out;
}
/** The bias gradient: g [N, C, H, W] summed to [C]. */
function perChannelSum(g: Tensor, channels: number): Tensor {
  return rawSumTo(g, [1, channels, 1, 1]).alias([channels]);
}
/** One matmul operand's gradient, summed over the batch entries it was shared by. */
function gradOfBatched(x: Tensor, y: Tensor, shape: Shape, opts: GemmOptions): Tensor {
  const sharedBatch = shape.length === 3 && shape[0] === 1 && (x.ndim === 3 || y.ndim === 3);
  return viewAs(rawGemm(x, y, sharedBatch ? shape.slice(1) : shape, opts), shape);
}

type Shapes2 = { aShape: Shape; bShape: Shape };
type ConvContext = ConvParams & { inputShape: Shape; weightShape: Shape; outChannels: number };

// ------------------------------------------------------------------------------ the table
export const derivatives = {
  // ---- elementwise (lib/functional/elementwise.ts), broadcasting: gradients are summed back
  /** y = alpha·x + beta (a Tensor op a number) */
  affine: rule<{ alpha: number }>((g, _s, _n, { alpha }) => [alpha === 1 ? g : rawAffine(g, alpha, 0)]),
  /** y = a + b */
  add: rule<Shapes2>((g, _s, needs, { aShape, bShape }) => [needs[0] ? rawSumTo(g, aShape) : null, needs[1] ? rawSumTo(g, bShape) : null]),
  /** y = a - b */
  sub: rule<Shapes2>((g, _s, needs, { aShape, bShape }) => [needs[0] ? rawSumTo(g, aShape) : null, needs[1] ? negatedSumTo(g, bShape) : null]),
  /** y = a · b ; saves a, b */
  mul: rule<Shapes2>((g, [a, b], needs, { aShape, bShape }) => [
    needs[0] ? productSumTo(g, b!, aShape) : null,
    needs[1] ? productSumTo(g, a!, bShape) : null,
  ]),
  /** y = a / b ; saves a, b: da = g / b, db = -g·a / b² */
  div: rule<Shapes2>((g, [a, b], needs, { aShape, bShape }) => [
    needs[0] ? rawSumTo(rawBinary('div', g, b!), aShape) : null,
    needs[1] ? negatedSumTo(rawBinary('div', rawBinary('mul', g, a!), rawBinary('mul', b!, b!)), bShape) : null,
  ]),
  /** y = Σ x over dims (kept: x's shape with them set to 1) */
  sum: rule<{ kept: Shape; inputShape: Shape }>((g, _s, _n, { kept, inputShape }) => [expandTo(g, kept, inputShape)]),
  /** y = x viewed with another shape */
  reshape: rule<{ inputShape: Shape }>((g, _s, _n, { inputShape }) => [g.alias(inputShape)]),
  /** y = x copied to another device */
  to: rule<{ from: Device }>((g, _s, _n, { from }) => [transferCopy(g, from)]),
  /** y = max(x, 0) ; saves y (y > 0 exactly where x > 0) */
  relu: rule((g, [y]) => [kernelInto(ops.relu_backward, [y!, g], y!.shape)]),
  /** y = x · mask (dropout, dropout2d; the mask is 0 or 1/(1-p)) ; saves mask */
  dropout: rule((g, [mask]) => [rawBinary('mul', g, mask!)]),

  // ---- joining and slicing (lib/functional/concat.ts)
  /** y = cat(xs, dim) */
  cat: rule<{ dim: number; offsets: readonly number[]; sizes: readonly number[] }>((g, _s, needs, { dim, offsets, sizes }) =>
    sizes.map((size, i) => (needs[i] ? rawNarrow(g, dim, offsets[i]!, size) : null))),
  /** y = x[.., start : start + length, ..] along dim */
  narrow: rule<{ dim: number; start: number; length: number; inputShape: Shape }>((g, _s, _n, { dim, start, length, inputShape }) => {
    const dx = empty(inputShape, g.dtype, g.device);
    runKernel(ops.fill, [], [dx], { value: 0 });
    narrowCopy(g, dx, dim, 0, start, length);
    return [dx];
  }),

  // ---- matrix products (lib/functional/linear.ts)
  /** y = a · b (2-D, or batched with a shared operand) ; saves a, b */
  matmul: rule<Shapes2>((g, [a, b], needs, { aShape, bShape }) => [
    needs[0] ? gradOfBatched(g, b!, aShape, { transB: true }) : null,
    needs[1] ? gradOfBatched(a!, g, bShape, { transA: true }) : null,
  ]),
  /** y = x · wᵀ + bias over the last dim of x ; saves x, w */
  linear: rule<{ rows: number; inFeatures: number; outFeatures: number; inputShape: Shape }>((g, [x, w], needs, { rows, inFeatures, outFeatures, inputShape }) => {
    const g2 = viewAs(g, [rows, outFeatures]);
    return [
      needs[0] ? viewAs(rawGemm(g2, w!, [rows, inFeatures]), inputShape) : null,
      needs[1] ? rawGemm(g2, viewAs(x!, [rows, inFeatures]), [outFeatures, inFeatures], { transA: true }) : null,
      needs[2] ? rawSumTo(g2, [outFeatures]) : null,
    ];
  }),

  // ---- convolutions (lib/functional/conv.ts, depthwise.ts)
  /** y = conv2d(x, w) + bias ; saves x, w */
  conv2d: rule<ConvContext>((g, [x, w], needs, c) => [
    needs[0] ? rawConv2dBackwardInput(g, w!, null, c.inputShape, c) : null,
    needs[1] ? rawConv2dBackwardWeight(x!, g, c.weightShape, c) : null,
    needs[2] ? perChannelSum(g, c.outChannels) : null,
  ]),
  /** y = conv_transpose2d(x, w) + bias = conv2d's input gradient of x ; saves x, w */
  convTranspose2d: rule<ConvContext>((g, [x, w], needs, c) => [
    needs[0] ? rawConv2dForward(g, w!, null, c.inputShape, c) : null,
    needs[1] ? rawConv2dBackwardWeight(g, x!, c.weightShape, c) : null,
    needs[2] ? perChannelSum(g, c.outChannels) : null,
  ]),
  /** y = depthwise_conv2d(x, w) + bias (groups = C, multiplier m) ; saves x, w */
  depthwiseConv2d: rule<{ params: OpParams['depthwise_conv2d_forward']; outChannels: number }>((g, [x, w], needs, { params, outChannels }) => {
    const dx = needs[0] ? kernelInto(ops.depthwise_conv2d_backward_input, [g, w!], x!.shape, params) : null;
    let dw: Tensor | null = null, db: Tensor | null = null;
    if (needs[1]) {
      // One pass gives the weight and the bias gradient.
      dw = empty(w!.shape, w!.dtype, w!.device);
      db = needs[2] ? empty([outChannels], w!.dtype, w!.device) : null;
      runKernel(ops.depthwise_conv2d_backward_weight, [x!, g], db === null ? [dw] : [dw, db], params);
    } else if (needs[2]) {
      db = perChannelSum(g, outChannels);
    }
    return [dx, dw, db];
  }),

  // ---- normalisation, pooling, resampling (norm.ts, pool.ts, avgpool.ts, interpolate.ts)
  /** y = (x - mean)·invstd·weight + bias, batch or running stats ; saves x, mean, invstd[, weight] */
  batchNorm2d: rule<{ training: boolean; channels: number }>((g, [x, mean, invstd, weight], needs, { training, channels }) => {
    const needParams = needs[1]! || needs[2]!;
    const dx = needs[0] ? empty(x!.shape, x!.dtype, x!.device) : null;
    const dWeight = needParams ? empty([channels], x!.dtype, x!.device) : null;
    const dBias = needParams ? empty([channels], x!.dtype, x!.device) : null;
    const outputs = [dx, dWeight, dBias].filter((t): t is Tensor => t !== null);
    runKernel(ops.batch_norm_backward, [x!, g, mean!, invstd!, ...(weight ? [weight] : [])], outputs,
      { training, affine: weight !== undefined, needDx: needs[0]!, needDparams: needParams });
    return [dx, needs[1] ? dWeight : null, needs[2] ? dBias : null];
  }),
  /** y, indices = max_pool2d(x) ; saves indices: dx = scatter-add of g at them */
  maxPool2d: rule<{ inputShape: Shape }>((g, [indices], _n, { inputShape }) => [kernelInto(ops.max_pool2d_backward, [g, indices!], inputShape)]),
  /** y = max_unpool2d(x, indices) ; saves indices: dx = g gathered at them */
  maxUnpool2d: rule<{ inputShape: Shape }>((g, [indices], _n, { inputShape }) => [kernelInto(ops.max_unpool2d_backward, [g, indices!], inputShape)]),
  /** y = avg_pool2d(x) */
  avgPool2d: rule<{ inputShape: Shape; params: OpParams['avg_pool2d_backward'] }>((g, _s, _n, { inputShape, params }) => [kernelInto(ops.avg_pool2d_backward, [g], inputShape, params)]),
  /** y = adaptive_avg_pool2d(x) */
  adaptiveAvgPool2d: rule<{ inputShape: Shape }>((g, _s, _n, { inputShape }) => [kernelInto(ops.adaptive_avg_pool2d_backward, [g], inputShape)]),
  /** y = interpolate(x) (nearest or bilinear) */
  interpolate: rule<{ inputShape: Shape; params: OpParams['upsample2d_backward'] }>((g, _s, _n, { inputShape, params }) => [kernelInto(ops.upsample2d_backward, [g], inputShape, params)]),

  // ---- softmax and losses (softmax.ts, loss.ts)
  /** y = softmax(x, dim) ; saves y: dx = y·(g - Σ g·y) */
  softmax: rule<{ dim: number }>((g, [y], _n, { dim }) => [kernelInto(ops.softmax_backward, [y!, g], y!.shape, { dim, log: false })]),
  /** y = log_softmax(x, dim) ; saves y: dx = g - exp(y)·Σ g */
  logSoftmax: rule<{ dim: number }>((g, [y], _n, { dim }) => [kernelInto(ops.softmax_backward, [y!, g], y!.shape, { dim, log: true })]),
  /** loss = cross_entropy(logits, targets) ; saves logits, targets, log-sum-exp: dlogits = scale·(softmax - onehot) */
  crossEntropy: rule<OpParams['cross_entropy_backward']>((g, [x, t, lse], _n, params) =>
    [kernelInto(ops.cross_entropy_backward, [x!, t!, lse!, g], x!.shape, params)]),
};

export type Derivatives = typeof derivatives;
export type DerivativeName = keyof Derivatives;
/** The context a forward records for its rule (void when it needs none). */
export type ContextOf<K extends DerivativeName> = Parameters<Derivatives[K]>[3];

registerDerivatives(derivatives);
