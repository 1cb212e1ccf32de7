// Benchmarks: `npm run bench [-- NAME... --rounds N]`.
// - Suites are the modules in bench/suites/ (bench/suites/lib.mjs documents their interface);
//   with no names every suite runs. Each prints a table; all figures go to bench/results/ as
//   JSON. A figure is the best of its repetitions; rounds alternate ours and the peer's
//   measurements, and "noise" is the spread between rounds.
// - Any other NAME that is a standalone script bench/NAME.mjs (they run on their own and take
//   their own options) is run as a child process after the suites.
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
  const opts = { suites: [], rounds: 3 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') opts.rounds = Number(argv[++i]);
    else opts.suites.push(argv[i]);
  }
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new Error('bench: --rounds needs a positive integer');
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

function printTable(suite, rows) {
  const lines = rows.map((r) => [
    r.name,
    `${fmt(r.best)} ${r.metric}`,
    r.peerBest === null ? 'peer unavailable' : `${fmt(r.peerBest)} ${r.metric}`,
    r.speedup === null ? '' : `${r.speedup.toFixed(2)}x`,
    `${pct(r.noise)} / ${r.peerNoise === null ? '-' : pct(r.peerNoise)}`,
  ]);
  const header = ['case', 'sepconv', 'peer', 'speedup', 'noise (ours/peer)'];
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
  const selected = opts.suites.length > 0 ? opts.suites.filter((s) => available.includes(s)) : available;
  const scripts = opts.suites.filter((s) => !available.includes(s));
  const backend = sc.backend();
  const startLoad = loadavg();
  console.log(`sepconv bench: ${backend.isa}, ${backend.threads} threads, ${opts.rounds} rounds, load average ${startLoad.map((l) => l.toFixed(2)).join(' ')}`);
  const results = {};
  for (const name of selected) {
    const suite = await import(pathToFileURL(join(suitesDir, `${name}.mjs`)).href);
    console.log(`running ${name}: ${suite.description}`);
    const ctx = { sc, rounds: opts.rounds, threads: backend.threads, log: (msg) => console.log(`  [${name}] ${msg}`) };
    const rows = (await suite.run(ctx)).map(summarize);
    printTable(name, rows);
    results[name] = rows;
  }
  const report = {
    date: new Date().toISOString(),
    host: { name: hostname(), cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadavgStart: startLoad, loadavgEnd: loadavg() },
    backend,
    rounds: opts.rounds,
    suites: results,
  };
  if (selected.length > 0) {
    const outDir = join(benchDir, 'results');
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `bench-${report.date.replace(/[:.]/g, '-')}.json`);
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
