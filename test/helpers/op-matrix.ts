/**
 * The op × dtype × ISA × device test matrix (after ggml's test-backend-ops and PyTorch's
 * OpInfo): a table of cases for every native op of native/core/ops.h, each run straight
 * through runKernel against a naive float64 reference (op-references.ts).
 *
 * Every operand lives inside a larger storage, GUARD elements from either end, with the guard
 * regions filled with a NaN pattern (a distinctive payload): a write outside an operand shows
 * as a changed guard, a read outside an input brings NaN into the result. Outputs start as
 * NaN too, so an element the kernel never writes (or one it reads before writing) fails.
 * Inputs must come back unchanged unless the op updates them in place (then they are checked
 * like outputs). The odd GUARD also makes every operand start unaligned.
 *
 * Tolerances: an element summing K terms may be off by c · u · sqrt(K) · scale, where u is
 * the unit roundoff of the dtype (2^-24 for float32, 2^-53 for float64), scale is Σ|term| for
 * that element (the reference reports it) and c is stated per op in OP_TOLERANCE below.
 */
import { native } from '../../dist/native.js';
import { empty, runKernel, Tensor, transferCopy } from '../../dist/tensor.js';
import { ops } from '../../dist/ops.js';
import type { NativeOp, OpName } from '../../dist/ops.js';
import type { ConvSpec } from './conv-reference.js';
import { convBackwardInput, convBackwardWeight, convForward, convOutSize } from './conv-reference.js';
import { randomArray } from './gradcheck.js';
import * as ref from './op-references.js';
import type { Expected } from './op-references.js';

export type FloatDType = 'float32' | 'float64';
export type AnyDType = FloatDType | 'int32' | 'uint8';
type Device = 'cpu' | 'cuda';

export interface Operand {
  shape: number[];
  /** Values (rounded to the operand's dtype before use). */
  values: ArrayLike<number>;
  /** Default: the case's float dtype. */
  dtype?: AnyDType;
}

export interface OutputSpec {
  shape: number[];
  dtype?: AnyDType;
  /** Contents before the op (for outputs it reads or writes partly); default NaN. */
  initial?: ArrayLike<number>;
}

export interface OpCase {
  op: string;
  label: string;
  inputs: Operand[];
  outputs: OutputSpec[];
  /** In the schema's order (native/core/ops.json), enums by their index and bools as 0/1. */
  params: number[];
  /** Inputs the op updates in place; their expected values follow the outputs'. */
  updates?: number[];
  /** Expected outputs (then updated inputs) from the inputs and outputs' initial values as rounded to their dtypes. */
  reference: (inputs: Float64Array[], initial: Float64Array[]) => Expected[];
  /** The dtypes the case runs in (its 'float' operands take it); default float32 and float64. */
  dtypes?: readonly AnyDType[];
  /** A float32 3×3 convolution Winograd F(4×4, 3×3) may take (then it runs under both algorithms). */
  winograd?: boolean;
}

/**
 * c per op (see the header). 1-2 where one rounding per term is the whole story; more where a
 * kernel evaluates in single precision what the reference takes exactly (exp/log in softmax
 * and cross-entropy, the batch-norm statistics, the optimizer's ratio m / (sqrt(v) + eps)).
 */
export const OP_TOLERANCE: Record<string, number> = {
  fill: 0, copy: 0, fill_bernoulli: 0, relu_forward: 0, relu_backward: 0, max_pool2d_forward: 0,
  max_unpool2d_forward: 0, max_unpool2d_backward: 0, narrow_copy: 0,
  fill_randn: 4, fill_uniform: 2, binary: 1, affine: 2, axpy: 2, sum_to: 2, max_pool2d_backward: 2,
  batch_norm_forward: 8, batch_norm_backward: 8, softmax_forward: 8, softmax_backward: 8,
  cross_entropy_forward: 8, cross_entropy_backward: 8, sgd_step: 2, adam_step: 4, gemm: 2,
  conv2d_forward: 2, conv2d_backward_input: 2, conv2d_backward_weight: 2,
  depthwise_conv2d_forward: 2, depthwise_conv2d_backward_input: 2, depthwise_conv2d_backward_weight: 2,
  depthwise_pointwise_forward: 2, upsample2d_forward: 2, upsample2d_backward: 2,
  avg_pool2d_forward: 2, avg_pool2d_backward: 2, adaptive_avg_pool2d_forward: 2, adaptive_avg_pool2d_backward: 2,
};
/**
 * Winograd F(4×4, 3×3) computes a tile through input, filter and output transforms (points
 * 0, ±1, ±2, ±1/2) whose entries reach 8 and which do not preserve magnitudes, so its error is
 * a larger multiple of u·sqrt(K)·Σ|term| than im2col's. The worst-case bound from the
 * transforms' norms is orders looser than what happens; this c is 3× the worst seen on these
 * cases (5.3, the weight gradient), a gate against regressions rather than a proof. The im2col
 * runs of the same cases keep the plain constant.
 */
export const WINOGRAD_TOLERANCE = 16;

// ---------------------------------------------------------------------------- the runner
const GUARD = 37;
const NAN_BITS_F32 = 0x7fc0dead;
const NAN_BITS_F64 = 0x7ff8deadbeefdeadn;
const INT_GUARD = 0x2bad2bad;
const U8_GUARD = 0xa5;

type Typed = Float32Array | Float64Array | Int32Array | Uint8Array;
const CTOR = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array } as const;

/** A typed array of `n` elements holding the guard pattern. */
function guardFill(dtype: AnyDType, n: number): Typed {
  const a = new CTOR[dtype](n);
  if (dtype === 'float32') new Uint32Array(a.buffer).fill(NAN_BITS_F32);
  else if (dtype === 'float64') new BigUint64Array(a.buffer).fill(NAN_BITS_F64);
  else a.fill(dtype === 'int32' ? INT_GUARD : U8_GUARD);
  return a;
}

/** The value `v` becomes in `dtype` (what the kernel sees or writes). */
export function roundTo(dtype: AnyDType, v: number): number {
  if (dtype === 'float32') return Math.fround(v);
  if (dtype === 'float64') return v;
  return dtype === 'int32' ? Math.trunc(v) | 0 : Math.trunc(v) & 0xff;
}

/** An operand placed GUARD elements into a guarded storage on `device`. */
export class Placed {
  readonly whole: Tensor;
  readonly view: Tensor;
  readonly content: Typed;
  constructor(readonly dtype: AnyDType, readonly shape: number[], body: ArrayLike<number> | null, device: Device) {
    const n = ref.numel(shape);
    this.content = guardFill(dtype, n + 2 * GUARD);
    if (body) for (let i = 0; i < n; i++) this.content[GUARD + i] = body[i]!;
    const host = empty([this.content.length], dtype, 'cpu');
    native.write(host.storage('matrix').handle, 0, this.content);
    this.whole = device === 'cpu' ? host : transferCopy(host, device);
    if (this.whole !== host) host.dispose();
    const storage = this.whole.storage('matrix');
    storage.retain();
    this.view = new Tensor(storage, shape, dtype, GUARD);
  }
  /** The storage's contents now, or a complaint about changed guards. */
  readBack(): { body: Float64Array; guardError: string | null } {
    const host = this.whole.device === 'cpu' ? this.whole : transferCopy(this.whole, 'cpu');
    const now = host.toArray() as Typed;
    if (host !== this.whole) host.dispose();
    const size = this.content.BYTES_PER_ELEMENT;
    const before = new Uint8Array(this.content.buffer), after = new Uint8Array(now.buffer, now.byteOffset, now.byteLength);
    const n = this.content.length - 2 * GUARD;
    let guardError: string | null = null;
    for (let i = 0; i < before.length && guardError === null; i++) {
      const element = Math.floor(i / size);
      if (element >= GUARD && element < GUARD + n) continue;
      if (before[i] !== after[i])
        guardError = `wrote outside its ${n} elements: the guard ${element < GUARD ? `${GUARD - element} before the start` : `${element - GUARD - n + 1} past the end`} changed`;
    }
    return { body: Float64Array.from(now.subarray(GUARD, GUARD + n)), guardError };
  }
  dispose(): void {
    this.view.dispose();
    this.whole.dispose();
  }
}

export interface RunOptions {
  device: Device;
  /** 'winograd' or 'im2col' for the cases marked winograd (sets the tolerance). */
  algo?: 'winograd' | 'im2col';
  /** Collects max |error| / (u·sqrt(K)·scale) per op, to see how close c is. */
  ratios?: Map<string, number>;
}

/** A case's positional params as the named fields runKernel packs (so the packing is under test too). */
function namedParams(op: NativeOp, params: readonly number[]): object[] {
  const specs = op.schema.params as readonly { field: string; type: string; values?: readonly string[] }[];
  if (specs.length === 0) return [];
  return [Object.fromEntries(specs.map((p, i) => [p.field, p.values ? p.values[params[i]!] : p.type === 'bool' ? params[i] !== 0 : params[i]]))];
}

/** Runs one case in one dtype; returns what went wrong (empty when it passed). */
export function runCase(c: OpCase, dtype: AnyDType, opts: RunOptions): string[] {
  const failures: string[] = [];
  const where = `${c.op} [${c.label}] ${dtype}${opts.algo ? ` ${opts.algo}` : ''}`;
  const dtypeOf = (d?: AnyDType): AnyDType => d ?? dtype;
  const inputs = c.inputs.map((o) => Float64Array.from(o.values, (v) => roundTo(dtypeOf(o.dtype), v)));
  const initial = c.outputs.map((o) => (o.initial ? Float64Array.from(o.initial, (v) => roundTo(dtypeOf(o.dtype), v)) : new Float64Array(0)));
  const placedIn = c.inputs.map((o, i) => new Placed(dtypeOf(o.dtype), o.shape, inputs[i]!, opts.device));
  const placedOut = c.outputs.map((o, i) => new Placed(dtypeOf(o.dtype), o.shape, o.initial ? initial[i]! : null, opts.device));
  try {
    const op = ops[c.op as OpName] as NativeOp;
    (runKernel as (op: NativeOp, inputs: Tensor[], outputs: Tensor[], ...params: object[]) => void)(
      op, placedIn.map((p) => p.view), placedOut.map((p) => p.view), ...namedParams(op, c.params));
  } catch (err) {
    [...placedIn, ...placedOut].forEach((p) => p.dispose());
    return [`${where}: threw ${(err as Error).message}`];
  }
  const updates = c.updates ?? [];
  const expected = c.reference(inputs, initial);
  const checked = [...placedOut.map((p, i) => ({ p, name: `output ${i}` })), ...updates.map((i) => ({ p: placedIn[i]!, name: `input ${i} (updated in place)` }))];
  if (expected.length !== checked.length) failures.push(`${where}: the reference gives ${expected.length} results for ${checked.length} checked operands`);
  const tolerance = c.winograd && opts.algo === 'winograd' && dtype === 'float32' ? WINOGRAD_TOLERANCE : OP_TOLERANCE[c.op]!;
  checked.forEach(({ p, name }, k) => {
    const { body, guardError } = p.readBack();
    if (guardError) failures.push(`${where}: ${name} ${guardError}`);
    const want = expected[k];
    if (want) {
      const failure = compare(body, want, p.dtype, tolerance, opts.ratios, `${c.op}${opts.algo === 'winograd' ? ' winograd' : ''}`);
      if (failure) failures.push(`${where}: ${name} ${failure}`);
    }
  });
  placedIn.forEach((p, i) => {
    if (updates.includes(i)) return;
    const { body, guardError } = p.readBack();
    if (guardError) failures.push(`${where}: input ${i} ${guardError}`);
    const changed = body.findIndex((v, j) => !Object.is(v, inputs[i]![j]));
    if (changed >= 0) failures.push(`${where}: input ${i} element ${changed} changed (an input the op must not write)`);
  });
  [...placedIn, ...placedOut].forEach((p) => p.dispose());
  return failures;
}

function compare(got: Float64Array, want: Expected, dtype: AnyDType, c: number, ratios: Map<string, number> | undefined, op: string): string | null {
  if (got.length !== want.values.length) return `has ${got.length} elements, the reference ${want.values.length}`;
  const u = dtype === 'float32' ? 2 ** -24 : 2 ** -53;
  const unit = u * Math.sqrt(want.terms ?? 1);
  const exact = want.exact || c === 0 || (dtype !== 'float32' && dtype !== 'float64');
  let worst: string | null = null, worstRatio = 0;
  for (let i = 0; i < got.length; i++) {
    const expectedValue = exact ? roundTo(dtype, want.values[i]!) : want.values[i]!;
    const scale = want.scale ? want.scale[i]! : Math.abs(want.values[i]!);
    const err = Math.abs(got[i]! - expectedValue);
    const ratio = err === 0 ? 0 : err / (unit * scale);
    if (ratios && Number.isFinite(ratio)) ratios.set(`${op} ${dtype}`, Math.max(ratios.get(`${op} ${dtype}`) ?? 0, ratio));
    const bad = Number.isNaN(got[i]!) || (exact ? got[i] !== expectedValue : !(err <= c * unit * scale));
    if (bad && (worst === null || !(ratio <= worstRatio))) {
      worstRatio = ratio;
      worst = `element ${i} of ${got.length}: got ${got[i]}, expected ${expectedValue}` +
        (exact ? ' (exact)' : ` ± ${(c * unit * scale).toPrecision(3)} (error ${Number.isFinite(ratio) ? ratio.toFixed(1) : ratio} × u·sqrt(K)·scale, allowed ${c})`);
    }
  }
  return worst;
}

// ----------------------------------------------------------------------------- the cases
let seed = 1;
/** Uniform in [lo, hi) (a fresh seeded stream per call). */
function vals(n: number, lo = -1, hi = 1): Float64Array {
  return randomArray(n, seed++).map((v) => lo + ((v + 1) / 2) * (hi - lo));
}
/** Values of magnitude in [lo, hi) with random signs (divisors, positive-ish scales). */
function away(n: number, lo = 0.5, hi = 1.5): Float64Array {
  return vals(n).map((v) => Math.sign(v || 1) * (lo + Math.abs(v) * (hi - lo)));
}
function ints(n: number, high: number): Float64Array {
  return vals(n, 0, high).map(Math.floor);
}
/** A seeded integer in [lo, hi] (random shapes). */
function pick(lo: number, hi: number): number {
  return lo + Math.min(hi - lo, Math.floor(((randomArray(1, seed++)[0]! + 1) / 2) * (hi - lo + 1)));
}
const x = (shape: number[], values = vals(ref.numel(shape)), dtype?: AnyDType): Operand => ({ shape, values, dtype });
const absOf = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, Math.abs);
const ALL_DTYPES: readonly AnyDType[] = ['float32', 'float64', 'int32', 'uint8'];

type CaseSpec = Omit<OpCase, 'op'>;
const table: Record<string, () => CaseSpec[]> = {};
function cases(op: string, make: () => CaseSpec[]): void {
  table[op] = make;
}

// ---- fills and copies
cases('fill', () => [[0, 3], [1], [37], [3, 5, 7]].map((shape) => ({
  label: `[${shape}]`, inputs: [], outputs: [{ shape }], params: [7.5], dtypes: ALL_DTYPES,
  reference: () => [{ values: new Float64Array(ref.numel(shape)).fill(7.5), exact: true }],
})));
cases('copy', () => ALL_DTYPES.flatMap((to) => [[0], [1], [33], [2, 3, 5]].map((shape) => ({
  label: `to ${to} [${shape}]`, inputs: [x(shape, vals(ref.numel(shape), 0, 200))], outputs: [{ shape, dtype: to }], params: [],
  dtypes: ALL_DTYPES, reference: ([src]) => [{ values: src!, exact: true }],
}))));
const counters = [0, 2 ** 40 + 3];
cases('fill_randn', () => counters.flatMap((counter) => [[1], [37], [4, 129]].map((shape) => ({
  label: `[${shape}] counter ${counter}`, inputs: [], outputs: [{ shape }], params: [0.5, 2, 12345, counter],
  reference: () => {
    const values = ref.randomNormal(ref.numel(shape), 0.5, 2, 12345, counter);
    // JS's log/cos and libm's differ by an ulp or so, which Box-Muller's log amplifies.
    return [{ values, scale: values.map((v) => Math.abs(v) + 2 * (1 + Math.abs(Math.log(Math.abs(v - 0.5) / 2 + 1e-3)))) }];
  },
}))));
cases('fill_uniform', () => counters.flatMap((counter) => [[1], [37], [4, 129]].map((shape) => ({
  label: `[${shape}] counter ${counter}`, inputs: [], outputs: [{ shape }], params: [-3, 5, 777, counter],
  reference: () => [{ values: ref.randomUniform(ref.numel(shape), -3, 5, 777, counter), scale: new Float64Array(ref.numel(shape)).fill(8) }],
}))));
cases('fill_bernoulli', () => counters.flatMap((counter) => [[1], [37], [4, 129]].map((shape) => ({
  label: `[${shape}] counter ${counter}`, inputs: [], outputs: [{ shape }], params: [0.7, 1 / 0.7, 99, counter],
  reference: () => [{ values: ref.randomBernoulli(ref.numel(shape), 0.7, 1 / 0.7, 99, counter), exact: true }],
}))));
cases('narrow_copy', () => [
  { src: [4, 5, 3], dst: [4, 7, 3], dim: 1, from: 1, to: 2, len: 3 },
  { src: [6], dst: [9], dim: 0, from: 0, to: 9 - 6, len: 6 },
  { src: [2, 3, 17], dst: [2, 3, 20], dim: 2, from: 5, to: 0, len: 12 },
  { src: [3, 2, 2], dst: [1, 2, 2], dim: 0, from: 2, to: 0, len: 1 },
].map(({ src, dst, dim, from, to, len }) => ({
  label: `[${src}] -> [${dst}] dim ${dim}`, inputs: [x(src, vals(ref.numel(src), 0, 100))], params: [dim, from, to, len], dtypes: ALL_DTYPES,
  outputs: [{ shape: dst, initial: vals(ref.numel(dst), 0, 100) }],
  reference: ([s], [d0]) => {
    const out = Float64Array.from(d0!);
    const inner = ref.numel(src.slice(dim + 1)), outer = ref.numel(src.slice(0, dim));
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < len; i++)
        for (let k = 0; k < inner; k++) out[(o * dst[dim]! + to + i) * inner + k] = s![(o * src[dim]! + from + i) * inner + k]!;
    return [{ values: out, exact: true }];
  },
})));

// ---- elementwise
cases('binary', () => [
  { a: [3, 1, 5], b: [1, 4, 1], out: [3, 4, 5] },
  { a: [1], b: [1], out: [1] },
  { a: [0, 3], b: [1, 3], out: [0, 3] },
  { a: [2, 3, 4, 17], b: [1, 3, 1, 1], out: [2, 3, 4, 17] },
  { a: [37], b: [37], out: [37] },
].flatMap(({ a, b, out }) => [0, 1, 2, 3].map((kind) => ({
  label: `${['add', 'sub', 'mul', 'div'][kind]} [${a}] [${b}]`, params: [kind],
  inputs: [x(a), x(b, kind === 3 ? away(ref.numel(b)) : vals(ref.numel(b)))], outputs: [{ shape: out }],
  reference: ([va, vb]) => [ref.binary(kind, va!, a, vb!, b, out)],
}))));
cases('affine', () => [[0], [1], [37], [4, 33]].map((shape) => ({
  label: `[${shape}]`, inputs: [x(shape)], outputs: [{ shape }], params: [-1.75, 0.3],
  reference: ([v]) => [{ values: v!.map((t) => -1.75 * t + 0.3), scale: v!.map((t) => Math.abs(1.75 * t) + 0.3) }],
})));
cases('axpy', () => [[1], [37], [4, 33]].map((shape) => ({
  label: `[${shape}]`, inputs: [x(shape), x(shape)], outputs: [], params: [0.625], updates: [1],
  reference: ([a, y]) => [{ values: y!.map((t, i) => t + 0.625 * a![i]!), scale: y!.map((t, i) => Math.abs(t) + Math.abs(0.625 * a![i]!)) }],
})));
cases('sum_to', () => [
  { from: [3, 4, 5], to: [1, 4, 1] }, { from: [3, 4, 5], to: [3, 1, 5] }, { from: [3, 4, 5], to: [1, 1, 1] },
  { from: [2, 3, 17, 9], to: [1, 3, 1, 1] }, { from: [5], to: [1] }, { from: [0, 4], to: [1, 4] }, { from: [600, 3], to: [1, 3] },
].map(({ from, to }) => ({
  label: `[${from}] -> [${to}]`, inputs: [x(from)], outputs: [{ shape: to }], params: [],
  reference: ([v]) => [ref.sumTo(v!, from, to)],
})));
cases('relu_forward', () => [[0], [1], [37], [3, 65]].map((shape) => ({
  label: `[${shape}]`, inputs: [x(shape)], outputs: [{ shape }], params: [],
  reference: ([v]) => [{ values: v!.map((t) => Math.max(t, 0)) }],
})));
cases('relu_backward', () => [[0], [1], [37], [3, 65]].map((shape) => ({
  label: `[${shape}]`, inputs: [x(shape), x(shape)], outputs: [{ shape }], params: [],
  reference: ([v, dy]) => [{ values: v!.map((t, i) => (t > 0 ? dy![i]! : 0)) }],
})));

// ---- pooling
interface MaxPoolCase { shape: number[]; k: [number, number]; s: [number, number]; p: [number, number]; d: [number, number]; ceil: boolean }
const maxPoolCases: MaxPoolCase[] = [
  { shape: [2, 3, 8, 8], k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1], ceil: false },
  { shape: [1, 2, 7, 9], k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1], ceil: false },
  { shape: [2, 2, 9, 7], k: [3, 3], s: [1, 1], p: [1, 1], d: [2, 2], ceil: false },
  { shape: [1, 3, 7, 8], k: [2, 3], s: [2, 2], p: [0, 1], d: [1, 1], ceil: true },
  { shape: [1, 1, 1, 1], k: [1, 1], s: [1, 1], p: [0, 0], d: [1, 1], ceil: false },
  { shape: [3, 1, 5, 33], k: [2, 2], s: [1, 2], p: [1, 0], d: [1, 1], ceil: true },
];
const maxPoolParams = (m: MaxPoolCase) => [...m.k, ...m.s, ...m.p, ...m.d, m.ceil ? 1 : 0];
const maxPoolOut = (m: MaxPoolCase): number[] => [m.shape[0]!, m.shape[1]!, ...[0, 1].map((d) => ref.pooledSize(m.shape[2 + d]!, m.k[d]!, m.s[d]!, m.p[d]!, m.d[d]!, m.ceil))];
const label4 = (m: { shape: number[] }, extra: string) => `[${m.shape}] ${extra}`;
const maxPoolLabel = (m: MaxPoolCase) => label4(m, `k${m.k} s${m.s} p${m.p} d${m.d}${m.ceil ? ' ceil' : ''}`);
/** Argmax indices of a max-pool of random values (what the backward ops receive). */
function poolIndices(m: MaxPoolCase): Float64Array {
  const out = maxPoolOut(m);
  return ref.maxPool(vals(ref.numel(m.shape)), m.shape, out[2]!, out[3]!, maxPoolParams(m)).indices;
}
cases('max_pool2d_forward', () => maxPoolCases.map((m) => {
  const out = maxPoolOut(m);
  return {
    label: maxPoolLabel(m), inputs: [x(m.shape)], outputs: [{ shape: out }, { shape: out, dtype: 'int32' as const }], params: maxPoolParams(m),
    reference: ([v]) => {
      const r = ref.maxPool(v!, m.shape, out[2]!, out[3]!, maxPoolParams(m));
      return [{ values: r.values, exact: true }, { values: r.indices, exact: true }];
    },
  };
}));
cases('max_pool2d_backward', () => maxPoolCases.map((m) => {
  const out = maxPoolOut(m), idx = poolIndices(m);
  const map = ref.scatterMap(m.shape[0]! * m.shape[1]!, m.shape[2]! * m.shape[3]!, idx);
  return {
    label: maxPoolLabel(m), inputs: [x(out), x(out, idx, 'int32')], outputs: [{ shape: m.shape }], params: [],
    reference: ([dy]) => [map.apply(dy!)],
  };
}));
// Unpooling needs distinct indices per plane: windows that do not overlap.
const unpoolCases = maxPoolCases.filter((m) => m.s[0] >= m.k[0] && m.s[1] >= m.k[1]);
cases('max_unpool2d_forward', () => unpoolCases.map((m) => {
  const out = maxPoolOut(m), idx = poolIndices(m);
  const map = ref.scatterMap(m.shape[0]! * m.shape[1]!, m.shape[2]! * m.shape[3]!, idx);
  return {
    label: maxPoolLabel(m), inputs: [x(out), x(out, idx, 'int32')], outputs: [{ shape: m.shape }], params: [],
    reference: ([v]) => [{ ...map.apply(v!), exact: true }],
  };
}));
cases('max_unpool2d_backward', () => unpoolCases.map((m) => {
  const out = maxPoolOut(m), idx = poolIndices(m);
  const map = ref.scatterMap(m.shape[0]! * m.shape[1]!, m.shape[2]! * m.shape[3]!, idx);
  return {
    label: maxPoolLabel(m), inputs: [x(m.shape), x(out, idx, 'int32')], outputs: [{ shape: out }], params: [],
    reference: ([dy]) => [{ ...map.transpose(dy!), exact: true }],
  };
}));
interface AvgPoolCase { shape: number[]; k: [number, number]; s: [number, number]; p: [number, number]; ceil: boolean; includePad: boolean; divisor: number }
const avgPoolCases: AvgPoolCase[] = [
  { shape: [2, 3, 8, 8], k: [2, 2], s: [2, 2], p: [0, 0], ceil: false, includePad: true, divisor: 0 },
  { shape: [1, 2, 7, 9], k: [3, 3], s: [2, 2], p: [1, 1], ceil: false, includePad: true, divisor: 0 },
  { shape: [1, 2, 7, 9], k: [3, 3], s: [2, 2], p: [1, 1], ceil: true, includePad: false, divisor: 0 },
  { shape: [2, 1, 6, 5], k: [3, 2], s: [1, 2], p: [1, 1], ceil: true, includePad: true, divisor: 0 },
  { shape: [1, 1, 5, 5], k: [2, 2], s: [2, 2], p: [0, 0], ceil: true, includePad: true, divisor: 3 },
  { shape: [1, 1, 1, 1], k: [1, 1], s: [1, 1], p: [0, 0], ceil: false, includePad: true, divisor: 0 },
];
const avgPoolParams = (a: AvgPoolCase) => [...a.k, ...a.s, ...a.p, a.includePad ? 1 : 0, a.divisor];
const avgPoolOut = (a: AvgPoolCase): number[] => [a.shape[0]!, a.shape[1]!, ...[0, 1].map((d) => ref.pooledSize(a.shape[2 + d]!, a.k[d]!, a.s[d]!, a.p[d]!, 1, a.ceil))];
const avgPoolLabel = (a: AvgPoolCase) => label4(a, `k${a.k} s${a.s} p${a.p}${a.ceil ? ' ceil' : ''}${a.includePad ? '' : ' exclude-pad'}${a.divisor ? ` divisor ${a.divisor}` : ''}`);
const avgMap = (a: AvgPoolCase) => { const o = avgPoolOut(a); return ref.avgPoolMap(a.shape, o[2]!, o[3]!, avgPoolParams(a)); };
cases('avg_pool2d_forward', () => avgPoolCases.map((a) => ({
  label: avgPoolLabel(a), inputs: [x(a.shape)], outputs: [{ shape: avgPoolOut(a) }], params: avgPoolParams(a),
  reference: ([v]) => [avgMap(a).apply(v!)],
})));
cases('avg_pool2d_backward', () => avgPoolCases.map((a) => ({
  label: avgPoolLabel(a), inputs: [x(avgPoolOut(a))], outputs: [{ shape: a.shape }], params: avgPoolParams(a),
  reference: ([dy]) => [avgMap(a).transpose(dy!)],
})));
const adaptiveCases = [{ shape: [2, 3, 7, 9], out: [3, 4] }, { shape: [1, 2, 5, 5], out: [1, 1] }, { shape: [1, 1, 4, 4], out: [4, 4] }, { shape: [2, 1, 3, 3], out: [5, 5] }];
cases('adaptive_avg_pool2d_forward', () => adaptiveCases.map((a) => ({
  label: label4(a, `-> ${a.out}`), inputs: [x(a.shape)], outputs: [{ shape: [a.shape[0]!, a.shape[1]!, ...a.out] }], params: [],
  reference: ([v]) => [ref.adaptiveAvgPoolMap(a.shape, a.out[0]!, a.out[1]!).apply(v!)],
})));
cases('adaptive_avg_pool2d_backward', () => adaptiveCases.map((a) => ({
  label: label4(a, `-> ${a.out}`), inputs: [x([a.shape[0]!, a.shape[1]!, ...a.out])], outputs: [{ shape: a.shape }], params: [],
  reference: ([dy]) => [ref.adaptiveAvgPoolMap(a.shape, a.out[0]!, a.out[1]!).transpose(dy!)],
})));
interface UpsampleCase { shape: number[]; out: [number, number]; mode: number; align: number; ratio: [number, number] }
const upsampleCases: UpsampleCase[] = [
  { shape: [2, 3, 4, 5], out: [8, 10], mode: 0, align: 0, ratio: [0, 0] },
  { shape: [1, 2, 7, 5], out: [10, 13], mode: 0, align: 0, ratio: [0, 0] },
  { shape: [1, 2, 4, 6], out: [6, 9], mode: 0, align: 0, ratio: [1 / 1.5, 1 / 1.5] },
  { shape: [2, 1, 5, 7], out: [9, 16], mode: 1, align: 0, ratio: [0, 0] },
  { shape: [2, 1, 5, 7], out: [9, 16], mode: 1, align: 1, ratio: [0, 0] },
  { shape: [1, 2, 9, 8], out: [4, 3], mode: 1, align: 0, ratio: [0, 0] },
  { shape: [1, 1, 1, 1], out: [4, 3], mode: 1, align: 1, ratio: [0, 0] },
  { shape: [1, 2, 5, 5], out: [5, 5], mode: 1, align: 0, ratio: [0, 0] },
];
const upsampleParams = (c: UpsampleCase) => [c.mode, c.align, ...c.ratio];
const upsampleOut = (c: UpsampleCase) => [c.shape[0]!, c.shape[1]!, ...c.out];
const upsampleLabel = (c: UpsampleCase) => label4(c, `-> ${c.out} ${c.mode ? 'bilinear' : 'nearest'}${c.align ? ' align' : ''}${c.ratio[0] ? ' ratio' : ''}`);
/**
 * Bilinear weights come from a source coordinate computed in the kernel's dtype (as PyTorch's
 * float kernels do): each tap's weight is off by u·|coordinate| (up to u·max size), whatever
 * the weight, so the scale gains (1 + size)·Σ|value| over the taps.
 */
function upsampleReference(c: UpsampleCase, v: Float64Array, transposed: boolean): Expected {
  const map = ref.upsampleMap(c.shape, c.out[0], c.out[1], upsampleParams(c));
  const e = transposed ? map.transpose(v) : map.apply(v);
  if (c.mode === 0) return e;
  const size = Math.max(...c.shape.slice(2), ...c.out);
  const taps = map.tapMagnitude(v, transposed);
  return { ...e, scale: e.scale!.map((s, i) => s + (1 + size) * taps[i]!) };
}
cases('upsample2d_forward', () => upsampleCases.map((c) => ({
  label: upsampleLabel(c), inputs: [x(c.shape)], outputs: [{ shape: upsampleOut(c) }], params: upsampleParams(c),
  reference: ([v]) => [upsampleReference(c, v!, false)],
})));
cases('upsample2d_backward', () => upsampleCases.map((c) => ({
  label: upsampleLabel(c), inputs: [x(upsampleOut(c))], outputs: [{ shape: c.shape }], params: upsampleParams(c),
  reference: ([dy]) => [upsampleReference(c, dy!, true)],
})));

// ---- normalisation, softmax, losses
interface NormCase { shape: number[]; training: boolean; affine: boolean; running: boolean }
const normCases: NormCase[] = [
  { shape: [2, 3, 5, 7], training: true, affine: true, running: true },
  { shape: [2, 3, 5, 7], training: true, affine: false, running: true },
  { shape: [1, 4, 3, 3], training: true, affine: true, running: false },
  { shape: [5, 2], training: true, affine: true, running: true },
  { shape: [3, 17, 2, 9], training: true, affine: false, running: false },
  { shape: [2, 3, 5, 7], training: false, affine: true, running: true },
  { shape: [1, 2, 1, 1], training: false, affine: false, running: true },
];
const normLayout = (shape: number[]): [number, number, number] => [shape[0]!, shape[1]!, ref.numel(shape.slice(2))];
const normLabel = (n: NormCase) => `[${n.shape}]${n.training ? ' training' : ' eval'}${n.affine ? ' affine' : ''}${n.running ? ' running' : ''}`;
cases('batch_norm_forward', () => normCases.map((n) => {
  const c = n.shape[1]!;
  const inputs = [x(n.shape, vals(ref.numel(n.shape), -1, 3)), ...(n.affine ? [x([c], away(c)), x([c])] : []), ...(n.running ? [x([c]), x([c], vals(c, 0.5, 1.5))] : [])];
  return {
    label: normLabel(n), inputs, outputs: [{ shape: n.shape }, { shape: [c] }, { shape: [c] }], params: [n.training ? 1 : 0, 0.1, 1e-5, n.affine ? 1 : 0, n.running ? 1 : 0],
    updates: n.running && n.training ? [inputs.length - 2, inputs.length - 1] : [],
    reference: (v) => {
      const off = n.affine ? 3 : 1;
      const r = ref.batchNorm(v[0]!, normLayout(n.shape), n.affine ? v[1]! : null, n.affine ? v[2]! : null, n.running ? [v[off]!, v[off + 1]!] : null, n.training, 0.1, 1e-5);
      return [r.y, r.mean, r.invstd, ...r.running];
    },
  };
}));
// Parameter gradients exist only with affine.
cases('batch_norm_backward', () => normCases.flatMap((n) => (n.affine ? [[1, 1], [1, 0], [0, 1]] : [[1, 0]]).map(([needDx, needParams]) => {
  const c = n.shape[1]!;
  const xv = vals(ref.numel(n.shape), -1, 3);
  const stats = ref.channelStats(xv, normLayout(n.shape));
  const invstd = stats.variance.map((v) => 1 / Math.sqrt(v + 1e-5));
  const outputs = [...(needDx ? [{ shape: n.shape }] : []), ...(needParams ? [{ shape: [c] }, { shape: [c] }] : [])];
  return {
    label: `${normLabel(n)} dx ${needDx} dparams ${needParams}`, outputs,
    inputs: [x(n.shape, xv), x(n.shape), x([c], stats.mean), x([c], invstd), ...(n.affine ? [x([c], away(c))] : [])],
    params: [n.training ? 1 : 0, n.affine ? 1 : 0, needDx!, needParams!],
    reference: (v) => {
      const r = ref.batchNormBackward(v[0]!, v[1]!, normLayout(n.shape), v[2]!, v[3]!, n.affine ? v[4]! : null, n.training);
      return [...(needDx ? [r.dx] : []), ...(needParams ? [r.dweight, r.dbias] : [])];
    },
  };
})));
const softmaxCases = [{ shape: [4, 7], dim: 1 }, { shape: [2, 5, 3, 3], dim: 1 }, { shape: [3, 17], dim: 0 }, { shape: [1, 1], dim: 1 }, { shape: [2, 3, 260], dim: 1 }, { shape: [2, 100], dim: 1 }];
cases('softmax_forward', () => softmaxCases.flatMap(({ shape, dim }) => [0, 1].map((log) => ({
  label: `[${shape}] dim ${dim}${log ? ' log' : ''}`, inputs: [x(shape, vals(ref.numel(shape), -4, 4))], outputs: [{ shape }], params: [dim, log],
  reference: ([v]) => [ref.softmax(v!, shape, dim, log === 1)],
}))));
cases('softmax_backward', () => softmaxCases.flatMap(({ shape, dim }) => [0, 1].map((log) => ({
  label: `[${shape}] dim ${dim}${log ? ' log' : ''}`, outputs: [{ shape }], params: [dim, log],
  inputs: [x(shape, ref.softmax(vals(ref.numel(shape), -4, 4), shape, dim, log === 1).values), x(shape)],
  reference: ([y, dy]) => [ref.softmaxBackward(y!, dy!, shape, dim, log === 1)],
}))));
const ceCases = [{ shape: [6, 5], ignoreEvery: 0 }, { shape: [2, 4, 3, 5], ignoreEvery: 4 }, { shape: [1, 1], ignoreEvery: 0 }, { shape: [3, 7, 300], ignoreEvery: 7 }];
const IGNORE = -100;
function ceTargets(shape: number[], ignoreEvery: number): Float64Array {
  const positions = shape[0]! * ref.numel(shape.slice(2));
  return ints(positions, shape[1]!).map((t, i) => (ignoreEvery && i % ignoreEvery === 1 ? IGNORE : t));
}
const ceInner = (shape: number[]) => [shape[0]!, ...shape.slice(2)];
cases('cross_entropy_forward', () => ceCases.flatMap(({ shape, ignoreEvery }) => [0, 1, 2].map((reduction) => ({
  label: `[${shape}] reduction ${reduction}${ignoreEvery ? ' ignoring some' : ''}`, params: [IGNORE, reduction],
  inputs: [x(shape, vals(ref.numel(shape), -3, 3)), x(ceInner(shape), ceTargets(shape, ignoreEvery), 'int32')],
  outputs: [{ shape: reduction === 0 ? ceInner(shape) : [] }, { shape: ceInner(shape) }],
  reference: ([v, t]) => ref.crossEntropy(v!, shape, t!, IGNORE, reduction),
}))));
cases('cross_entropy_backward', () => ceCases.flatMap(({ shape, ignoreEvery }) => [0, 1, 2].map((reduction) => {
  const logits = vals(ref.numel(shape), -3, 3), targets = ceTargets(shape, ignoreEvery);
  const lse = ref.crossEntropy(logits, shape, targets, IGNORE, 0)[1]!.values;
  const dlossShape = reduction === 0 ? ceInner(shape) : [];
  return {
    label: `[${shape}] reduction ${reduction}${ignoreEvery ? ' ignoring some' : ''}`, params: [IGNORE, reduction], outputs: [{ shape }],
    inputs: [x(shape, logits), x(ceInner(shape), targets, 'int32'), x(ceInner(shape), lse), x(dlossShape)],
    reference: ([v, t, , g]) => [ref.crossEntropyBackward(v!, shape, t!, g!, IGNORE, reduction)],
  };
})));

// ---- optimizers
const sgdVariants = [
  { label: 'plain', p: [0.1, 0, 0, 0, 0, 0] }, { label: 'weight decay', p: [0.1, 0, 0, 0.01, 0, 0] },
  { label: 'momentum first step', p: [0.05, 0.9, 0, 0.01, 0, 1] }, { label: 'momentum dampening', p: [0.05, 0.9, 0.3, 0, 0, 0] },
  { label: 'nesterov', p: [0.05, 0.9, 0, 0.001, 1, 0] },
];
cases('sgd_step', () => sgdVariants.flatMap((v) => [1, 37, 100].map((n) => {
  const momentum = v.p[1] !== 0;
  return {
    label: `${v.label} [${n}]`, inputs: [x([n]), x([n]), ...(momentum ? [x([n])] : [])], outputs: [], params: v.p,
    updates: momentum ? [0, 2] : [0],
    reference: ([p, g, b]) => ref.sgd(p!, g!, momentum ? b! : null, v.p),
  };
})));
const adamVariants = [
  { label: 'adam step 1', p: [1e-3, 0.9, 0.999, 1e-8, 0, 0, 1, 0] }, { label: 'adam weight decay step 7', p: [1e-2, 0.9, 0.99, 1e-8, 0.01, 0, 7, 0] },
  { label: 'adamw step 3', p: [1e-2, 0.8, 0.999, 1e-6, 0.1, 1, 3, 0] }, { label: 'amsgrad step 5', p: [1e-2, 0.9, 0.999, 1e-8, 0, 0, 5, 1] },
];
cases('adam_step', () => adamVariants.flatMap((v) => [1, 37, 100].map((n) => {
  const ams = v.p[7] === 1;
  return {
    label: `${v.label} [${n}]`, outputs: [], params: v.p, updates: ams ? [0, 2, 3, 4] : [0, 2, 3],
    inputs: [x([n]), x([n]), x([n], vals(n, -0.1, 0.1)), x([n], vals(n, 0, 0.05)), ...(ams ? [x([n], vals(n, 0, 0.05))] : [])],
    reference: ([p, g, m, s, vmax]) => ref.adam(p!, g!, m!, s!, ams ? vmax! : null, v.p),
  };
})));

// ---- gemm
interface GemmCase { a: number[]; b: number[]; out: number[]; transA: number; transB: number; alpha: number; beta: number; biasKind: number }
const gemmCases: GemmCase[] = [
  { a: [7, 5], b: [5, 13], out: [7, 13], transA: 0, transB: 0, alpha: 1, beta: 0, biasKind: 0 },
  { a: [5, 7], b: [5, 13], out: [7, 13], transA: 1, transB: 0, alpha: 0.5, beta: 0, biasKind: 0 },
  { a: [7, 5], b: [13, 5], out: [7, 13], transA: 0, transB: 1, alpha: 1, beta: 0, biasKind: 2 },
  { a: [65, 33], b: [47, 65], out: [33, 47], transA: 1, transB: 1, alpha: -1, beta: 0.75, biasKind: 1 },
  { a: [1, 1], b: [1, 1], out: [1, 1], transA: 0, transB: 0, alpha: 1, beta: 1, biasKind: 0 },
  { a: [3, 0], b: [0, 4], out: [3, 4], transA: 0, transB: 0, alpha: 1, beta: 0.5, biasKind: 2 },
  { a: [0, 5], b: [5, 4], out: [0, 4], transA: 0, transB: 0, alpha: 1, beta: 0, biasKind: 0 },
  { a: [3, 9, 6], b: [6, 17], out: [3, 9, 17], transA: 0, transB: 0, alpha: 1, beta: 0, biasKind: 2 },
  { a: [2, 6, 9], b: [2, 17, 6], out: [2, 9, 17], transA: 1, transB: 1, alpha: 1, beta: 0, biasKind: 0 },
  { a: [4, 5, 19], b: [4, 19, 3], out: [5, 3], transA: 0, transB: 0, alpha: 1, beta: 0, biasKind: 0 },
  { a: [33, 300], b: [300, 40], out: [33, 40], transA: 0, transB: 0, alpha: 1, beta: 0, biasKind: 0 },
];
/** Random 2-D products with random transposes, alpha, beta and bias. */
function randomGemm(): GemmCase {
  const [m, n, k] = [pick(1, 40), pick(1, 40), pick(1, 70)];
  const transA = pick(0, 1), transB = pick(0, 1);
  return { a: transA ? [k, m] : [m, k], b: transB ? [n, k] : [k, n], out: [m, n], transA, transB, alpha: pick(1, 3) / 2, beta: pick(0, 1) / 2, biasKind: pick(0, 2) };
}
cases('gemm', () => [...gemmCases, ...Array.from({ length: 4 }, randomGemm)].map((g) => {
  const m = g.out[g.out.length - 2]!, n = g.out[g.out.length - 1]!;
  const params = [g.transA, g.transB, g.alpha, g.beta, g.biasKind];
  return {
    label: `[${g.a}]${g.transA ? 'ᵀ' : ''} x [${g.b}]${g.transB ? 'ᵀ' : ''} -> [${g.out}] alpha ${g.alpha} beta ${g.beta} bias ${g.biasKind}`,
    inputs: [x(g.a), x(g.b), ...(g.biasKind ? [x([g.biasKind === 1 ? m : n])] : [])],
    outputs: [{ shape: g.out, initial: g.beta ? vals(ref.numel(g.out)) : undefined }], params,
    reference: ([a, b, bias], [out0]) => [ref.gemm(a!, g.a, b!, g.b, g.beta ? out0! : null, g.out, g.biasKind ? bias! : null, params)],
  };
}));

// ---- convolutions
type ConvCase = ConvSpec & { bias?: boolean; /** conv2d_backward_input only: dx larger than the conv needs (a transposed conv's outputPadding). */ extra?: [number, number] };
const conv = (c: Partial<ConvCase> & Pick<ConvSpec, 'inC' | 'outC' | 'kH' | 'kW' | 'inH' | 'inW'>): ConvCase =>
  ({ batch: 2, stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, ...c });
const convCases: ConvCase[] = [
  conv({ inC: 3, outC: 5, kH: 3, kW: 3, inH: 7, inW: 9, padding: [1, 1], bias: true }),
  conv({ inC: 4, outC: 6, kH: 3, kW: 3, inH: 9, inW: 8, stride: [2, 2], padding: [1, 1], batch: 1 }),
  conv({ inC: 3, outC: 4, kH: 3, kW: 2, inH: 9, inW: 7, dilation: [2, 3], padding: [2, 1] }),
  conv({ inC: 4, outC: 6, kH: 3, kW: 3, inH: 6, inW: 5, groups: 2, padding: [1, 0], bias: true }),
  conv({ inC: 4, outC: 8, kH: 3, kW: 3, inH: 5, inW: 6, groups: 4, padding: [1, 1] }),
  conv({ inC: 8, outC: 5, kH: 1, kW: 1, inH: 5, inW: 7, bias: true }),
  conv({ inC: 3, outC: 4, kH: 1, kW: 1, inH: 7, inW: 6, stride: [2, 2] }),
  conv({ inC: 3, outC: 4, kH: 1, kW: 1, inH: 4, inW: 5, padding: [1, 1] }),
  conv({ inC: 3, outC: 4, kH: 1, kW: 1, inH: 4, inW: 5, dilation: [2, 2], extra: [1, 1] }),
  conv({ inC: 2, outC: 3, kH: 1, kW: 1, inH: 3, inW: 4, dilation: [3, 2], extra: [1, 1], bias: true }),
  conv({ inC: 3, outC: 2, kH: 3, kW: 3, inH: 4, inW: 5, stride: [2, 2], padding: [1, 1], extra: [1, 1], bias: true }),
  conv({ inC: 2, outC: 3, kH: 3, kW: 3, inH: 1, inW: 1, padding: [1, 1], batch: 1 }),
  conv({ inC: 16, outC: 16, kH: 3, kW: 3, inH: 9, inW: 7, padding: [1, 1], bias: true }),
  conv({ inC: 17, outC: 19, kH: 3, kW: 3, inH: 6, inW: 11, padding: [0, 0], batch: 1 }),
  conv({ inC: 16, outC: 20, kH: 3, kW: 3, inH: 5, inW: 6, padding: [2, 2] }),
  conv({ inC: 16, outC: 16, kH: 3, kW: 3, inH: 9, inW: 7, padding: [1, 1], stride: [2, 2] }),
  conv({ inC: 16, outC: 16, kH: 3, kW: 3, inH: 9, inW: 9, padding: [2, 2], dilation: [2, 2] }),
];
/** A random grouped, strided, padded, dilated convolution whose kernel fits. */
function randomConv(): ConvCase {
  const groups = pick(1, 3), kH = pick(1, 4), kW = pick(1, 4);
  const dilation: [number, number] = [pick(1, 2), pick(1, 2)], stride: [number, number] = [pick(1, 2), pick(1, 2)];
  const padding: [number, number] = [pick(0, Math.floor(kH / 2)), pick(0, Math.floor(kW / 2))];
  const span = (k: number, d: number, p: number) => Math.max(1, d * (k - 1) + 1 - 2 * p);
  return conv({ batch: pick(1, 3), inC: groups * pick(1, 3), outC: groups * pick(1, 3), kH, kW, stride, padding, dilation, groups,
    inH: span(kH, dilation[0], padding[0]) + pick(0, 6), inW: span(kW, dilation[1], padding[1]) + pick(0, 9), bias: pick(0, 1) === 1 });
}
convCases.push(...Array.from({ length: 4 }, randomConv));
/** Whether Winograd F(4×4, 3×3) may take the case in float32 (native/cpu/ops/conv_ops.cc's condition, from the shape). */
const winogradShape = (c: ConvCase): boolean => c.groups === 1 && c.kH === 3 && c.kW === 3 && c.stride.every((s) => s === 1) &&
  c.dilation.every((d) => d === 1) && c.padding.every((p) => p <= 2) && !c.extra;
const convLabel = (c: ConvCase) => `N${c.batch} C${c.inC}->${c.outC} ${c.inH}x${c.inW} k${c.kH}x${c.kW} s${c.stride} p${c.padding} d${c.dilation} g${c.groups}${c.bias ? ' bias' : ''}${c.extra ? ` outputPadding ${c.extra}` : ''}`;
const convParams = (c: ConvSpec) => [...c.stride, ...c.padding, ...c.dilation, c.groups];
const wShape = (c: ConvSpec) => [c.outC, c.inC / c.groups, c.kH, c.kW];
/** The spec whose input is dx: as large as the conv needs plus `extra` (cropped output = dy). */
const withExtra = (c: ConvCase): ConvCase => (c.extra ? { ...c, inH: c.inH + c.extra[0], inW: c.inW + c.extra[1] } : c);
const convTerms = (c: ConvSpec) => (c.inC / c.groups) * c.kH * c.kW + 1;
const conv4 = (c: ConvSpec, [h, w]: number[]) => [c.batch, c.outC, h!, w!];
const in4 = (c: ConvSpec) => [c.batch, c.inC, c.inH, c.inW];
/** Reference plus the Σ|term| scale from the same formula on absolute values. */
function scaled(terms: number, f: (...a: (ArrayLike<number> | null)[]) => Float64Array, ...args: (ArrayLike<number> | null)[]): Expected {
  return { values: f(...args), scale: f(...args.map((a) => (a ? absOf(a) : null))), terms };
}
// With `extra`, the forward crops its output to dy's size (a transposed conv's input gradient).
cases('conv2d_forward', () => convCases.map((c) => {
  const out = convOutSize(c), s = withExtra(c);
  return {
    label: convLabel(c), winograd: winogradShape(c), params: convParams(c),
    inputs: [x(in4(s)), x(wShape(c)), ...(c.bias ? [x([c.outC])] : [])], outputs: [{ shape: conv4(c, out) }],
    reference: ([xv, w, b]) => [scaled(convTerms(c), (a, bb, cc) => convForward(s, a!, bb!, cc, out), xv!, w!, c.bias ? b! : null)],
  };
}));
cases('conv2d_backward_input', () => convCases.map((c) => {
  const out = convOutSize(c), s = withExtra(c);
  return {
    label: convLabel(c), winograd: winogradShape(c), params: convParams(c),
    inputs: [x(conv4(c, out)), x(wShape(c)), ...(c.bias ? [x([c.inC])] : [])], outputs: [{ shape: in4(s) }],
    reference: ([dy, w, b]) => [scaled((c.outC / c.groups) * c.kH * c.kW + 1, (a, bb, cc) => convBackwardInput(s, a!, bb!, cc, out), dy!, w!, c.bias ? b! : null)],
  };
}));
cases('conv2d_backward_weight', () => convCases.map((c) => {
  const out = convOutSize(c), s = withExtra(c);
  return {
    label: convLabel(c), winograd: winogradShape(c), params: convParams(c),
    inputs: [x(in4(s)), x(conv4(c, out))], outputs: [{ shape: wShape(c) }],
    reference: ([xv, dy]) => [scaled(c.batch * out[0] * out[1], (a, bb) => convBackwardWeight(s, a!, bb!, out), xv!, dy!)],
  };
}));
type DwCase = ConvCase;
const dw = (c: { channels: number; multiplier: number } & Partial<ConvCase> & Pick<ConvSpec, 'kH' | 'kW' | 'inH' | 'inW'>): DwCase =>
  conv({ ...c, inC: c.channels, outC: c.channels * c.multiplier, groups: c.channels });
const dwCases: DwCase[] = [
  dw({ channels: 3, multiplier: 1, kH: 3, kW: 3, inH: 8, inW: 17, padding: [1, 1], bias: true }),
  dw({ channels: 4, multiplier: 1, kH: 3, kW: 3, inH: 9, inW: 19, stride: [2, 2], padding: [1, 1], batch: 1 }),
  dw({ channels: 2, multiplier: 2, kH: 3, kW: 3, inH: 6, inW: 7, padding: [1, 1] }),
  dw({ channels: 3, multiplier: 3, kH: 5, kW: 5, inH: 9, inW: 8, padding: [2, 2], bias: true }),
  dw({ channels: 2, multiplier: 1, kH: 3, kW: 3, inH: 9, inW: 10, dilation: [2, 2], padding: [2, 2] }),
  dw({ channels: 3, multiplier: 1, kH: 3, kW: 1, inH: 5, inW: 1, padding: [1, 0] }),
  dw({ channels: 5, multiplier: 2, kH: 1, kW: 1, inH: 4, inW: 33 }),
  dw({ channels: 1, multiplier: 1, kH: 3, kW: 3, inH: 1, inW: 1, padding: [1, 1], batch: 1 }),
  dw({ channels: 8, multiplier: 1, kH: 3, kW: 3, inH: 14, inW: 40, padding: [1, 1], stride: [1, 2] }),
];
/** Random depthwise convolutions (any channel multiplier, stride, padding, dilation). */
dwCases.push(...Array.from({ length: 4 }, () => {
  const r = randomConv();
  return dw({ ...r, channels: pick(1, 5), multiplier: pick(1, 3) });
}));
const dwWShape = (c: DwCase) => [c.outC, 1, c.kH, c.kW];
const dwParams = (c: DwCase) => [...c.stride, ...c.padding, ...c.dilation];
cases('depthwise_conv2d_forward', () => dwCases.map((c) => ({
  label: convLabel(c), params: dwParams(c),
  inputs: [x(in4(c)), x(dwWShape(c)), ...(c.bias ? [x([c.outC])] : [])], outputs: [{ shape: conv4(c, convOutSize(c)) }],
  reference: ([xv, w, b]) => [scaled(c.kH * c.kW + 1, (a, bb, cc) => convForward(c, a!, bb!, cc), xv!, w!, c.bias ? b! : null)],
})));
cases('depthwise_conv2d_backward_input', () => dwCases.map((c) => ({
  label: convLabel(c), params: dwParams(c),
  inputs: [x(conv4(c, convOutSize(c))), x(dwWShape(c))], outputs: [{ shape: in4(c) }],
  reference: ([dy, w]) => [scaled((c.outC / c.inC) * c.kH * c.kW, (a, bb) => convBackwardInput(c, a!, bb!), dy!, w!)],
})));
cases('depthwise_conv2d_backward_weight', () => dwCases.map((c) => {
  const out = convOutSize(c);
  return {
    label: convLabel(c), params: dwParams(c),
    inputs: [x(in4(c)), x(conv4(c, out))], outputs: [{ shape: dwWShape(c) }, ...(c.bias ? [{ shape: [c.outC] }] : [])],
    reference: ([xv, dy]) => [
      scaled(c.batch * out[0] * out[1], (a, bb) => convBackwardWeight(c, a!, bb!), xv!, dy!),
      ...(c.bias ? [ref.sumTo(dy!, conv4(c, out), [1, c.outC, 1, 1])] : []),
    ],
  };
}));
const dscCases = dwCases.filter((c) => c.outC === c.inC).map((c, i) => ({ ...c, pointwiseOut: [5, 16, 1, 7, 9, 3][i % 6]! }));
cases('depthwise_pointwise_forward', () => dscCases.map((c) => {
  const out = convOutSize(c);
  const pw: ConvSpec = { ...c, inC: c.outC, outC: c.pointwiseOut, kH: 1, kW: 1, inH: out[0], inW: out[1], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 };
  const dsc = (xv: ArrayLike<number>, wd: ArrayLike<number>, wp: ArrayLike<number>, b: ArrayLike<number> | null) => convForward(pw, convForward(c, xv, wd, null), wp, b);
  return {
    label: `${convLabel(c)} -> ${c.pointwiseOut}`, params: dwParams(c),
    inputs: [x(in4(c)), x(dwWShape(c)), x([c.pointwiseOut, c.outC, 1, 1]), ...(c.bias ? [x([c.pointwiseOut])] : [])],
    outputs: [{ shape: [c.batch, c.pointwiseOut, ...out] }],
    reference: ([xv, wd, wp, b]) => [scaled(c.kH * c.kW * c.inC + 1, (a, bb, cc, dd) => dsc(a!, bb!, cc!, dd), xv!, wd!, wp!, c.bias ? b! : null)],
  };
}));

/** The cases of every op in the table, built once (values are seeded, so runs repeat). */
export function allCases(): Map<string, OpCase[]> {
  seed = 1;
  return new Map(Object.entries(table).map(([op, make]) => [op, make().map((c) => ({ op, ...c }))]));
}
