/**
 * interpolate (nearest, bilinear), avgPool2d and adaptiveAvgPool2d against naive float64
 * references written from PyTorch's formulas, forward and backward, on every ISA.
 *
 * Each op is linear in its input, so a reference (test/helpers/op-references.ts) lists for
 * every output pixel the input pixels it reads and their weights: the forward sums them, the
 * backward scatters the output gradient through the same list.
 */
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { expectClose, gradcheck, randomArray } from './helpers/gradcheck.js';
import { adaptiveAvgPoolMap, avgPoolMap, pooledSize, upsampleMap } from './helpers/op-references.js';
import type { LinearMap } from './helpers/op-references.js';

interface Reference {
  outShape: number[];
  forward(x: Float64Array): Float64Array;
  backward(g: Float64Array): Float64Array;
}

function linearReference(shape: number[], oh: number, ow: number, map: LinearMap): Reference {
  return { outShape: [shape[0]!, shape[1]!, oh, ow], forward: (x) => map.apply(x).values, backward: (g) => map.transpose(g).values };
}

function interpolateReference(shape: number[], opts: sc.F.InterpolateOptions): Reference {
  const [h, w] = [shape[2]!, shape[3]!];
  const sf = opts.scaleFactor === undefined ? undefined : typeof opts.scaleFactor === 'number' ? [opts.scaleFactor, opts.scaleFactor] : opts.scaleFactor;
  const size = opts.size === undefined ? undefined : typeof opts.size === 'number' ? [opts.size, opts.size] : opts.size;
  const [oh, ow] = size ?? [Math.floor(h * sf![0]!), Math.floor(w * sf![1]!)];
  // The kernel's ratio params: 1 / scaleFactor, or 0 (from the sizes).
  const ratio = sf !== undefined && !opts.recomputeScaleFactor ? sf.map((f) => 1 / f) : [0, 0];
  const params = [opts.mode === 'bilinear' ? 1 : 0, opts.alignCorners ? 1 : 0, ...ratio];
  return linearReference(shape, oh!, ow!, upsampleMap(shape, oh!, ow!, params));
}

interface PoolCase {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  ceilMode: boolean;
  countIncludePad: boolean;
  divisorOverride?: number;
}

function avgPoolReference(shape: number[], p: PoolCase): Reference {
  const [oh, ow] = [0, 1].map((d) => pooledSize(shape[2 + d]!, p.kernel[d]!, p.stride[d]!, p.padding[d]!, 1, p.ceilMode));
  const params = [...p.kernel, ...p.stride, ...p.padding, p.countIncludePad ? 1 : 0, p.divisorOverride ?? 0];
  return linearReference(shape, oh!, ow!, avgPoolMap(shape, oh!, ow!, params));
}

function adaptiveReference(shape: number[], oh: number, ow: number): Reference {
  return linearReference(shape, oh, ow, adaptiveAvgPoolMap(shape, oh, ow));
}

/** Runs `op` forward and backward in every ISA and both dtypes and compares with `ref`. */
function checkAgainst(ref: Reference, shape: number[], op: (x: sc.Tensor) => sc.Tensor, seed: number): void {
  const numel = shape.reduce((a, b) => a * b, 1);
  const x = randomArray(numel, seed);
  const g = randomArray(ref.outShape.reduce((a, b) => a * b, 1), seed + 1);
  const y64 = ref.forward(x), dx64 = ref.backward(g);
  for (const isa of sc.backend().supportedIsas) {
    sc._setIsa(isa);
    for (const dtype of ['float32', 'float64'] as const) {
      const [atol, rtol] = dtype === 'float32' ? [1e-5, 1e-5] : [1e-12, 1e-12];
      const xt = sc.tensor(x, shape, { dtype, requiresGrad: true });
      const y = op(xt);
      expect(y.shape, `${isa} ${dtype}`).toEqual(ref.outShape);
      expectClose(y.toArray(), y64, atol, rtol);
      y.backward(sc.tensor(g, ref.outShape, { dtype }));
      expectClose(xt.grad!.toArray(), dx64, atol, rtol);
    }
  }
  sc._setIsa(sc.backend().supportedIsas[0]!);
}

const shapes: number[][] = [
  [1, 1, 1, 1],
  [1, 1, 3, 5],
  [2, 3, 7, 4],
  [1, 2, 9, 9],
  [2, 1, 5, 37], // a width past one AVX-512 vector plus a tail
  [1, 2, 3, 70], // past four AVX-512 vectors (the unrolled row loop) plus a tail
];

describe('interpolate', () => {
  it('nearest matches the reference for integer and fractional scales and explicit sizes', () => {
    let seed = 1;
    const options: sc.F.InterpolateOptions[] = [
      { scaleFactor: 2 },
      { scaleFactor: 3 },
      { scaleFactor: 1.5 },
      { scaleFactor: [2, 0.5] },
      { scaleFactor: 1.7, recomputeScaleFactor: true },
      { size: [5, 3] },
      { size: 11 },
      { size: [2, 13] },
    ];
    for (const shape of shapes)
      for (const opts of options) {
        if (Math.floor(shape[3]! * 0.5) === 0 && Array.isArray(opts.scaleFactor)) continue; // W * 0.5 < 1
        checkAgainst(interpolateReference(shape, opts), shape, (x) => sc.F.interpolate(x, opts), seed++);
      }
  });

  it('bilinear matches the reference with alignCorners false and true', () => {
    let seed = 100;
    for (const alignCorners of [false, true])
      for (const shape of shapes)
        for (const base of [{ scaleFactor: 2 }, { scaleFactor: 2.5 }, { scaleFactor: [1.5, 3] as [number, number] }, { size: [4, 6] as [number, number] }, { size: [1, 1] as [number, number] }, { size: [13, 9] as [number, number] }]) {
          const opts: sc.F.InterpolateOptions = { ...base, mode: 'bilinear', alignCorners };
          checkAgainst(interpolateReference(shape, opts), shape, (x) => sc.F.interpolate(x, opts), seed++);
        }
  });

  it("keeps PyTorch's single-precision nearest index where exact arithmetic picks another pixel", () => {
    // Checked against torch 1.13: 2 -> 82 maps output 41 to source 0 (41 * f32(2/82) < 1), and
    // 31 with scale 1.3 maps output 39 to source 30 (f32(1/1.3) rounds up), for float64 too.
    const row = (n: number, dtype: sc.DType) => sc.tensor(Float64Array.from({ length: n }, (_, i) => i), [1, 1, 1, n], { dtype });
    for (const dtype of ['float32', 'float64'] as const) {
      expect(sc.F.interpolate(row(2, dtype), { size: [1, 82] }).toArray()[41]).toBe(0);
      expect(sc.F.interpolate(row(31, dtype), { scaleFactor: [1, 1.3] }).toArray()[39]).toBe(30);
    }
    expect(Math.floor((41 * 2) / 82)).toBe(1); // what exact arithmetic would pick
    expect(Math.floor(39 * (1 / 1.3))).toBe(29); // float64 scale
  });

  it('matches PyTorch on small hand-checked cases', () => {
    const x = sc.tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    expect(sc.F.interpolate(x, { scaleFactor: 2 }).toList()).toEqual([[[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]]);
    // torch.nn.functional.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)
    expect(sc.F.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }).toList()).toEqual([[[
      [1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5], [3, 3.25, 3.75, 4],
    ]]]);
    // ... and align_corners=True: the corners map onto each other.
    const aligned = sc.F.interpolate(x, { size: 3, mode: 'bilinear', alignCorners: true });
    expect(aligned.toList()).toEqual([[[[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]]]]);
  });

  it('passes float64 gradient checks', () => {
    gradcheck((x) => sc.F.interpolate(x!, { scaleFactor: 2 }), [{ data: randomArray(2 * 3 * 3, 7), shape: [1, 2, 3, 3] }]);
    gradcheck((x) => sc.F.interpolate(x!, { size: [5, 4], mode: 'bilinear' }), [{ data: randomArray(2 * 3 * 3, 8), shape: [2, 1, 3, 3] }]);
    gradcheck((x) => sc.F.interpolate(x!, { scaleFactor: 1.5, mode: 'bilinear', alignCorners: true }), [{ data: randomArray(12, 9), shape: [1, 1, 3, 4] }]);
  });

  it('rejects bad arguments with messages naming them', () => {
    const x = sc.ones([1, 1, 4, 4]);
    expect(() => sc.F.interpolate(sc.ones([4, 4]), { scaleFactor: 2 })).toThrow(
      'interpolate: expected a 4-D tensor (N, C, H, W) for input but received shape [4, 4]',
    );
    expect(() => sc.F.interpolate(x, {})).toThrow('interpolate: expected exactly one of size and scaleFactor for options but received neither');
    expect(() => sc.F.interpolate(x, { size: 2, scaleFactor: 2 })).toThrow(
      'interpolate: expected exactly one of size and scaleFactor for options but received both',
    );
    expect(() => sc.F.interpolate(x, { scaleFactor: 2, mode: 'bicubic' as never })).toThrow(
      "interpolate: expected 'nearest' or 'bilinear' for options.mode but received 'bicubic'",
    );
    expect(() => sc.F.interpolate(x, { scaleFactor: 2, alignCorners: true })).toThrow(
      "interpolate: expected undefined with mode 'nearest' (it applies to 'bilinear' only) for options.alignCorners but received true",
    );
    expect(() => sc.F.interpolate(x, { scaleFactor: 2, mode: 'bilinear', alignCorners: 1 as never })).toThrow(
      'interpolate: expected a boolean for options.alignCorners but received 1',
    );
    expect(() => sc.F.interpolate(sc.ones([1, 1, 4, 4], { dtype: 'int32' }), { scaleFactor: 2 })).toThrow(
      'interpolate: expected a float32 or float64 tensor for input but received a int32 tensor of shape [1, 1, 4, 4]',
    );
    expect(() => sc.F.interpolate(x, { scaleFactor: -1 })).toThrow(
      'interpolate: expected a positive number or a pair [h, w] of them for options.scaleFactor but received -1',
    );
    expect(() => sc.F.interpolate(x, { scaleFactor: 0.1 })).toThrow(
      'interpolate: expected a factor giving an output of at least 1x1 for input [1, 1, 4, 4] for options.scaleFactor but received 0.1 (output [0, 0])',
    );
    expect(() => sc.F.interpolate(x, { size: [0, 3] })).toThrow(
      'interpolate: expected an integer >= 1 or a pair [h, w] of them for options.size but received array of length 2',
    );
  });
});

const poolCases: PoolCase[] = [
  { kernel: [2, 2], stride: [2, 2], padding: [0, 0], ceilMode: false, countIncludePad: true },
  { kernel: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: false, countIncludePad: true },
  { kernel: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: false, countIncludePad: false },
  { kernel: [3, 2], stride: [2, 1], padding: [1, 0], ceilMode: true, countIncludePad: true },
  { kernel: [2, 3], stride: [3, 2], padding: [1, 1], ceilMode: true, countIncludePad: false },
  { kernel: [3, 3], stride: [1, 1], padding: [1, 1], ceilMode: false, countIncludePad: true, divisorOverride: 5 },
  { kernel: [1, 1], stride: [2, 2], padding: [0, 0], ceilMode: true, countIncludePad: true },
];

describe('avgPool2d', () => {
  it('matches the reference with padding, strides, ceil mode and both divisor rules', () => {
    let seed = 200;
    for (const shape of [[1, 1, 3, 5], [2, 3, 7, 4], [1, 2, 9, 9], [2, 1, 6, 37], [1, 1, 2, 2], [1, 2, 4, 70]])
      for (const p of poolCases) {
        const ref = avgPoolReference(shape, p);
        if (ref.outShape[2]! < 1 || ref.outShape[3]! < 1) continue;
        const opts = { kernelSize: p.kernel, stride: p.stride, padding: p.padding, ceilMode: p.ceilMode, countIncludePad: p.countIncludePad, divisorOverride: p.divisorOverride };
        checkAgainst(ref, shape, (x) => sc.F.avgPool2d(x, opts), seed++);
      }
  });

  it('defaults stride to the kernel size and counts padding', () => {
    const x = sc.tensor(Float32Array.from({ length: 16 }, (_, i) => i), [1, 1, 4, 4]);
    expect(sc.F.avgPool2d(x, { kernelSize: 2 }).toList()).toEqual([[[[2.5, 4.5], [10.5, 12.5]]]]);
    // torch: F.avg_pool2d(x, 3, 2, 1) -> corner window holds 4 real pixels of 9
    expect(sc.F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }).toArray()[0]).toBeCloseTo((0 + 1 + 4 + 5) / 9, 6);
    expect(sc.F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }).toArray()[0]).toBeCloseTo(2.5, 6);
  });

  it('passes float64 gradient checks', () => {
    gradcheck((x) => sc.F.avgPool2d(x!, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [{ data: randomArray(2 * 5 * 6, 21), shape: [1, 2, 5, 6] }]);
    gradcheck((x) => sc.F.avgPool2d(x!, { kernelSize: [2, 3], stride: 1 }), [{ data: randomArray(4 * 5, 22), shape: [1, 1, 4, 5] }]);
  });

  it('rejects bad arguments with messages naming them', () => {
    const x = sc.ones([1, 1, 4, 4]);
    expect(() => sc.F.avgPool2d(x, { kernelSize: 0 })).toThrow('avgPool2d: expected an integer >= 1 or a pair [h, w] of them for options.kernelSize but received 0');
    expect(() => sc.F.avgPool2d(x, { kernelSize: 3, padding: 2 })).toThrow('avgPool2d: expected at most half of kernelSize [3, 3] for options.padding but received [2, 2]');
    expect(() => sc.F.avgPool2d(x, { kernelSize: 5 })).toThrow(
      'avgPool2d: expected H and W that give an output of at least 1x1 (kernelSize [5, 5], padding [0, 0]) for input but received shape [1, 1, 4, 4] (output would be 0x0)',
    );
    expect(() => sc.F.avgPool2d(x, { kernelSize: 2, divisorOverride: 0 })).toThrow('avgPool2d: expected a positive integer for options.divisorOverride but received 0');
    expect(() => sc.F.avgPool2d(x, { kernelSize: 2, ceilMode: 1 as never })).toThrow('avgPool2d: expected a boolean for options.ceilMode but received 1');
    expect(() => sc.F.avgPool2d(sc.ones([4, 4, 4]), { kernelSize: 2 })).toThrow('avgPool2d: expected a 4-D tensor (N, C, H, W) for input but received shape [4, 4, 4]');
  });
});

describe('adaptiveAvgPool2d', () => {
  it('matches the reference for shrinking, growing and global pooling', () => {
    let seed = 300;
    for (const shape of [[1, 1, 1, 1], [2, 3, 7, 4], [1, 2, 9, 9], [2, 1, 6, 37], [1, 1, 10, 3], [1, 2, 4, 70]])
      for (const [oh, ow] of [[1, 1], [2, 3], [3, 3], [5, 7], [4, 2], [11, 1]]) {
        checkAgainst(adaptiveReference(shape, oh!, ow!), shape, (x) => sc.F.adaptiveAvgPool2d(x, [oh!, ow!]), seed++);
      }
  });

  it('takes one number for both sizes and null to keep a size', () => {
    const x = sc.rand([2, 3, 6, 5]);
    expect(sc.F.adaptiveAvgPool2d(x, 1).shape).toEqual([2, 3, 1, 1]);
    expect(sc.F.adaptiveAvgPool2d(x, [null, 2]).shape).toEqual([2, 3, 6, 2]);
    const mean = x.mean([2, 3]).toArray();
    expectClose(sc.F.adaptiveAvgPool2d(x, 1).toArray(), mean, 1e-6, 1e-5);
  });

  it('passes float64 gradient checks', () => {
    gradcheck((x) => sc.F.adaptiveAvgPool2d(x!, [3, 2]), [{ data: randomArray(2 * 7 * 5, 31), shape: [1, 2, 7, 5] }]);
  });

  it('rejects bad arguments with messages naming them', () => {
    expect(() => sc.F.adaptiveAvgPool2d(sc.ones([1, 1, 4, 4]), 0)).toThrow(
      'adaptiveAvgPool2d: expected an integer >= 1 or a pair [h, w] of them for outputSize but received 0',
    );
    expect(() => sc.F.adaptiveAvgPool2d(sc.ones([1, 1, 0, 4]), 2)).toThrow('adaptiveAvgPool2d: expected a non-empty H and W for input but received shape [1, 1, 0, 4]');
  });
});

describe('parallel backward', () => {
  it('gives bit-identical gradients for 1 and 3 threads', () => {
    const x = sc.randn([3, 5, 24, 31], { requiresGrad: true });
    const g = sc.randn([3, 5, 48, 62]);
    const run = (threads: number) => {
      sc.setNumThreads(threads);
      x.grad = null;
      sc.F.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }).backward(g);
      const bilinear = Array.from(x.grad!.toArray());
      x.grad = null;
      sc.F.avgPool2d(sc.F.interpolate(x, { scaleFactor: 2 }), { kernelSize: 3, stride: 1, padding: 1 }).backward(g);
      return [bilinear, Array.from(x.grad!.toArray())];
    };
    const threads = sc.backend().threads;
    const one = run(1);
    expect(run(3)).toEqual(one);
    sc.setNumThreads(threads);
  });
});
