import { afterAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { expectClose, gradcheck, randomArray } from './helpers/gradcheck.js';

const isas = sc.backend().supportedIsas;
afterAll(() => sc._setIsa(isas[0]!));

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const dtypes = ['float32', 'float64'] as const;

/** [outer, classes, inner] view of a softmax over `dim`. */
function layout(shape: readonly number[], dim: number): [number, number, number] {
  return [numel(shape.slice(0, dim)), shape[dim]!, numel(shape.slice(dim + 1))];
}

function referenceSoftmax(x: ArrayLike<number>, shape: readonly number[], dim: number, log: boolean): Float64Array {
  const [outer, classes, inner] = layout(shape, dim);
  const out = new Float64Array(x.length);
  for (let o = 0; o < outer; o++)
    for (let s = 0; s < inner; s++) {
      const at = (c: number) => (o * classes + c) * inner + s;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, x[at(c)]!);
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(x[at(c)]! - max);
      for (let c = 0; c < classes; c++) out[at(c)] = log ? x[at(c)]! - max - Math.log(sum) : Math.exp(x[at(c)]! - max) / sum;
    }
  return out;
}

type Reduction = 'mean' | 'sum' | 'none';

/** Losses per position (0 where ignored), the reduced loss, and d loss / d logits for upstream grad g. */
function referenceCrossEntropy(x: ArrayLike<number>, shape: readonly number[], t: Int32Array, ignore: number, reduction: Reduction, g: ArrayLike<number>) {
  const [n, classes, inner] = layout(shape, 1);
  const logp = referenceSoftmax(x, shape, 1, true);
  const perPosition = new Float64Array(n * inner);
  let total = 0, count = 0;
  for (let p = 0; p < n * inner; p++) {
    if (t[p] === ignore) continue;
    const o = Math.floor(p / inner), s = p % inner;
    perPosition[p] = -logp[(o * classes + t[p]!) * inner + s]!;
    total += perPosition[p]!;
    count++;
  }
  const loss = reduction === 'none' ? perPosition : [reduction === 'mean' ? total / count : total];
  const grad = new Float64Array(x.length);
  for (let p = 0; p < n * inner; p++) {
    if (t[p] === ignore) continue;
    const scale = reduction === 'none' ? g[p]! : reduction === 'mean' ? g[0]! / count : g[0]!;
    const o = Math.floor(p / inner), s = p % inner;
    for (let c = 0; c < classes; c++) {
      const at = (o * classes + c) * inner + s;
      grad[at] = scale * (Math.exp(logp[at]!) - (c === t[p] ? 1 : 0));
    }
  }
  return { loss, grad };
}

/** Targets in [0, classes), with every `ignoreEvery`-th one set to `ignore`. */
function randomTargets(count: number, classes: number, seed: number, ignore: number, ignoreEvery: number): Int32Array {
  return Int32Array.from(randomArray(count, seed), (v, i) => (ignoreEvery > 0 && i % ignoreEvery === 3 ? ignore : Math.min(classes - 1, Math.floor(((v + 1) / 2) * classes))));
}

// [N, C] rows (short, one class, longer than a vector with a tail) and per-position
// layouts (odd planes, more positions than one 256-position block, 3-D logits).
const ceShapes = [[7, 5], [1, 3], [4, 1], [5, 37], [3, 100], [2, 3, 5, 7], [1, 4, 9, 33], [2, 2, 1, 1], [2, 5, 17]];

describe('crossEntropy', () => {
  it('matches a float64 reference (loss and gradient) for each reduction, with ignored targets, on every ISA', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      ceShapes.forEach((shape, si) => {
        const targetShape = [shape[0]!, ...shape.slice(2)];
        for (const dtype of dtypes)
          for (const [reduction, ignore] of [['mean', -100], ['sum', 255], ['none', 1]] as const) {
            const classes = shape[1]!;
            const t = randomTargets(numel(targetShape), classes, 10 + si, ignore, 5);
            const logits = sc.tensor(randomArray(numel(shape), 20 + si).map((v) => 4 * v), shape, { dtype, requiresGrad: true });
            const loss = sc.F.crossEntropy(logits, sc.tensor(t, targetShape), { reduction, ignoreIndex: ignore });
            expect(loss.shape).toEqual(reduction === 'none' ? targetShape : []);
            expect(loss.dtype).toBe(dtype);
            const g = sc.tensor(randomArray(loss.numel, 30 + si), loss.shape, { dtype });
            const ref = referenceCrossEntropy(logits.toArray(), shape, t, ignore, reduction, g.toArray());
            const tol = dtype === 'float32' ? 1e-5 : 1e-12;
            expectClose(loss.toArray(), ref.loss, tol, tol);
            loss.backward(g);
            expectClose(logits.grad!.toArray(), ref.grad, tol, tol);
          }
      });
    }
  });

  it('stays finite and exact for large logits (log-sum-exp), on every ISA', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      const logits = sc.tensor([1000, 0, -1000, 3000, 3000, 2990], [2, 3], { requiresGrad: true });
      const loss = sc.F.crossEntropy(logits, sc.tensor(new Int32Array([1, 2]), [2]), { reduction: 'none' });
      expectClose(loss.toArray(), [1000, 10 + Math.log(2 + Math.exp(-10))], 1e-3, 1e-6);
      loss.sum().backward();
      // Near 3000 a float32 ulp is 2.4e-4: x - lse carries that much absolute error.
      expectClose(logits.grad!.toArray(), [1, -1, 0, 1 / (2 + Math.exp(-10)), 1 / (2 + Math.exp(-10)), Math.exp(-10) / (2 + Math.exp(-10)) - 1], 1.5e-4, 0);
    }
  });

  it('gives NaN for a mean over no counted target, with zero gradient (as PyTorch)', () => {
    const logits = sc.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    const loss = sc.F.crossEntropy(logits, sc.tensor(new Int32Array([-100, -100]), [2]));
    expect(loss.item()).toBeNaN();
    loss.backward();
    expect(Array.from(logits.grad!.toArray())).toEqual([0, 0, 0, 0]);
  });

  it('gives bitwise the same mean and gradient for 1 and 2 threads', () => {
    const shape = [4, 3, 64, 64]; // 64 blocks of 256 positions: split across threads
    const t = sc.tensor(randomTargets(4 * 64 * 64, 3, 140, -100, 7), [4, 64, 64]);
    const run = () => {
      const x = sc.tensor(randomArray(numel(shape), 141), shape, { dtype: 'float32', requiresGrad: true });
      const loss = sc.F.crossEntropy(x, t);
      loss.backward();
      return [loss.item(), Array.from(x.grad!.toArray())];
    };
    sc.setNumThreads(1);
    const one = run();
    sc.setNumThreads(2);
    expect(run()).toEqual(one);
  });

  it('passes gradient checks in float64 for each reduction', () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      const t2 = sc.tensor(new Int32Array([2, -100, 0, 1]), [4]);
      gradcheck((x) => sc.F.crossEntropy(x!, t2, { reduction }), [{ data: randomArray(12, 40), shape: [4, 3] }]);
      const t4 = sc.tensor(randomTargets(2 * 3 * 5, 4, 41, -100, 4), [2, 3, 5]);
      gradcheck((x) => sc.F.crossEntropy(x!, t4, { reduction }), [{ data: randomArray(2 * 4 * 3 * 5, 42), shape: [2, 4, 3, 5] }]);
    }
  });
});

describe('softmax and logSoftmax', () => {
  const cases: [number[], number][] = [[[3, 5], 1], [[3, 5], 0], [[2, 3, 4, 5], 1], [[2, 3, 4, 5], -1], [[2, 40], -1], [[4, 19, 37], 1], [[300], 0]];
  it('match a float64 reference over any dim on every ISA', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      cases.forEach(([shape, dim], ci) => {
        const d = dim < 0 ? dim + shape.length : dim;
        for (const dtype of dtypes) {
          const x = sc.tensor(randomArray(numel(shape), 50 + ci).map((v) => 5 * v), shape, { dtype });
          const tol = dtype === 'float32' ? 2e-6 : 1e-13;
          expectClose(sc.F.softmax(x, dim).toArray(), referenceSoftmax(x.toArray(), shape, d, false), tol, tol);
          expectClose(sc.F.logSoftmax(x, dim).toArray(), referenceSoftmax(x.toArray(), shape, d, true), tol, tol);
        }
      });
    }
  });

  it('propagate NaN to the whole softmax of its row or column; -inf logits get probability 0', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      const x = sc.tensor([1, NaN, 2, -Infinity, 0, 1], [2, 3]);
      const rows = sc.F.logSoftmax(x, 1).toArray();
      expect(Array.from(rows.subarray(0, 3)).every(Number.isNaN)).toBe(true);
      expectClose(sc.F.softmax(x, 1).toArray().subarray(3), [0, 1 / (1 + Math.E), Math.E / (1 + Math.E)], 1e-7, 1e-6);
      const cols = sc.F.softmax(x.reshape([3, 2]), 0).toArray(); // columns [1, 2, 0] and [NaN, -inf, 1]
      expect(Array.from(cols.filter((_, i) => i % 2 === 1)).every(Number.isNaN)).toBe(true);
      expect(sc.F.crossEntropy(x, sc.tensor(new Int32Array([0, 2]), [2])).item()).toBeNaN();
    }
  });

  it('pass gradient checks in float64', () => {
    for (const [shape, dim] of [[[3, 5], 1], [[2, 3, 2, 3], 1], [[2, 3, 4], 0]] as [number[], number][]) {
      const input = [{ data: randomArray(numel(shape), 60), shape }];
      gradcheck((x) => sc.F.softmax(x!, dim), input);
      gradcheck((x) => sc.F.logSoftmax(x!, dim), input);
    }
  });

  it('computes exp and log to within a few float32 ulps, down to subnormal results (vector exp/log)', () => {
    // softmax([a, 0])[0] = exp(a - lse), lse = log(1 + e^a). Below a = -17, a - lse rounds to
    // a in float32 and this is exp(a) itself: a strict test of the vector exp. Above, the
    // float32 rounding of a - lse (up to half an ulp of a) comes on top, as in any float32
    // log-sum-exp.
    const a = Float32Array.from({ length: 2061 }, (_, i) => -103 + i * 0.05);
    const pairs = new Float32Array(a.length * 2);
    a.forEach((v, i) => (pairs[2 * i] = v));
    const rows = sc.tensor(pairs, [a.length, 2]);
    const cols = sc.tensor(Float32Array.from([...a, ...new Float32Array(a.length)]), [2, a.length]);
    for (const isa of isas) {
      sc._setIsa(isa);
      for (const [p, stride] of [[sc.F.softmax(rows, 1).toArray(), 2], [sc.F.softmax(cols, 0).toArray(), 1]] as const) {
        a.forEach((v, i) => {
          const exact = Math.exp(v - Math.log1p(Math.exp(v)));
          const got = p[stride === 2 ? 2 * i : i]!;
          // 4 ulps relative for normal results, one subnormal step (2^-149) below.
          const rounding = v > -17 ? Math.abs(v) * 2 ** -24 : 0;
          const tol = Math.max((4 * 2 ** -24 + rounding) * exact, 2 ** -149);
          if (Math.abs(got - exact) > tol) expect.fail(`${isa}: softmax([${v}, 0]) = ${got}, expected ${exact}`);
        });
      }
      // log over a wide range of sums: log-softmax of 1..1000 equal logits is -log(C).
      for (const classes of [1, 2, 3, 10, 17, 100, 1000]) {
        const x = sc.zeros([2, classes, 3]);
        expectClose(sc.F.logSoftmax(x, 1).toArray().subarray(0, 3), [-Math.log(classes), -Math.log(classes), -Math.log(classes)], 0, 3 * 2 ** -24);
      }
    }
  });
});

describe('loss bad input', () => {
  const logits = sc.zeros([2, 3, 4, 4]);
  const targets = sc.zeros([2, 4, 4], { dtype: 'int32' });
  it('names the op, the argument and the shapes', () => {
    expect(() => sc.F.crossEntropy(sc.zeros([2, 3], { dtype: 'int32' }), sc.zeros([2], { dtype: 'int32' }))).toThrow('crossEntropy: expected a float32 or float64 tensor for logits but received a int32 tensor of shape [2, 3]');
    expect(() => sc.F.crossEntropy(sc.zeros([5]), sc.zeros([5], { dtype: 'int32' }))).toThrow('crossEntropy: expected a tensor of at least 2 dims [N, C, ...] for logits but received shape [5]');
    expect(() => sc.F.crossEntropy(logits, sc.zeros([2, 4, 4]))).toThrow('crossEntropy: expected an int32 tensor of class indices for targets but received a float32 tensor of shape [2, 4, 4]');
    expect(() => sc.F.crossEntropy(logits, sc.zeros([2, 4], { dtype: 'int32' }))).toThrow('crossEntropy: expected shape [2, 4, 4] (logits [2, 3, 4, 4] without the class dim) for targets but received shape [2, 4]');
    expect(() => sc.F.crossEntropy(logits, targets, { reduction: 'avg' as never })).toThrow("crossEntropy: expected 'mean', 'sum' or 'none' for options.reduction but received 'avg'");
    expect(() => sc.F.crossEntropy(logits, targets, { ignoreIndex: 0.5 })).toThrow('crossEntropy: expected an integer for options.ignoreIndex but received 0.5');
    expect(() => sc.F.softmax(sc.zeros([2, 3]), 2)).toThrow('softmax: expected an integer in [-2, 1] for dim but received 2');
    expect(() => sc.F.logSoftmax(sc.zeros([2], { dtype: 'int32' }), 0)).toThrow('logSoftmax: expected a float32 or float64 tensor for input but received a int32 tensor of shape [2]');
  });

  it('reports the first out-of-range target by value and position, never crashing', () => {
    const t = new Int32Array(2 * 4 * 4);
    t[1 * 16 + 2 * 4 + 0] = 3;
    t[1 * 16 + 3 * 4 + 1] = 7;
    expect(() => sc.F.crossEntropy(logits, sc.tensor(t, [2, 4, 4]))).toThrow('crossEntropy: expected class indices in [0, 2] or ignoreIndex (-100) for target but received 3 at [1, 2, 0]');
    expect(() => sc.F.crossEntropy(sc.zeros([2, 3]), sc.tensor(new Int32Array([0, -1]), [2]), { ignoreIndex: 255 })).toThrow('crossEntropy: expected class indices in [0, 2] or ignoreIndex (255) for target but received -1 at [1]');
  });
});
