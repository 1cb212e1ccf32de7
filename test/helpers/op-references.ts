/**
 * Naive float64 references for the native ops of the test matrix (test/helpers/op-matrix.ts),
 * written from the ops' documented semantics (native/core/ops.h, PyTorch's formulas), not
 * from the kernels. Each returns the expected values plus, where rounding error depends on
 * more than the value itself, the scale of the terms (Σ|term| per element) and how many terms
 * were summed, from which the matrix derives float32/float64 tolerances.
 */
export interface Expected {
  values: Float64Array;
  /** Per element: the magnitude rounding error scales with (default |value|). */
  scale?: Float64Array;
  /** Terms summed per element (K in c·u·sqrt(K)·scale; default 1). */
  terms?: number;
  /** Integer outputs and exact formulas: compared bit for bit. */
  exact?: boolean;
}

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const abs = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, Math.abs);

// ------------------------------------------------------------------------ linear maps
/**
 * A linear op as its taps: for each output element, the (input index, coefficient) pairs it
 * sums. Forward, the transposed map (its backward) and the scale of the terms all follow.
 */
export class LinearMap {
  constructor(
    readonly inputSize: number,
    readonly taps: readonly (readonly [number, number])[][],
  ) {}
  get maxTerms(): number {
    return Math.max(1, ...this.taps.map((t) => t.length));
  }
  apply(x: ArrayLike<number>): Expected {
    const values = new Float64Array(this.taps.length), scale = new Float64Array(this.taps.length);
    this.taps.forEach((taps, o) => taps.forEach(([i, c]) => ((values[o]! += c * x[i]!), (scale[o]! += Math.abs(c * x[i]!)))));
    return { values, scale, terms: this.maxTerms };
  }
  /** The same map with every coefficient 1 on |x|, forward or transposed (Σ|x| over the taps). */
  tapMagnitude(x: ArrayLike<number>, transposed: boolean): Float64Array {
    const ones = new LinearMap(this.inputSize, this.taps.map((t) => t.map(([i]) => [i, 1] as const)));
    const a = Float64Array.from(x, Math.abs);
    return (transposed ? ones.transpose(a) : ones.apply(a)).values;
  }
  transpose(dy: ArrayLike<number>): Expected {
    const values = new Float64Array(this.inputSize), scale = new Float64Array(this.inputSize);
    const count = new Int32Array(this.inputSize);
    this.taps.forEach((taps, o) => taps.forEach(([i, c]) => ((values[i]! += c * dy[o]!), (scale[i]! += Math.abs(c * dy[o]!)), count[i]!++)));
    return { values, scale, terms: Math.max(1, ...count) };
  }
}

/** Taps over N·C planes: `plane(y, x)` lists the (iy, ix, coefficient) an output pixel reads. */
export function planeMap(shape: readonly number[], oh: number, ow: number, plane: (y: number, x: number) => [number, number, number][]): LinearMap {
  const [n, c, h, w] = shape as [number, number, number, number];
  const perPixel: [number, number, number][][] = [];
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) perPixel.push(plane(y, x));
  const taps: [number, number][][] = [];
  for (let p = 0; p < n * c; p++)
    for (const pixel of perPixel) taps.push(pixel.map(([iy, ix, coef]) => [(p * h + iy) * w + ix, coef]));
  return new LinearMap(n * c * h * w, taps);
}

const f32 = Math.fround;

// PyTorch's nearest_idx (legacy 'nearest'): single-precision scale and product.
function nearestIndex(o: number, inSize: number, outSize: number, ratio: number): number {
  if (outSize === inSize) return o;
  if (outSize === 2 * inSize) return o >> 1;
  const scale = ratio !== 0 ? f32(ratio) : f32(f32(inSize) / f32(outSize));
  return Math.min(Math.floor(f32(o * scale)), inSize - 1);
}

// PyTorch's area_pixel_compute_source_index + guard_index_and_lambda.
function linearTaps(o: number, inSize: number, outSize: number, alignCorners: boolean, ratio: number): [number, number][] {
  if (outSize === inSize) return [[o, 1]];
  let real: number;
  if (alignCorners) real = outSize > 1 ? ((inSize - 1) / (outSize - 1)) * o : 0;
  else real = Math.max((ratio !== 0 ? ratio : inSize / outSize) * (o + 0.5) - 0.5, 0);
  const i0 = Math.min(Math.floor(real), inSize - 1);
  const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
  const l1 = Math.min(Math.max(real - i0, 0), 1);
  return [[i0, 1 - l1], [i1, l1]];
}

/** upsample2d with params [mode, align_corners, ratio_h, ratio_w]. */
export function upsampleMap(shape: readonly number[], oh: number, ow: number, [mode, align, rh, rw]: readonly number[]): LinearMap {
  const [h, w] = [shape[2]!, shape[3]!];
  if (mode === 0) return planeMap(shape, oh, ow, (y, x) => [[nearestIndex(y, h, oh, rh!), nearestIndex(x, w, ow, rw!), 1]]);
  return planeMap(shape, oh, ow, (y, x) =>
    linearTaps(y, h, oh, align === 1, rh!).flatMap(([iy, cy]) => linearTaps(x, w, ow, align === 1, rw!).map(([ix, cx]): [number, number, number] => [iy, ix, cy * cx])));
}

/** avg_pool2d with params [kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override] (PyTorch's windows). */
export function avgPoolMap(shape: readonly number[], oh: number, ow: number, p: readonly number[]): LinearMap {
  const [h, w] = [shape[2]!, shape[3]!];
  const [kh, kw, sh, sw, ph, pw, includePad, divisorOverride] = p as [number, number, number, number, number, number, number, number];
  return planeMap(shape, oh, ow, (y, x) => {
    let h0 = y * sh - ph, w0 = x * sw - pw;
    let h1 = Math.min(h0 + kh, h + ph), w1 = Math.min(w0 + kw, w + pw);
    const padded = (h1 - h0) * (w1 - w0);
    [h0, w0, h1, w1] = [Math.max(h0, 0), Math.max(w0, 0), Math.min(h1, h), Math.min(w1, w)];
    const divisor = divisorOverride || (includePad ? padded : (h1 - h0) * (w1 - w0));
    const taps: [number, number, number][] = [];
    for (let i = h0; i < h1; i++) for (let j = w0; j < w1; j++) taps.push([i, j, 1 / divisor]);
    return taps;
  });
}

export function adaptiveAvgPoolMap(shape: readonly number[], oh: number, ow: number): LinearMap {
  const [h, w] = [shape[2]!, shape[3]!];
  return planeMap(shape, oh, ow, (y, x) => {
    const [h0, h1] = [Math.floor((y * h) / oh), Math.ceil(((y + 1) * h) / oh)];
    const [w0, w1] = [Math.floor((x * w) / ow), Math.ceil(((x + 1) * w) / ow)];
    const taps: [number, number, number][] = [];
    for (let i = h0; i < h1; i++) for (let j = w0; j < w1; j++) taps.push([i, j, 1 / ((h1 - h0) * (w1 - w0))]);
    return taps;
  });
}

/**
 * out[plane][indices[o]] += x[o]: max-pool's backward and max-unpool's forward; its transpose
 * (dx = dy[plane][indices]) is max-unpool's backward.
 */
export function scatterMap(planes: number, inPlane: number, indices: ArrayLike<number>): LinearMap {
  const outPlane = indices.length / planes;
  const taps: [number, number][][] = Array.from({ length: planes * inPlane }, () => []);
  for (let p = 0; p < planes; p++)
    for (let o = 0; o < outPlane; o++) taps[p * inPlane + indices[p * outPlane + o]!]!.push([p * outPlane + o, 1]);
  return new LinearMap(planes * outPlane, taps);
}

// ------------------------------------------------------------------------------ pooling
/** PyTorch's pooled size (ceil mode drops a last window that starts in the right padding). */
export function pooledSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  let out = Math.floor((size + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

/** max_pool2d: values and flat in-plane indices of the first maximum in scan order. */
export function maxPool(x: ArrayLike<number>, shape: readonly number[], oh: number, ow: number, p: readonly number[]): { values: Float64Array; indices: Float64Array } {
  const [n, c, h, w] = shape as [number, number, number, number];
  const [kh, kw, sh, sw, ph, pw, dh, dw] = p as number[] as [number, number, number, number, number, number, number, number];
  const values = new Float64Array(n * c * oh * ow), indices = new Float64Array(values.length);
  for (let pl = 0; pl < n * c; pl++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++) {
        let best = -Infinity, at = -1;
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const iy = y * sh - ph + i * dh, ix = xo * sw - pw + j * dw;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = x[(pl * h + iy) * w + ix]!;
            if (v > best || at < 0) (best = v), (at = iy * w + ix);
          }
        const o = (pl * oh + y) * ow + xo;
        values[o] = best;
        indices[o] = at;
      }
  return { values, indices };
}

// ------------------------------------------------------------------------- elementwise
/** Strides of `shape` with 0 where a dim is broadcast (size 1) against `out`. */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let s = 1;
  for (let d = out.length - 1; d >= 0; d--) {
    strides[d] = shape[d] === 1 ? 0 : s;
    s *= shape[d]!;
  }
  return strides;
}

/** The flat index into a broadcast operand of each element of `out`. */
export function broadcastIndex(shape: readonly number[], out: readonly number[]): Int32Array {
  const strides = broadcastStrides(shape, out);
  const idx = new Int32Array(numel(out));
  for (let i = 0; i < idx.length; i++) {
    let rest = i, at = 0;
    for (let d = out.length - 1; d >= 0; d--) {
      at += (rest % out[d]!) * strides[d]!;
      rest = Math.floor(rest / out[d]!);
    }
    idx[i] = at;
  }
  return idx;
}

export function binary(kind: number, a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[], out: readonly number[]): Expected {
  const ia = broadcastIndex(aShape, out), ib = broadcastIndex(bShape, out);
  const f = [(x: number, y: number) => x + y, (x: number, y: number) => x - y, (x: number, y: number) => x * y, (x: number, y: number) => x / y][kind]!;
  const values = Float64Array.from(ia, (_, i) => f(a[ia[i]!]!, b[ib[i]!]!));
  // add/sub round once relative to |a| + |b| (cancellation), mul/div relative to the result.
  const scale = kind < 2 ? Float64Array.from(ia, (_, i) => Math.abs(a[ia[i]!]!) + Math.abs(b[ib[i]!]!)) : abs(values);
  return { values, scale };
}

/** sum_to: x summed over the dims where `out` has size 1 and x does not. */
export function sumTo(x: ArrayLike<number>, shape: readonly number[], out: readonly number[]): Expected {
  const idx = broadcastIndex(out, shape);
  const values = new Float64Array(numel(out)), scale = new Float64Array(values.length);
  for (let i = 0; i < idx.length; i++) (values[idx[i]!]! += x[i]!), (scale[idx[i]!]! += Math.abs(x[i]!));
  return { values, scale, terms: numel(shape) / Math.max(1, numel(out)) };
}

// --------------------------------------------------------------------------------- gemm
/** out = alpha·op(a)·op(b) + beta·out0 + bias, batched as ops.h describes. */
export function gemm(a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[], out0: ArrayLike<number> | null,
  outShape: readonly number[], bias: ArrayLike<number> | null, [transA, transB, alpha, beta, biasKind]: readonly number[]): Expected {
  const [m, n] = outShape.slice(-2) as [number, number];
  const k = transA ? aShape[aShape.length - 2]! : aShape[aShape.length - 1]!;
  const batch = Math.max(aShape.length === 3 ? aShape[0]! : 1, bShape.length === 3 ? bShape[0]! : 1, outShape.length === 3 ? outShape[0]! : 1);
  const at = (i: number, kk: number, e: number) => a[(aShape.length === 3 ? e * m * k : 0) + (transA ? kk * m + i : i * k + kk)]!;
  const bt = (kk: number, j: number, e: number) => b[(bShape.length === 3 ? e * k * n : 0) + (transB ? j * k + kk : kk * n + j)]!;
  const values = new Float64Array(numel(outShape)), scale = new Float64Array(values.length);
  for (let e = 0; e < batch; e++) {
    const base = outShape.length === 3 ? e * m * n : 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0, sa = 0;
        for (let kk = 0; kk < k; kk++) (s += at(i, kk, e) * bt(kk, j, e)), (sa += Math.abs(at(i, kk, e) * bt(kk, j, e)));
        values[base + i * n + j]! += alpha! * s;
        scale[base + i * n + j]! += Math.abs(alpha! * sa);
      }
  }
  for (let o = 0; o < values.length; o++) {
    const col = o % n, row = Math.floor(o / n) % m;
    const add = (beta ? beta * out0![o]! : 0) + (biasKind === 1 ? bias![row]! : biasKind === 2 ? bias![col]! : 0);
    values[o]! += add;
    scale[o]! += Math.abs(beta ? beta * out0![o]! : 0) + Math.abs(add - (beta ? beta * out0![o]! : 0));
  }
  const batched = outShape.length === 2 && batch > 1 ? batch : 1;
  return { values, scale, terms: k * batched + 2 };
}

// ------------------------------------------------------------------ softmax and losses
/** [outer, classes, inner] view of `shape` around `dim`. */
export function classLayout(shape: readonly number[], dim: number): [number, number, number] {
  return [numel(shape.slice(0, dim)), shape[dim]!, numel(shape.slice(dim + 1))];
}

/** log-sum-exp over the class dim of each position. */
function logSumExp(x: ArrayLike<number>, [outer, classes, inner]: [number, number, number]): Float64Array {
  const lse = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let s = 0; s < inner; s++) {
      let m = -Infinity;
      for (let c = 0; c < classes; c++) m = Math.max(m, x[(o * classes + c) * inner + s]!);
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(x[(o * classes + c) * inner + s]! - m);
      lse[o * inner + s] = m + Math.log(sum);
    }
  return lse;
}

/** Position index (outer·inner + s) of each element of a [outer, classes, inner] tensor. */
function positionOf(i: number, [, classes, inner]: [number, number, number]): number {
  return Math.floor(i / (classes * inner)) * inner + (i % inner);
}

/**
 * softmax (y = exp(x - lse)) or log-softmax (y = x - lse). Float32 kernels evaluate exp and
 * the sum in single precision: the error of y is relative to |x| + |lse| (the exponent's terms).
 */
export function softmax(x: ArrayLike<number>, shape: readonly number[], dim: number, log: boolean): Expected {
  const l = classLayout(shape, dim);
  const lse = logSumExp(x, l);
  const values = Float64Array.from(x, (v, i) => (log ? v - lse[positionOf(i, l)]! : Math.exp(v - lse[positionOf(i, l)]!)));
  const scale = Float64Array.from(x, (v, i) => (Math.abs(v) + Math.abs(lse[positionOf(i, l)]!) + 1) * (log ? 1 : Math.abs(values[i]!)));
  return { values, scale, terms: l[1] };
}

/** softmax_backward from the forward's output y: dx = y·(dy - Σ dy·y), or dy - exp(y)·Σ dy (log). */
export function softmaxBackward(y: ArrayLike<number>, dy: ArrayLike<number>, shape: readonly number[], dim: number, log: boolean): Expected {
  const l = classLayout(shape, dim);
  const dot = new Float64Array(l[0] * l[2]), dotScale = new Float64Array(dot.length);
  for (let i = 0; i < y.length; i++) {
    const t = log ? dy[i]! : dy[i]! * y[i]!;
    dot[positionOf(i, l)]! += t;
    dotScale[positionOf(i, l)]! += Math.abs(t);
  }
  const values = Float64Array.from(y, (v, i) => (log ? dy[i]! - Math.exp(v) * dot[positionOf(i, l)]! : v * (dy[i]! - dot[positionOf(i, l)]!)));
  const scale = Float64Array.from(y, (v, i) => {
    const p = positionOf(i, l);
    return log ? Math.abs(dy[i]!) + Math.exp(v) * (dotScale[p]! + Math.abs(v * dot[p]!)) : Math.abs(v) * (Math.abs(dy[i]!) + dotScale[p]!);
  });
  return { values, scale, terms: l[1] };
}

/** cross_entropy_forward: [loss, lse] for logits [N, C, *], targets [N, *]; reduction 0 none, 1 mean, 2 sum. */
export function crossEntropy(x: ArrayLike<number>, shape: readonly number[], targets: ArrayLike<number>, ignore: number, reduction: number): Expected[] {
  const l = classLayout(shape, 1);
  const lse = logSumExp(x, l);
  const per = new Float64Array(lse.length), perScale = new Float64Array(lse.length);
  let count = 0;
  for (let p = 0; p < lse.length; p++) {
    const t = targets[p]!;
    if (t === ignore) continue;
    const logit = x[(Math.floor(p / l[2]) * l[1] + t) * l[2] + (p % l[2])]!;
    per[p] = lse[p]! - logit;
    perScale[p] = Math.abs(lse[p]!) + Math.abs(logit) + 1;
    count++;
  }
  const lseScale = abs(lse).map((v) => v + 1);
  const lseOut: Expected = { values: lse, scale: lseScale, terms: l[1] };
  if (reduction === 0) return [{ values: per, scale: perScale, terms: l[1] }, lseOut];
  const total = per.reduce((a, b) => a + b, 0), totalScale = perScale.reduce((a, b) => a + b, 0);
  const div = reduction === 1 ? count : 1;
  return [{ values: Float64Array.of(total / div), scale: Float64Array.of(totalScale / div), terms: l[1] + lse.length }, lseOut];
}

/** cross_entropy_backward: dlogits = scale·(softmax - onehot(target)), 0 at ignored positions. */
export function crossEntropyBackward(x: ArrayLike<number>, shape: readonly number[], targets: ArrayLike<number>, dloss: ArrayLike<number>, ignore: number, reduction: number): Expected {
  const l = classLayout(shape, 1);
  const lse = logSumExp(x, l);
  const count = Array.from(targets).filter((t) => t !== ignore).length;
  const values = new Float64Array(x.length), scale = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const p = positionOf(i, l), t = targets[p]!;
    if (t === ignore) continue;
    const g = reduction === 0 ? dloss[p]! : reduction === 1 ? dloss[0]! / count : dloss[0]!;
    const c = Math.floor(i / l[2]) % l[1];
    const sm = Math.exp(x[i]! - lse[p]!);
    values[i] = g * (sm - (c === t ? 1 : 0));
    scale[i] = Math.abs(g) * (sm * (Math.abs(x[i]!) + Math.abs(lse[p]!) + 1) + (c === t ? 1 : 0));
  }
  return { values, scale, terms: l[1] };
}

// ---------------------------------------------------------------------------- batchnorm
interface ChannelStats {
  mean: Float64Array;
  /** Biased variance (what normalises in training). */
  variance: Float64Array;
  perChannel: number;
}

export function channelStats(x: ArrayLike<number>, [n, c, plane]: [number, number, number]): ChannelStats {
  const mean = new Float64Array(c), variance = new Float64Array(c);
  const at = (ch: number, i: number) => x[(Math.floor(i / plane) * c + ch) * plane + (i % plane)]!;
  const count = n * plane;
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < count; i++) mean[ch]! += at(ch, i) / count;
    for (let i = 0; i < count; i++) variance[ch]! += (at(ch, i) - mean[ch]!) ** 2 / count;
  }
  return { mean, variance, perChannel: count };
}

/** batch_norm_forward with weight, bias (null: identity) and running stats (null: none). */
export function batchNorm(x: ArrayLike<number>, layout: [number, number, number], weight: ArrayLike<number> | null, bias: ArrayLike<number> | null,
  running: [ArrayLike<number>, ArrayLike<number>] | null, training: boolean, momentum: number, eps: number): { y: Expected; mean: Expected; invstd: Expected; running: Expected[] } {
  const [, c, plane] = layout;
  const stats = channelStats(x, layout);
  const mean = training ? stats.mean : Float64Array.from(running![0]);
  const invstd = Float64Array.from(training ? stats.variance : running![1], (v) => 1 / Math.sqrt(v + eps));
  const values = new Float64Array(x.length), scale = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / plane) % c;
    const xhat = (x[i]! - mean[ch]!) * invstd[ch]!;
    values[i] = xhat * (weight ? weight[ch]! : 1) + (bias ? bias[ch]! : 0);
    // Rounding of x - mean is relative to |x| + |mean|; the statistics sum over the channel.
    scale[i] = (Math.abs(x[i]!) + Math.abs(mean[ch]!)) * invstd[ch]! * Math.abs(weight ? weight[ch]! : 1) * 2 + Math.abs(bias ? bias[ch]! : 0);
  }
  const terms = training ? stats.perChannel : 1;
  const updated: Expected[] = [];
  if (running && training) {
    const unbiased = stats.variance.map((v) => (v * stats.perChannel) / Math.max(1, stats.perChannel - 1));
    updated.push({ values: Float64Array.from(running[0], (r, ch) => (1 - momentum) * r + momentum * stats.mean[ch]!), terms, scale: Float64Array.from(running[0], (r, ch) => Math.abs(r) + Math.abs(stats.mean[ch]!) + 1) });
    updated.push({ values: Float64Array.from(running[1], (r, ch) => (1 - momentum) * r + momentum * unbiased[ch]!), terms, scale: Float64Array.from(running[1], (r, ch) => Math.abs(r) + unbiased[ch]! + 1) });
  }
  return {
    y: { values, scale, terms },
    mean: { values: mean, scale: Float64Array.from(mean, (m) => Math.abs(m) + 1), terms },
    invstd: { values: invstd, scale: invstd.map((v) => v * 2), terms },
    running: updated,
  };
}

/** batch_norm_backward: [dx, dweight, dbias] given the saved mean and invstd. */
export function batchNormBackward(x: ArrayLike<number>, dy: ArrayLike<number>, layout: [number, number, number], mean: ArrayLike<number>, invstd: ArrayLike<number>,
  weight: ArrayLike<number> | null, training: boolean): { dx: Expected; dweight: Expected; dbias: Expected } {
  const [, c, plane] = layout;
  const sumDy = new Float64Array(c), sumDyXhat = new Float64Array(c), absDy = new Float64Array(c), absDyXhat = new Float64Array(c);
  const xhat = Float64Array.from(x, (v, i) => (v - mean[Math.floor(i / plane) % c]!) * invstd[Math.floor(i / plane) % c]!);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / plane) % c;
    sumDy[ch]! += dy[i]!;
    sumDyXhat[ch]! += dy[i]! * xhat[i]!;
    absDy[ch]! += Math.abs(dy[i]!);
    absDyXhat[ch]! += Math.abs(dy[i]! * xhat[i]!) + Math.abs(dy[i]!) * (Math.abs(x[i]!) + Math.abs(mean[ch]!)) * invstd[ch]!;
  }
  const count = x.length / c;
  const values = new Float64Array(x.length), scale = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const ch = Math.floor(i / plane) % c;
    const k = invstd[ch]! * (weight ? weight[ch]! : 1);
    values[i] = training ? k * (dy[i]! - sumDy[ch]! / count - xhat[i]! * sumDyXhat[ch]! / count) : k * dy[i]!;
    scale[i] = Math.abs(k) * (Math.abs(dy[i]!) + (training ? absDy[ch]! / count + (Math.abs(xhat[i]!) + 1) * absDyXhat[ch]! / count : 0));
  }
  return {
    dx: { values, scale, terms: training ? count : 1 },
    dweight: { values: sumDyXhat, scale: absDyXhat, terms: count },
    dbias: { values: sumDy, scale: absDy, terms: count },
  };
}

// --------------------------------------------------------------------------- optimizers
/** sgd_step params [lr, momentum, dampening, weight_decay, nesterov, first_step]: [param, buffer?]. */
export function sgd(param: ArrayLike<number>, grad: ArrayLike<number>, buffer: ArrayLike<number> | null, [lr, momentum, dampening, wd, nesterov, first]: readonly number[]): Expected[] {
  const p = new Float64Array(param.length), buf = new Float64Array(param.length), scale = new Float64Array(param.length);
  for (let i = 0; i < p.length; i++) {
    let d = grad[i]! + wd! * param[i]!;
    if (buffer) {
      buf[i] = first ? d : momentum! * buffer[i]! + (1 - dampening!) * d;
      d = nesterov ? d + momentum! * buf[i]! : buf[i]!;
    }
    p[i] = param[i]! - lr! * d;
    scale[i] = Math.abs(param[i]!) + Math.abs(lr! * d) + Math.abs(lr!) * (Math.abs(grad[i]!) + Math.abs(wd! * param[i]!) + (buffer ? Math.abs(buffer[i]!) : 0));
  }
  return buffer ? [{ values: p, scale, terms: 4 }, { values: buf, scale: abs(buf).map((v, i) => v + Math.abs(grad[i]!) + Math.abs(buffer[i]!)), terms: 4 }] : [{ values: p, scale, terms: 3 }];
}

/** adam_step params [lr, beta1, beta2, eps, weight_decay, decoupled, step, amsgrad]: [param, m, v, vmax?]. */
export function adam(param: ArrayLike<number>, grad: ArrayLike<number>, m0: ArrayLike<number>, v0: ArrayLike<number>, vmax0: ArrayLike<number> | null,
  [lr, b1, b2, eps, wd, decoupled, step, amsgrad]: readonly number[]): Expected[] {
  const n = param.length;
  const p = new Float64Array(n), m = new Float64Array(n), v = new Float64Array(n), vmax = new Float64Array(n), scale = new Float64Array(n);
  const bc1 = 1 - b1! ** step!, bc2 = 1 - b2! ** step!;
  for (let i = 0; i < n; i++) {
    const g = grad[i]! + (decoupled ? 0 : wd! * param[i]!);
    const base = decoupled ? param[i]! * (1 - lr! * wd!) : param[i]!;
    m[i] = b1! * m0[i]! + (1 - b1!) * g;
    v[i] = b2! * v0[i]! + (1 - b2!) * g * g;
    vmax[i] = amsgrad ? Math.max(vmax0![i]!, v[i]!) : v[i]!;
    const update = (lr! / bc1) * m[i]! / (Math.sqrt(vmax[i]!) / Math.sqrt(bc2) + eps!);
    p[i] = base - update;
    // The update is a ratio of rounded quantities: its relative error is a few u.
    scale[i] = Math.abs(param[i]!) + 4 * Math.abs(update) * (1 + (Math.abs(b1! * m0[i]!) + Math.abs((1 - b1!) * g)) / Math.max(Math.abs(m[i]!), 1e-300));
  }
  const out: Expected[] = [
    { values: p, scale, terms: 4 },
    { values: m, scale: Float64Array.from(m, (_, i) => Math.abs(b1! * m0[i]!) + Math.abs((1 - b1!) * grad[i]!) + Math.abs(wd! * param[i]!)), terms: 3 },
    { values: v, scale: Float64Array.from(v, (_, i) => Math.abs(b2! * v0[i]!) + 2 * (1 - b2!) * (Math.abs(grad[i]!) + Math.abs(wd! * param[i]!)) ** 2), terms: 3 },
  ];
  if (amsgrad) out.push({ values: vmax, scale: abs(vmax).map((x, i) => x + Math.abs(b2! * v0[i]!) + 2 * (1 - b2!) * (Math.abs(grad[i]!) + Math.abs(wd! * param[i]!)) ** 2), terms: 3 });
  return out;
}

// ------------------------------------------------------------------------------- random
const MASK64 = (1n << 64n) - 1n;
function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}
const GOLDEN = 0x9e3779b97f4a7c15n;
/** The counter-based stream of native/core/random.h: element i depends on (seed, counter + i) only. */
export function randomBits(seed: number, counter: number): bigint {
  return mix64(mix64((BigInt(seed) + GOLDEN) & MASK64) ^ ((BigInt(counter) * GOLDEN) & MASK64));
}
const unit = (bits: bigint): number => (Number(bits >> 11n) + 0.5) / 9007199254740992;

export function randomUniform(count: number, low: number, high: number, seed: number, counter: number): Float64Array {
  return Float64Array.from({ length: count }, (_, i) => low + (high - low) * unit(randomBits(seed, counter + i)));
}
export function randomNormal(count: number, mean: number, std: number, seed: number, counter: number): Float64Array {
  return Float64Array.from({ length: count }, (_, i) => {
    const bits = randomBits(seed, counter + i);
    return mean + std * Math.sqrt(-2 * Math.log(unit(bits))) * Math.cos(6.283185307179586 * unit(mix64(bits)));
  });
}
export function randomBernoulli(count: number, keep: number, value: number, seed: number, counter: number): Float64Array {
  const threshold = BigInt(Math.floor(keep * 9007199254740992));
  return Float64Array.from({ length: count }, (_, i) => ((randomBits(seed, counter + i) >> 11n) < threshold ? value : 0));
}
