/**
 * Output files of a run. Every file is written whole to a temporary name and renamed into
 * place, so a reader (or a run killed mid-write) never sees half a file.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/**
 * Writes `data` to `path` atomically: a temporary file in the same directory, flushed to
 * disk, then renamed over `path`.
 *
 * @example
 * await writeFileAtomic('runs/vgg/config.json', JSON.stringify(config));
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temporary, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

/** One row per epoch; values are numbers (NaN/Infinity are written as null). */
export type MetricsRow = Record<string, number>;

/**
 * metrics.jsonl: one flat JSON object per line.
 *
 * @example
 * sc.train.metricsJsonl([{ epoch: 1, trainLoss: 1.5 }]); // '{"epoch":1,"trainLoss":1.5}\n'
 */
export function metricsJsonl(rows: readonly MetricsRow[]): string {
  return rows.map((row) => JSON.stringify(row) + '\n').join('');
}

/**
 * metrics.csv: a header with every key in order of first appearance, one line per row.
 *
 * @example
 * sc.train.metricsCsv([{ epoch: 1, valLoss: 0.9 }]); // 'epoch,valLoss\n1,0.9\n'
 */
export function metricsCsv(rows: readonly MetricsRow[]): string {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const cell = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '' : String(v));
  return [columns.join(','), ...rows.map((row) => columns.map((c) => cell(row[c])).join(','))].join('\n') + '\n';
}

/**
 * Parses metrics.jsonl text back into rows (nulls become NaN).
 *
 * @example
 * const rows = sc.train.parseMetricsJsonl(readFileSync('runs/vgg-dsc/metrics.jsonl', 'utf8'));
 */
export function parseMetricsJsonl(text: string): MetricsRow[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const parsed = JSON.parse(line) as Record<string, number | null>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, v ?? NaN]));
    });
}
