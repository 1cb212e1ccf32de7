/**
 * Joining and slicing along one dim: cat, narrow, split, chunk. All copy (sepconv has no
 * strided views); each backward passes the matching slice of the gradient. One native op,
 * `narrow_copy`, moves a slice of one tensor into a slice of another, for any dtype.
 */
import { record } from '../autograd/graph.js';
import { describe, invalidArg, shapeStr } from '../errors.js';
import { empty, runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import type { Shape } from '../tensor.js';
import { expectSameDevice, expectSameDtype, expectTensor } from './validate.js';

/** `dim` (negative counts from the end) as an index into `ndim` dims, or an error. */
function normalizeDim(op: string, dim: unknown, ndim: number): number {
  if (!Number.isInteger(dim) || (dim as number) < -ndim || (dim as number) >= ndim)
    throw invalidArg(op, 'dim', `an integer in [${-ndim}, ${ndim - 1}]`, describe(dim));
  return (dim as number) < 0 ? (dim as number) + ndim : (dim as number);
}

function withSize(shape: Shape, dim: number, size: number): number[] {
  return shape.map((d, i) => (i === dim ? size : d));
}

/** Copies `length` entries along `dim` from `src` (from `srcStart`) into `dst` (from `dstStart`). */
export function narrowCopy(src: Tensor, dst: Tensor, dim: number, srcStart: number, dstStart: number, length: number): void {
  if (length > 0) runKernel(ops.narrow_copy, [src], [dst], { dim, srcStart, dstStart, length });
}

/** A new tensor holding entries [start, start + length) of `x` along `dim` (not recorded). */
export function rawNarrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const out = empty(withSize(x.shape, dim, length), x.dtype, x.device);
  narrowCopy(x, out, dim, start, 0, length);
  return out;
}

/**
 * Concatenates tensors along `dim` (PyTorch's torch.cat). They must share dtype, device,
 * rank and every size except at `dim`. Any dtype; gradients flow to float inputs.
 *
 * @example
 * const skip = sc.cat([decoderFeatures, encoderFeatures], 1); // UNet: join along channels
 */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors as unknown) || tensors.length === 0)
    throw invalidArg('cat', 'tensors', 'a non-empty array of Tensors', describe(tensors));
  const first = expectTensor('cat', 'tensors[0]', tensors[0]);
  if (first.ndim === 0) throw invalidArg('cat', 'tensors[0]', 'a tensor with at least one dim', 'a 0-D tensor');
  const d = normalizeDim('cat', dim, first.ndim);
  const pattern = `[${first.shape.map((size, j) => (j === d ? '*' : size)).join(', ')}]`;
  const offsets: number[] = [];
  let total = 0;
  tensors.forEach((t, i) => {
    const name = `tensors[${i}]`;
    expectTensor('cat', name, t);
    expectSameDtype('cat', name, t, first, 'tensors[0]');
    expectSameDevice('cat', name, t, first, 'tensors[0]');
    if (t.ndim !== first.ndim || t.shape.some((size, j) => j !== d && size !== first.shape[j]))
      throw invalidArg('cat', name, `shape ${pattern} (tensors[0]'s except at dim ${d})`, shapeStr(t.shape));
    offsets.push(total);
    total += t.shape[d]!;
  });
  const out = empty(withSize(first.shape, d, total), first.dtype, first.device);
  tensors.forEach((t, i) => narrowCopy(t, out, d, 0, offsets[i]!, t.shape[d]!));
  const sizes = tensors.map((t) => t.shape[d]!);
  return record('cat', out, tensors, [], { dim: d, offsets, sizes });
}

/**
 * Entries [start, start + length) of `input` along `dim`, as a new tensor (PyTorch's
 * torch.narrow, which returns a view; sepconv copies). A negative `start` counts from the end.
 *
 * @example
 * const firstTwoChannels = sc.F.narrow(x, 1, 0, 2);
 */
export function narrow(input: Tensor, dim: number, start: number, length: number): Tensor {
  expectTensor('narrow', 'input', input);
  if (input.ndim === 0) throw invalidArg('narrow', 'input', 'a tensor with at least one dim', 'a 0-D tensor');
  const d = normalizeDim('narrow', dim, input.ndim);
  const size = input.shape[d]!;
  if (!Number.isInteger(start) || start < -size || start > size)
    throw invalidArg('narrow', 'start', `an integer in [${-size}, ${size}] (the size of dim ${d})`, describe(start));
  const from = start < 0 ? start + size : start;
  if (!Number.isInteger(length) || length < 0 || from + length > size)
    throw invalidArg('narrow', 'length', `an integer in [0, ${size - from}] (dim ${d} has ${size} entries from ${from})`, describe(length));
  const out = rawNarrow(input, d, from, length);
  return record('narrow', out, [input], [], { dim: d, start: from, length, inputShape: input.shape });
}

/**
 * Splits `input` along `dim` into pieces of `splitSize` entries (the last may be smaller),
 * or into pieces of the listed sizes, which must add up to the size of `dim` (torch.split).
 *
 * @example
 * const [a, b] = sc.split(x, [3, 5], 1); // channels 0-2 and 3-7
 */
export function split(input: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  expectTensor('split', 'input', input);
  if (input.ndim === 0) throw invalidArg('split', 'input', 'a tensor with at least one dim', 'a 0-D tensor');
  const d = normalizeDim('split', dim, input.ndim);
  const size = input.shape[d]!;
  let sizes: number[];
  if (typeof splitSizeOrSections === 'number') {
    const step = splitSizeOrSections;
    if (!Number.isInteger(step) || step < 1)
      throw invalidArg('split', 'splitSizeOrSections', 'a positive integer or an array of sizes', describe(step));
    // As torch.split: an empty dim still gives one (empty) piece.
    const count = Math.max(Math.ceil(size / step), 1);
    sizes = Array.from({ length: count }, (_, i) => Math.min(step, size - i * step));
  } else {
    const ok = Array.isArray(splitSizeOrSections) && splitSizeOrSections.every((s) => Number.isInteger(s) && s >= 0);
    const sum = ok ? splitSizeOrSections.reduce((a, b) => a + b, 0) : NaN;
    if (sum !== size)
      throw invalidArg('split', 'splitSizeOrSections', `sizes >= 0 adding up to ${size} (the size of dim ${d})`,
        ok ? `[${splitSizeOrSections.join(', ')}]` : describe(splitSizeOrSections));
    sizes = [...splitSizeOrSections];
  }
  let at = 0;
  return sizes.map((length) => {
    const piece = narrow(input, d, at, length);
    at += length;
    return piece;
  });
}

/**
 * Splits `input` into `chunks` pieces of ceil(size / chunks) entries along `dim` (the last
 * may be smaller, and fewer pieces come back when the size runs out first), as torch.chunk.
 *
 * @example
 * const [real, imag] = sc.chunk(x, 2, 1);
 */
export function chunk(input: Tensor, chunks: number, dim = 0): Tensor[] {
  expectTensor('chunk', 'input', input);
  if (!Number.isInteger(chunks) || chunks < 1) throw invalidArg('chunk', 'chunks', 'a positive integer', describe(chunks));
  if (input.ndim === 0) throw invalidArg('chunk', 'input', 'a tensor with at least one dim', 'a 0-D tensor');
  const d = normalizeDim('chunk', dim, input.ndim);
  const size = input.shape[d]!;
  // As torch.chunk: an empty dim gives `chunks` empty pieces.
  return size === 0 ? Array.from({ length: chunks }, () => narrow(input, d, 0, 0)) : split(input, Math.ceil(size / chunks), d);
}
