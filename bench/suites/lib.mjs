// Shared helpers for benchmark suites (bench/suites/<suite>.mjs, run by scripts/bench.mjs).
//
// A suite module exports `description` (one line) and `async run(ctx)` returning rows:
//   { name, metric: 'GFLOP/s' | 'GB/s' | 'ms', higherIsBetter, ours: number[], peer?: { name, values: number[] }, note? }
// ctx = { sc, rounds, threads, log, device, sync, steps } (steps: --steps, for suites that take
// it; a suite exporting `onlyWhenNamed = true` runs only when named): suites that also run on the GPU export
// `devices = ['cpu', 'cuda']`, make their tensors on ctx.device and pass ctx.sync to timeCalls
// (CUDA ops return before the GPU finishes); they skip their CPU peers on the GPU.
// `ours` and `peer.values` hold one best-of-reps figure per round; suites interleave their
// rounds (ours, peer, ours, peer, ...) so both sides see the same machine load.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
export const PEERS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'peers');

/** Wall-clock seconds of `reps` calls of fn after `warmup` untimed ones; `sync` waits for queued device work. */
export function timeCalls(fn, { warmup = 2, reps = 5, sync = () => {} } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  sync();
  const seconds = [];
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    fn();
    sync();
    seconds.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return seconds;
}

export const min = (xs) => Math.min(...xs);

/**
 * OpenBLAS (numpy's BLAS here, and PyTorch's for matmul) picks its kernels from the CPU model and
 * falls back to its SSE3 "Prescott" kernels on CPUs it does not know, such as this VM's (5-6x
 * slower); name the core from the CPU's flags so the peer runs its best kernels. A user's own
 * OPENBLAS_CORETYPE wins.
 */
function openblasCoreType() {
  try {
    const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1].split(' ') ?? [];
    if (flags.includes('avx512f')) return { OPENBLAS_CORETYPE: 'SkylakeX' };
    if (flags.includes('avx2')) return { OPENBLAS_CORETYPE: 'Haswell' };
  } catch {
    // not Linux: let OpenBLAS detect
  }
  return {};
}

/**
 * Runs a peer script from bench/peers with /usr/bin/python3 and parses the JSON it prints.
 * Returns { ok: true, json } or { ok: false, reason } (python, numpy or torch missing...).
 */
export function runPeer(script, args, env = {}) {
  if (!existsSync(PYTHON)) return { ok: false, reason: `${PYTHON} not found` };
  const r = spawnSync(PYTHON, [join(PEERS_DIR, script), ...args], {
    env: { ...openblasCoreType(), ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) {
    const lastLine = (r.stderr || r.error?.message || '').trim().split('\n').pop();
    return { ok: false, reason: lastLine || `exit code ${r.status}` };
  }
  try {
    return { ok: true, json: JSON.parse(r.stdout.trim().split('\n').pop()) };
  } catch {
    return { ok: false, reason: 'unparseable output' };
  }
}
