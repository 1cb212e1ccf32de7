/** cat, narrow, split and chunk against index arithmetic written in the test. */
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { gradcheck, randomArray } from './helpers/gradcheck.js';

/** Naive concatenation of row-major arrays along `dim`. */
function catReference(parts: { data: ArrayLike<number>; shape: number[] }[], dim: number): number[] {
  const outer = parts[0]!.shape.slice(0, dim).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++)
    for (const p of parts) {
      const block = p.shape.slice(dim).reduce((a, b) => a * b, 1);
      for (let i = 0; i < block; i++) out.push(p.data[o * block + i]!);
    }
  return out;
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

describe('cat', () => {
  it('joins along every dim, for every dtype, matching a naive reference', () => {
    const base = [2, 3, 4, 5];
    let seed = 1;
    for (const dtype of ['float32', 'float64', 'int32', 'uint8'] as const)
      for (let dim = 0; dim < base.length; dim++) {
        const parts = [1, 3, 2].map((size) => {
          const shape = base.map((d, i) => (i === dim ? size : d));
          const data = Array.from(randomArray(numel(shape), seed++), (v) => Math.round(v * 100 + 100));
          return { data, shape, t: sc.tensor(data, shape, { dtype }) };
        });
        const out = sc.cat(parts.map((p) => p.t), dim - base.length); // negative dims count from the end
        expect(out.shape).toEqual(base.map((d, i) => (i === dim ? 6 : d)));
        expect(out.dtype).toBe(dtype);
        expect(Array.from(out.toArray())).toEqual(catReference(parts, dim));
      }
  });

  it('skips empty pieces and copies a single tensor', () => {
    const a = sc.tensor([1, 2, 3, 4], [2, 2]);
    expect(sc.cat([a, sc.zeros([2, 0]), a], 1).toList()).toEqual([[1, 2, 1, 2], [3, 4, 3, 4]]);
    const copy = sc.cat([a]);
    a.dispose();
    expect(copy.toList()).toEqual([[1, 2], [3, 4]]);
  });

  it('copies large slices across threads, split mid-slice', () => {
    const a = sc.randn([3, 70_000]), b = sc.randn([3, 50_000]);
    const out = sc.cat([a, b], 1).toArray();
    const [da, db] = [a.toArray(), b.toArray()];
    let mismatches = 0;
    for (let row = 0; row < 3; row++) {
      for (let i = 0; i < 70_000; i++) if (out[row * 120_000 + i] !== da[row * 70_000 + i]) mismatches++;
      for (let i = 0; i < 50_000; i++) if (out[row * 120_000 + 70_000 + i] !== db[row * 50_000 + i]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('passes gradients back as slices', () => {
    gradcheck((a, b, c) => sc.cat([a!, b!, c!], 1), [
      { data: randomArray(2 * 1 * 3, 5), shape: [2, 1, 3] },
      { data: randomArray(2 * 4 * 3, 6), shape: [2, 4, 3] },
      { data: randomArray(2 * 2 * 3, 7), shape: [2, 2, 3] },
    ]);
    // Only the inputs that require grad get one.
    const a = sc.ones([2, 2], { requiresGrad: true }), b = sc.ones([2, 3]);
    sc.cat([a, b], 1).mul(sc.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 5])).sum().backward();
    expect(a.grad!.toList()).toEqual([[1, 2], [6, 7]]);
    expect(b.grad).toBeNull();
  });

  it('rejects mismatched inputs with messages naming them', () => {
    const a = sc.ones([2, 3, 4]);
    expect(() => sc.cat([], 0)).toThrow('cat: expected a non-empty array of Tensors for tensors but received array of length 0');
    expect(() => sc.cat([a, sc.ones([2, 5, 5])], 1)).toThrow("cat: expected shape [2, *, 4] (tensors[0]'s except at dim 1) for tensors[1] but received [2, 5, 5]");
    expect(() => sc.cat([a, sc.ones([2, 3])], 0)).toThrow("cat: expected shape [*, 3, 4] (tensors[0]'s except at dim 0) for tensors[1] but received [2, 3]");
    expect(() => sc.cat([a, sc.ones([2, 3, 4], { dtype: 'float64' })])).toThrow(
      'cat: expected dtype float32 (the dtype of tensors[0]) for tensors[1] but received float64',
    );
    expect(() => sc.cat([a, a], 3)).toThrow('cat: expected an integer in [-3, 2] for dim but received 3');
    expect(() => sc.cat([a, 5 as never])).toThrow('cat: expected a Tensor for tensors[1] but received 5');
    expect(() => sc.cat([sc.tensor([1], [])])).toThrow('cat: expected a tensor with at least one dim for tensors[0] but received a 0-D tensor');
  });
});

describe('narrow, split, chunk', () => {
  const x = () => sc.tensor(Float64Array.from({ length: 2 * 5 * 3 }, (_, i) => i), [2, 5, 3]);

  it('narrow copies a slice; a negative start counts from the end', () => {
    expect(sc.F.narrow(x(), 1, 1, 2).toList()).toEqual([[[3, 4, 5], [6, 7, 8]], [[18, 19, 20], [21, 22, 23]]]);
    expect(sc.F.narrow(x(), -1, -1, 1).toList()).toEqual(sc.F.narrow(x(), 2, 2, 1).toList());
    expect(sc.F.narrow(x(), 0, 2, 0).shape).toEqual([0, 5, 3]);
  });

  it('split by size and by sections, chunk by count, as torch.split/torch.chunk', () => {
    expect(sc.split(x(), 2, 1).map((t) => t.shape)).toEqual([[2, 2, 3], [2, 2, 3], [2, 1, 3]]);
    const [a, b] = sc.split(x(), [1, 4], 1);
    expect(a!.toList()).toEqual([[[0, 1, 2]], [[15, 16, 17]]]);
    expect(b!.shape).toEqual([2, 4, 3]);
    expect(sc.chunk(x(), 4, 1).map((t) => t.shape[1])).toEqual([2, 2, 1]); // torch gives 3 pieces too
    expect(sc.chunk(x(), 2, -1).map((t) => t.shape[2])).toEqual([2, 1]);
    expect(sc.split(sc.zeros([0, 2]), 3).map((t) => t.shape)).toEqual([[0, 2]]);
    expect(sc.chunk(sc.zeros([0, 2]), 2).map((t) => t.shape)).toEqual([[0, 2], [0, 2]]);
    expect(sc.cat(sc.split(x(), [2, 0, 3], 1), 1).toList()).toEqual(x().toList());
  });

  it('pieces pass gradients back to their slice of the input', () => {
    gradcheck((t) => sc.F.narrow(t!, 1, 1, 3), [{ data: randomArray(2 * 5 * 3, 11), shape: [2, 5, 3] }]);
    gradcheck((t) => {
      const [p, q, r] = sc.split(t!, [2, 1, 2], 1);
      return sc.cat([r!.mul(q!.sum()), p!.mul(2)], 1);
    }, [{ data: randomArray(2 * 5 * 3, 12), shape: [2, 5, 3] }]);
  });

  it('rejects bad arguments with messages naming them', () => {
    expect(() => sc.F.narrow(x(), 1, 4, 2)).toThrow('narrow: expected an integer in [0, 1] (dim 1 has 5 entries from 4) for length but received 2');
    expect(() => sc.F.narrow(x(), 1, 6, 0)).toThrow('narrow: expected an integer in [-5, 5] (the size of dim 1) for start but received 6');
    expect(() => sc.split(x(), [2, 2], 1)).toThrow('split: expected sizes >= 0 adding up to 5 (the size of dim 1) for splitSizeOrSections but received [2, 2]');
    expect(() => sc.split(x(), 0, 1)).toThrow('split: expected a positive integer or an array of sizes for splitSizeOrSections but received 0');
    expect(() => sc.chunk(x(), 0)).toThrow('chunk: expected a positive integer for chunks but received 0');
  });
});
