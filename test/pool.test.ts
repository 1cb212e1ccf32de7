import { afterAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { expectClose, gradcheck, randomArray } from './helpers/gradcheck.js';

const isas = sc.backend().supportedIsas;
afterAll(() => sc._setIsa(isas[0]!));

type Pair = [number, number];
interface PoolCase {
  shape: [number, number, number, number];
  kernelSize: Pair;
  stride: Pair;
  padding: Pair;
  dilation: Pair;
  ceilMode: boolean;
}

const poolCase = (shape: PoolCase['shape'], k: number | Pair, opts: Partial<Omit<PoolCase, 'shape' | 'kernelSize'>> = {}): PoolCase => {
  const kernelSize: Pair = typeof k === 'number' ? [k, k] : k;
  return { shape, kernelSize, stride: opts.stride ?? kernelSize, padding: opts.padding ?? [0, 0], dilation: opts.dilation ?? [1, 1], ceilMode: opts.ceilMode ?? false };
};

// Odd sizes, batch 1, stride 1/2/3, padding, dilation, ceil mode, rows long enough for
// whole vectors plus a tail on every ISA (35 outputs per row = 2x16 + 3).
const cases: PoolCase[] = [
  poolCase([2, 3, 9, 11], 2),
  poolCase([1, 2, 7, 13], 3, { stride: [2, 2], padding: [1, 1] }),
  poolCase([2, 1, 10, 9], 3, { stride: [1, 1], padding: [1, 1] }),
  poolCase([1, 3, 11, 8], [3, 2], { stride: [2, 1], padding: [1, 0], dilation: [2, 1] }),
  poolCase([1, 2, 9, 9], 2, { ceilMode: true }),
  poolCase([1, 1, 6, 70], 2),
  poolCase([1, 2, 5, 71], [2, 3], { stride: [1, 1], padding: [1, 1], dilation: [1, 2] }),
  poolCase([2, 2, 8, 40], 3, { stride: [2, 2], padding: [1, 1], ceilMode: true }),
  poolCase([1, 1, 10, 40], 2, { stride: [3, 3] }),
  poolCase([1, 1, 4, 37], [1, 4], { stride: [1, 2], dilation: [1, 3] }),
];

function pooledSize(input: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  let out = Math.floor((input + 2 * p - d * (k - 1) - 1 + (ceil ? s - 1 : 0)) / s) + 1;
  if (ceil && (out - 1) * s >= input + p) out--;
  return out;
}

/** Naive max-pooling: PyTorch's rule (a later element replaces the max if greater or NaN). */
function referenceMaxPool(x: ArrayLike<number>, c: PoolCase): { out: Float64Array; idx: Int32Array; shape: number[] } {
  const [n, ch, h, w] = c.shape;
  const oh = pooledSize(h, c.kernelSize[0], c.stride[0], c.padding[0], c.dilation[0], c.ceilMode);
  const ow = pooledSize(w, c.kernelSize[1], c.stride[1], c.padding[1], c.dilation[1], c.ceilMode);
  const out = new Float64Array(n * ch * oh * ow);
  const idx = new Int32Array(out.length);
  for (let p = 0; p < n * ch; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let at = -1;
        for (let ki = 0; ki < c.kernelSize[0]; ki++)
          for (let kj = 0; kj < c.kernelSize[1]; kj++) {
            const y = i * c.stride[0] - c.padding[0] + ki * c.dilation[0];
            const xx = j * c.stride[1] - c.padding[1] + kj * c.dilation[1];
            if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
            const v = x[p * h * w + y * w + xx]!;
            if (at < 0 || v > best || Number.isNaN(v)) {
              best = v;
              at = y * w + xx;
            }
          }
        out[(p * oh + i) * ow + j] = best;
        idx[(p * oh + i) * ow + j] = at;
      }
  return { out, idx, shape: [n, ch, oh, ow] };
}

/** dx[plane][idx] += dy: the reference backward of max-pooling. */
function referenceScatter(dy: ArrayLike<number>, idx: Int32Array, planes: number, inPlane: number): Float64Array {
  const dx = new Float64Array(planes * inPlane);
  const outPlane = idx.length / planes;
  for (let k = 0; k < idx.length; k++) if (idx[k]! >= 0) dx[Math.floor(k / outPlane) * inPlane + idx[k]!]! += dy[k]!;
  return dx;
}

const poolOptions = (c: PoolCase) => ({ kernelSize: c.kernelSize, stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: c.ceilMode });
const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

describe('maxPool2d', () => {
  it('matches a naive reference (values and argmax) on every ISA, float32 and float64', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      cases.forEach((c, ci) => {
        for (const dtype of ['float32', 'float64'] as const) {
          const data = randomArray(numel(c.shape), 100 + ci);
          const x = sc.tensor(data, c.shape, { dtype });
          const stored = x.toArray(); // float32-rounded values are the reference's input
          const ref = referenceMaxPool(stored, c);
          const { output, indices } = sc.F.maxPool2d(x, poolOptions(c));
          expect(output.shape, `${isa} case ${ci}`).toEqual(ref.shape);
          expect(output.dtype).toBe(dtype);
          expect(indices.dtype).toBe('int32');
          expect(Array.from(indices.toArray()), `${isa} ${dtype} case ${ci} indices`).toEqual(Array.from(ref.idx));
          expect(Array.from(output.toArray()), `${isa} ${dtype} case ${ci} values`).toEqual(Array.from(ref.out));
        }
      });
    }
  });

  it('keeps the first maximum on ties and lets NaN win, as PyTorch', () => {
    const row = [1, NaN, 3, NaN, 2, 2, 5, 5, -Infinity, -Infinity, 0, 0];
    const plane = [...row, ...row.map((v) => (Number.isNaN(v) ? 7 : v))];
    const shape: PoolCase['shape'] = [1, 1, 2, 12];
    const ref = referenceMaxPool(plane, poolCase(shape, 2));
    for (const isa of isas) {
      sc._setIsa(isa);
      const { output, indices } = sc.F.maxPool2d(sc.tensor(plane, shape), { kernelSize: 2 });
      expect(Array.from(indices.toArray())).toEqual([1, 3, 4, 6, 8, 10]);
      expect(Array.from(indices.toArray())).toEqual(Array.from(ref.idx));
      expect(Array.from(output.toArray())).toEqual([NaN, NaN, 2, 5, -Infinity, 0]);
    }
  });

  it('gives -inf and index -1 for a window over padding only, and no gradient there', () => {
    const x = sc.tensor([3], [1, 1, 1, 1], { dtype: 'float64', requiresGrad: true });
    const { output, indices } = sc.F.maxPool2d(x, { kernelSize: 2, stride: 1, padding: 1, dilation: 2 });
    expect(Array.from(output.toArray())).toEqual([-Infinity]);
    expect(Array.from(indices.toArray())).toEqual([-1]);
    output.sum().backward();
    expect(Array.from(x.grad!.toArray())).toEqual([0]);
  });

  it('backward scatters the gradient to the argmax, summing overlapping windows', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      for (const ci of [0, 2, 7]) {
        const c = cases[ci]!;
        const x = sc.tensor(randomArray(numel(c.shape), 200 + ci), c.shape, { dtype: 'float32', requiresGrad: true });
        const { output, indices } = sc.F.maxPool2d(x, poolOptions(c));
        const dy = sc.tensor(randomArray(output.numel, 300 + ci), output.shape, { dtype: 'float32' });
        output.backward(dy);
        const [n, ch, h, w] = c.shape;
        expectClose(x.grad!.toArray(), referenceScatter(dy.toArray(), indices.toArray() as Int32Array, n * ch, h * w), 1e-6, 1e-6);
      }
    }
  });

  it('passes gradient checks in float64', () => {
    for (const ci of [1, 3, 4]) {
      const c = cases[ci]!;
      gradcheck((x) => sc.F.maxPool2d(x!, poolOptions(c)).output, [{ data: randomArray(numel(c.shape), 400 + ci), shape: [...c.shape] }]);
    }
  });
});

describe('maxUnpool2d', () => {
  it('inverts max-pooling: values at their indices, zeros elsewhere, default and given sizes', () => {
    for (const isa of isas) {
      sc._setIsa(isa);
      for (const dtype of ['float32', 'float64'] as const) {
        const shape: PoolCase['shape'] = [2, 3, 9, 11];
        const x = sc.tensor(randomArray(numel(shape), 500), shape, { dtype });
        const { output, indices } = sc.F.maxPool2d(x, { kernelSize: 2 });
        const restored = sc.F.maxUnpool2d(output, indices, { kernelSize: 2, outputSize: [9, 11] });
        expect(restored.shape).toEqual([2, 3, 9, 11]);
        const expected = referenceScatter(output.toArray(), indices.toArray() as Int32Array, 6, 99);
        expect(Array.from(restored.toArray())).toEqual(Array.from(expected));
        const even = sc.F.maxPool2d(sc.tensor(randomArray(2 * 3 * 8 * 10, 501), [2, 3, 8, 10], { dtype }), { kernelSize: 2 });
        expect(sc.F.maxUnpool2d(even.output, even.indices, { kernelSize: 2 }).shape).toEqual([2, 3, 8, 10]);
        expect(sc.F.maxUnpool2d(even.output, even.indices, { kernelSize: 2, outputSize: [2, 3, 9, 10] }).shape).toEqual([2, 3, 9, 10]);
      }
    }
  });

  it('backward gathers the gradient at the indices; gradient check in float64', () => {
    // Non-overlapping windows for the gradient check: with repeated indices the forward
    // keeps one value while the backward (a gather, as in PyTorch) feeds every copy.
    const pooled = sc.F.maxPool2d(sc.tensor(randomArray(1 * 2 * 5 * 7, 599), [1, 2, 5, 7], { dtype: 'float64' }), { kernelSize: 2 });
    gradcheck((v) => sc.F.maxUnpool2d(v!, pooled.indices, { kernelSize: 2, outputSize: [5, 7] }), [
      { data: randomArray(pooled.output.numel, 601), shape: [...pooled.output.shape] },
    ]);
    const shape = [1, 2, 5, 7];
    const x = sc.tensor(randomArray(numel(shape), 600), shape, { dtype: 'float64' });
    const { output, indices } = sc.F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
    const v = sc.tensor(randomArray(output.numel, 602), output.shape, { dtype: 'float32', requiresGrad: true });
    const g = sc.tensor(randomArray(numel(shape), 603), shape, { dtype: 'float32' });
    sc.F.maxUnpool2d(v, indices, { kernelSize: 3, stride: 2, padding: 1, outputSize: [5, 7] }).backward(g);
    const gd = g.toArray();
    expectClose(v.grad!.toArray(), Array.from(indices.toArray(), (at, k) => gd[Math.floor(k / 12) * 35 + at]!), 1e-6, 1e-6);
  });
});

describe('pooling bad input', () => {
  const x = sc.zeros([1, 2, 4, 4]);
  it('names the op, argument and shapes', () => {
    expect(() => sc.F.maxPool2d(sc.zeros([2, 4, 4]), { kernelSize: 2 })).toThrow('maxPool2d: expected a 4-D tensor [N, C, H, W] for input but received shape [2, 4, 4]');
    expect(() => sc.F.maxPool2d(sc.zeros([1, 1, 4, 4], { dtype: 'int32' }), { kernelSize: 2 })).toThrow('maxPool2d: expected a float32 or float64 tensor for input but received a int32 tensor of shape [1, 1, 4, 4]');
    expect(() => sc.F.maxPool2d(x, { kernelSize: 0 })).toThrow('maxPool2d: expected an integer >= 1 or a pair [h, w] of them for options.kernelSize but received 0');
    expect(() => sc.F.maxPool2d(x, { kernelSize: 2, padding: 2 })).toThrow('maxPool2d: expected at most half of kernelSize [2, 2] for options.padding but received [2, 2]');
    expect(() => sc.F.maxPool2d(x, { kernelSize: 5 })).toThrow('maxPool2d: expected a padded plane (4x4) at least as large as the dilated kernel (5x5) for input but received shape [1, 2, 4, 4]');
    expect(() => sc.F.maxPool2d(x, undefined as never)).toThrow('maxPool2d: expected an object with kernelSize for options but received undefined');
  });
  it('rejects bad unpooling indices and sizes', () => {
    const { output, indices } = sc.F.maxPool2d(x, { kernelSize: 2 });
    expect(() => sc.F.maxUnpool2d(output, output, { kernelSize: 2 })).toThrow('maxUnpool2d: expected an int32 tensor of shape [1, 2, 2, 2] (the shape of input) for indices but received a float32 tensor of shape [1, 2, 2, 2]');
    expect(() => sc.F.maxUnpool2d(output, indices, { kernelSize: 2, outputSize: [6, 4] })).toThrow('maxUnpool2d: expected H between 2 and 6 (exclusive) for input [1, 2, 2, 2] for options.outputSize but received [6, 4]');
    const bad = sc.tensor(new Int32Array([0, 1, 4, 5, 0, 16, 3, 2]), [1, 2, 2, 2]);
    expect(() => sc.F.maxUnpool2d(output, bad, { kernelSize: 2 })).toThrow('maxUnpool2d: expected values in [0, 15] (positions within the 4x4 plane) for indices but received 16 at [0, 1, 0, 1]');
    const negative = sc.tensor(new Int32Array([0, 1, 4, 5, 0, -3, 3, 2]), [1, 2, 2, 2]);
    expect(() => sc.F.maxUnpool2d(output, negative, { kernelSize: 2 })).toThrow('maxUnpool2d: expected values in [0, 15] (positions within the 4x4 plane) for indices but received -3 at [0, 1, 0, 1]');
  });
});
