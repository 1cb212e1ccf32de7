/** Optimizers and learning-rate schedulers (`sc.optim`), named and behaving as in PyTorch. */
export { Optimizer } from './optimizer.js';
export type { OptimizerStateDict, ParamGroup, ParamsArg, ParamState, Hyper, HyperValue } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions, SGDHyper } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions, AdamHyper } from './adam.js';
export { LRScheduler, StepLR, CosineAnnealingLR } from './lr_scheduler.js';
export type { HasLrGroups, SchedulerStateDict, StepLROptions, CosineAnnealingLROptions } from './lr_scheduler.js';
