/**
 * Differentiable elementwise arithmetic with PyTorch broadcasting, reductions and reshape.
 * The `raw*` helpers run the kernels without recording (for other ops' backward passes).
 */
import { record } from '../autograd/graph.js';
import type { Device } from '../dtype.js';
import { describe, invalidArg, shapeStr } from '../errors.js';
import { empty, numelOf, requireCuda, runKernel, Tensor, transferCopy } from '../tensor.js';
import { ops } from '../ops.js';
import type { OpParams } from '../ops.js';
import type { Shape } from '../tensor.js';
import { expectFloatTensor, expectSameDevice, expectSameDtype, expectTensor } from './validate.js';

type BinaryOp = OpParams['binary']['kind'];

/** The broadcast of two shapes (NumPy/PyTorch rules), or an error naming both. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw invalidArg(op, 'other', `a shape broadcastable with ${shapeStr(a)}`, shapeStr(b));
    out[i] = da === 1 ? db : da;
  }
  return out;
}

function withRank(shape: Shape, rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

export function rawBinary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(shape, a.dtype, a.device);
  const av = a.ndim === shape.length ? a : a.alias(withRank(a.shape, shape.length));
  const bv = b.ndim === shape.length ? b : b.alias(withRank(b.shape, shape.length));
  runKernel(ops.binary, [av, bv], [out], { kind: op });
  if (av !== a) av.dispose();
  if (bv !== b) bv.dispose();
  return out;
}

/** out = alpha * x + beta. */
export function rawAffine(x: Tensor, alpha: number, beta: number): Tensor {
  const out = empty(x.shape, x.dtype, x.device);
  runKernel(ops.affine, [x], [out], { alpha, beta });
  return out;
}

/** Sums `x` down to `shape` (a shape `x` broadcasts from). Returns `x` itself when equal. */
export function rawSumTo(x: Tensor, shape: Shape): Tensor {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const aligned = withRank(shape, x.ndim);
  const out = empty(aligned, x.dtype, x.device);
  runKernel(ops.sum_to, [x], [out]);
  if (aligned.length === shape.length) return out;
  const view = out.alias(shape);
  out.dispose();
  return view;
}

function binary(op: BinaryOp, a: Tensor, b: Tensor | number): Tensor {
  expectFloatTensor(op, 'input', a);
  if (typeof b === 'number') {
    const v = b;
    const [alpha, beta] = op === 'add' ? [1, v] : op === 'sub' ? [1, -v] : op === 'mul' ? [v, 0] : [1 / v, 0];
    return record('affine', rawAffine(a, alpha, beta), [a], [], { alpha });
  }
  expectFloatTensor(op, 'other', b);
  expectSameDtype(op, 'other', b, a, 'input');
  expectSameDevice(op, 'other', b, a, 'input');
  // add and sub need only the shapes; mul and div also the operands.
  const saved = op === 'mul' || op === 'div' ? [a, b] : [];
  return record(op, rawBinary(op, a, b), [a, b], saved, { aShape: a.shape, bShape: b.shape });
}

/** input + other (broadcasting). */
export const add = (input: Tensor, other: Tensor | number): Tensor => binary('add', input, other);
/** input - other (broadcasting). */
export const sub = (input: Tensor, other: Tensor | number): Tensor => binary('sub', input, other);
/** input * other, elementwise (broadcasting). */
export const mul = (input: Tensor, other: Tensor | number): Tensor => binary('mul', input, other);
/** input / other, elementwise (broadcasting). */
export const div = (input: Tensor, other: Tensor | number): Tensor => binary('div', input, other);

/** -input. */
export function neg(input: Tensor): Tensor {
  return binary('mul', input, -1);
}

function reductionDims(op: string, x: Tensor, dim: number | readonly number[] | undefined): number[] {
  if (dim === undefined) return x.shape.map((_, i) => i);
  const dims = typeof dim === 'number' ? [dim] : [...dim];
  return dims.map((d) => {
    if (!Number.isInteger(d) || d < -x.ndim || d >= x.ndim)
      throw invalidArg(op, 'dim', `an integer in [${-x.ndim}, ${x.ndim - 1}]`, describe(d));
    return d < 0 ? d + x.ndim : d;
  });
}

/**
 * Sum over `dim` (a dim or a list; all dims when omitted). `keepDim` keeps reduced dims as size 1.
 *
 * @example
 * sc.F.sum(x)            // scalar
 * sc.F.sum(x, [0, 2, 3]) // per-channel sums of an NCHW tensor
 */
export function sum(input: Tensor, dim?: number | readonly number[], keepDim = false): Tensor {
  expectFloatTensor('sum', 'input', input);
  const dims = reductionDims('sum', input, dim);
  const kept = input.shape.map((d, i) => (dims.includes(i) ? 1 : d));
  const finalShape = keepDim ? kept : input.shape.filter((_, i) => !dims.includes(i));
  const reduced = empty(kept, input.dtype, input.device);
  runKernel(ops.sum_to, [input], [reduced]);
  const out = keepDim ? reduced : reduced.alias(finalShape);
  if (out !== reduced) reduced.dispose();
  return record('sum', out, [input], [], { kept, inputShape: input.shape });
}

/** Mean over `dim` (all dims when omitted). */
export function mean(input: Tensor, dim?: number | readonly number[], keepDim = false): Tensor {
  expectFloatTensor('mean', 'input', input);
  const dims = reductionDims('mean', input, dim);
  const count = dims.reduce((n, d) => n * input.shape[d]!, 1);
  return mul(sum(input, dims, keepDim), 1 / count);
}

/** Resolves one -1 in `shape` against `numel`. */
export function resolveShape(op: string, shape: readonly number[], numel: number, from: Shape): number[] {
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1 || shape.some((d) => !Number.isInteger(d) || d < -1))
    throw invalidArg(op, 'shape', 'integers >= 0 with at most one -1', shapeStr(shape));
  const known = numelOf(shape.filter((d) => d !== -1));
  const resolved = shape.map((d) => (d === -1 ? (known === 0 ? 0 : numel / known) : d));
  if (numelOf(resolved) !== numel || resolved.some((d) => !Number.isInteger(d)))
    throw invalidArg(op, 'shape', `a shape with ${numel} elements (input shape ${shapeStr(from)})`, shapeStr(shape));
  return resolved;
}

/** `input` on `device`: itself when already there, else a copy that gradients flow back through. */
export function toDevice(input: Tensor, device: Device): Tensor {
  expectTensor('to', 'input', input);
  if (device !== 'cpu' && device !== 'cuda') throw invalidArg('to', 'device', "'cpu' or 'cuda'", describe(device));
  if (input.device === device) return input;
  if (device === 'cuda') requireCuda(`to('cuda')`);
  return record('to', transferCopy(input, device), [input], [], { from: input.device });
}

/** A view with another shape (same elements, same order); one dim may be -1. */
export function reshape(input: Tensor, shape: readonly number[]): Tensor {
  if (!(input instanceof Tensor)) throw invalidArg('reshape', 'input', 'a Tensor', describe(input));
  const resolved = resolveShape('reshape', shape, input.numel, input.shape);
  return record('reshape', input.alias(resolved), [input], [], { inputShape: input.shape });
}

/** Flattens dims startDim..endDim into one (PyTorch's torch.flatten). */
export function flatten(input: Tensor, startDim = 1, endDim = -1): Tensor {
  const n = input.ndim;
  const s = startDim < 0 ? startDim + n : startDim;
  const e = endDim < 0 ? endDim + n : endDim;
  if (!(s >= 0 && e < n && s <= e)) throw invalidArg('flatten', 'startDim/endDim', `a range within ${n} dims`, `${startDim}..${endDim}`);
  const shape = [...input.shape.slice(0, s), numelOf(input.shape.slice(s, e + 1)), ...input.shape.slice(e + 1)];
  return reshape(input, shape);
}

/** max(input, 0). */
export function relu(input: Tensor): Tensor {
  expectFloatTensor('relu', 'input', input);
  const out = empty(input.shape, input.dtype, input.device);
  runKernel(ops.relu_forward, [input], [out]);
  // Saves its output, not its input: out > 0 exactly where input > 0, and the next layer
  // usually saves the same tensor, so the pre-activation can be freed.
  return record('relu', out, [input], [out]);
}
