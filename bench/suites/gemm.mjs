// SGEMM throughput: square sizes and the GEMM shapes of the VGG-on-CIFAR conv layers (batch
// 128, forward pass: M = C_out, K = C_in·9, N = 128·H·W), against numpy (OpenBLAS) with the
// same thread count.
import { min, runPeer, timeCalls } from './lib.mjs';

export const description = 'SGEMM GFLOP/s: square 256/1024/2048 and VGG-CIFAR conv shapes, vs numpy/OpenBLAS';

const vggLayers = [
  [3, 64, 32], [64, 64, 32], [64, 128, 16], [128, 128, 16], [128, 256, 8], [256, 256, 8],
];
const cases = [
  ...[256, 1024, 2048].map((s) => ({ name: `square ${s}`, shape: [s, s, s] })),
  ...vggLayers.map(([cin, cout, hw]) => ({ name: `VGG conv ${cin}->${cout} @${hw}x${hw}`, shape: [cout, cin * 9, 128 * hw * hw] })),
];

const gflops = (shape, seconds) => (2 * shape[0] * shape[1] * shape[2]) / seconds / 1e9;
const repsFor = (shape) => (shape[0] * shape[1] * shape[2] < 1e8 ? 30 : 5);

export const devices = ['cpu', 'cuda'];

export async function run({ sc, rounds, threads, log, device, sync }) {
  const rows = cases.map((c) => ({ name: c.name, metric: 'GFLOP/s', higherIsBetter: true, ours: [], peer: null }));
  for (let round = 0; round < rounds; round++) {
    cases.forEach((c, i) => {
      const [m, k, n] = c.shape;
      const a = sc.rand([m, k], { device }), b = sc.rand([k, n], { device });
      const out = sc.empty([m, n], 'float32', device);
      const seconds = min(timeCalls(() => sc._gemm(out, a, b, {}), { reps: repsFor(c.shape), sync }));
      rows[i].ours.push(gflops(c.shape, seconds));
      for (const t of [a, b, out]) t.dispose();
      sc.emptyCache(device);
    });
    if (device !== 'cpu') continue;
    const peer = runPeer('numpy_gemm.py', [JSON.stringify(cases.map((c) => c.shape)), String(5)], {
      OPENBLAS_NUM_THREADS: String(threads),
      OMP_NUM_THREADS: String(threads),
    });
    if (!peer.ok) log(`peer unavailable: ${peer.reason}`);
    cases.forEach((c, i) => {
      if (!peer.ok) return;
      rows[i].peer ??= { name: peer.json.peer, values: [] };
      rows[i].peer.values.push(gflops(c.shape, min(peer.json.results[i].seconds)));
    });
  }
  return rows;
}
