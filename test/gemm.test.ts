import { afterAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { expectClose, randomArray } from './helpers/gradcheck.js';

const isas = sc.backend().supportedIsas;
afterAll(() => sc._setIsa(isas[0]!));

/** C = alpha * op(A) * op(B) + beta * C0 in float64, A stored [M, K] (or [K, M] when transA). */
function naiveGemm(a: ArrayLike<number>, b: ArrayLike<number>, c0: ArrayLike<number>, m: number, n: number, k: number,
  transA: boolean, transB: boolean, alpha: number, beta: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[transA ? p * m + i : i * k + p]! * b[transB ? j * k + p : p * n + j]!;
      c[i * n + j] = alpha * s + beta * c0[i * n + j]!;
    }
  return c;
}

// Every awkward size (1, 7, 17, 63, 65, 257) in every position, around the micro-tile
// (12x32, 6x16, 4x4) and cache-block (K 256) edges; 20 and 8 rows end in a shorter
// micro-kernel (8 rows) that stores straight into C.
const shapes: [number, number, number][] = [
  [1, 1, 1], [1, 7, 17], [7, 17, 63], [17, 63, 65], [63, 65, 257], [65, 257, 1],
  [257, 1, 7], [257, 65, 63], [63, 257, 17], [65, 17, 257], [13, 300, 33], [20, 33, 64], [8, 5, 96],
];

describe('gemm against a float64 naive product', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    // float64 always runs the scalar kernels; float32 runs every ISA this CPU has.
    for (const isa of dtype === 'float64' ? [isas[0]!] : isas) {
      it(`${dtype} on ${isa}: all transposes, alpha and beta, awkward sizes`, () => {
        sc._setIsa(isa);
        let seed = 1;
        for (const [m, k, n] of shapes)
          for (const transA of [false, true])
            for (const transB of [false, true]) {
              const [alpha, beta] = seed % 3 === 0 ? [1, 0] : seed % 3 === 1 ? [-0.5, 1] : [2, 0.25];
              const a = randomArray(m * k, seed++), b = randomArray(k * n, seed++), c0 = randomArray(m * n, seed++);
              const out = sc.tensor(c0, [m, n], { dtype });
              sc._gemm(out, sc.tensor(a, transA ? [k, m] : [m, k], { dtype }), sc.tensor(b, transB ? [n, k] : [k, n], { dtype }),
                { transA, transB, alpha, beta });
              const tol = dtype === 'float32' ? 1e-5 * Math.sqrt(k) : 1e-12;
              expectClose(out.toArray(), naiveGemm(a, b, c0, m, n, k, transA, transB, alpha, beta), tol, tol);
            }
      });
    }
  }

  // One thread runs the range as one piece; more run it as a team sharing the packing
  // (3 members on 2 cores also checks that members waiting on a descheduled one finish).
  it('crosses every cache block (K > 256, N > 1024, M > 4092) on 1, 2 and 3 threads, checked on sampled entries', () => {
    const [m, k, n] = [4200, 600, 2100];
    const a = randomArray(m * k, 11), b = randomArray(k * n, 12), c0 = randomArray(m * n, 13);
    const threadsBefore = sc.backend().threads;
    try {
      for (const threads of [1, 2, 3])
        for (const isa of threads === 1 ? isas : [isas[0]!])
          for (const [transA, transB] of [[false, false], [true, true]] as const) {
            sc.setNumThreads(threads);
            sc._setIsa(isa);
            const out = sc.tensor(Float32Array.from(c0), [m, n]);
            sc._gemm(out, sc.tensor(Float32Array.from(a), transA ? [k, m] : [m, k]),
              sc.tensor(Float32Array.from(b), transB ? [n, k] : [k, n]), { transA, transB, alpha: 1, beta: 0.5 });
            const got = out.toArray();
            for (let sample = 0; sample < 3000; sample++) {
              // Rows and columns around every block edge, and spread over the rest.
              const i = sample % 3 === 0 ? [0, 4091, 4092, 4095, 4096, m - 1][sample % 6]! : (sample * 7919) % m;
              const j = sample % 5 === 0 ? [0, 1023, 1024, 2047, 2048, n - 1][sample % 6]! : (sample * 104729) % n;
              let dot = 0;
              for (let p = 0; p < k; p++) dot += a[transA ? p * m + i : i * k + p]! * b[transB ? j * k + p : p * n + j]!;
              const want = dot + 0.5 * c0[i * n + j]!;
              if (Math.abs(got[i * n + j]! - want) > 1e-4 * Math.sqrt(k))
                expect.fail(`${threads} threads, ${isa}: C[${i}, ${j}] = ${got[i * n + j]}, want ${want}`);
            }
          }
    } finally {
      sc.setNumThreads(threadsBefore);
      sc._setIsa(isas[0]!);
    }
  });

  it('beta = 0 ignores NaN in the output buffer; an empty reduction scales C', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      const out = sc.full([5, 40], NaN);
      const a = randomArray(5 * 3, 1), b = randomArray(3 * 40, 2);
      sc._gemm(out, sc.tensor(Float32Array.from(a), [5, 3]), sc.tensor(Float32Array.from(b), [3, 40]), {});
      expectClose(out.toArray(), naiveGemm(a, b, new Float64Array(200), 5, 40, 3, false, false, 1, 0));
      const c = sc.full([3, 4], 2);
      sc._gemm(c, sc.zeros([3, 0]), sc.zeros([0, 4]), { beta: 3 });
      expect(Array.from(c.toArray())).toEqual(new Array(12).fill(6));
    }
  });

  it('sums over the batch into a 2-D output, shares a 2-D operand across a batch', () => {
    const a = randomArray(3 * 4 * 5, 3), b = randomArray(3 * 5 * 6, 4);
    const at = sc.tensor(a, [3, 4, 5], { dtype: 'float64' }), bt = sc.tensor(b, [3, 5, 6], { dtype: 'float64' });
    const sum = sc.zeros([4, 6], { dtype: 'float64' });
    sc._gemm(sum, at, bt, {});
    const expected = new Float64Array(24);
    for (let e = 0; e < 3; e++) {
      const part = naiveGemm(a.subarray(e * 20, e * 20 + 20), b.subarray(e * 30, e * 30 + 30), expected, 4, 6, 5, false, false, 1, 0);
      for (let i = 0; i < 24; i++) expected[i]! += part[i]!;
    }
    expectClose(sum.toArray(), expected, 1e-12, 1e-12);
    const shared = sc.matmul(sc.tensor(a.subarray(0, 20), [4, 5], { dtype: 'float64' }), bt);
    expect(shared.shape).toEqual([3, 4, 6]);
    const data = shared.toArray();
    for (let e = 0; e < 3; e++)
      expectClose(data.subarray(e * 24, e * 24 + 24), naiveGemm(a, b.subarray(e * 30, e * 30 + 30), expected, 4, 6, 5, false, false, 1, 0), 1e-12, 1e-12);
  });

  // Every thread count adds the same K blocks in the same order into each element of C, whether
  // the rows are split statically or a team shares the packing (this shape takes the team path
  // on 2 and 3 threads).
  it('gives the same bits on 1, 2 and 3 threads', () => {
    const threadsBefore = sc.backend().threads;
    try {
      for (const dtype of ['float32', 'float64'] as const) {
        const a = sc.randn([600, 300], { dtype }), b = sc.randn([300, 1600], { dtype });
        const bits = [1, 2, 3].map((threads) => {
          sc.setNumThreads(threads);
          return Buffer.from(sc.matmul(a, b).toArray().buffer);
        });
        expect(bits[1]!.equals(bits[0]!)).toBe(true);
        expect(bits[2]!.equals(bits[0]!)).toBe(true);
      }
    } finally {
      sc.setNumThreads(threadsBefore);
    }
  });

  it('gives the same bits on repeated runs (static work split)', () => {
    const a = sc.randn([300, 200]), b = sc.randn([200, 500]);
    const bytes = (t: sc.Tensor) => Buffer.from(t.toArray().buffer);
    const first = bytes(sc.matmul(a, b));
    for (let r = 0; r < 3; r++) expect(bytes(sc.matmul(a, b)).equals(first)).toBe(true);
  });
});
