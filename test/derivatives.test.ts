// Every backward rule of the derivatives table (lib/autograd/derivatives.ts) against central
// finite differences in float64, through the public op that records it. A rule added to the
// table without a case here fails the coverage test.
import { cudaDevice } from './helpers/cuda.js';
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { derivatives } from '../dist/autograd/derivatives.js';
import { gradcheck, randomArray } from './helpers/gradcheck.js';

type Input = { data: Float64Array; shape: number[] };
let seed = 100;
const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const input = (shape: number[]): Input => ({ data: randomArray(numel(shape), seed++), shape });
/** Values at least 0.2 away from 0 (divisors, and relu away from its kink). */
const away = (shape: number[]): Input => ({ data: randomArray(numel(shape), seed++).map((v) => Math.sign(v || 1) * (0.2 + Math.abs(v))), shape });
const int32 = (values: number[], shape: number[]) => sc.tensor(Int32Array.from(values), shape, { dtype: 'int32' });
const poolIndices = sc.F.maxPool2d(sc.tensor(randomArray(2 * 2 * 4 * 6, 7), [2, 2, 4, 6], { dtype: 'float64' }), { kernelSize: 2 }).indices;

interface Check { f: (...xs: sc.Tensor[]) => sc.Tensor; inputs: Input[]; needsCuda?: boolean }
const checks: Record<keyof typeof derivatives, Check> = {
  affine: { f: (x) => x.mul(-1.5).add(0.25), inputs: [input([3, 4])] },
  add: { f: (a, b) => a.add(b), inputs: [input([2, 3]), input([1, 3])] },
  sub: { f: (a, b) => a.sub(b), inputs: [input([2, 1, 4]), input([3, 1])] },
  mul: { f: (a, b) => a.mul(b), inputs: [input([2, 3]), input([2, 1])] },
  div: { f: (a, b) => a.div(b), inputs: [input([2, 3]), away([3])] },
  sum: { f: (x) => x.sum([0, 2]), inputs: [input([2, 3, 4])] },
  reshape: { f: (x) => x.reshape([4, -1]), inputs: [input([2, 3, 2])] },
  to: { f: (x) => x.to('cuda').mul(x.to('cuda')).to('cpu'), inputs: [input([5])], needsCuda: true },
  relu: { f: (x) => sc.F.relu(x), inputs: [away([3, 5])] },
  dropout: { f: (x) => (sc.manualSeed(3), sc.F.dropout(x, 0.4, true)), inputs: [input([4, 6])] },
  cat: { f: (a, b) => sc.cat([a, b], 1), inputs: [input([2, 1, 3]), input([2, 2, 3])] },
  narrow: { f: (x) => sc.F.narrow(x, 1, 1, 2), inputs: [input([2, 4, 3])] },
  matmul: { f: (a, b) => sc.matmul(a, b), inputs: [input([2, 3, 4]), input([4, 5])] },
  linear: { f: (x, w, b) => sc.F.linear(x, w, b), inputs: [input([2, 3, 4]), input([5, 4]), input([5])] },
  conv2d: { f: (x, w, b) => sc.F.conv2d(x, w, b, { stride: 2, padding: 1, dilation: [1, 2] }), inputs: [input([2, 3, 6, 7]), input([4, 3, 3, 3]), input([4])] },
  convTranspose2d: { f: (x, w, b) => sc.F.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }), inputs: [input([1, 4, 3, 4]), input([4, 3, 3, 3]), input([6])] },
  depthwiseConv2d: { f: (x, w, b) => sc.F.depthwiseConv2d(x, w, b, { stride: [1, 2], padding: 1 }), inputs: [input([2, 3, 5, 6]), input([6, 1, 3, 3]), input([6])] },
  batchNorm2d: { f: (x, w, b) => sc.F.batchNorm2d(x, null, null, w, b, { training: true }), inputs: [input([3, 2, 3, 4]), away([2]), input([2])] },
  maxPool2d: { f: (x) => sc.F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }).output, inputs: [input([2, 2, 5, 6])] },
  maxUnpool2d: { f: (x) => sc.F.maxUnpool2d(x, poolIndices, { kernelSize: 2, outputSize: [4, 6] }), inputs: [input([2, 2, 2, 3])] },
  avgPool2d: { f: (x) => sc.F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), inputs: [input([2, 2, 6, 5])] },
  adaptiveAvgPool2d: { f: (x) => sc.F.adaptiveAvgPool2d(x, [2, 3]), inputs: [input([2, 2, 5, 7])] },
  interpolate: { f: (x) => sc.F.interpolate(x, { size: [5, 7], mode: 'bilinear' }), inputs: [input([1, 2, 3, 4])] },
  softmax: { f: (x) => sc.F.softmax(x, 1), inputs: [input([2, 4, 3])] },
  logSoftmax: { f: (x) => sc.F.logSoftmax(x, -1), inputs: [input([3, 5])] },
  crossEntropy: { f: (x) => sc.F.crossEntropy(x, int32([0, 2, -100, 1, 2, 0], [2, 3]), { reduction: 'mean' }), inputs: [input([2, 3, 3])] },
};

describe('derivatives table', () => {
  it('has a finite-difference check for every rule', () => {
    expect(Object.keys(checks).sort()).toEqual(Object.keys(derivatives).sort());
  });
  for (const [op, check] of Object.entries(checks))
    it.skipIf(check.needsCuda === true && cudaDevice === undefined)(`${op}: backward matches finite differences (float64)`, () => {
      gradcheck(check.f, check.inputs);
    });
});
