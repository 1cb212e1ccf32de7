/**
 * Finite-difference gradient checks in float64, through the public API only.
 * The loss is sum(f(inputs) * r) for a fixed random r, so every output element's gradient
 * is exercised, not just their sum.
 */
import { expect } from 'vitest';
import * as sc from '../../dist/index.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Indices of inputs whose gradient is checked (default: all float inputs). */
  check?: number[];
}

function lossOf(out: sc.Tensor, r: sc.Tensor): sc.Tensor {
  return out.mul(r).sum();
}

/** Checks autograd's gradients of `f` at `inputs` (float64 arrays) against central differences. */
export function gradcheck(
  f: (...xs: sc.Tensor[]) => sc.Tensor,
  inputs: { data: Float64Array; shape: number[] }[],
  opts: GradcheckOptions = {},
): void {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const checked = opts.check ?? inputs.map((_, i) => i);
  const make = (values: Float64Array[], grad: boolean) =>
    inputs.map((inp, i) => sc.tensor(values[i]!, inp.shape, { dtype: 'float64', requiresGrad: grad && checked.includes(i) }));
  const base = inputs.map((inp) => Float64Array.from(inp.data));

  const xs = make(base, true);
  const out = f(...xs);
  const r = sc.randn(out.shape, { dtype: 'float64' });
  lossOf(out, r).backward();
  const analytic = xs.map((x) => (x.grad ? (x.grad.toArray() as Float64Array) : null));

  const evalLoss = (values: Float64Array[]) => sc.noGrad(() => lossOf(f(...make(values, false)), r).item());
  for (const i of checked) {
    const numeric = new Float64Array(base[i]!.length);
    for (let j = 0; j < numeric.length; j++) {
      const orig = base[i]![j]!;
      base[i]![j] = orig + eps;
      const lp = evalLoss(base);
      base[i]![j] = orig - eps;
      const lm = evalLoss(base);
      base[i]![j] = orig;
      numeric[j] = (lp - lm) / (2 * eps);
    }
    const got = analytic[i];
    expect(got, `input ${i} received no gradient`).not.toBeNull();
    for (let j = 0; j < numeric.length; j++) {
      const tol = atol + rtol * Math.abs(numeric[j]!);
      if (Math.abs(got![j]! - numeric[j]!) > tol)
        expect.fail(`input ${i} element ${j}: autograd ${got![j]} vs finite differences ${numeric[j]} (tolerance ${tol})`);
    }
  }
}

/** Uniform random values in [-1, 1) from a seeded generator (test-side, independent of sepconv). */
export function randomArray(n: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Asserts two arrays match elementwise within atol + rtol*|expected|, reporting the worst index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i]! - expected[i]!) - (atol + rtol * Math.abs(expected[i]!));
    if (excess > worstExcess || Number.isNaN(actual[i]!) !== Number.isNaN(expected[i]!)) {
      worstExcess = Number.isNaN(excess) ? Infinity : excess;
      worst = i;
    }
  }
  if (worst >= 0) expect.fail(`element ${worst}: got ${actual[worst]}, expected ${expected[worst]} (${expected.length} elements)`);
}
