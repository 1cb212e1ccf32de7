// Device tensors: moving data to and from the CUDA device (emulated unless
// SEPCONV_TEST_CUDA=device), autograd across devices, the errors for mixed devices and for a
// missing build or device, and the caching device allocator.
import { cudaDevice, describeCuda, deviceLibrary, onRealDevice } from './helpers/cuda.js';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { native } from '../dist/native.js';

/** Runs `code` (an ES module body with `sc` imported) in a fresh Node with `env`; returns its stdout. */
function runNode(code: string, env: Record<string, string>): string {
  const script = `import * as sc from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};\n${code}`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
  expect(result.stderr).toBe('');
  return result.stdout.trim();
}

const tryMove = `try { sc.ones([2]).to('cuda'); console.log('moved'); } catch (e) { console.log(e.message); }
console.log(JSON.stringify(sc.backend().cuda));`;

describe('CUDA availability errors', () => {
  it('a missing CUDA build: .to(cuda) says the backend is not built and how to build it', () => {
    const [message, cuda] = runNode(tryMove, { SEPCONV_CUDA_LIB: '/nonexistent/libsepconv_cuda.so' }).split('\n');
    expect(cuda).toBe('false');
    expect(message).toMatch(/^to\('cuda'\): cannot use device 'cuda': this build has no usable CUDA backend: could not load \/nonexistent\/libsepconv_cuda\.so/);
    expect(message).toContain('npm run build:cuda');
  });

  it.skipIf(onRealDevice || !existsSync(deviceLibrary))('the real CUDA build without a GPU: .to(cuda) says no device is visible', () => {
    const [message, cuda] = runNode(tryMove, { SEPCONV_CUDA_LIB: deviceLibrary }).split('\n');
    expect(cuda).toBe('false');
    expect(message).toMatch(/^to\('cuda'\): cannot use device 'cuda': no CUDA device is visible/);
  });
});

describeCuda('device tensors', () => {
  it('reports the device', () => {
    expect(sc.backend().cuda).toBe(true);
    expect(cudaDevice!.name.length).toBeGreaterThan(0);
    expect(cudaDevice!.emulated).toBe(!onRealDevice);
  });

  it('has a CUDA kernel for every op of the op list', () => {
    const missing = native.opNames().filter((name, id) => !native.cudaOpSupported(id));
    expect(missing).toEqual([]);
  });

  it('round-trips every dtype, views at an offset, and empty tensors', () => {
    const cases = [
      sc.tensor(Float32Array.from({ length: 1031 }, (_, i) => Math.sin(i))),
      sc.tensor(Float64Array.from({ length: 17 }, (_, i) => 1 / (i + 1)), [17]),
      sc.tensor(Int32Array.from({ length: 12 }, (_, i) => i * 1000 - 5000), [3, 4]),
      sc.tensor(Uint8Array.from({ length: 9 }, (_, i) => i * 28), [3, 3]),
      sc.zeros([0, 3]),
    ];
    for (const t of cases) {
      const d = t.to('cuda');
      expect(d.device).toBe('cuda');
      expect(d.shape).toEqual(t.shape);
      expect(d.dtype).toBe(t.dtype);
      expect(d.toArray()).toEqual(t.toArray());
      const back = d.to('cpu');
      expect(back.device).toBe('cpu');
      expect(back.toArray()).toEqual(t.toArray());
    }
    const rows = sc.split(sc.tensor([1, 2, 3, 4, 5, 6], [3, 2]), 1, 0)[2]!;
    expect(rows.to('cuda').toArray()).toEqual(Float32Array.from([5, 6]));
  });

  it('to() on the same device returns the tensor itself; created-on-device tensors stay there', () => {
    const x = sc.randn([4], { device: 'cuda' });
    expect(x.to('cuda')).toBe(x);
    expect(sc.zerosLike(x).device).toBe('cuda');
    expect(x.add(1).mul(x).sum().device).toBe('cuda');
  });

  it('gradients flow back across .to()', () => {
    const w = sc.tensor([1, -2, 3], [3], { requiresGrad: true });
    const y = w.to('cuda').mul(w.to('cuda')).sum();
    expect(y.device).toBe('cuda');
    y.backward();
    expect(w.grad!.device).toBe('cpu');
    expect(Array.from(w.grad!.toArray())).toEqual([2, -4, 6]);
  });

  it('mixing devices in one op names the op and both devices', () => {
    const a = sc.ones([2, 3]);
    const b = sc.ones([2, 3], { device: 'cuda' });
    expect(() => a.add(b)).toThrow(/^add: expected a tensor on cpu .* but received a tensor on cuda/);
    expect(() => sc.F.conv2d(sc.ones([1, 1, 3, 3], { device: 'cuda' }), sc.ones([1, 1, 1, 1]))).toThrow(/conv2d.*cpu.*cuda|conv2d.*cuda.*cpu/);
  });

  it('bad values found by a kernel on the device are an Error naming the op, as on the CPU', () => {
    const message = (device: sc.Device): string => {
      try {
        sc.F.crossEntropy(sc.zeros([2, 3], { device }), sc.tensor([1, 7], [2], { dtype: 'int32', device }));
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(message('cpu')).toMatch(/^cross_?[eE]ntropy/);
    expect(message('cuda')).toBe(message('cpu'));
    expect(sc.ones([2], { device: 'cuda' }).sum().item()).toBe(2); // the device is still usable
  });

  it('the allocator reuses freed blocks instead of calling cudaMalloc per op', () => {
    const x = sc.randn([64, 257], { device: 'cuda' });
    const step = (): void => sc.scope(() => void x.mul(2).add(x).relu().sum().item());
    step();
    const before = sc.memoryStats('cuda');
    for (let i = 0; i < 20; i++) step();
    const after = sc.memoryStats('cuda');
    expect(after.allocations! - before.allocations!).toBeGreaterThanOrEqual(20 * 4);
    expect(after.deviceMallocs).toBe(before.deviceMallocs);
    expect(after.bytesInUse).toBe(before.bytesInUse);
    sc.emptyCache('cuda');
    expect(sc.memoryStats('cuda').bytesCached).toBe(0);
  });
});
