// Memory bandwidth of the streaming elementwise kernels (what DSC's depthwise half is bound
// by): relu reads and writes one tensor, add reads two and writes one. No peer.
import { min, timeCalls } from './lib.mjs';

export const description = 'elementwise GB/s: relu and add over 16M float32 (64 MiB per tensor)';
export const devices = ['cpu', 'cuda'];

const n = 16 << 20;
const cases = [
  { name: 'relu 16M', streams: 2, op: (sc, a) => sc.F.relu(a) },
  { name: 'add 16M', streams: 3, op: (sc, a, b) => a.add(b) },
];

export async function run({ sc, rounds, device, sync }) {
  const rows = cases.map((c) => ({ name: c.name, metric: 'GB/s', higherIsBetter: true, ours: [] }));
  const a = sc.rand([n], { device }), b = sc.rand([n], { device });
  for (let round = 0; round < rounds; round++)
    cases.forEach((c, i) => {
      const seconds = min(timeCalls(() => c.op(sc, a, b).dispose(), { reps: 10, sync }));
      rows[i].ours.push((c.streams * 4 * n) / seconds / 1e9);
    });
  a.dispose();
  b.dispose();
  return rows;
}
