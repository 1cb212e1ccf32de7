/**
 * `compare`: trains the regular and the DSC variant of a model with the same seed, data order
 * and budget (OUT/regular, OUT/dsc), then writes OUT/report.md, a self-contained
 * OUT/report.html and OUT/curves.png (both variants overlaid).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { arch, cpus } from 'node:os';
import { join } from 'node:path';
import { native } from '../native.js';
import { summary } from '../nn/summary.js';
import { configError, CONVS, resolveConfig, taskOf } from './config.js';
import type { ConvKind, TrainConfig, TrainOptions } from './config.js';
import type { FitEvent, FitResult } from './events.js';
import { fit } from './fit.js';
import { count } from './progress.js';
import { parseMetricsJsonl, writeFileAtomic } from './files.js';
import { renderCurves } from './pictures.js';
import { reportHtml, reportMarkdown } from './report.js';
import type { ImageRef, LayerPair, VariantReport } from './report.js';
import { refuseExistingRun, runMarkers, RUN_FILES } from './rundir.js';
import type { RunMode, RunOptions } from './rundir.js';
import { buildModel, DATASET_CLASSES } from './setup.js';

export interface CompareOptions extends Omit<TrainOptions, 'conv'>, RunOptions {}

export interface CompareHandlers {
  onEvent?: (event: FitEvent, conv: ConvKind) => void;
  /** Aborting stops the variant in training after its current step (resumable). */
  signal?: AbortSignal;
}

export interface CompareResult {
  status: FitResult['status'];
  outDir: string;
  regular: FitResult | null;
  dsc: FitResult | null;
  /** Written when both variants completed. */
  report: { markdown: string; html: string } | null;
}

export const COMPARE_FILES = { options: 'compare.json', markdown: 'report.md', html: 'report.html', curves: 'curves.png' } as const;

const VARIANT_COLOURS: Record<ConvKind, string> = { regular: '#4e79a7', dsc: '#f28e2b' };
const VARIANT_LABELS: Record<ConvKind, string> = { regular: 'regular', dsc: 'DSC' };

/** A validated comparison: its directory, the shared training options and how to start. */
export interface ComparePlan {
  out: string;
  train: TrainOptions;
  mode: RunMode;
}

/** Validates a comparison's options (refusing an existing one unless resuming or overwriting). */
export function planCompare(options: CompareOptions): ComparePlan {
  const { resume, overwrite, ...rest } = options;
  if ((rest as TrainOptions).conv !== undefined) throw configError('compare trains both variants; leave out --conv');
  if (resume !== undefined && overwrite) throw configError('--resume and --overwrite exclude each other: resume a comparison, or replace it');
  if (resume !== undefined) {
    const path = join(resume, COMPARE_FILES.options);
    if (!existsSync(path)) throw configError(`${resume} holds no comparison to resume (no ${COMPARE_FILES.options}); start one without --resume`);
    const saved = JSON.parse(readFileSync(path, 'utf8')) as TrainOptions;
    return { out: resume, train: { ...saved, ...(rest.epochs !== undefined ? { epochs: rest.epochs } : {}), out: resume }, mode: 'resume' };
  }
  const out = rest.out ?? `runs/compare-${rest.model ?? resolveConfig(rest).model}`;
  resolveConfig({ ...rest, out }); // validates every option before anything is written
  const found = [COMPARE_FILES.options, COMPARE_FILES.markdown, ...CONVS.filter((c) => runMarkers(join(out, c)).length > 0)].filter((n) => existsSync(join(out, n)));
  refuseExistingRun(out, 'comparison', found, overwrite ? 'overwrite' : 'fresh');
  return { out, train: { ...rest, out }, mode: overwrite ? 'overwrite' : 'fresh' };
}

/** Params and mult-adds of each convolution (and dense layer) in both variants, paired by layer name. */
export function layerPairs(config: TrainConfig, numClasses: number): { regular: { params: number; multAdds: number }; dsc: { params: number; multAdds: number }; layers: LayerPair[] } {
  const input = [1, 3, config.imageSize, config.imageSize];
  const measure = (conv: ConvKind) => summary(buildModel(config.model, conv, numClasses), input, { print: false });
  const regular = measure('regular');
  const dsc = measure('dsc');
  const WEIGHT_LAYERS = /^(Conv2d|SeparableConv2d|DepthwiseConv2d|PointwiseConv2d|ConvTranspose2d|Linear)$/;
  const byName = new Map(dsc.layers.map((l) => [l.name, l]));
  const layers: LayerPair[] = [];
  for (const r of regular.layers) {
    if (!WEIGHT_LAYERS.test(r.type)) continue;
    const same = byName.get(r.name);
    const parent = r.name.slice(0, r.name.lastIndexOf('.'));
    const parts = same ? [same] : dsc.layers.filter((l) => WEIGHT_LAYERS.test(l.type) && l.name.startsWith(parent + '.') && !l.name.slice(parent.length + 1).includes('.'));
    if (parts.length === 0) continue;
    layers.push({
      name: r.name,
      regular: { type: r.type, params: r.params, multAdds: r.multAdds },
      dsc: { type: parts.map((p) => p.type).join(' + '), params: parts.reduce((s, p) => s + p.params, 0), multAdds: parts.reduce((s, p) => s + p.multAdds, 0) },
    });
  }
  return { regular: { params: regular.totalParams, multAdds: regular.multAdds }, dsc: { params: dsc.totalParams, multAdds: dsc.multAdds }, layers };
}

async function image(dir: string, name: string, mime: ImageRef['mime'], linkPath: string): Promise<ImageRef | undefined> {
  const path = join(dir, name);
  return existsSync(path) ? { path: linkPath, bytes: await readFile(path), mime } : undefined;
}

/** Writes curves.png, report.md and report.html for two finished variants. */
async function writeReport(out: string, config: TrainConfig, results: Record<ConvKind, FitResult>): Promise<{ markdown: string; html: string }> {
  const task = taskOf(config.dataset);
  const rows = (conv: ConvKind) => parseMetricsJsonl(readFileSync(join(out, conv, RUN_FILES.metricsJsonl), 'utf8'));
  const costs = layerPairs(config, DATASET_CLASSES[config.dataset].length);
  const variant = (conv: ConvKind): VariantReport => ({ conv, ...costs[conv], rows: rows(conv), best: results[conv].best });
  const curves = await renderCurves(
    CONVS.map((conv) => ({ label: VARIANT_LABELS[conv], color: VARIANT_COLOURS[conv], rows: rows(conv) })),
    task,
  );
  await writeFileAtomic(join(out, COMPARE_FILES.curves), curves);
  const b = native.backend();
  const input = {
    title: `${config.model}: regular vs depthwise separable convolutions`,
    task,
    context: [
      `data: ${config.dataset}${config.limit ? ` (first ${config.limit} training items)` : ''}, validation on the test split${config.valLimit ? ` (first ${config.valLimit})` : ''}`,
      `training: ${count(config.epochs, 'epoch')}, batch ${config.batchSize}, ${config.optimizer} lr ${config.lr}, seed ${config.seed}${config.preset ? `, preset ${config.preset}` : ''}`,
      `machine: ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores, ${arch()}), kernels ${b.isa} with ${b.threads} threads`,
      `date: ${new Date().toISOString().slice(0, 10)}`,
    ],
    regular: variant('regular'),
    dsc: variant('dsc'),
    layers: costs.layers,
    images: {
      curves: { path: COMPARE_FILES.curves, bytes: curves, mime: 'image/png' as const },
      regularMasks: await image(join(out, 'regular'), RUN_FILES.masks, 'image/png', `regular/${RUN_FILES.masks}`),
      dscMasks: await image(join(out, 'dsc'), RUN_FILES.masks, 'image/png', `dsc/${RUN_FILES.masks}`),
      regularGif: await image(join(out, 'regular'), RUN_FILES.masksGif, 'image/gif', `regular/${RUN_FILES.masksGif}`),
      dscGif: await image(join(out, 'dsc'), RUN_FILES.masksGif, 'image/gif', `dsc/${RUN_FILES.masksGif}`),
    },
  };
  const markdown = join(out, COMPARE_FILES.markdown);
  const html = join(out, COMPARE_FILES.html);
  await writeFileAtomic(markdown, reportMarkdown(input));
  await writeFileAtomic(html, reportHtml(input));
  return { markdown, html };
}

/**
 * Trains both variants one after the other and writes the comparison report.
 *
 * @example
 * const result = await sc.train.compare({ preset: 'keras-vgg', dataDir: '../shared/datasets', out: 'runs/compare-vgg' });
 * console.log(result.report?.html);
 */
export async function compare(options: CompareOptions, handlers: CompareHandlers = {}): Promise<CompareResult> {
  return runComparison(planCompare(options), handlers);
}

/** Runs a comparison planned by `planCompare`. */
export async function runComparison(plan: ComparePlan, handlers: CompareHandlers = {}): Promise<CompareResult> {
  const results: Partial<Record<ConvKind, FitResult>> = {};
  const partial = (status: FitResult['status']): CompareResult => ({ status, outDir: plan.out, regular: results.regular ?? null, dsc: results.dsc ?? null, report: null });
  if (plan.mode === 'overwrite') await Promise.all(Object.values(COMPARE_FILES).map((n) => rm(join(plan.out, n), { force: true })));
  await mkdir(plan.out, { recursive: true });
  if (plan.mode !== 'resume') await writeFileAtomic(join(plan.out, COMPARE_FILES.options), JSON.stringify({ ...plan.train, out: undefined }, null, 2) + '\n');
  for (const conv of CONVS) {
    const dir = join(plan.out, conv);
    const resumable = plan.mode === 'resume' && existsSync(join(dir, RUN_FILES.resume));
    const options = resumable ? { resume: dir, epochs: plan.train.epochs } : { ...plan.train, conv, out: dir, overwrite: plan.mode !== 'fresh' };
    const result = await fit(options, { onEvent: (e) => handlers.onEvent?.(e, conv), signal: handlers.signal });
    results[conv] = result;
    if (result.status !== 'completed') return partial(result.status);
  }
  const config = resolveConfig({ ...plan.train, conv: 'regular', out: join(plan.out, 'regular') });
  const report = await writeReport(plan.out, config, results as Record<ConvKind, FitResult>);
  return { ...partial('completed'), report };
}
