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
afterEach(() => {
  sc._setConvAlgo('auto');
  sc.setFloat32Precision('high');
});
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
  // 'auto' matches one forced path bit for bit (the two paths round differently). The forward
  // op takes Winograd only under float32 precision 'medium'.
  function picks(c: Case, dtype: 'float32' | 'float64' = 'float32', stride = 1, precision: sc.Float32Precision = 'medium'): 'winograd' | 'im2col' {
    sc.setFloat32Precision(precision);
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
  // Which path each op of one conv2d forward + backward took under a precision policy.
  function opPaths(precision: sc.Float32Precision) {
    sc.manualSeed(6);
    const x = sc.randn([2, 16, 8, 8], { requiresGrad: true }), w = sc.randn([16, 16, 3, 3], { requiresGrad: true });
    const dy = sc.randn([2, 16, 8, 8]);
    const run = (algo: 'auto' | 'im2col' | 'winograd') => {
      sc._setConvAlgo(algo);
      sc.setFloat32Precision(precision);
      x.grad = null;
      w.grad = null;
      const y = sc.F.conv2d(x, w, null, { padding: 1 });
      y.backward(dy);
      return { y: y.toArray(), dx: x.grad!.toArray(), dw: w.grad!.toArray() };
    };
    const auto = run('auto'), im2col = run('im2col'), winograd = run('winograd');
    const path = (k: 'y' | 'dx' | 'dw') => (auto[k].every((v, i) => v === winograd[k][i]) ? 'winograd' : auto[k].every((v, i) => v === im2col[k][i]) ? 'im2col' : 'neither');
    return { y: path('y'), dx: path('dx'), dw: path('dw') };
  }
  it("keeps the forward op on im2col under the default 'high', the gradients on Winograd", () => {
    expect(sc.getFloat32Precision()).toBe('high');
    expect(opPaths('high')).toEqual({ y: 'im2col', dx: 'winograd', dw: 'winograd' });
    expect(opPaths('medium')).toEqual({ y: 'winograd', dx: 'winograd', dw: 'winograd' });
    expect(opPaths('highest')).toEqual({ y: 'im2col', dx: 'im2col', dw: 'im2col' });
    expect(sc.getFloat32Precision()).toBe('highest');
  });
  it('rejects unknown algorithms and precisions by name', () => {
    expect(() => sc.setFloat32Precision('low' as 'high')).toThrow("setFloat32Precision: expected 'highest', 'high' or 'medium' for precision but received 'low'");
    expect(sc.getFloat32Precision()).toBe('high');
    expect(() => sc._setConvAlgo('fft' as 'auto')).toThrow(/setConvAlgo: 'fft' is not one of auto, im2col, winograd/);
  });
});

// Gradient numerics on layer shapes of the SegNet decoder and VGG: Winograd F(4×4, 3×3)
// (forced; the precision policy picks it for gradients from 'high', for the forward at 'medium')
// against the float64 im2col path, with the float32 im2col path ('highest') as the yardstick. Measured here: Winograd's relative L2 errors are
// 8–32× im2col's (y 8–32×, dx 11–16×, dw 8–21×), the most for unpooled (3/4 zero) inputs with
// many channels; the bound, 64×, catches a broken transform or tile, not this rounding.
describe("Winograd gradients against float64, relative to im2col's own error", () => {
  type Layer = { name: string; batch: number; inC: number; outC: number; size: number; unpooled?: boolean; reluDy?: boolean };
  const layers: Layer[] = [
    { name: 'dec.3: 64 -> 64 @ 64x64, batch 2', batch: 2, inC: 64, outC: 64, size: 64 },
    { name: 'dec.3 input: 64 -> 64 @ 128x128, batch 1, unpooled input, ReLU-sparse dy', batch: 1, inC: 64, outC: 64, size: 128, unpooled: true, reluDy: true },
    { name: 'dec.1: 256 -> 128 @ 16x16, batch 4, ReLU-sparse dy', batch: 4, inC: 256, outC: 128, size: 16, reluDy: true },
    { name: 'dec.0: 512 -> 512 @ 8x8, batch 2, unpooled input', batch: 2, inC: 512, outC: 512, size: 8, unpooled: true },
    { name: 'VGG features.12: 256 -> 256 @ 8x8, batch 16, ReLU-sparse dy', batch: 16, inC: 256, outC: 256, size: 8, reluDy: true },
  ];
  const relativeL2 = (got: ArrayLike<number>, want: ArrayLike<number>) => {
    let num = 0, den = 0;
    for (let i = 0; i < want.length; i++) {
      num += (got[i]! - want[i]!) ** 2;
      den += want[i]! ** 2;
    }
    return Math.sqrt(num / den);
  };
  // Float32 values (so float64 computes exactly what float32 was given): x as after ReLU, or a
  // max-unpool output (one nonzero per 2×2 window); dy dense or masked as behind a ReLU.
  function data(l: Layer) {
    const plane = l.size * l.size;
    const x = randomArray(l.batch * l.inC * plane, 11).map((v, i) => {
      const px = i % plane, row = Math.floor(px / l.size), col = px % l.size;
      return l.unpooled && (row % 2 !== 0 || col % 2 !== 0) ? 0 : Math.fround(Math.max(v, 0));
    });
    const mask = randomArray(l.batch * l.outC * plane, 13);
    const dy = randomArray(l.batch * l.outC * plane, 12).map((v, i) => (l.reluDy && mask[i]! < 0 ? 0 : Math.fround(v * 1e-3)));
    const w = randomArray(l.outC * l.inC * 9, 14).map((v) => Math.fround(v / Math.sqrt(3 * l.inC)));
    return { x, w, dy };
  }
  function grads(l: Layer, d: ReturnType<typeof data>, dtype: 'float32' | 'float64') {
    const x = sc.tensor(d.x, [l.batch, l.inC, l.size, l.size], { dtype, requiresGrad: true });
    const w = sc.tensor(d.w, [l.outC, l.inC, 3, 3], { dtype, requiresGrad: true });
    const y = sc.F.conv2d(x, w, null, { padding: 1 });
    y.backward(sc.tensor(d.dy, [l.batch, l.outC, l.size, l.size], { dtype }));
    const out = { y: y.toArray(), dx: x.grad!.toArray(), dw: w.grad!.toArray() };
    for (const t of [x, w, y, x.grad!, w.grad!]) t.dispose();
    return out;
  }
  for (const l of layers) {
    it(l.name, () => {
      const d = data(l);
      const want = grads(l, d, 'float64');
      sc._setConvAlgo('im2col');
      const im2col = grads(l, d, 'float32');
      sc._setConvAlgo('winograd');
      const winograd = grads(l, d, 'float32');
      for (const k of ['y', 'dx', 'dw'] as const) {
        const base = relativeL2(im2col[k], want[k]), ours = relativeL2(winograd[k], want[k]);
        expect(base, `im2col ${k}`).toBeLessThan(1e-6); // float32 rounding: the yardstick is sound
        expect(ours, `winograd ${k} (im2col ${base.toExponential(2)})`).toBeLessThan(64 * base);
      }
    }, 60_000);
  }
});
