// Convolution forward+backward (gradients of input, weight and bias, as for a layer inside a
// network): a regular Conv2d(64->128, 3x3, pad 1) against its depthwise separable
// replacement, depthwise(64, 3x3) + pointwise(64->128), on a 32x64x32x32 input, next to
// PyTorch CPU (NCHW and channels_last) with the same thread count.
import { min, runPeer, timeCalls } from './lib.mjs';

export const description = 'conv 3x3 64->128 vs depthwise+pointwise fwd+bwd ms on 32x64x32x32, vs PyTorch CPU';

const input = [32, 64, 32, 32];
const cases = [
  { name: 'conv3x3 64->128', layers: [{ in: 64, out: 128, k: 3, padding: 1, groups: 1, bias: true }] },
  {
    name: 'dw3x3(64)+pw(64->128)',
    layers: [
      { in: 64, out: 64, k: 3, padding: 1, groups: 64, bias: false },
      { in: 64, out: 128, k: 1, padding: 0, groups: 1, bias: true },
    ],
  },
];

function model(sc, layers) {
  const params = layers.map((l) => ({
    ...l,
    w: sc.randn([l.out, l.in / l.groups, l.k, l.k], { requiresGrad: true, std: 0.05 }),
    b: l.bias ? sc.zeros([l.out], { requiresGrad: true }) : null,
  }));
  const forward = (x) => params.reduce((h, p) => sc.F.conv2d(h, p.w, p.b, { padding: p.padding, groups: p.groups }), x);
  const clearGrads = () => {
    for (const p of params) for (const t of [p.w, p.b]) if (t?.grad) (t.grad.dispose(), (t.grad = null));
  };
  return { forward, clearGrads };
}

export async function run({ sc, rounds, threads, log }) {
  const rows = [];
  const row = (name) => {
    const r = { name, metric: 'ms', higherIsBetter: false, ours: [], peer: null };
    rows.push(r);
    return r;
  };
  const fwdRows = cases.map((c) => row(`${c.name} forward`));
  const bothRows = cases.map((c) => row(`${c.name} forward+backward`));
  const lastRows = cases.map((c) => row(`${c.name} forward+backward (peer channels_last)`));
  for (let round = 0; round < rounds; round++) {
    cases.forEach((c, i) => {
      const { forward, clearGrads } = model(sc, c.layers);
      const x = sc.randn(input, { requiresGrad: true });
      const g = sc.noGrad(() => sc.scope(() => forward(x).keep()));
      const fwd = () => sc.noGrad(() => sc.scope(() => void forward(x)));
      const fwdbwd = () =>
        sc.scope(() => {
          if (x.grad) (x.grad.dispose(), (x.grad = null));
          clearGrads();
          forward(x).backward(g);
        });
      fwdRows[i].ours.push(1e3 * min(timeCalls(fwd, { reps: 5 })));
      const both = 1e3 * min(timeCalls(fwdbwd, { reps: 5 }));
      bothRows[i].ours.push(both);
      lastRows[i].ours.push(both);
    });
    const peer = runPeer('torch_conv.py', [String(threads), '5', JSON.stringify(cases.map((c) => ({ ...c, input })))], {
      OMP_NUM_THREADS: String(threads),
    });
    if (!peer.ok) {
      log(`peer unavailable: ${peer.reason}`);
      continue;
    }
    cases.forEach((c, i) => {
      const nchw = peer.json.results.find((r) => r.name === c.name && r.layout === 'nchw');
      const last = peer.json.results.find((r) => r.name === c.name && r.layout === 'channels_last');
      const add = (r, values, layout) => {
        r.peer ??= { name: `${peer.json.peer} ${layout}`, values: [] };
        r.peer.values.push(1e3 * min(values));
      };
      add(fwdRows[i], nchw.fwd, 'NCHW');
      add(bothRows[i], nchw.fwdbwd, 'NCHW');
      add(lastRows[i], last.fwdbwd, 'channels_last');
    });
  }
  return rows;
}
