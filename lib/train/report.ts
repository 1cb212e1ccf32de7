/**
 * The regular-vs-DSC comparison report: report.md (images linked) and a self-contained
 * report.html (images embedded as data URIs) with the side-by-side table, learning curves,
 * masks grids and the per-layer size/cost table.
 */
import type { MetricsRow } from './files.js';
import type { Task } from './pictures.js';

/** One trained variant as the report sees it. */
export interface VariantReport {
  conv: 'regular' | 'dsc';
  params: number;
  /** Mult-adds of one forward pass of one image. */
  multAdds: number;
  rows: readonly MetricsRow[];
  /** The monitored metric's best value and epoch. */
  best: { monitor: string; value: number; epoch: number };
}

/** A conv slot of the network, costed in both variants. */
export interface LayerPair {
  name: string;
  regular: { type: string; params: number; multAdds: number };
  dsc: { type: string; params: number; multAdds: number };
}

export interface ReportInput {
  title: string;
  task: Task;
  /** Lines describing the run (command, data, machine, date). */
  context: readonly string[];
  regular: VariantReport;
  dsc: VariantReport;
  layers: readonly LayerPair[];
  /** Images by role; the path is what report.md links (relative to the report). */
  images: { curves: ImageRef; regularMasks?: ImageRef; dscMasks?: ImageRef; regularGif?: ImageRef; dscGif?: ImageRef };
}

export interface ImageRef {
  path: string;
  bytes: Uint8Array;
  mime: 'image/png' | 'image/gif';
}

type Cell = string;

const integer = (v: number): string => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '–');
const decimal = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const percent = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}%` : '–');
const ratio = (dsc: number, regular: number): string => (Number.isFinite(dsc / regular) ? `${(dsc / regular).toFixed(3)}×` : '–');

function mean(values: number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.reduce((a, b) => a + b, 0) / finite.length;
}

function column(rows: readonly MetricsRow[], key: string): number[] {
  return rows.map((r) => r[key] ?? NaN);
}

function last(rows: readonly MetricsRow[], key: string): number {
  return rows.length ? (rows[rows.length - 1]![key] ?? NaN) : NaN;
}

/** The side-by-side rows: [quantity, regular, DSC, DSC/regular]. */
export function comparisonRows(task: Task, regular: VariantReport, dsc: VariantReport): Cell[][] {
  const both = <T>(f: (v: VariantReport) => T): [T, T] => [f(regular), f(dsc)];
  const numeric = (label: string, f: (v: VariantReport) => number, format: (v: number) => string, withRatio = true): Cell[] => {
    const [r, d] = both(f);
    return [label, format(r), format(d), withRatio ? ratio(d, r) : ''];
  };
  const metricRows = (key: string, label: string): Cell[][] => [
    [
      `best validation ${label} (epoch)`,
      ...both((v) => {
        const values = column(v.rows, key);
        const best = Math.max(...values.filter(Number.isFinite));
        return Number.isFinite(best) ? `${percent(best)} (${v.rows[values.indexOf(best)]!['epoch']})` : '–';
      }),
      '',
    ],
    numeric(`final validation ${label}`, (v) => last(v.rows, key), percent, false),
  ];
  return [
    numeric('parameters', (v) => v.params, integer),
    numeric('mult-adds per image', (v) => v.multAdds, integer),
    numeric('train time per epoch (s, mean)', (v) => mean(column(v.rows, 'trainSeconds')), (x) => decimal(x, 1)),
    numeric('training images/s (mean)', (v) => mean(column(v.rows, 'imagesPerSecond')), (x) => decimal(x, 0)),
    numeric('peak tensor memory (MB)', (v) => Math.max(...column(v.rows, 'peakTensorMB')), (x) => decimal(x, 0)),
    numeric('peak RSS of the process (MB)', (v) => Math.max(...column(v.rows, 'peakRssMB')), (x) => decimal(x, 0), false),
    ...(task === 'classification'
      ? metricRows('valAccuracy', 'accuracy')
      : [...metricRows('valPixelAccuracy', 'pixel accuracy'), ...metricRows('valMeanIoU', 'mean IoU')]),
    numeric('final validation loss', (v) => last(v.rows, 'valLoss'), (x) => decimal(x, 4), false),
    numeric('epochs', (v) => v.rows.length, integer, false),
  ];
}

/** The per-layer rows: [layer, regular type, params, mult-adds, DSC type, params, mult-adds, params ratio, mult-adds ratio]. */
export function layerRows(layers: readonly LayerPair[]): Cell[][] {
  const rows = layers.map((l) => [
    l.name,
    l.regular.type,
    integer(l.regular.params),
    integer(l.regular.multAdds),
    l.dsc.type,
    integer(l.dsc.params),
    integer(l.dsc.multAdds),
    ratio(l.dsc.params, l.regular.params),
    ratio(l.dsc.multAdds, l.regular.multAdds),
  ]);
  // The total covers what the regular/DSC switch changes: the convolutions, not the classifier's Linear.
  const convolutions = layers.filter((l) => l.regular.type.includes('Conv'));
  const total = (v: 'regular' | 'dsc', k: 'params' | 'multAdds'): number => convolutions.reduce((s, l) => s + l[v][k], 0);
  rows.push([
    'all convolutions',
    '',
    integer(total('regular', 'params')),
    integer(total('regular', 'multAdds')),
    '',
    integer(total('dsc', 'params')),
    integer(total('dsc', 'multAdds')),
    ratio(total('dsc', 'params'), total('regular', 'params')),
    ratio(total('dsc', 'multAdds'), total('regular', 'multAdds')),
  ]);
  return rows;
}

const COMPARISON_HEADER = ['', 'regular', 'DSC', 'DSC / regular'];
const LAYER_HEADER = ['layer', 'regular', 'params', 'mult-adds', 'DSC', 'params', 'mult-adds', 'params ratio', 'mult-adds ratio'];

function markdownTable(header: readonly string[], rows: readonly Cell[][]): string {
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'));
  return [header, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** report.md: tables plus links to the pictures beside it. */
export function reportMarkdown(input: ReportInput): string {
  const { images } = input;
  const lines = [
    `# ${input.title}`,
    '',
    ...input.context.map((c) => `- ${c}`),
    '',
    '## Regular vs depthwise separable',
    '',
    markdownTable(COMPARISON_HEADER, comparisonRows(input.task, input.regular, input.dsc)),
    '',
    '## Learning curves',
    '',
    `![learning curves, regular vs DSC](${images.curves.path})`,
    '',
  ];
  if (images.regularMasks && images.dscMasks)
    lines.push(
      '## Validation masks (last epoch)',
      '',
      `Regular: ![regular masks](${images.regularMasks.path})`,
      '',
      `DSC: ![DSC masks](${images.dscMasks.path})`,
      '',
      ...(images.regularGif && images.dscGif ? [`Over the epochs: [regular](${images.regularGif.path}), [DSC](${images.dscGif.path}).`, ''] : []),
    );
  lines.push('## Per-layer size and cost', '', 'Mult-adds per image (batch 1).', '', markdownTable(LAYER_HEADER, layerRows(input.layers)), '');
  return lines.join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

function htmlTable(header: readonly string[], rows: readonly Cell[][]): string {
  const cells = (r: readonly string[], tag: string): string => r.map((c, i) => `<${tag}${i === 0 ? '' : ' class="num"'}>${escapeHtml(c)}</${tag}>`).join('');
  return `<table><thead><tr>${cells(header, 'th')}</tr></thead><tbody>${rows.map((r) => `<tr>${cells(r, 'td')}</tr>`).join('')}</tbody></table>`;
}

function embedded(image: ImageRef, alt: string): string {
  return `<img alt="${escapeHtml(alt)}" src="data:${image.mime};base64,${Buffer.from(image.bytes).toString('base64')}">`;
}

/** report.html: one file, images embedded, no external resources. */
export function reportHtml(input: ReportInput): string {
  const { images } = input;
  const masks =
    images.regularMasks && images.dscMasks
      ? `<h2>Validation masks</h2><div class="pair"><figure>${embedded(images.regularGif ?? images.regularMasks, 'regular masks')}<figcaption>regular</figcaption></figure>` +
        `<figure>${embedded(images.dscGif ?? images.dscMasks, 'DSC masks')}<figcaption>DSC</figcaption></figure></div>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1500px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 10px}th{background:#f3f3f3}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}img{max-width:100%}
.pair{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{text-align:center;font-weight:bold}
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<ul>${input.context.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul>
<h2>Regular vs depthwise separable</h2>
${htmlTable(COMPARISON_HEADER, comparisonRows(input.task, input.regular, input.dsc))}
<h2>Learning curves</h2>
${embedded(images.curves, 'learning curves, regular vs DSC')}
${masks}
<h2>Per-layer size and cost</h2>
<p>Mult-adds per image (batch 1).</p>
${htmlTable(LAYER_HEADER, layerRows(input.layers))}
</body></html>
`;
}
