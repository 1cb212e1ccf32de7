/**
 * Learning-rate schedules (PyTorch's `torch.optim.lr_scheduler`), computed in closed form
 * from each group's base learning rate and the epoch count, so resuming from a state dict
 * continues the same sequence.
 */
import { describe, invalidArg } from '../errors.js';

/** Anything with parameter groups that carry a learning rate (every sepconv optimizer). */
export interface HasLrGroups {
  readonly paramGroups: { lr: number }[];
}

export interface SchedulerStateDict {
  lastEpoch: number;
  baseLrs: number[];
  [option: string]: number | number[];
}

export abstract class LRScheduler {
  /** Steps taken so far (0 after construction). */
  lastEpoch = 0;
  /** Each group's learning rate when the scheduler was created. */
  baseLrs: number[];

  protected constructor(
    protected readonly name: string,
    readonly optimizer: HasLrGroups,
  ) {
    if (optimizer === null || typeof optimizer !== 'object' || !Array.isArray(optimizer.paramGroups))
      throw invalidArg(name, 'optimizer', 'an optimizer (with paramGroups)', describe(optimizer));
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rate of a group with base rate `baseLr` after `epoch` steps. */
  protected abstract lrAt(baseLr: number, epoch: number): number;
  /** The schedule's own options, for the state dict. */
  protected abstract options(): Record<string, number>;

  /** Advances one epoch and sets every group's learning rate. */
  step(): void {
    this.lastEpoch += 1;
    this.apply();
  }

  /** The learning rates the last step set, one per group. */
  getLastLr(): number[] {
    return this.baseLrs.map((base) => this.lrAt(base, this.lastEpoch));
  }

  stateDict(): SchedulerStateDict {
    return { ...this.options(), lastEpoch: this.lastEpoch, baseLrs: this.baseLrs.slice() };
  }

  /** Restores a `stateDict()` and sets the learning rates it implies. */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    const groups = this.optimizer.paramGroups.length;
    if (stateDict === null || typeof stateDict !== 'object' || !Number.isInteger(stateDict.lastEpoch) || stateDict.lastEpoch < 0)
      throw invalidArg(op, 'stateDict.lastEpoch', 'a non-negative integer', describe(stateDict?.lastEpoch));
    if (!Array.isArray(stateDict.baseLrs) || stateDict.baseLrs.length !== groups || !stateDict.baseLrs.every(Number.isFinite))
      throw invalidArg(op, 'stateDict.baseLrs', `${groups} learning rates (one per parameter group)`, describe(stateDict.baseLrs));
    this.loadOptions(stateDict);
    this.lastEpoch = stateDict.lastEpoch;
    this.baseLrs = stateDict.baseLrs.slice();
    this.apply();
  }

  protected abstract loadOptions(stateDict: SchedulerStateDict): void;

  protected apply(): void {
    this.getLastLr().forEach((lr, i) => (this.optimizer.paramGroups[i]!.lr = lr));
  }
}

function positiveInteger(op: string, argument: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw invalidArg(op, argument, 'a positive integer', describe(value));
  return value as number;
}

function finiteNumber(op: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArg(op, argument, 'a finite number', describe(value));
  return value;
}

export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Factor applied at each decay (default 0.1). */
  gamma?: number;
}

/**
 * lr = baseLr * gamma^floor(epoch / stepSize).
 *
 * @example
 * const sched = new sc.optim.StepLR(opt, { stepSize: 30, gamma: 0.1 });
 * for (let epoch = 0; epoch < 90; epoch++) { trainOneEpoch(); sched.step(); }
 */
export class StepLR extends LRScheduler {
  private stepSize: number;
  private gamma: number;

  constructor(optimizer: HasLrGroups, options: StepLROptions) {
    super('StepLR', optimizer);
    this.stepSize = positiveInteger('StepLR', 'options.stepSize', options?.stepSize);
    this.gamma = finiteNumber('StepLR', 'options.gamma', options.gamma ?? 0.1);
    this.apply();
  }

  protected lrAt(baseLr: number, epoch: number): number {
    return baseLr * this.gamma ** Math.floor(epoch / this.stepSize);
  }

  protected options(): Record<string, number> {
    return { stepSize: this.stepSize, gamma: this.gamma };
  }

  protected loadOptions(s: SchedulerStateDict): void {
    this.stepSize = positiveInteger('StepLR.loadStateDict', 'stateDict.stepSize', s['stepSize']);
    this.gamma = finiteNumber('StepLR.loadStateDict', 'stateDict.gamma', s['gamma']);
  }
}

export interface CosineAnnealingLROptions {
  /** Epochs of one half cosine period (from baseLr down to etaMin). */
  tMax: number;
  /** The minimum learning rate (default 0). */
  etaMin?: number;
}

/**
 * lr = etaMin + (baseLr - etaMin) * (1 + cos(pi * epoch / tMax)) / 2.
 *
 * @example
 * const sched = new sc.optim.CosineAnnealingLR(opt, { tMax: 50, etaMin: 1e-5 });
 */
export class CosineAnnealingLR extends LRScheduler {
  private tMax: number;
  private etaMin: number;

  constructor(optimizer: HasLrGroups, options: CosineAnnealingLROptions) {
    super('CosineAnnealingLR', optimizer);
    this.tMax = positiveInteger('CosineAnnealingLR', 'options.tMax', options?.tMax);
    this.etaMin = finiteNumber('CosineAnnealingLR', 'options.etaMin', options.etaMin ?? 0);
    this.apply();
  }

  protected lrAt(baseLr: number, epoch: number): number {
    return this.etaMin + ((baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }

  protected options(): Record<string, number> {
    return { tMax: this.tMax, etaMin: this.etaMin };
  }

  protected loadOptions(s: SchedulerStateDict): void {
    this.tMax = positiveInteger('CosineAnnealingLR.loadStateDict', 'stateDict.tMax', s['tMax']);
    this.etaMin = finiteNumber('CosineAnnealingLR.loadStateDict', 'stateDict.etaMin', s['etaMin']);
  }
}
