import { afterAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { expectClose, gradcheck, randomArray } from './helpers/gradcheck.js';

const isas = sc.backend().supportedIsas;
afterAll(() => sc._setIsa(isas[0]!));

const input = (shape: number[], seed: number) => ({ data: randomArray(shape.reduce((a, b) => a * b, 1), seed), shape });

describe('linear', () => {
  it('matches x·Wᵀ + b on every ISA, for [..., in] inputs', () => {
    const [rows, inF, outF] = [2 * 5, 33, 17];
    const x = randomArray(rows * inF, 1), w = randomArray(outF * inF, 2), b = randomArray(outF, 3);
    const want = new Float64Array(rows * outF);
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < outF; o++) {
        let s = b[o]!;
        for (let i = 0; i < inF; i++) s += x[r * inF + i]! * w[o * inF + i]!;
        want[r * outF + o] = s;
      }
    for (const isa of isas) {
      sc._setIsa(isa);
      const y = sc.F.linear(sc.tensor(Float32Array.from(x), [2, 5, inF]), sc.tensor(Float32Array.from(w), [outF, inF]), sc.tensor(Float32Array.from(b), [outF]));
      expect(y.shape).toEqual([2, 5, outF]);
      expectClose(y.toArray(), want, 1e-5, 1e-5);
    }
    const noBias = sc.F.linear(sc.tensor(x.subarray(0, inF), [inF]), sc.tensor(w, [outF, inF]));
    expect(noBias.shape).toEqual([outF]);
    expectClose(noBias.toArray(), want.subarray(0, outF).map((v, o) => v - b[o]!), 1e-12, 1e-12);
  });

  it('gradients (float64 finite differences)', () => {
    gradcheck((x, w, b) => sc.F.linear(x!, w!, b!), [input([2, 3, 5], 4), input([4, 5], 5), input([4], 6)]);
    gradcheck((x, w) => sc.F.linear(x!, w!), [input([5], 7), input([3, 5], 8)]);
  });

  it('names bad input', () => {
    expect(() => sc.F.linear(sc.zeros([2, 5]), sc.zeros([4, 6]))).toThrow(
      'linear: expected a 2-D tensor [out_features, 5] (in_features of input [2, 5]) for weight but received shape [4, 6]');
    expect(() => sc.F.linear(sc.zeros([2, 5]), sc.zeros([4, 5]), sc.zeros([5]))).toThrow(
      'linear: expected null or a 1-D tensor [4] (out_features of weight [4, 5]) for bias but received shape [5]');
    expect(() => sc.F.linear(sc.zeros([2, 5], { dtype: 'int32' }), sc.zeros([4, 5]))).toThrow(
      'linear: expected a float32 or float64 tensor for input but received a int32 tensor of shape [2, 5]');
    const gone = sc.zeros([4, 5]);
    gone.dispose();
    expect(() => sc.F.linear(sc.zeros([2, 5]), gone)).toThrow('linear: expected a live Tensor for weight but received a disposed tensor of shape [4, 5]');
  });
});

describe('matmul', () => {
  it('gradients for 2-D and broadcast batched operands (float64 finite differences)', () => {
    gradcheck((a, b) => sc.matmul(a!, b!), [input([3, 4], 9), input([4, 5], 10)]);
    gradcheck((a, b) => sc.matmul(a!, b!), [input([2, 3, 4], 11), input([4, 5], 12)]);
    gradcheck((a, b) => sc.matmul(a!, b!), [input([1, 3, 4], 13), input([3, 4, 2], 14)]);
    gradcheck((a, b) => sc.F.matmul(a!, b!), [input([3, 3, 4], 15), input([3, 4, 2], 16)]);
  });

  it('names bad input', () => {
    expect(() => sc.matmul(sc.zeros([2, 3]), sc.zeros([4, 5]))).toThrow(
      'matmul: expected 3 rows (the columns of input [2, 3]) for other but received shape [4, 5]');
    expect(() => sc.matmul(sc.zeros([2, 2, 3]), sc.zeros([3, 3, 5]))).toThrow(
      'matmul: expected a batch of 2 or 1 (to broadcast with input [2, 2, 3]) for other but received shape [3, 3, 5]');
    expect(() => sc.matmul(sc.zeros([3]), sc.zeros([3, 5]))).toThrow(
      'matmul: expected a 2-D [rows, cols] or 3-D [batch, rows, cols] tensor for input but received shape [3]');
    expect(() => sc.matmul(sc.zeros([2, 3]), sc.zeros([3, 5], { dtype: 'float64' }))).toThrow(
      'matmul: expected dtype float32 (the dtype of input) for other but received float64');
  });
});
