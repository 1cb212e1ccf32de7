// Memory-bound training ops at SegNet / VGG sizes (batch 16), sepconv against PyTorch
// (NCHW float32, 2 threads) measured in the same run: best-of-N forward and backward times
// and the effective bandwidth of each (the bytes an ideal kernel must move / time).
//   node bench/ops.mjs [--reps 7] [--only batchNorm2d,maxPool2d,...] [--no-peer] [--json out.json]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sc from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const reps = Number(option('reps', 7));
const only = option('only', '').split(',').filter(Boolean);
const F32 = 4;
const numel = (shape) => shape.reduce((a, b) => a * b, 1);

// bytes(fwd/bwd): what an ideal kernel must read and write (fp32 values, int32 indices).
const cases = [
  ...[[16, 64, 128, 128], [16, 128, 64, 64], [16, 512, 16, 16]].map((shape) => ({
    name: `batchNorm2d train [${shape}]`, kind: 'batchNorm2d', shape,
    // forward: stats pass + normalise pass (read x twice, write y); backward: sums pass + dx pass
    bytes: { fwd: 3 * numel(shape) * F32, bwd: 5 * numel(shape) * F32 },
  })),
  ...[[16, 64, 128, 128], [16, 128, 64, 64], [16, 512, 16, 16]].map((shape) => ({
    name: `maxPool2d 2x2 [${shape}]`, kind: 'maxPool2d', shape,
    bytes: { fwd: (numel(shape) + numel(shape) / 2) * F32, bwd: (numel(shape) / 2 + numel(shape)) * F32 },
  })),
  ...[[16, 64, 64, 64]].map((shape) => ({
    name: `maxUnpool2d 2x2 [${shape}]`, kind: 'maxUnpool2d', shape,
    bytes: { fwd: (2 + 4) * numel(shape) * F32, bwd: 3 * numel(shape) * F32 },
  })),
  ...[[16, 3, 128, 128], [128, 10]].map((shape) => ({
    name: `crossEntropy [${shape}]`, kind: 'crossEntropy', shape,
    bytes: { fwd: (numel(shape) + numel(shape) / shape[1]) * F32, bwd: (2 * numel(shape) + numel(shape) / shape[1]) * F32 },
  })),
  { name: 'Adam step, 15.27M params (SegNet)', kind: 'adam', shape: [15274892], bytes: { fwd: 7 * 15274892 * F32 } },
  { name: 'SGD momentum step, 15.27M params', kind: 'sgd', shape: [15274892], bytes: { fwd: 5 * 15274892 * F32 } },
].filter((c) => only.length === 0 || only.includes(c.kind));

/**
 * Best forward and backward times over `reps` runs; forward() returns [output, upstream
 * grad, tensors to free]. Leaf gradients are dropped before each run, so backward times
 * the op's own gradient, not an accumulation into an existing .grad.
 */
function fwdBwd(leaves, forward) {
  let fwd = Infinity, bwd = Infinity;
  for (let i = 0; i <= reps; i++) {
    for (const leaf of leaves) {
      leaf.grad?.dispose();
      leaf.grad = null;
    }
    const t0 = performance.now();
    const [out, grad, temporaries] = forward();
    const t1 = performance.now();
    out.backward(grad);
    const t2 = performance.now();
    if (i > 0) [fwd, bwd] = [Math.min(fwd, t1 - t0), Math.min(bwd, t2 - t1)];
    out.dispose();
    for (const t of temporaries) t.dispose();
  }
  return { fwd, bwd };
}

function bestOf(fn) {
  fn();
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

function runSepconv(c) {
  const { kind, shape } = c;
  if (kind === 'batchNorm2d') {
    const ch = shape[1];
    const x = sc.randn(shape, { requiresGrad: true });
    const w = sc.ones([ch], { requiresGrad: true }), b = sc.zeros([ch], { requiresGrad: true });
    const rm = sc.zeros([ch]), rv = sc.ones([ch]);
    const g = sc.randn(shape);
    return fwdBwd([x, w, b], () => [sc.F.batchNorm2d(x, rm, rv, w, b, { training: true }), g, []]);
  }
  if (kind === 'maxPool2d') {
    const x = sc.randn(shape, { requiresGrad: true });
    const g = sc.randn([shape[0], shape[1], shape[2] / 2, shape[3] / 2]);
    return fwdBwd([x], () => {
      const { output, indices } = sc.F.maxPool2d(x, { kernelSize: 2 });
      return [output, g, [indices]];
    });
  }
  if (kind === 'maxUnpool2d') {
    const big = [shape[0], shape[1], shape[2] * 2, shape[3] * 2];
    const { output, indices } = sc.F.maxPool2d(sc.randn(big), { kernelSize: 2 });
    output.requiresGrad = true;
    const g = sc.randn(big);
    return fwdBwd([output], () => [sc.F.maxUnpool2d(output, indices, { kernelSize: 2 }), g, []]);
  }
  if (kind === 'crossEntropy') {
    const x = sc.randn(shape, { requiresGrad: true });
    const targetShape = [shape[0], ...shape.slice(2)];
    const t = sc.tensor(Int32Array.from({ length: numel(targetShape) }, (_, i) => (i * 7919) % shape[1]), targetShape);
    return fwdBwd([x], () => [sc.F.crossEntropy(x, t), undefined, []]);
  }
  const p = sc.randn(shape, { requiresGrad: true });
  p.grad = sc.randn(shape);
  const opt = kind === 'adam' ? new sc.optim.Adam([p], { lr: 1e-3 }) : new sc.optim.SGD([p], { lr: 0.01, momentum: 0.9 });
  return { fwd: bestOf(() => opt.step()), bwd: null };
}

function runPeer() {
  if (args.includes('--no-peer')) return null;
  const spec = JSON.stringify({ threads: 2, reps, cases: cases.map(({ name, kind, shape }) => ({ name, kind, shape })) });
  const r = spawnSync('/usr/bin/python3', [join(here, 'ops_torch.py')], { input: spec, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.error(`PyTorch peer unavailable (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`);
    return null;
  }
  return JSON.parse(r.stdout);
}

const gbps = (bytes, ms) => (ms ? bytes / ms / 1e6 : null);
const results = cases.map((c) => ({ ...c, sepconv: runSepconv(c) }));
const peer = runPeer();
const fmt = (v, digits = 2) => (v === null || v === undefined ? '—' : v.toFixed(digits));
const backend = sc.backend();
console.log(`sepconv ops benchmark — isa ${backend.isa}, ${backend.threads} threads; ` +
  (peer ? `PyTorch ${peer.torch} (${peer.threads} threads, NCHW)` : 'no PyTorch peer') + `; best of ${reps}`);
console.log('| op | pass | sepconv ms | GB/s | PyTorch ms | GB/s | PyTorch/sepconv |');
console.log('|---|---|---:|---:|---:|---:|---:|');
const json = [];
for (const r of results)
  for (const pass of ['fwd', 'bwd']) {
    const mine = r.sepconv[pass];
    if (mine === null || mine === undefined) continue;
    const theirs = peer?.cases[r.name]?.[pass] ?? null;
    const bytes = r.bytes[pass];
    console.log(`| ${r.name} | ${r.kind === 'adam' || r.kind === 'sgd' ? 'step' : pass} | ${fmt(mine)} | ${fmt(gbps(bytes, mine), 1)} | ${fmt(theirs)} | ${fmt(gbps(bytes, theirs), 1)} | ${theirs ? fmt(theirs / mine) + 'x' : '—'} |`);
    json.push({ op: r.name, pass, sepconvMs: mine, torchMs: theirs, bytes, sepconvGBps: gbps(bytes, mine), torchGBps: gbps(bytes, theirs) });
  }
const out = option('json', null);
const report = { date: new Date().toISOString(), backend, torch: peer?.torch ?? null, reps, results: json };
if (out) writeFileSync(out, JSON.stringify(report, null, 2));
else console.log(JSON.stringify(report));
