// Benchmarks: `npm run bench [-- NAME... --rounds N --steps N --device cpu|cuda]`.
// - Suites are the modules in bench/suites/ (bench/suites/lib.mjs documents their interface);
//   with no names every suite runs except those marked `onlyWhenNamed` (soak). Each prints a
//   table; all figures go to bench/results/ as JSON. A figure is the best of its repetitions; rounds alternate ours and the peer's
//   measurements, and "noise" is the spread between rounds.
// - Any other NAME that is a standalone script bench/NAME.mjs (they run on their own and take
//   their own options) is run as a child process after the suites.
// - `--device cuda` runs the suites that support it on the GPU (no CPU peers there) and adds
//   each figure's share of the device's peak FP32 GFLOP/s or memory GB/s; without a usable
//   device it says why and exits with code 1.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as sc from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'bench');
const suitesDir = join(benchDir, 'suites');

function parseArgs(argv) {
  const opts = { suites: [], rounds: 3, device: 'cpu' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') opts.rounds = Number(argv[++i]);
    else if (argv[i] === '--device') opts.device = argv[++i];
    else if (argv[i] === '--steps') opts.steps = Number(argv[++i]);
    else opts.suites.push(argv[i]);
  }
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new Error('bench: --rounds needs a positive integer');
  if (opts.steps !== undefined && (!Number.isInteger(opts.steps) || opts.steps < 2)) throw new Error('bench: --steps needs an integer of at least 2');
  if (opts.device !== 'cpu' && opts.device !== 'cuda') throw new Error(`bench: --device must be cpu or cuda, got ${opts.device}`);
  return opts;
}

const mjsNames = (dir) => readdirSync(dir).filter((f) => f.endsWith('.mjs')).map((f) => basename(f, '.mjs')).sort();
const available = mjsNames(suitesDir).filter((name) => name !== 'lib');
const standalone = mjsNames(benchDir);

const best = (row, values) => (row.higherIsBetter ? Math.max(...values) : Math.min(...values));
const spread = (values) => (values.length < 2 ? 0 : Math.max(...values) / Math.min(...values) - 1);
const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const pct = (v) => `${(100 * v).toFixed(0)}%`;

function summarize(row) {
  const ours = best(row, row.ours);
  const peer = row.peer ? best(row, row.peer.values) : null;
  // > 1 means sepconv is faster.
  const speedup = peer === null ? null : row.higherIsBetter ? ours / peer : peer / ours;
  return { ...row, best: ours, noise: spread(row.ours), peerBest: peer, peerNoise: row.peer ? spread(row.peer.values) : null, speedup };
}

/**
 * Peak FP32 GFLOP/s (FMA = 2 FLOP per core per clock) and memory GB/s (double data rate) of a
 * CUDA device, from its SM count and clocks; FP32 cores per SM by compute capability.
 */
function devicePeaks(d) {
  const coresPerSm = { '7.0': 64, '7.5': 64, '8.0': 64 }[d.computeCapability] ?? 128;
  return {
    gflops: (d.multiprocessors * coresPerSm * 2 * d.clockKHz) / 1e6,
    gbs: (2 * d.memoryClockKHz * 1e3 * (d.memoryBusBits / 8)) / 1e9,
  };
}

function shareOfPeak(row, peaks) {
  if (!peaks) return null;
  const peak = row.metric === 'GFLOP/s' ? peaks.gflops : row.metric === 'GB/s' ? peaks.gbs : null;
  return peak ? row.best / peak : null;
}

function printTable(suite, rows, peaks) {
  const lines = rows.map((r) => [
    r.name,
    `${fmt(r.best)} ${r.metric}`,
    r.peerBest === null ? 'peer unavailable' : `${fmt(r.peerBest)} ${r.metric}`,
    r.speedup === null ? '' : `${r.speedup.toFixed(2)}x`,
    `${pct(r.noise)} / ${r.peerNoise === null ? '-' : pct(r.peerNoise)}`,
    ...(peaks ? [r.ofPeak === null ? '' : pct(r.ofPeak)] : []),
  ]);
  const header = ['case', 'sepconv', 'peer', 'speedup', 'noise (ours/peer)', ...(peaks ? ['of peak'] : [])];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\n== ${suite}`);
  console.log(line(header));
  for (const l of lines) console.log(line(l));
  const peers = [...new Set(rows.filter((r) => r.peer).map((r) => r.peer.name))];
  if (peers.length > 0) console.log(`peer: ${peers.join('; ')}`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const unknown = opts.suites.filter((s) => !available.includes(s) && !standalone.includes(s));
  if (unknown.length > 0)
    throw new Error(`bench: unknown name(s) ${unknown.join(', ')}; suites: ${available.join(', ')}; scripts: ${standalone.join(', ')}`);
  const backend = sc.backend();
  const onGpu = opts.device === 'cuda';
  if (onGpu && !backend.cuda) throw new Error(`bench --device cuda: no CUDA device to benchmark: ${backend.cudaUnavailable}`);
  const suites = {};
  for (const name of available) suites[name] = await import(pathToFileURL(join(suitesDir, `${name}.mjs`)).href);
  const runsHere = (name) => (suites[name].devices ?? ['cpu']).includes(opts.device);
  const cpuOnly = opts.suites.filter((s) => available.includes(s) && !runsHere(s));
  if (cpuOnly.length > 0) throw new Error(`bench: ${cpuOnly.join(', ')} cannot run on ${opts.device}; suites that can: ${available.filter(runsHere).join(', ')}`);
  const selected = opts.suites.length > 0 ? opts.suites.filter((s) => available.includes(s)) : available.filter((name) => runsHere(name) && !suites[name].onlyWhenNamed);
  const scripts = opts.suites.filter((s) => !available.includes(s));
  const startLoad = loadavg();
  console.log(`sepconv bench: ${backend.isa}, ${backend.threads} threads, ${opts.rounds} rounds, load average ${startLoad.map((l) => l.toFixed(2)).join(' ')}`);
  const peaks = onGpu ? devicePeaks(backend.cudaDevice) : null;
  if (onGpu) {
    const d = backend.cudaDevice;
    console.log(`device: ${d.name} (compute ${d.computeCapability}, ${d.multiprocessors} SMs${d.emulated ? ', EMULATED on the host: figures mean nothing' : ''}), peak ${fmt(peaks.gflops)} GFLOP/s FP32, ${fmt(peaks.gbs)} GB/s`);
  }
  const results = {};
  for (const name of selected) {
    const suite = suites[name];
    console.log(`running ${name}: ${suite.description}`);
    const ctx = {
      sc,
      rounds: opts.rounds,
      threads: backend.threads,
      device: opts.device,
      steps: opts.steps,
      sync: onGpu ? () => sc.cudaSynchronize() : () => {},
      log: (msg) => console.log(`  [${name}] ${msg}`),
    };
    const rows = (await suite.run(ctx)).map(summarize).map((r) => ({ ...r, ofPeak: shareOfPeak(r, peaks) }));
    printTable(name, rows, peaks);
    results[name] = rows;
  }
  const report = {
    date: new Date().toISOString(),
    host: { name: hostname(), cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavgStart: startLoad, loadavgEnd: loadavg() },
    backend,
    device: opts.device,
    devicePeaks: peaks,
    rounds: opts.rounds,
    suites: results,
  };
  if (selected.length > 0) {
    const outDir = join(benchDir, 'results');
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `bench-${onGpu ? 'cuda-' : ''}${report.date.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(report, null, 2));
    console.log(`\nwrote ${file}`);
  }
  for (const name of scripts) {
    console.log(`\nrunning bench/${name}.mjs`);
    const r = spawnSync(process.execPath, [join(benchDir, `${name}.mjs`)], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`bench: bench/${name}.mjs exited with ${r.status ?? r.signal}`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
