/**
 * Matrix products: `matmul` (2-D, or 3-D batched with broadcasting) and `linear`, both on the
 * native GEMM, differentiable.
 */
import { record } from '../autograd/graph.js';
import { invalidArg, shapeStr } from '../errors.js';
import { empty, runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import type { Shape } from '../tensor.js';
import { expectFloatTensor, expectSameDevice, expectSameDtype } from './validate.js';


export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  /** Added to every row of the result (one value per column). */
  columnBias?: Tensor | null;
}

/**
 * alpha * op(a) * op(b) into a new tensor of `outShape` (not recorded). Operands are 2-D or
 * 3-D (batched); a 2-D `outShape` with batched operands sums over the batch.
 */
export function rawGemm(a: Tensor, b: Tensor, outShape: Shape, opts: GemmOptions = {}): Tensor {
  const out = empty(outShape, a.dtype, a.device);
  gemmInto(out, a, b, opts);
  return out;
}

/** out = alpha * op(a) * op(b) + beta * out (+ column bias), unchecked and unrecorded. */
export function gemmInto(out: Tensor, a: Tensor, b: Tensor, opts: GemmOptions & { beta?: number } = {}): void {
  const bias = opts.columnBias ?? null;
  runKernel(ops.gemm, bias ? [a, b, bias] : [a, b], [out], {
    transA: opts.transA ?? false,
    transB: opts.transB ?? false,
    alpha: opts.alpha ?? 1,
    beta: opts.beta ?? 0,
    biasKind: bias ? 'per_column' : 'none',
  });
}

/** `t` viewed with another shape (same elements), or `t` itself when the shape is the same. */
export function viewAs(t: Tensor, shape: Shape): Tensor {
  return t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]) ? t : t.alias(shape);
}

/**
 * Matrix product of `a` [M, K] and `b` [K, N] → [M, N]. Either may carry a leading batch
 * dim ([B, M, K] / [B, K, N]); a batch of 1 or a 2-D operand is shared by every entry.
 *
 * @example
 * const c = sc.matmul(sc.randn([2, 3]), sc.randn([3, 4])); // [2, 4]
 * const d = sc.matmul(sc.randn([8, 2, 3]), sc.randn([3, 4])); // [8, 2, 4]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const op = 'matmul';
  expectFloatTensor(op, 'input', a);
  expectFloatTensor(op, 'other', b);
  expectSameDtype(op, 'other', b, a, 'input');
  expectSameDevice(op, 'other', b, a, 'input');
  for (const [name, t] of [['input', a], ['other', b]] as const)
    if (t.ndim !== 2 && t.ndim !== 3) throw invalidArg(op, name, 'a 2-D [rows, cols] or 3-D [batch, rows, cols] tensor', `shape ${shapeStr(t.shape)}`);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [kb, n] = b.shape.slice(-2) as [number, number];
  if (kb !== k)
    throw invalidArg(op, 'other', `${k} rows (the columns of input ${shapeStr(a.shape)})`, `shape ${shapeStr(b.shape)}`);
  const batchA = a.ndim === 3 ? a.shape[0]! : 1;
  const batchB = b.ndim === 3 ? b.shape[0]! : 1;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1)
    throw invalidArg(op, 'other', `a batch of ${batchA} or 1 (to broadcast with input ${shapeStr(a.shape)})`, `shape ${shapeStr(b.shape)}`);
  const outShape = a.ndim === 3 || b.ndim === 3 ? [Math.max(batchA, batchB), m, n] : [m, n];
  return record('matmul', rawGemm(a, b, outShape), [a, b], [a, b], { aShape: a.shape, bShape: b.shape });
}

/**
 * y = x · weightᵀ + bias, over the last dim of `x` (PyTorch's F.linear).
 * `x` is [..., in], `weight` [out, in], `bias` [out] or null; y is [..., out].
 *
 * @example
 * const y = sc.F.linear(sc.randn([32, 4096]), sc.randn([10, 4096]), sc.zeros([10])); // [32, 10]
 */
export function linear(input: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  const op = 'linear';
  expectFloatTensor(op, 'input', input);
  expectFloatTensor(op, 'weight', weight);
  expectSameDtype(op, 'weight', weight, input, 'input');
  expectSameDevice(op, 'weight', weight, input, 'input');
  if (input.ndim < 1) throw invalidArg(op, 'input', 'a tensor of at least 1 dim [..., in_features]', `shape ${shapeStr(input.shape)}`);
  const inFeatures = input.shape[input.ndim - 1]!;
  if (weight.ndim !== 2 || weight.shape[1] !== inFeatures)
    throw invalidArg(op, 'weight', `a 2-D tensor [out_features, ${inFeatures}] (in_features of input ${shapeStr(input.shape)})`, `shape ${shapeStr(weight.shape)}`);
  const outFeatures = weight.shape[0]!;
  if (bias !== null) {
    expectFloatTensor(op, 'bias', bias);
    expectSameDtype(op, 'bias', bias, input, 'input');
    expectSameDevice(op, 'bias', bias, input, 'input');
    if (bias.ndim !== 1 || bias.shape[0] !== outFeatures)
      throw invalidArg(op, 'bias', `null or a 1-D tensor [${outFeatures}] (out_features of weight ${shapeStr(weight.shape)})`, `shape ${shapeStr(bias.shape)}`);
  }
  const rows = input.numel / Math.max(inFeatures, 1);
  const x2 = viewAs(input, [rows, inFeatures]);
  const out2 = rawGemm(x2, weight, [rows, outFeatures], { transB: true, columnBias: bias });
  if (x2 !== input) x2.dispose();
  const outShape = [...input.shape.slice(0, -1), outFeatures];
  const out = viewAs(out2, outShape);
  if (out !== out2) out2.dispose();
  return record('linear', out, [input, weight, bias], [input, weight], { rows, inFeatures, outFeatures, inputShape: input.shape });
}
