// Fused depthwise→pointwise forward (prototype op depthwise_pointwise_forward) against the
// unfused pair (depthwise_conv2d_forward, then the 1x1 conv2d_forward GEMM), same shapes,
// same run, interleaved round by round; best rep over all rounds, spread = median/best.
//
//   node bench/dsc_fused.mjs [--rounds 4] [--reps 6] [--threads N] [--clock wall|cpu]
//
// Depthwise 3x3, padding 1, no bias; pointwise C -> C_out with bias (Keras SeparableConv2D).
import * as sc from '../dist/index.js';
import { empty, runKernel } from '../dist/tensor.js';
import { clocks, summary, timeReps } from './depthwise.mjs';

const CASES = [
  { name: 'micro 32x64x32x32 ->128', shape: [32, 64, 32, 32], out: 128 },
  { name: 'micro 16x64x64x64 ->128', shape: [16, 64, 64, 64], out: 128 },
  { name: 'segnet 64ch@128² ->64', shape: [16, 64, 128, 128], out: 64 },
  { name: 'segnet 128ch@64² ->128', shape: [16, 128, 64, 64], out: 128 },
  { name: 'segnet 256ch@32² ->256', shape: [16, 256, 32, 32], out: 256 },
  { name: 'segnet 512ch@16² ->512', shape: [16, 512, 16, 16], out: 512 },
];

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const rounds = Number(option('--rounds', 4));
const reps = Number(option('--reps', 6));
if (args.includes('--threads')) sc.setNumThreads(Number(option('--threads')));
const clockName = option('--clock', 'wall');
const time = (fn) => timeReps(fn, reps, clocks[clockName]);

const dwParams = [1, 1, 1, 1, 1, 1];
const pwParams = [1, 1, 0, 0, 1, 1, 1];
console.log(`fused depthwise→pointwise forward, float32, ${sc.backend().isa}, ${sc.backend().threads} threads, ${clockName} clock`);
console.log('case                         unfused ms (spread)   fused ms (spread)   fused speed-up   max |diff|');
const results = [];
for (const cs of CASES) {
  const [n, c, h, w] = cs.shape;
  const x = sc.randn(cs.shape);
  const wDw = sc.randn([c, 1, 3, 3]);
  const wPw = sc.randn([cs.out, c, 1, 1], { std: 1 / Math.sqrt(c) });
  const bias = sc.randn([cs.out]);
  const mid = empty([n, c, h, w]);
  const yUnfused = empty([n, cs.out, h, w]);
  const yFused = empty([n, cs.out, h, w]);
  const unfused = () => {
    runKernel('depthwise_conv2d_forward', [x, wDw], [mid], dwParams);
    runKernel('conv2d_forward', [mid, wPw, bias], [yUnfused], pwParams);
  };
  const fused = () => runKernel('depthwise_pointwise_forward', [x, wDw, wPw, bias], [yFused], dwParams);
  unfused();
  fused();
  const a = yUnfused.toArray(), b = yFused.toArray();
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
  const t = { unfused: [], fused: [] };
  for (let r = 0; r < rounds; r++) {
    t.unfused.push(...time(unfused));
    t.fused.push(...time(fused));
  }
  const row = { case: cs.name, unfused: summary(t.unfused), fused: summary(t.fused), maxDiff };
  row.speedup = row.unfused.best / row.fused.best;
  results.push(row);
  console.log(
    `${cs.name.padEnd(28)} ${row.unfused.best.toFixed(2).padStart(8)} (${row.unfused.spread.toFixed(2)})    ${row.fused.best.toFixed(2).padStart(8)} (${row.fused.spread.toFixed(2)})   ${row.speedup.toFixed(2).padStart(8)}x     ${maxDiff.toExponential(1)}`,
  );
  for (const tensor of [x, wDw, wPw, bias, mid, yUnfused, yFused]) tensor.dispose();
}
console.log(JSON.stringify({ environment: { date: new Date().toISOString(), backend: sc.backend(), rounds, reps }, results }));
