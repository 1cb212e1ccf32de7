import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';

describe('tensor creation and data', () => {
  it('round-trips data for every dtype', () => {
    expect(Array.from(sc.tensor([1.5, -2, 3], [3]).toArray())).toEqual([1.5, -2, 3]);
    expect(sc.tensor([1, 2], [2], { dtype: 'float64' }).toArray()).toBeInstanceOf(Float64Array);
    expect(Array.from(sc.tensor(new Int32Array([7, -8]), [2]).toArray())).toEqual([7, -8]);
    expect(sc.tensor(new Uint8Array([255, 0]), [1, 2]).dtype).toBe('uint8');
    const t = sc.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.toList()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(sc.tensor([42], []).item()).toBe(42);
  });

  it('fills zeros, ones and constants', () => {
    expect(Array.from(sc.zeros([2, 2]).toArray())).toEqual([0, 0, 0, 0]);
    expect(Array.from(sc.ones([3], { dtype: 'int32' }).toArray())).toEqual([1, 1, 1]);
    expect(Array.from(sc.full([2], 2.5, { dtype: 'float64' }).toArray())).toEqual([2.5, 2.5]);
  });

  it('draws reproducible random numbers under manualSeed', () => {
    sc.manualSeed(123);
    const a = sc.randn([1000]).toArray();
    sc.manualSeed(123);
    const b = sc.randn([1000]).toArray();
    expect(Array.from(a)).toEqual(Array.from(b));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(Math.abs(variance - 1)).toBeLessThan(0.1);
    const u = sc.rand([1000], { low: 2, high: 3 }).toArray();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...u)).toBeLessThan(3);
    // The next draw continues the stream instead of repeating it.
    sc.manualSeed(123);
    sc.randn([10]);
    expect(sc.randn([10]).toArray()[0]).not.toBe(a[0]);
  });

  it('reshapes as a view with -1 inference', () => {
    const t = sc.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const r = t.reshape([3, -1]);
    expect(r.shape).toEqual([3, 2]);
    expect(Array.from(r.toArray())).toEqual([1, 2, 3, 4, 5, 6]);
    t.dispose();
    expect(Array.from(r.toArray())).toEqual([1, 2, 3, 4, 5, 6]); // the view keeps the memory alive
  });
});

describe('bad input', () => {
  it('rejects data that does not match the shape', () => {
    expect(() => sc.tensor([1, 2, 3], [2, 2])).toThrow('tensor: expected 4 elements for shape [2, 2] for data but received 3 elements');
  });
  it('rejects a bad dtype and grad on int tensors', () => {
    expect(() => sc.zeros([2], { dtype: 'float16' as never })).toThrow(/options\.dtype/);
    expect(() => sc.tensor([1], [1], { dtype: 'int32', requiresGrad: true })).toThrow(/requiresGrad/);
  });
  it('names the op and shapes when a disposed tensor is used', () => {
    const t = sc.ones([2, 3]);
    t.dispose();
    expect(() => t.toArray()).toThrow('toArray: the tensor of shape [2, 3] was already disposed');
    expect(() => sc.ones([2, 3]).add(t)).toThrow('add: expected a live Tensor for other but received a disposed tensor of shape [2, 3]');
  });
  it('rejects shapes that do not broadcast and int tensors in float ops', () => {
    expect(() => sc.ones([2, 3]).add(sc.ones([4]))).toThrow('add: expected a shape broadcastable with [2, 3] for other but received [4]');
    expect(() => sc.ones([2], { dtype: 'int32' }).mul(2)).toThrow('mul: expected a float32 or float64 tensor for input but received a int32 tensor of shape [2]');
    expect(() => sc.ones([2]).add(sc.ones([2], { dtype: 'float64' }))).toThrow('add: expected dtype float32 (the dtype of input) for other but received float64');
  });
  it('refuses backward on a non-scalar without a gradient', () => {
    const x = sc.ones([2, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow('backward: expected a gradient of shape [2, 2] (backward() without one needs a scalar) for grad but received none');
  });
  it('the native layer rejects out-of-range access instead of crashing', async () => {
    const { native } = await import('../dist/native.js');
    const h = native.alloc(16);
    expect(() => native.read(h, 8, 16)).toThrow('read: byte range [8, 24) is outside the tensor\'s 16 bytes');
    native.free(h);
    expect(() => native.read(h, 0, 4)).toThrow('read: the tensor\'s memory was already disposed');
  });
});

describe('memory', () => {
  it('dispose returns memory to the allocator and scope frees temporaries', () => {
    const before = sc.memoryStats().bytesInUse;
    const x = sc.ones([256, 256]);
    const y = sc.scope(() => x.mul(2).add(1).mul(3));
    expect(y.toArray()[0]).toBe(9);
    // Only x and y are alive: the two temporaries were freed when the scope returned.
    expect(sc.memoryStats().bytesInUse - before).toBe(2 * 256 * 256 * 4);
    x.dispose();
    y.dispose();
    expect(sc.memoryStats().bytesInUse).toBe(before);
  });

  it('backward frees the saved activations of the graph', () => {
    const w = sc.randn([64, 64], { requiresGrad: true });
    const before = sc.memoryStats().bytesInUse;
    const loss = sc.scope(() => w.mul(w).relu().mul(w).sum());
    loss.backward();
    loss.dispose();
    // What is left is w's gradient only.
    expect(sc.memoryStats().bytesInUse - before).toBe(64 * 64 * 4);
    expect(w.grad!.shape).toEqual([64, 64]);
  });
});

describe('backend', () => {
  it('reports the ISA path and thread count', () => {
    const b = sc.backend();
    expect(b.supportedIsas).toContain('scalar');
    expect(b.supportedIsas).toContain(b.isa);
    expect(b.threads).toBeGreaterThanOrEqual(1);
    expect(b.cuda).toBe(false);
  });
});

describe('profileKernels', () => {
  it('counts the native kernels a function runs, by op and shapes', () => {
    const x = sc.ones([4, 5]);
    const { result, stats } = sc.profileKernels(() => x.mul(2).add(1).mul(3).sum().item());
    expect(result).toBe(180);
    const affine = stats.find((s) => s.op === 'affine');
    expect(affine?.calls).toBe(3);
    expect(affine?.shapes).toBe('[4, 5] [4, 5]');
    expect(stats.some((s) => s.op === 'sum_to')).toBe(true);
    expect(sc.formatKernelProfile(stats)).toMatch(/^kernel time [\d.]+ ms\nby op:\n(.*\n)* {2}affine +[\d.]+ ms/);
    expect(() => sc.profileKernels(() => sc.profileKernels(() => 0))).toThrow('profileKernels: already profiling');
  });
});
