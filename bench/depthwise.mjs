// Depthwise 3x3 conv benchmark: forward, input gradient and weight gradient of sepconv's
// direct kernels next to PyTorch CPU (NCHW and channels_last) measured in the same run.
//
//   node bench/depthwise.mjs [--rounds 3] [--reps 5] [--quick] [--no-torch] [--only <text in case name>]
//                            [--threads N] [--clock wall|cpu]
//
// Each case runs sepconv, then PyTorch NCHW, then PyTorch channels_last, round after round
// (interleaved, so a noisy neighbour hits both sides); figures are the best rep over all
// rounds, and `spread` is median/best, a noise indicator. The op is memory-bound, so GB/s
// counts the bytes it must move once (the tensor read and the tensor written, or the two
// read for the weight gradient) against a ~29 GB/s 2-thread triad on the reference machine.
// `--clock cpu --threads 1` times process CPU time of single-threaded runs on both sides: on
// a shared, oversubscribed machine that compares kernel efficiency without the descheduling
// stalls that make 2-thread wall-clock figures bimodal.
// Prints a table, then JSON; writes bench/results/depthwise.json. `run()` also serves the
// `npm run bench` suite (bench/suites/depthwise.mjs); rows keep each round's best per side.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as sc from '../dist/index.js';
import { empty, runKernel } from '../dist/tensor.js';

const here = dirname(fileURLToPath(import.meta.url));

export const CASES = [
  { name: 'micro 32x64x32x32', shape: [32, 64, 32, 32] },
  { name: 'micro 16x64x64x64', shape: [16, 64, 64, 64] },
  { name: 'segnet 64ch@128²', shape: [16, 64, 128, 128] },
  { name: 'segnet 128ch@64²', shape: [16, 128, 64, 64] },
  { name: 'segnet 256ch@32²', shape: [16, 256, 32, 32] },
  { name: 'segnet 512ch@16²', shape: [16, 512, 16, 16] },
  { name: 'stride 2 64ch@128²', shape: [16, 64, 128, 128], stride: 2 },
];
const OPS = ['forward', 'backward_input', 'backward_weight'];

/** A line-oriented JSON conversation with the PyTorch peer process. */
async function startPeer(threads, clock) {
  const child = spawn('/usr/bin/python3', [join(here, 'depthwise_torch.py'), String(threads), clock], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the PyTorch peer exited (is /usr/bin/python3 with torch installed?)');
    return JSON.parse(value);
  };
  const hello = await next();
  return {
    info: { torch: hello.torch, threads: hello.threads },
    async time(request) {
      child.stdin.write(JSON.stringify(request) + '\n');
      return (await next()).ms;
    },
    close: () => child.stdin.end(),
  };
}

/** Tensors and a closure running one native op of one case (outputs preallocated). */
function sepconvCase({ shape, stride = 1 }, op) {
  const [n, c, h, w] = shape;
  const oh = Math.floor((h + 2 - 3) / stride) + 1;
  const ow = Math.floor((w + 2 - 3) / stride) + 1;
  const x = sc.randn(shape);
  const weight = sc.randn([c, 1, 3, 3]);
  const y = sc.randn([n, c, oh, ow]);
  const params = [stride, stride, 1, 1, 1, 1];
  const out = op === 'forward' ? empty(y.shape) : op === 'backward_input' ? empty(x.shape) : empty(weight.shape);
  const inputs = op === 'forward' ? [x, weight] : op === 'backward_input' ? [y, weight] : [x, y];
  const bytes = 4 * (op === 'backward_input' ? y.numel + x.numel : x.numel + y.numel);
  return {
    bytes,
    run: () => runKernel(`depthwise_conv2d_${op}`, inputs, [out], params),
    dispose: () => [x, weight, y, out].forEach((t) => t.dispose()),
  };
}

export const clocks = {
  wall: () => performance.now(),
  cpu: () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  },
};

export function timeReps(fn, reps, clock) {
  fn(); // warm-up: first touch of the output pages
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = clock();
    fn();
    ms.push(clock() - t0);
  }
  return ms;
}

const best = (xs) => Math.min(...xs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const summary = (xs) => (xs.length ? { best: best(xs), median: median(xs), spread: median(xs) / best(xs) } : null);

/** Runs the suite; returns { environment, results } (one row per case and op). */
export async function run({ rounds = 3, reps = 5, quick = false, torch = true, cases = CASES, threads, clock = 'wall', log = console.log } = {}) {
  if (threads !== undefined) sc.setNumThreads(threads);
  threads = sc.backend().threads;
  const peer = torch ? await startPeer(threads, clock) : null;
  const results = [];
  try {
    for (const cs of quick ? cases.slice(0, 2) : cases) {
      for (const op of OPS) {
        const mine = sepconvCase(cs, op);
        const times = { sepconv: [], torch_nchw: [], torch_channels_last: [] };
        const roundBests = { sepconv: [], torch_nchw: [], torch_channels_last: [] };
        const add = (side, ms) => {
          times[side].push(...ms);
          roundBests[side].push(best(ms));
        };
        for (let r = 0; r < rounds; r++) {
          add('sepconv', timeReps(mine.run, reps, clocks[clock]));
          if (!peer) continue;
          for (const layout of ['nchw', 'channels_last'])
            add(`torch_${layout}`, await peer.time({ shape: cs.shape, stride: cs.stride ?? 1, layout, op, reps }));
        }
        mine.dispose();
        const row = { case: cs.name, shape: cs.shape, stride: cs.stride ?? 1, op, bytes: mine.bytes, rounds: roundBests };
        for (const [k, v] of Object.entries(times)) row[k] = summary(v);
        row.gbps = mine.bytes / (row.sepconv.best * 1e6);
        const peerBest = peer ? Math.min(row.torch_nchw.best, row.torch_channels_last.best) : null;
        row.speedup_vs_best_torch = peerBest === null ? null : peerBest / row.sepconv.best;
        results.push(row);
        log(formatRow(row));
      }
    }
  } finally {
    peer?.close();
  }
  const environment = {
    date: new Date().toISOString(),
    sepconv: sc.backend(),
    torch: peer?.info ?? null,
    rounds,
    reps,
    clock,
    loadavg: (await import('node:os')).loadavg(),
  };
  return { environment, results };
}

const fmt = (v, digits = 2) => (v === null || v === undefined ? '-' : v.toFixed(digits));
export const HEADER =
  'case                 op               sepconv ms (GB/s, spread)   torch NCHW ms (spread)   torch CL ms (spread)   vs best torch';
function formatRow(r) {
  const cell = (s) => (s ? `${fmt(s.best).padStart(8)} (${fmt(s.spread)})` : '-'.padStart(15));
  return [
    r.case.padEnd(20),
    r.op.padEnd(16),
    `${fmt(r.sepconv.best).padStart(8)} (${fmt(r.gbps, 1).padStart(4)} GB/s, ${fmt(r.sepconv.spread)})`.padEnd(27),
    cell(r.torch_nchw).padEnd(24),
    cell(r.torch_channels_last).padEnd(22),
    r.speedup_vs_best_torch === null ? '-' : `${fmt(r.speedup_vs_best_torch)}x`,
  ].join(' ');
}

async function main() {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const threads = option('--threads', undefined);
  const clock = args.includes('--clock') ? args[args.indexOf('--clock') + 1] : 'wall';
  if (!(clock in clocks)) throw new Error(`--clock must be wall or cpu, not ${clock}`);
  if (threads !== undefined) sc.setNumThreads(threads);
  console.log(`depthwise 3x3 (padding 1), float32, ${sc.backend().isa}, ${sc.backend().threads} threads, ${clock} clock`);
  console.log(HEADER);
  const report = await run({
    threads,
    clock,
    rounds: option('--rounds', 3),
    reps: option('--reps', 5),
    quick: args.includes('--quick'),
    torch: !args.includes('--no-torch'),
    cases: args.includes('--only') ? CASES.filter((c) => c.name.includes(args[args.indexOf('--only') + 1])) : CASES,
  });
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'depthwise.json'), JSON.stringify(report, null, 1));
  console.log(JSON.stringify(report));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
