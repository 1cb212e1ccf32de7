/**
 * Training, evaluation and the regular-vs-DSC comparison (`sc.train`).
 */
export { ConfusionMatrix, argmaxClasses, topK } from './metrics.js';
export { resolveConfig, presetValues, MODELS, CONVS, DATASETS, OPTIMIZERS, SCHEDULERS, DEVICES, PRESETS } from './config.js';
export type { TrainConfig, TrainOptions, ModelName, ConvKind, DatasetName } from './config.js';
export { writeFileAtomic, metricsCsv, metricsJsonl, parseMetricsJsonl } from './files.js';
export type { MetricsRow } from './files.js';
export { renderCurves, renderMaskGrid, renderGif, curvePanels } from './pictures.js';
export type { CurveRun, MaskSample, Task } from './pictures.js';
export { ProgressPrinter, epochLine } from './progress.js';
export type { FitEvent, FitResult, FitStatus } from './events.js';
