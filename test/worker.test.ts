// The addon is context-aware: each worker_thread gets its own allocator and thread pool.
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const indexUrl = new URL('../dist/index.js', import.meta.url).href;

function runWorker(seed: number): Promise<{ sum: number; isa: string }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.indexUrl).then((sc) => {
      sc.manualSeed(workerData.seed);
      let total = 0;
      for (let i = 0; i < 50; i++) {
        const w = sc.randn([128, 128], { requiresGrad: true });
        const loss = w.mul(w).relu().mean();
        loss.backward();
        total += w.grad.sum().item();
        w.dispose(); loss.dispose();
      }
      parentPort.postMessage({ sum: total, isa: sc.backend().isa });
    }).catch((e) => { throw e; });
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { indexUrl, seed } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
  });
}

describe('worker_threads', () => {
  it('two workers use the addon at once and get the same results as one alone', async () => {
    const [a, b] = await Promise.all([runWorker(7), runWorker(7)]);
    const alone = await runWorker(7);
    expect(a.sum).toBe(alone.sum);
    expect(b.sum).toBe(alone.sum);
    expect(a.isa).toBe(alone.isa);
    expect(fileURLToPath(indexUrl)).toMatch(/dist/);
  });
});
