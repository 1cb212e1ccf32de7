// Benchmarks of the resampling and joining ops (interpolate, average pooling, cat, dropout),
// forward alone and forward + backward (a training step's share), against PyTorch's CPU kernels measured in the same run when
// /usr/bin/python3 has torch. Prints a table and a JSON line; times are best of N.
//   node bench/resample.mjs [--repeats 7]
import { spawnSync } from 'node:child_process';
import * as sc from '../dist/index.js';

const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1]) || 7;

// Each case: a name, an input shape, and the same op written for sepconv and for torch.
const cases = [
  { name: 'interpolate nearest x2', shape: [8, 64, 64, 64], sc: (x) => sc.F.interpolate(x, { scaleFactor: 2 }), torch: "F.interpolate(x, scale_factor=2)" },
  { name: 'interpolate bilinear x2', shape: [8, 64, 64, 64], sc: (x) => sc.F.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }), torch: "F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False)" },
  { name: 'avgPool2d 3x3 s2 p1', shape: [8, 64, 64, 64], sc: (x) => sc.F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }), torch: 'F.avg_pool2d(x, 3, 2, 1)' },
  { name: 'avgPool2d 2x2', shape: [8, 64, 64, 64], sc: (x) => sc.F.avgPool2d(x, { kernelSize: 2 }), torch: 'F.avg_pool2d(x, 2)' },
  { name: 'adaptiveAvgPool2d -> 1', shape: [32, 1024, 7, 7], sc: (x) => sc.F.adaptiveAvgPool2d(x, 1), torch: 'F.adaptive_avg_pool2d(x, 1)' },
  { name: 'cat 2x channels', shape: [8, 64, 64, 64], sc: (x) => sc.cat([x, x.detach()], 1), torch: 'torch.cat([x, x.detach()], 1)' },
  { name: 'dropout p=0.5', shape: [8, 64, 64, 64], sc: (x) => sc.F.dropout(x, 0.5, true), torch: 'F.dropout(x, 0.5, True)' },
];

function best(fn) {
  fn();
  let min = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

function measureSepconv(c) {
  const x = sc.randn(c.shape, { requiresGrad: true });
  const forward = best(() => sc.noGrad(() => sc.scope(() => void c.sc(x))));
  const y = sc.noGrad(() => c.sc(x));
  const g = sc.randn(y.shape);
  const step = best(() => {
    sc.scope(() => c.sc(x).backward(g));
    x.grad.dispose();
    x.grad = null;
  });
  return { forward, step };
}

function measureTorch() {
  const script = `
import json, sys, time, torch
import torch.nn.functional as F
torch.set_num_threads(${sc.backend().threads})
cases, repeats, out = json.loads(sys.argv[1]), ${repeats}, []
def best(fn):
    fn(); m = float('inf')
    for _ in range(repeats):
        t = time.perf_counter(); fn(); m = min(m, time.perf_counter() - t)
    return m * 1000
for c in cases:
    x = torch.randn(*c['shape'], requires_grad=True)
    op = eval('lambda x: ' + c['torch'])
    with torch.no_grad(): fwd = best(lambda: op(x))
    g = torch.randn_like(op(x))
    def step():
        op(x).backward(g); x.grad = None
    out.append({'forward': fwd, 'step': best(step)})
print(json.dumps({'version': torch.__version__, 'results': out}))`;
  const run = spawnSync('/usr/bin/python3', ['-c', script, JSON.stringify(cases.map(({ shape, torch }) => ({ shape, torch })))], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(sc.backend().threads) },
  });
  if (run.status !== 0) return null;
  return JSON.parse(run.stdout);
}

const ours = cases.map(measureSepconv);
const torch = measureTorch();
const fmt = (v) => (v === undefined ? '-' : v.toFixed(2).padStart(8));
console.log(`sepconv ${sc.backend().isa}, ${sc.backend().threads} threads, best of ${repeats}; torch ${torch?.version ?? 'not available'}`);
console.log(`${'case'.padEnd(26)} ${'fwd ms'.padStart(8)} ${'torch'.padStart(8)} ${'fwd+bwd'.padStart(8)} ${'torch'.padStart(8)}`);
cases.forEach((c, i) => {
  const t = torch?.results[i];
  console.log(`${c.name.padEnd(26)} ${fmt(ours[i].forward)} ${fmt(t?.forward)} ${fmt(ours[i].step)} ${fmt(t?.step)}`);
});
console.log(JSON.stringify({ isa: sc.backend().isa, threads: sc.backend().threads, repeats, torch: torch?.version ?? null,
  results: cases.map((c, i) => ({ name: c.name, shape: c.shape, sepconv: ours[i], torch: torch?.results[i] ?? null })) }));
