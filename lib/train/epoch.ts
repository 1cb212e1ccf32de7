/**
 * Per-epoch bookkeeping shared by training, validation and `evaluate`: running sums of loss
 * and confusion counts, and the metric columns computed from them.
 */
import { noGrad } from '../autograd/graph.js';
import { crossEntropy } from '../functional/index.js';
import type { DataLoader } from '../data/loader.js';
import type { Tensor } from '../tensor.js';
import type { MetricsRow } from './files.js';
import { ConfusionMatrix, argmaxClasses } from './metrics.js';
import type { Task } from './pictures.js';
import type { Model } from './setup.js';

/** Running sums of a (partial) pass over a split; plain data so checkpoints can hold it. */
export interface EpochTotals {
  lossSum: number;
  items: number;
  /** Confusion counts, numClasses², row = target. */
  confusion: number[];
  seconds: number;
}

export function newTotals(numClasses: number): EpochTotals {
  return { lossSum: 0, items: 0, confusion: new Array<number>(numClasses * numClasses).fill(0), seconds: 0 };
}

/** Adds a batch's mean loss and its predictions to running totals. */
export function accumulate(totals: EpochTotals, logits: Tensor, targets: Tensor, loss: number): void {
  const numClasses = logits.shape[1]!;
  const cm = new ConfusionMatrix(numClasses);
  cm.add(argmaxClasses(logits.toArray(), logits.shape), targets.toArray());
  cm.counts.forEach((c, i) => (totals.confusion[i]! += c));
  const batch = targets.shape[0]!;
  totals.lossSum += loss * batch;
  totals.items += batch;
}

/** camelCase key part of a class name: 'pet' → 'Pet', 'american bulldog' → 'AmericanBulldog'. */
function keyPart(name: string): string {
  return name.replace(/(?:^|[^A-Za-z0-9]+)([A-Za-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * The metric columns of a pass: `<prefix>Loss` and `<prefix>Accuracy` for classification;
 * `<prefix>PixelAccuracy`, `<prefix>MeanIoU` and, with `perClass`, `<prefix>IoU<Class>` for
 * segmentation. An empty prefix gives `loss`, `accuracy`, …, `iou<Class>`.
 */
export function metricColumns(prefix: string, task: Task, totals: EpochTotals, classes: readonly string[], perClass: boolean): MetricsRow {
  const key = (name: string): string => (prefix === '' ? name[0]!.toLowerCase() + name.slice(1) : prefix + name);
  const cm = new ConfusionMatrix(classes.length);
  cm.counts.set(totals.confusion);
  const row: MetricsRow = { [key('Loss')]: totals.lossSum / totals.items };
  if (task === 'classification') {
    row[key('Accuracy')] = cm.accuracy();
    return row;
  }
  row[key('PixelAccuracy')] = cm.accuracy();
  row[key('MeanIoU')] = cm.meanIoU();
  if (perClass) cm.classIoU().forEach((iou, c) => (row[`${prefix === '' ? 'iou' : `${prefix}IoU`}${keyPart(classes[c]!)}`] = iou));
  return row;
}

/** Loss and confusion totals of `model` (in eval mode, no gradients) over one pass of a loader. */
export async function evaluateBatches(model: Model, loader: DataLoader, numClasses: number): Promise<EpochTotals> {
  const totals = newTotals(numClasses);
  const started = performance.now();
  model.eval();
  for await (const { x, y } of loader) {
    noGrad(() => {
      const logits = model.call(x);
      const loss = crossEntropy(logits, y);
      accumulate(totals, logits, y, loss.item());
      logits.dispose();
      loss.dispose();
    });
    x.dispose();
    y.dispose();
  }
  totals.seconds = (performance.now() - started) / 1000;
  return totals;
}
