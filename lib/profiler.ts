/**
 * Per-kernel timing: which native ops a piece of code spends its time in, grouped by op and
 * operand shapes. Off unless `profileKernels` is running, so ops pay one branch otherwise.
 */
import { shapeStr } from './errors.js';

export interface KernelStat {
  op: string;
  /** Operand shapes, inputs then outputs. */
  shapes: string;
  calls: number;
  totalMs: number;
}

let active: Map<string, KernelStat> | null = null;

/** @internal Called by runKernel while profiling. */
export function isProfiling(): boolean {
  return active !== null;
}

/** @internal */
export function recordKernel(op: string, shapes: readonly (readonly number[])[], ms: number): void {
  const key = `${op} ${shapes.map(shapeStr).join(' ')}`;
  const stat = active!.get(key);
  if (stat) {
    stat.calls++;
    stat.totalMs += ms;
  } else active!.set(key, { op, shapes: shapes.map(shapeStr).join(' '), calls: 1, totalMs: ms });
}

/**
 * Runs `fn` and returns the time spent in each native kernel, slowest first.
 *
 * @example
 * const { stats } = sc.profileKernels(() => trainStep());
 * console.log(sc.formatKernelProfile(stats, 15));
 */
export function profileKernels<T>(fn: () => T): { result: T; stats: KernelStat[] } {
  if (active) throw new Error('profileKernels: already profiling (calls do not nest)');
  active = new Map();
  try {
    const result = fn();
    return { result, stats: [...active.values()].sort((a, b) => b.totalMs - a.totalMs) };
  } finally {
    active = null;
  }
}

/** A text table of the `top` slowest kernels with their share of the total. */
export function formatKernelProfile(stats: readonly KernelStat[], top = 20): string {
  const total = stats.reduce((s, k) => s + k.totalMs, 0);
  const byOp = new Map<string, number>();
  for (const k of stats) byOp.set(k.op, (byOp.get(k.op) ?? 0) + k.totalMs);
  const lines = [`kernel time ${total.toFixed(1)} ms`, 'by op:'];
  for (const [op, ms] of [...byOp].sort((a, b) => b[1] - a[1]))
    lines.push(`  ${op.padEnd(34)} ${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
  lines.push(`slowest ${Math.min(top, stats.length)} calls by shape:`);
  for (const k of stats.slice(0, top))
    lines.push(`  ${k.totalMs.toFixed(1).padStart(9)} ms ${String(k.calls).padStart(4)}x  ${k.op} ${k.shapes}`);
  return lines.join('\n');
}
