import { afterAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { expectClose, gradcheck, randomArray } from './helpers/gradcheck.js';

const isas = sc.backend().supportedIsas;
afterAll(() => sc._setIsa(isas[0]!));

type Shape4 = [number, number, number, number];
const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

// Odd planes, batch 1, one element per plane, more channels than threads and fewer.
const shapes: Shape4[] = [[2, 3, 5, 7], [1, 4, 3, 3], [3, 2, 1, 1], [1, 1, 9, 17], [4, 5, 2, 3], [2, 2, 13, 13]];

interface Stats {
  mean: Float64Array;
  variance: Float64Array; // biased
}

function channelStats(x: ArrayLike<number>, [n, c, h, w]: Shape4): Stats {
  const mean = new Float64Array(c), variance = new Float64Array(c);
  const m = n * h * w;
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < h * w; k++) s += x[(i * c + ch) * h * w + k]!;
    mean[ch] = s / m;
    let q = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < h * w; k++) q += (x[(i * c + ch) * h * w + k]! - mean[ch]!) ** 2;
    variance[ch] = q / m;
  }
  return { mean, variance };
}

/** y = (x - mean) / sqrt(var + eps) * w + b per channel. */
function normalise(x: ArrayLike<number>, [n, c, h, w]: Shape4, s: Stats, eps: number, weight?: ArrayLike<number>, bias?: ArrayLike<number>): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < n; i++)
    for (let ch = 0; ch < c; ch++)
      for (let k = 0; k < h * w; k++) {
        const at = (i * c + ch) * h * w + k;
        y[at] = ((x[at]! - s.mean[ch]!) / Math.sqrt(s.variance[ch]! + eps)) * (weight ? weight[ch]! : 1) + (bias ? bias[ch]! : 0);
      }
  return y;
}

/** Training-mode gradients: dx = w*invstd*(dy - mean(dy) - xhat*mean(dy*xhat)), dw = sum(dy*xhat), db = sum(dy). */
function trainingGradients(x: ArrayLike<number>, dy: ArrayLike<number>, [n, c, h, w]: Shape4, eps: number, weight: ArrayLike<number>) {
  const s = channelStats(x, [n, c, h, w]);
  const dx = new Float64Array(x.length), dw = new Float64Array(c), db = new Float64Array(c);
  const m = n * h * w;
  for (let ch = 0; ch < c; ch++) {
    const invstd = 1 / Math.sqrt(s.variance[ch]! + eps);
    const at = (i: number, k: number) => (i * c + ch) * h * w + k;
    for (let i = 0; i < n; i++)
      for (let k = 0; k < h * w; k++) {
        db[ch]! += dy[at(i, k)]!;
        dw[ch]! += dy[at(i, k)]! * (x[at(i, k)]! - s.mean[ch]!) * invstd;
      }
    for (let i = 0; i < n; i++)
      for (let k = 0; k < h * w; k++) {
        const xhat = (x[at(i, k)]! - s.mean[ch]!) * invstd;
        dx[at(i, k)] = weight[ch]! * invstd * (dy[at(i, k)]! - db[ch]! / m - (xhat * dw[ch]!) / m);
      }
  }
  return { dx, dw, db };
}

describe('batchNorm2d forward', () => {
  it('normalises with batch statistics and updates the running stats as PyTorch (every ISA, float32/64)', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      shapes.forEach((shape, si) => {
        for (const dtype of ['float32', 'float64'] as const) {
          const c = shape[1];
          const x = sc.tensor(randomArray(numel(shape), 10 + si).map((v) => 3 * v + 0.5), shape, { dtype });
          const xs = x.toArray();
          const weight = randomArray(c, 20 + si).map((v) => v + 1.5);
          const bias = randomArray(c, 30 + si);
          const rm0 = randomArray(c, 40 + si), rv0 = randomArray(c, 50 + si).map((v) => v + 2);
          const rm = sc.tensor(rm0, [c], { dtype }), rv = sc.tensor(rv0, [c], { dtype });
          const momentum = 0.3, eps = 1e-3;
          const y = sc.F.batchNorm2d(x, rm, rv, sc.tensor(weight, [c], { dtype }), sc.tensor(bias, [c], { dtype }), { training: true, momentum, eps });
          const s = channelStats(xs, shape);
          const tol = dtype === 'float32' ? 2e-5 : 1e-12;
          expectClose(y.toArray(), normalise(xs, shape, s, eps, weight, bias), tol, tol);
          const m = numel(shape) / c;
          expectClose(rm.toArray(), Array.from(rm0, (r, ch) => (1 - momentum) * r + momentum * s.mean[ch]!), tol, tol);
          expectClose(rv.toArray(), Array.from(rv0, (r, ch) => (1 - momentum) * r + momentum * s.variance[ch]! * (m / (m - 1))), tol, tol);
        }
      });
    }
  });

  it('uses the running statistics in evaluation and leaves them unchanged; no affine, no running stats', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      const shape: Shape4 = [2, 3, 5, 7];
      const x = sc.tensor(randomArray(numel(shape), 60), shape, { dtype: 'float32' });
      const rm0 = randomArray(3, 61), rv0 = randomArray(3, 62).map((v) => v + 2);
      const rm = sc.tensor(rm0, [3], { dtype: 'float32' }), rv = sc.tensor(rv0, [3], { dtype: 'float32' });
      const y = sc.F.batchNorm2d(x, rm, rv, null, sc.tensor([0.5, -1, 2], [3]));
      expectClose(y.toArray(), normalise(x.toArray(), shape, { mean: rm0, variance: rv0 }, 1e-5, [1, 1, 1], [0.5, -1, 2]), 2e-6, 2e-5);
      expectClose(rm.toArray(), Float32Array.from(rm0), 0, 0);
      expectClose(rv.toArray(), Float32Array.from(rv0), 0, 0);
      const plain = sc.F.batchNorm2d(x, null, null, null, null, { training: true });
      expectClose(plain.toArray(), normalise(x.toArray(), shape, channelStats(x.toArray(), shape), 1e-5), 2e-6, 2e-5);
    }
  });

  it('keeps float32 statistics accurate when the mean dwarfs the spread', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      const shape: Shape4 = [8, 2, 16, 16];
      const x = sc.tensor(randomArray(numel(shape), 70).map((v) => 1000 + 0.01 * v), shape, { dtype: 'float32' });
      const rv = sc.ones([2]);
      const y = sc.F.batchNorm2d(x, sc.zeros([2]), rv, null, null, { training: true, momentum: 1 });
      const s = channelStats(x.toArray(), shape);
      expectClose(rv.toArray(), Array.from(s.variance, (v) => (v * 4096) / 4095), 1e-12, 1e-3);
      expectClose(y.toArray(), normalise(x.toArray(), shape, s, 1e-5), 1e-5, 1e-5);
    }
  });
});

describe('batchNorm2d backward', () => {
  it('matches the training-mode formulas on every ISA', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      shapes.forEach((shape, si) => {
        const c = shape[1];
        const f32 = { dtype: 'float32', requiresGrad: true } as const;
        const x = sc.tensor(randomArray(numel(shape), 80 + si).map((v) => 2 * v - 0.3), shape, f32);
        const weightData = randomArray(c, 90 + si).map((v) => v + 1.5);
        const weight = sc.tensor(weightData, [c], f32);
        const bias = sc.tensor(randomArray(c, 95 + si), [c], f32);
        const dy = sc.tensor(randomArray(numel(shape), 99 + si), shape, { dtype: 'float32' });
        sc.F.batchNorm2d(x, null, null, weight, bias, { training: true }).backward(dy);
        const ref = trainingGradients(x.toArray(), dy.toArray(), shape, 1e-5, weight.toArray());
        // A one-element plane per channel (3x2x1x1 has 3 values) leaves dx near 0 by cancellation.
        expectClose(x.grad!.toArray(), ref.dx, 2e-5, 1e-4);
        expectClose(weight.grad!.toArray(), ref.dw, 2e-5, 1e-4);
        expectClose(bias.grad!.toArray(), ref.db, 2e-5, 1e-4);
      });
    }
  });

  it('passes gradient checks in float64: training, evaluation, weight or bias alone', () => {
    const shape = [2, 3, 3, 5];
    const x = { data: randomArray(numel(shape), 110), shape };
    const w = { data: randomArray(3, 111).map((v) => v + 1.5), shape: [3] };
    const b = { data: randomArray(3, 112), shape: [3] };
    gradcheck((xi, wi, bi) => sc.F.batchNorm2d(xi!, null, null, wi!, bi!, { training: true }), [x, w, b], { atol: 1e-5 });
    const rm = sc.tensor(randomArray(3, 113), [3], { dtype: 'float64' });
    const rv = sc.tensor(randomArray(3, 114).map((v) => v + 2), [3], { dtype: 'float64' });
    gradcheck((xi, wi, bi) => sc.F.batchNorm2d(xi!, rm, rv, wi!, bi!), [x, w, b]);
    gradcheck((xi, wi) => sc.F.batchNorm2d(xi!, null, null, wi!, null, { training: true }), [x, w], { atol: 1e-5 });
    gradcheck((xi, bi) => sc.F.batchNorm2d(xi!, null, null, null, bi!, { training: true }), [x, b], { atol: 1e-5 });
    // No weight and no bias: the backward op gets no weight operand and affine false.
    gradcheck((xi) => sc.F.batchNorm2d(xi!, null, null, null, null, { training: true }), [x], { atol: 1e-5 });
    gradcheck((xi) => sc.F.batchNorm2d(xi!, rm, rv, null, null), [x]);
    // Parameters only (an input layer's statistics): no input gradient is asked for.
    gradcheck((xi, wi, bi) => sc.F.batchNorm2d(xi!, null, null, wi!, bi!, { training: true }), [x, w, b], { check: [1, 2], atol: 1e-5 });
  });
});

describe('batchNorm2d on channels larger than a core cache', () => {
  // Channels of more than 1 MB run as separate passes over all planes instead of one cached
  // task per channel; 600 KB channels do so only in the backward pass (x and dy).
  it('gives the same results on the multi-pass path', () => {
    for (const shape of [[2, 2, 300, 450], [3, 2, 100, 500]] as Shape4[]) {
      const f32 = { dtype: 'float32', requiresGrad: true } as const;
      const x = sc.tensor(randomArray(numel(shape), 120), shape, f32);
      const weight = sc.tensor([1.5, 0.5], [2], f32);
      const rv = sc.ones([2]);
      const y = sc.F.batchNorm2d(x, sc.zeros([2]), rv, weight, null, { training: true });
      const s = channelStats(x.toArray(), shape);
      expectClose(y.toArray(), normalise(x.toArray(), shape, s, 1e-5, [1.5, 0.5]), 2e-5, 2e-5);
      const m = numel(shape) / 2;
      expectClose(rv.toArray(), Array.from(s.variance, (v) => 0.9 + (0.1 * v * m) / (m - 1)), 1e-6, 1e-6);
      const dy = sc.tensor(randomArray(numel(shape), 121), shape, { dtype: 'float32' });
      y.backward(dy);
      const ref = trainingGradients(x.toArray(), dy.toArray(), shape, 1e-5, weight.toArray());
      expectClose(x.grad!.toArray(), ref.dx, 2e-5, 1e-4);
      expectClose(weight.grad!.toArray(), ref.dw, 1e-3, 1e-4);
    }
  });
});

describe('batchNorm2d determinism', () => {
  it('gives bitwise the same statistics and gradients for 1 and 2 threads', () => {
    const shape: Shape4 = [8, 32, 16, 16]; // 256 planes: split across threads
    const run = () => {
      const x = sc.tensor(randomArray(numel(shape), 130), shape, { dtype: 'float32', requiresGrad: true });
      const w = sc.ones([32], { requiresGrad: true });
      const rm = sc.zeros([32]), rv = sc.ones([32]);
      const y = sc.F.batchNorm2d(x, rm, rv, w, null, { training: true });
      y.backward(sc.tensor(randomArray(numel(shape), 131), shape, { dtype: 'float32' }));
      return [y, rm, rv, x.grad!, w.grad!].map((t) => Array.from(t.toArray()));
    };
    sc.setNumThreads(1);
    const one = run();
    sc.setNumThreads(2);
    expect(run()).toEqual(one);
  });
});

describe('batchNorm2d bad input', () => {
  const x = sc.zeros([2, 3, 4, 4]);
  it('names the op, the argument and the shapes', () => {
    expect(() => sc.F.batchNorm2d(sc.zeros([2, 3]), null, null, null, null, { training: true })).toThrow('batchNorm2d: expected a 4-D tensor [N, C, H, W] for input but received shape [2, 3]');
    expect(() => sc.F.batchNorm2d(sc.zeros([2, 3, 4, 4], { dtype: 'int32' }), null, null)).toThrow('batchNorm2d: expected a float32 or float64 tensor for input but received a int32 tensor of shape [2, 3, 4, 4]');
    expect(() => sc.F.batchNorm2d(x, sc.zeros([4]), sc.ones([4]))).toThrow('batchNorm2d: expected a tensor of shape [3] (the channels of input [2, 3, 4, 4]) for runningMean but received shape [4]');
    expect(() => sc.F.batchNorm2d(x, sc.zeros([3]), sc.ones([3]), sc.ones([3, 1]))).toThrow('batchNorm2d: expected a tensor of shape [3] (the channels of input [2, 3, 4, 4]) for weight but received shape [3, 1]');
    expect(() => sc.F.batchNorm2d(x, sc.zeros([3]), sc.ones([3]), sc.ones([3], { dtype: 'float64' }))).toThrow('batchNorm2d: expected dtype float32 (the dtype of input) for weight but received float64');
    expect(() => sc.F.batchNorm2d(x, null, null)).toThrow('batchNorm2d: expected a Tensor (evaluation normalises with the running statistics) for runningMean but received null');
    expect(() => sc.F.batchNorm2d(x, sc.zeros([3]), null, null, null, { training: true })).toThrow('batchNorm2d: expected a Tensor (runningMean and runningVar go together) for runningVar but received null');
    expect(() => sc.F.batchNorm2d(sc.zeros([1, 3, 1, 1]), null, null, null, null, { training: true })).toThrow('batchNorm2d: expected more than 1 value per channel when training for input but received shape [1, 3, 1, 1]');
    expect(() => sc.F.batchNorm2d(x, null, null, null, null, { training: true, eps: 0 })).toThrow('batchNorm2d: expected a positive number for options.eps but received 0');
  });
});
