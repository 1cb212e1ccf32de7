// Whole-network gradient numerics against PyTorch: for VGG and SegNet, regular and DSC, PyTorch
// (bench/numerics_torch.py) builds the reference network, a fixed batch and its float64 and
// float32 gradients of the mean cross-entropy; sepconv loads the same weights and batch from
// safetensors, computes its float32 gradients, and per parameter this prints the relative L2
// error ‖g − g64‖/‖g64‖ of sepconv and of PyTorch float32, and their ratio (sepconv / PyTorch),
// then the worst ratio per network and variant. Variants run on the same data in one process.
//
//   node bench/numerics.mjs [--nets vgg_regular,vgg_dsc,segnet_regular,segnet_dsc]
//                           [--variants highest,high,medium] [--vgg-batch 128] [--segnet-batch 16]
//                           [--seed 0] [--all] [--keep DIR]
//
// Variants: precisions of sc.setFloat32Precision. `--all` prints every parameter, not only the
// conv weights and the worst rows. "whole" is the error of all gradients as one vector; a
// per-parameter ratio of a tiny vector (BatchNorm(3)'s 3 values) is a noisy figure. Needs
// /usr/bin/python3 with torch (PYTHON overrides); writes bench/results/numerics.json. Also
// `npm run bench -- numerics`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sc from '../dist/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const NETS = {
  vgg_regular: { build: () => sc.models.vgg({ conv: 'regular' }), batch: 'vggBatch' },
  vgg_dsc: { build: () => sc.models.vgg({ conv: 'dsc' }), batch: 'vggBatch' },
  segnet_regular: { build: () => sc.models.segnet({ conv: 'regular' }), batch: 'segnetBatch' },
  segnet_dsc: { build: () => sc.models.segnet({ conv: 'dsc' }), batch: 'segnetBatch' },
};
const VARIANTS = {
  highest: () => sc.setFloat32Precision('highest'),
  high: () => sc.setFloat32Precision('high'),
  medium: () => sc.setFloat32Precision('medium'),
};

function parseArgs(argv) {
  const o = { nets: Object.keys(NETS), variants: ['highest', 'high', 'medium'], vggBatch: 128, segnetBatch: 16, seed: 0, all: false, keep: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--nets') o.nets = argv[++i].split(',');
    else if (a === '--variants') o.variants = argv[++i].split(',');
    else if (a === '--vgg-batch') o.vggBatch = Number(argv[++i]);
    else if (a === '--segnet-batch') o.segnetBatch = Number(argv[++i]);
    else if (a === '--seed') o.seed = Number(argv[++i]);
    else if (a === '--all') o.all = true;
    else if (a === '--keep') o.keep = argv[++i];
    else throw new Error(`numerics: unknown argument ${a}`);
  }
  for (const n of o.nets) if (!NETS[n]) throw new Error(`numerics: unknown net ${n}; nets: ${Object.keys(NETS).join(', ')}`);
  for (const v of o.variants) if (!VARIANTS[v]) throw new Error(`numerics: unknown variant ${v}; variants: ${Object.keys(VARIANTS).join(', ')}`);
  return o;
}

// Squared L2 norms of got - want and of want.
function squaredErrors(got, want) {
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) {
    const d = got[i] - want[i];
    num += d * d;
    den += want[i] * want[i];
  }
  return [num, den];
}
const ratioOf = ([num, den]) => (den > 0 ? Math.sqrt(num / den) : Math.sqrt(num));
const relativeL2 = (got, want) => ratioOf(squaredErrors(got, want));
const sumPairs = (pairs) => pairs.reduce(([a, b], [c, d]) => [a + c, b + d], [0, 0]);

function torchReference(net, dir, batch, seed) {
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(python, [join(here, 'numerics_torch.py'), net, dir, '--batch', String(batch), '--seed', String(seed)], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error || r.status !== 0) throw new Error(`numerics: ${python} bench/numerics_torch.py ${net} failed (${r.error?.message ?? `exit ${r.status}`}); it needs PyTorch`);
  return { inputs: sc.load(join(dir, `${net}.input.safetensors`)), ref: sc.load(join(dir, `${net}.torch.safetensors`)) };
}

// sepconv's float32 gradients (and loss, output) for the PyTorch weights and batch.
function sepconvGradients(net, inputs) {
  const model = NETS[net].build();
  const state = Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== 'input' && k !== 'target'));
  model.loadStateDict(state);
  model.train();
  const out = model.call(inputs.input);
  const loss = sc.F.crossEntropy(out, inputs.target);
  loss.backward();
  const grads = model.namedParameters().map(([name, p]) => ({ name, shape: p.shape, grad: p.grad.toArray() }));
  return { grads, loss: loss.item(), output: out.toArray() };
}

const fmtE = (v) => v.toExponential(2);

function main() {
  const o = parseArgs(process.argv.slice(2));
  const dir = o.keep ?? mkdtempSync(join(tmpdir(), 'sepconv-numerics-'));
  if (o.keep) mkdirSync(dir, { recursive: true });
  const initialPrecision = sc.getFloat32Precision();
  const report = { date: new Date().toISOString(), backend: sc.backend(), options: o, nets: {} };
  try {
    for (const net of o.nets) {
      const batch = o[NETS[net].batch];
      const { inputs, ref } = torchReference(net, dir, batch, o.seed);
      const get = (k) => ref[k].toArray();
      const torchLoss = relativeL2(get('f32.loss'), get('f64.loss')), torchOut = relativeL2(get('f32.output'), get('f64.output'));
      const perVariant = {};
      for (const v of o.variants) {
        VARIANTS[v]();
        const t0 = performance.now();
        const s = sepconvGradients(net, inputs);
        const ms = performance.now() - t0;
        const ourSq = [], torchSq = [];
        const rows = s.grads.map(({ name, shape, grad }) => {
          const want = get(`f64.${name}`);
          ourSq.push(squaredErrors(grad, want));
          torchSq.push(squaredErrors(get(`f32.${name}`), want));
          const ours = ratioOf(ourSq.at(-1)), torch = ratioOf(torchSq.at(-1));
          return { name, shape, ours, torch, ratio: ours / torch };
        });
        const worst = rows.reduce((w, r) => (r.ratio > w.ratio ? r : w));
        const whole = { ours: ratioOf(sumPairs(ourSq)), torch: ratioOf(sumPairs(torchSq)) };
        whole.ratio = whole.ours / whole.torch;
        perVariant[v] = { rows, worst, whole, ms, loss: relativeL2([s.loss], get('f64.loss')), output: relativeL2(s.output, get('f64.output')) };
      }
      sc.setFloat32Precision(initialPrecision);
      report.nets[net] = { batch, torchLoss, torchOutput: torchOut, variants: perVariant };
      console.log(`\n${net} (batch ${batch}): relative L2 error against PyTorch float64; ratio = sepconv / PyTorch float32`);
      console.log(`  loss:   torch ${fmtE(torchLoss)}  ${o.variants.map((v) => `${v} ${fmtE(perVariant[v].loss)}`).join('  ')}`);
      console.log(`  output: torch ${fmtE(torchOut)}  ${o.variants.map((v) => `${v} ${fmtE(perVariant[v].output)}`).join('  ')}`);
      const first = perVariant[o.variants[0]].rows, names = first.map((r) => r.name);
      // Without --all: the convolution weights (4-D) and each variant's worst parameter.
      const show = names.filter((n, i) => o.all || first[i].shape.length === 4 || o.variants.some((v) => perVariant[v].worst.name === n));
      const w = Math.max(...show.map((n) => n.length));
      console.log(`  ${'parameter'.padEnd(w)}  torch f32  ${o.variants.map((v) => `${v.padStart(9)}  ratio`).join('  ')}`);
      for (const n of show) {
        const i = names.indexOf(n);
        console.log(`  ${n.padEnd(w)}  ${fmtE(perVariant[o.variants[0]].rows[i].torch)}   ${o.variants.map((v) => `${fmtE(perVariant[v].rows[i].ours)}  ${perVariant[v].rows[i].ratio.toFixed(1).padStart(5)}`).join('  ')}`);
      }
      console.log(`  whole gradient: torch ${fmtE(perVariant[o.variants[0]].whole.torch)}  ${o.variants.map((v) => `${v} ${fmtE(perVariant[v].whole.ours)} (ratio ${perVariant[v].whole.ratio.toFixed(2)})`).join('  ')}`);
      console.log(`  worst ratio: ${o.variants.map((v) => `${v} ${perVariant[v].worst.ratio.toFixed(2)} (${perVariant[v].worst.name})`).join('; ')}`);
      console.log(`  step time (forward + backward, one run, noisy): ${o.variants.map((v) => `${v} ${perVariant[v].ms.toFixed(0)} ms`).join('; ')}`);
    }
  } finally {
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
  const results = join(here, 'results');
  mkdirSync(results, { recursive: true });
  writeFileSync(join(results, 'numerics.json'), JSON.stringify(report, null, 1));
  console.log(`\nwrote ${join(results, 'numerics.json')}`);
}

main();
