import { afterAll, afterEach, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { channelSums, convBackwardInput, convBackwardWeight, convForward } from './helpers/conv-reference.js';
import type { ConvSpec } from './helpers/conv-reference.js';
import { expectClose, randomArray } from './helpers/gradcheck.js';

// Winograd F(4×4, 3×3): 3×3 stride-1 float32 convolutions with >= 16 channels. Forced on
// (sc._setConvAlgo), it is checked against the float64 reference on odd shapes: partial
// tiles, batch 1, channel counts off the vector width, several blocks of tile rows, planes
// wider than a vector of tiles, padding 0/1/2.
const isas = sc.backend().supportedIsas;
afterEach(() => sc._setConvAlgo('auto'));
afterAll(() => sc._setIsa(isas[0]!));

type Case = { name: string; batch: number; inC: number; outC: number; inH: number; inW: number; pad: [number, number]; bias?: boolean };

const cases: Case[] = [
  { name: '16 -> 17, 7x9 pad 1, bias (partial tiles)', batch: 2, inC: 16, outC: 17, inH: 7, inW: 9, pad: [1, 1], bias: true },
  { name: 'batch 1, 33 -> 16, 5x6 pad 0', batch: 1, inC: 33, outC: 16, inH: 5, inW: 6, pad: [0, 0] },
  { name: '17 -> 33, 10x11 pad 2', batch: 3, inC: 17, outC: 33, inH: 10, inW: 11, pad: [2, 2], bias: true },
  { name: 'pad [0, 2], 1-row output', batch: 2, inC: 16, outC: 16, inH: 3, inW: 8, pad: [0, 2] },
  { name: 'several blocks of tile rows, 30x27', batch: 4, inC: 18, outC: 20, inH: 30, inW: 27, pad: [1, 1], bias: true },
  { name: 'plane wider than a vector of tiles, 5x70', batch: 2, inC: 16, outC: 19, inH: 5, inW: 70, pad: [1, 1] },
];

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
// Float32 Winograd rounds in the transforms as well as in the sums: errors scale with the
// largest magnitude of the result, not with each element.
const expectNear = (got: ArrayLike<number>, want: ArrayLike<number>) => expectClose(got, want, 2e-5 * maxAbs(want) + 1e-6, 1e-4);

function run(c: Case, x: Float64Array, w: Float64Array, b: Float64Array | null, gy: Float64Array) {
  const oh = c.inH + 2 * c.pad[0] - 2, ow = c.inW + 2 * c.pad[1] - 2;
  const xt = sc.tensor(x, [c.batch, c.inC, c.inH, c.inW], { requiresGrad: true });
  const wt = sc.tensor(w, [c.outC, c.inC, 3, 3], { requiresGrad: true });
  const bt = b ? sc.tensor(b, [c.outC], { requiresGrad: true }) : null;
  const y = sc.F.conv2d(xt, wt, bt, { padding: c.pad });
  y.backward(sc.tensor(gy, [c.batch, c.outC, oh, ow]));
  return { y: y.toArray(), dx: xt.grad!.toArray(), dw: wt.grad!.toArray(), db: bt?.grad!.toArray() };
}

function inputs(c: Case) {
  const oh = c.inH + 2 * c.pad[0] - 2, ow = c.inW + 2 * c.pad[1] - 2;
  return {
    x: randomArray(c.batch * c.inC * c.inH * c.inW, 1),
    w: randomArray(c.outC * c.inC * 9, 2),
    b: c.bias ? randomArray(c.outC, 3) : null,
    gy: randomArray(c.batch * c.outC * oh * ow, 4),
    oh,
    ow,
  };
}

describe('Winograd conv2d against the float64 reference', () => {
  for (const c of cases) {
    it(c.name, () => {
      const { x, w, b, gy, oh, ow } = inputs(c);
      const s: ConvSpec = { batch: c.batch, inC: c.inC, inH: c.inH, inW: c.inW, outC: c.outC, kH: 3, kW: 3, stride: [1, 1], padding: c.pad, dilation: [1, 1], groups: 1 };
      const want = { y: convForward(s, x, w, b), dx: convBackwardInput(s, gy, w), dw: convBackwardWeight(s, x, gy), db: channelSums(gy, c.batch, c.outC, oh * ow) };
      sc._setConvAlgo('winograd');
      for (const isa of isas) {
        sc._setIsa(isa);
        const got = run(c, x, w, b, gy);
        expectNear(got.y, want.y);
        expectNear(got.dx, want.dx);
        expectNear(got.dw, want.dw);
        if (got.db) expectNear(got.db, want.db);
      }
      sc._setIsa(isas[0]!);
    });
  }

  it('gives the same weight gradient on every run (fixed-order reduction)', () => {
    const c = cases[4]!;
    const { x, w, b, gy } = inputs(c);
    sc._setConvAlgo('winograd');
    const first = run(c, x, w, b, gy).dw;
    for (let i = 0; i < 3; i++) expect(run(c, x, w, b, gy).dw).toEqual(first);
  });
});

describe('conv algorithm selection', () => {
  // 'auto' matches one forced path bit for bit (the two paths round differently).
  function picks(c: Case, dtype: 'float32' | 'float64' = 'float32', stride = 1): 'winograd' | 'im2col' {
    sc.manualSeed(5);
    const x = sc.randn([c.batch, c.inC, c.inH, c.inW], { dtype }), w = sc.randn([c.outC, c.inC, 3, 3], { dtype });
    const out = (algo: 'auto' | 'im2col' | 'winograd') => {
      sc._setConvAlgo(algo);
      return sc.F.conv2d(x, w, null, { padding: c.pad, stride }).toArray();
    };
    const auto = out('auto'), im2col = out('im2col'), winograd = out('winograd');
    if (dtype === 'float32' && stride === 1) expect(winograd).not.toEqual(im2col);
    return auto.every((v, i) => v === winograd[i]) && !auto.every((v, i) => v === im2col[i]) ? 'winograd' : 'im2col';
  }
  const base: Case = { name: '', batch: 2, inC: 16, outC: 16, inH: 8, inW: 8, pad: [1, 1] };

  it('takes Winograd for 3x3 stride-1 float32 convolutions with >= 16 channels', () => {
    expect(picks(base)).toBe('winograd');
    expect(picks({ ...base, inH: 3, inW: 3 })).toBe('winograd'); // 9 of 16 tile pixels used
  });
  it('keeps im2col for few channels, poorly filled tiles, float64 and other strides', () => {
    expect(picks({ ...base, inC: 8 })).toBe('im2col');
    expect(picks({ ...base, outC: 15 })).toBe('im2col');
    expect(picks({ ...base, inH: 2, inW: 2 })).toBe('im2col'); // a 2x2 plane fills 1/4 of its tile
    expect(picks(base, 'float64')).toBe('im2col');
    sc._setConvAlgo('winograd'); // forcing does not apply where Winograd cannot
    const x = sc.randn([1, 16, 9, 9]), w = sc.randn([16, 16, 3, 3]);
    const strided = sc.F.conv2d(x, w, null, { stride: 2, padding: 1 }).toArray();
    sc._setConvAlgo('im2col');
    expect(sc.F.conv2d(x, w, null, { stride: 2, padding: 1 }).toArray()).toEqual(strided);
  });
  it('rejects unknown algorithms by name', () => {
    expect(() => sc._setConvAlgo('fft' as 'auto')).toThrow(/setConvAlgo: 'fft' is not one of auto, im2col, winograd/);
  });
});
