// The caching device allocator at the edge: out-of-memory on the emulated device (its
// capacity set to 16 MiB here) releases the cache and retries once, and a request that still
// does not fit throws an Error with the bytes requested and free, leaving the process usable.
// Emulator only: a real GPU's memory is not ours to exhaust in a test.
import './helpers/emu-16mib.js';
import { describeCuda, onRealDevice } from './helpers/cuda.js';
import { expect, it } from 'vitest';
import * as sc from '../dist/index.js';

const MiB = 1 << 20;

(onRealDevice ? describeCuda.skip : describeCuda)('device out-of-memory', () => {
  it('releases the cache and retries once before failing', () => {
    expect(sc.memoryStats('cuda').deviceTotal).toBe(16 * MiB);
    // 3 x 4 MiB freed into the cache, then 10 MiB (another size class) only fits without it.
    for (const t of [0, 1, 2].map(() => sc.empty([MiB], 'float32', 'cuda'))) t.dispose();
    expect(sc.memoryStats('cuda').bytesCached).toBe(12 * MiB);
    const before = sc.memoryStats('cuda').oomRetries!;
    const big = sc.empty([2.5 * MiB], 'float32', 'cuda');
    expect(sc.memoryStats('cuda').oomRetries).toBe(before + 1);
    expect(sc.memoryStats('cuda').bytesCached).toBe(0);
    big.dispose();
  });

  it('names the bytes requested and free, and the process goes on', () => {
    const held = sc.empty([3 * MiB], 'float32', 'cuda'); // 12 MiB live
    expect(() => sc.zeros([2 * MiB], { device: 'cuda' })).toThrow(
      /^alloc: cuda: out of memory: could not allocate 8388608 bytes \(\d+ bytes free of 16777216 on the device; 12582912 bytes held by live tensors, the cache was released\)$/,
    );
    held.dispose();
    const after = sc.ones([2 * MiB], { device: 'cuda' });
    expect(after.sum().item()).toBe(2 * MiB);
    after.dispose();
  });
});
