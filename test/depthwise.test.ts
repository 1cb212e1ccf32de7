import { afterAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { empty, runKernel } from '../dist/tensor.js';
import { ops } from '../dist/ops.js';
import { expectClose, gradcheck, randomArray } from './helpers/gradcheck.js';

type Pair = [number, number];
interface Case {
  n: number;
  c: number;
  m: number; // channel multiplier
  h: number;
  w: number;
  k: Pair;
  stride: Pair;
  pad: Pair;
  dil: Pair;
  bias: boolean;
}

const cases: Case[] = [
  { n: 2, c: 3, m: 1, h: 7, w: 9, k: [3, 3], stride: [1, 1], pad: [1, 1], dil: [1, 1], bias: true },
  { n: 1, c: 4, m: 1, h: 9, w: 71, k: [3, 3], stride: [2, 2], pad: [1, 1], dil: [1, 1], bias: false },
  { n: 1, c: 2, m: 2, h: 5, w: 37, k: [3, 3], stride: [1, 1], pad: [0, 0], dil: [1, 1], bias: true },
  { n: 2, c: 3, m: 2, h: 13, w: 69, k: [3, 3], stride: [2, 2], pad: [2, 2], dil: [1, 1], bias: false },
  { n: 1, c: 2, m: 1, h: 11, w: 41, k: [5, 5], stride: [1, 1], pad: [2, 2], dil: [2, 2], bias: true },
  { n: 1, c: 3, m: 1, h: 6, w: 40, k: [1, 3], stride: [1, 1], pad: [0, 1], dil: [1, 1], bias: false },
  { n: 1, c: 2, m: 2, h: 9, w: 35, k: [3, 3], stride: [1, 2], pad: [1, 0], dil: [2, 1], bias: true },
  { n: 2, c: 2, m: 1, h: 10, w: 45, k: [5, 5], stride: [2, 2], pad: [2, 2], dil: [1, 1], bias: true },
  { n: 1, c: 2, m: 1, h: 10, w: 50, k: [3, 3], stride: [3, 3], pad: [1, 1], dil: [1, 1], bias: false },
  { n: 1, c: 2, m: 1, h: 4, w: 5, k: [3, 3], stride: [1, 1], pad: [3, 3], dil: [1, 1], bias: true },
  { n: 1, c: 2, m: 3, h: 8, w: 33, k: [2, 2], stride: [2, 2], pad: [0, 0], dil: [1, 1], bias: false },
  { n: 3, c: 1, m: 1, h: 1, w: 1, k: [3, 3], stride: [1, 1], pad: [1, 1], dil: [1, 1], bias: true },
  { n: 1, c: 2, m: 1, h: 9, w: 33, k: [7, 7], stride: [1, 1], pad: [3, 3], dil: [1, 1], bias: false },
  { n: 1, c: 1, m: 2, h: 7, w: 23, k: [3, 1], stride: [2, 3], pad: [2, 0], dil: [3, 1], bias: true },
];

const outSize = (size: number, k: number, s: number, p: number, d: number) => Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;

/** Naive float64 forward and the three gradients for a given output gradient dy. */
function reference(cs: Case, x: Float64Array, w: Float64Array, b: Float64Array | null, dy: Float64Array) {
  const { n, c, m, h, w: width, k, stride, pad, dil } = cs;
  const oc = c * m;
  const oh = outSize(h, k[0], stride[0], pad[0], dil[0]);
  const ow = outSize(width, k[1], stride[1], pad[1], dil[1]);
  const y = new Float64Array(n * oc * oh * ow);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(oc);
  for (let b0 = 0; b0 < n; b0++)
    for (let o = 0; o < oc; o++) {
      const ci = Math.floor(o / m);
      for (let r = 0; r < oh; r++)
        for (let q = 0; q < ow; q++) {
          const yi = ((b0 * oc + o) * oh + r) * ow + q;
          let acc = b ? b[o]! : 0;
          db[o]! += dy[yi]!;
          for (let i = 0; i < k[0]; i++)
            for (let j = 0; j < k[1]; j++) {
              const ih = r * stride[0] - pad[0] + i * dil[0];
              const iw = q * stride[1] - pad[1] + j * dil[1];
              if (ih < 0 || ih >= h || iw < 0 || iw >= width) continue;
              const xi = ((b0 * c + ci) * h + ih) * width + iw;
              const wi = (o * k[0] + i) * k[1] + j;
              acc += w[wi]! * x[xi]!;
              dx[xi]! += w[wi]! * dy[yi]!;
              dw[wi]! += x[xi]! * dy[yi]!;
            }
          y[yi] = acc;
        }
    }
  return { y, dx, dw, db, outShape: [n, oc, oh, ow] };
}

function describeCase(cs: Case): string {
  return `x[${cs.n},${cs.c},${cs.h},${cs.w}] m=${cs.m} k=${cs.k} stride=${cs.stride} pad=${cs.pad} dil=${cs.dil}${cs.bias ? ' bias' : ''}`;
}

function runCase(cs: Case, dtype: sc.FloatDType, seed: number): void {
  const oc = cs.c * cs.m;
  const round = (a: Float64Array) => (dtype === 'float32' ? Float64Array.from(Float32Array.from(a)) : a);
  const xData = round(randomArray(cs.n * cs.c * cs.h * cs.w, seed));
  const wData = round(randomArray(oc * cs.k[0] * cs.k[1], seed + 1));
  const bData = cs.bias ? round(randomArray(oc, seed + 2)) : null;
  const outShape = [cs.n, oc, outSize(cs.h, cs.k[0], cs.stride[0], cs.pad[0], cs.dil[0]), outSize(cs.w, cs.k[1], cs.stride[1], cs.pad[1], cs.dil[1])];
  const dyData = round(randomArray(outShape.reduce((a, b) => a * b, 1), seed + 3));
  const ref = reference(cs, xData, wData, bData, dyData);

  const x = sc.tensor(xData, [cs.n, cs.c, cs.h, cs.w], { dtype, requiresGrad: true });
  const w = sc.tensor(wData, [oc, 1, cs.k[0], cs.k[1]], { dtype, requiresGrad: true });
  const b = bData ? sc.tensor(bData, [oc], { dtype, requiresGrad: true }) : null;
  const y = sc.F.depthwiseConv2d(x, w, b, { stride: cs.stride, padding: cs.pad, dilation: cs.dil });
  expect(y.shape).toEqual(ref.outShape);
  y.backward(sc.tensor(dyData, outShape, { dtype }));

  const [atol, rtol] = dtype === 'float32' ? [2e-4, 1e-4] : [1e-10, 1e-10];
  expectClose(y.toArray(), ref.y, atol, rtol);
  expectClose(x.grad!.toArray(), ref.dx, atol, rtol);
  expectClose(w.grad!.toArray(), ref.dw, atol * 10, rtol);
  if (b) expectClose(b.grad!.toArray(), ref.db, atol * 10, rtol);
  for (const t of [x, w, b, y]) t?.dispose();
}

const isas = sc.backend().supportedIsas;
afterAll(() => sc._setIsa(isas[0]!));

describe('depthwiseConv2d against a naive float64 reference', () => {
  for (const isa of isas)
    it(`float32 forward and gradients on ${isa}`, () => {
      sc._setIsa(isa);
      cases.forEach((cs, i) => {
        try {
          runCase(cs, 'float32', 100 + 10 * i);
        } catch (err) {
          throw new Error(`${isa} ${describeCase(cs)}: ${(err as Error).message}`);
        }
      });
    });

  it('float64 forward and gradients', () => {
    cases.forEach((cs, i) => {
      try {
        runCase(cs, 'float64', 500 + 10 * i);
      } catch (err) {
        throw new Error(`${describeCase(cs)}: ${(err as Error).message}`);
      }
    });
  });

  it('gives the same bits twice (weight gradient reduction in a fixed order)', () => {
    const run = () => {
      sc.manualSeed(7);
      const x = sc.randn([4, 16, 33, 47], { requiresGrad: true });
      const w = sc.randn([32, 1, 3, 3], { requiresGrad: true });
      const b = sc.randn([32], { requiresGrad: true });
      const y = sc.F.depthwiseConv2d(x, w, b, { padding: 1 });
      y.mul(y).sum().backward();
      return [y, x.grad!, w.grad!, b.grad!].map((t) => Array.from(t.toArray()));
    };
    expect(run()).toEqual(run());
  });
});

describe('depthwiseConv2d gradients (float64 finite differences)', () => {
  const input = (shape: number[], seed: number) => ({ data: randomArray(shape.reduce((a, b) => a * b, 1), seed), shape });
  it('3x3 stride 2 with bias and channel multiplier 2', () => {
    gradcheck((x, w, b) => sc.F.depthwiseConv2d(x!, w!, b!, { stride: 2, padding: 1 }), [
      input([2, 2, 5, 6], 1),
      input([4, 1, 3, 3], 2),
      input([4], 3),
    ]);
  });
  it('1x3 with dilation and asymmetric padding, no bias', () => {
    gradcheck((x, w) => sc.F.depthwiseConv2d(x!, w!, null, { padding: [0, 2], dilation: [1, 2] }), [
      input([1, 3, 4, 7], 4),
      input([3, 1, 1, 3], 5),
    ]);
  });
  it('bias gradient alone (weight frozen)', () => {
    gradcheck((x, w, b) => sc.F.depthwiseConv2d(x!, w!, b!, { padding: 1 }), [input([2, 2, 4, 5], 6), input([2, 1, 3, 3], 7), input([2], 8)], {
      check: [2],
    });
  });
});

describe('depthwiseConv2d bad input', () => {
  const x = sc.zeros([1, 3, 5, 5]);
  const w = sc.zeros([6, 1, 3, 3]);
  const cases: [() => unknown, string][] = [
    [() => sc.F.depthwiseConv2d(sc.zeros([3, 4]), w, null), 'depthwiseConv2d: expected a 4-D tensor [N, C, H, W] for input but received shape [3, 4]'],
    [() => sc.F.depthwiseConv2d(x, sc.zeros([6, 3, 3]), null), 'depthwiseConv2d: expected a 4-D tensor [C·m, 1, kH, kW] for weight but received shape [6, 3, 3]'],
    [
      () => sc.F.depthwiseConv2d(x, sc.zeros([4, 1, 3, 3]), null),
      "depthwiseConv2d: expected shape [C·m, 1, kH, kW] with C·m a multiple of the input's 3 channels (input shape [1, 3, 5, 5]) for weight but received shape [4, 1, 3, 3]",
    ],
    [
      () => sc.F.depthwiseConv2d(x, sc.zeros([3, 3, 3, 3]), null),
      "depthwiseConv2d: expected shape [C·m, 1, kH, kW] with C·m a multiple of the input's 3 channels (input shape [1, 3, 5, 5]) for weight but received shape [3, 3, 3, 3]",
    ],
    [
      () => sc.F.depthwiseConv2d(x, w, sc.zeros([3])),
      'depthwiseConv2d: expected shape [6] (one per output channel of weight [6, 1, 3, 3]) for bias but received shape [3]',
    ],
    [
      () => sc.F.depthwiseConv2d(x, sc.zeros([3, 1, 7, 3]), null, { padding: [0, 1] }),
      'depthwiseConv2d: expected a spatial size of at least 7x3 (the dilated kernel) after padding [0, 1] for input but received shape [1, 3, 5, 5]',
    ],
    [
      () => sc.F.depthwiseConv2d(x, w, null, { dilation: 3 }),
      'depthwiseConv2d: expected a spatial size of at least 7x7 (the dilated kernel) after padding [0, 0] for input but received shape [1, 3, 5, 5]',
    ],
    [() => sc.F.depthwiseConv2d(x, w, null, { stride: 0 }), 'depthwiseConv2d: expected an integer >= 1 or a pair [h, w] of them for stride but received 0'],
    [() => sc.F.depthwiseConv2d(x, w, null, { padding: [1, -1] }), 'depthwiseConv2d: expected an integer >= 0 or a pair [h, w] of them for padding but received array of length 2'],
    [
      () => sc.F.depthwiseConv2d(sc.zeros([1, 3, 5, 5], { dtype: 'int32' }), w, null),
      'depthwiseConv2d: expected a float32 or float64 tensor for input but received a int32 tensor of shape [1, 3, 5, 5]',
    ],
    [
      () => sc.F.depthwiseConv2d(x, sc.zeros([6, 1, 3, 3], { dtype: 'float64' }), null),
      'depthwiseConv2d: expected dtype float32 (the dtype of input) for weight but received float64',
    ],
    [
      () => {
        const gone = sc.zeros([6, 1, 3, 3]);
        gone.dispose();
        return sc.F.depthwiseConv2d(x, gone, null);
      },
      'depthwiseConv2d: expected a live Tensor for weight but received a disposed tensor of shape [6, 1, 3, 3]',
    ],
    [() => sc.F.depthwiseConv2d(x, w, null, null as never), 'depthwiseConv2d: expected an object for options but received null'],
  ];
  it('names the op, the argument and the shapes', () => {
    for (const [call, message] of cases) {
      let thrown: unknown = null;
      try {
        call();
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(sc.SepconvError);
      expect((thrown as Error).message).toBe(message);
    }
  });
});

// The fused depthwise→pointwise forward is a prototype op (not public API): checked against
// the public depthwise + 1x1 conv pair. The first shape spans several row bands (the band
// holds 256 KB of depthwise output: 3 rows of 64 x 260 here).
describe('fused depthwise→pointwise forward (prototype op)', () => {
  const shapes = [
    { x: [2, 64, 11, 260], out: 20, stride: 1, bias: true },
    { x: [3, 5, 9, 13], out: 7, stride: 2, bias: false },
  ];
  for (const dtype of ['float32', 'float64'] as const)
    it(`matches the unfused pair (${dtype}, every ISA)`, () => {
      for (const isa of dtype === 'float32' ? isas : [isas[0]!]) {
        sc._setIsa(isa);
        shapes.forEach(({ x: shape, out, stride, bias }, i) => {
          const c = shape[1]!;
          const x = sc.tensor(randomArray(shape.reduce((a, b) => a * b, 1), 900 + i), shape, { dtype });
          const wDw = sc.tensor(randomArray(c * 9, 910 + i), [c, 1, 3, 3], { dtype });
          const wPw = sc.tensor(randomArray(out * c, 920 + i), [out, c, 1, 1], { dtype });
          const b = bias ? sc.tensor(randomArray(out, 930 + i), [out], { dtype }) : null;
          const expected = sc.F.conv2d(sc.F.depthwiseConv2d(x, wDw, null, { stride, padding: 1 }), wPw, b);
          const y = empty(expected.shape, dtype);
          runKernel(ops.depthwise_pointwise_forward, b ? [x, wDw, wPw, b] : [x, wDw, wPw], [y], { strideH: stride, strideW: stride, padH: 1, padW: 1, dilationH: 1, dilationW: 1 });
          const [atol, rtol] = dtype === 'float32' ? [1e-3, 1e-4] : [1e-10, 1e-10];
          expectClose(y.toArray(), expected.toArray(), atol, rtol);
        });
      }
    });
});
