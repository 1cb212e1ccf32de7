/**
 * Training, evaluation and the regular-vs-DSC comparison (`sc.train`). `fit`, `evaluate`,
 * `predict` and `compare` run in worker threads and never block the caller's event loop; `fit`
 * trains zoo models or a user's own modules and data (named by module specifier, or arrays).
 *
 * @example
 * const result = await sc.train.fit({ preset: 'keras-vgg', conv: 'dsc', epochs: 1, dataDir: '../shared/datasets' },
 *   { onEvent: (e) => e.type === 'epoch' && console.log(e.metrics) });
 */
export { fit, startFit, evaluate, predict } from './fit.js';
export type { FitOptions, JobHandlers } from './fit.js';
export { compare } from './compare.js';
export type { CompareOptions, CompareHandlers, CompareResult } from './compare.js';
export type { EvaluateOptions, EvaluateResult } from './evaluate.js';
export type { PredictOptions, Prediction } from './predict.js';
export { planRun } from './rundir.js';
export type { RunOptions, RunPlan, RunMode } from './rundir.js';
export { ConfusionMatrix, argmaxClasses, topK } from './metrics.js';
export { resolveConfig, presetValues, MODELS, CONVS, DATASETS, OPTIMIZERS, SCHEDULERS, DEVICES, PRESETS } from './config.js';
export type { TrainConfig, TrainOptions, ModelName, ConvKind, DatasetName, OptionStyle } from './config.js';
export type { ModuleSpec, ResolvedModuleSpec } from './user-module.js';
export type { UserData } from './data.js';
export type { ArrayData, ArraySplit } from './arrays.js';
export { writeFileAtomic, metricsCsv, metricsJsonl, parseMetricsJsonl } from './files.js';
export type { MetricsRow } from './files.js';
export { renderCurves, renderMaskGrid, renderGif, curvePanels } from './pictures.js';
export type { CurveRun, MaskSample, Task } from './pictures.js';
export { ProgressPrinter, epochLine } from './progress.js';
export type { FitEvent, FitResult, FitStatus } from './events.js';
