/**
 * `evaluate`: a checkpoint's loss and metrics on a data split (the task behind
 * `sepconv eval`). Runs in the worker of `sc.train.evaluate`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { native } from '../native.js';
import type { ConvKind, DatasetName, ModelName } from './config.js';
import { taskOf } from './config.js';
import { evalLoader, openSplit } from './data.js';
import type { Split } from './data.js';
import { evaluateBatches, metricColumns } from './epoch.js';
import type { MetricsRow } from './files.js';
import { RUN_FILES } from './rundir.js';
import { loadCheckpointModel } from './setup.js';
import type { JobContext } from './job.js';

export interface EvaluateOptions {
  /** A weights file written by `fit` (or any state dict of a sepconv model with `model`/`conv`). */
  checkpoint: string;
  /** The folder holding the data set (default: the one the checkpoint's run trained on, else $SEPCONV_DATA, else ./datasets). */
  dataDir?: string;
  /** 'test' (default) or 'train' (Pets: trainval). */
  split?: Split;
  batchSize?: number;
  /** Evaluate the first N items only. */
  limit?: number;
  threads?: number;
  /** Needed only for checkpoints without sepconv metadata; checked against it otherwise. */
  model?: ModelName;
  conv?: ConvKind;
  dataset?: DatasetName;
  imageSize?: number;
}

export interface EvaluateResult {
  checkpoint: string;
  model: ModelName;
  conv: ConvKind;
  dataset: DatasetName;
  split: Split;
  items: number;
  /** loss and accuracy (classification) or pixelAccuracy, meanIoU, iou<Class> (segmentation). */
  metrics: MetricsRow;
  seconds: number;
}

/** The data folder of the run a checkpoint sits in (its config.json), if it named one. */
function trainedOn(checkpoint: string): string | null {
  try {
    const { config } = JSON.parse(readFileSync(join(dirname(checkpoint), RUN_FILES.config), 'utf8')) as { config?: { dataDir?: unknown } };
    return typeof config?.dataDir === 'string' ? config.dataDir : null;
  } catch {
    return null; // not in a run directory: the usual data-folder rule applies
  }
}

export async function runEvaluate(options: EvaluateOptions, context: JobContext): Promise<EvaluateResult> {
  if (options.threads !== undefined) native.setNumThreads(options.threads);
  const { model, identity } = await loadCheckpointModel(options.checkpoint, options);
  const split = options.split ?? 'test';
  const dataset = await openSplit(identity.dataset, split, {
    dir: options.dataDir ?? trainedOn(options.checkpoint),
    imageSize: identity.imageSize,
    limit: options.limit ?? null,
    warn: (message) => context.emit({ type: 'warning', message }),
  });
  const loader = evalLoader(dataset, options.batchSize ?? 64);
  const totals = await evaluateBatches(model, loader, identity.numClasses).finally(() => loader.close());
  return {
    checkpoint: options.checkpoint,
    model: identity.model,
    conv: identity.conv,
    dataset: identity.dataset,
    split,
    items: totals.items,
    metrics: metricColumns('', taskOf(identity.dataset), totals, identity.classes, true),
    seconds: totals.seconds,
  };
}
