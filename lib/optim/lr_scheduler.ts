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

/** How a schedule's numeric option is checked, and its default when omitted. */
interface OptionSpec {
  check: (op: string, argument: string, value: unknown) => number;
  fallback?: number;
}

function positiveInteger(op: string, argument: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1) throw invalidArg(op, argument, 'a positive integer', describe(value));
  return value as number;
}

function finiteNumber(op: string, argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidArg(op, argument, 'a finite number', describe(value));
  return value;
}

export abstract class LRScheduler<O extends Record<string, number> = Record<string, number>> {
  /** Steps taken so far (0 after construction). */
  lastEpoch = 0;
  /** Each group's learning rate when the scheduler was created. */
  baseLrs: number[];
  /** The schedule's options (checked, defaults filled in). */
  protected options: O;

  protected constructor(
    protected readonly name: string,
    readonly optimizer: HasLrGroups,
    private readonly spec: { [K in keyof O]: OptionSpec },
    given: Partial<O> | undefined,
  ) {
    if (optimizer === null || typeof optimizer !== 'object' || !Array.isArray(optimizer.paramGroups))
      throw invalidArg(name, 'optimizer', 'an optimizer (with paramGroups)', describe(optimizer));
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.options = this.readOptions(name, 'options', given ?? {}, true);
    this.apply();
  }

  /** The learning rate of a group with base rate `baseLr` after `epoch` steps. */
  protected abstract lrAt(baseLr: number, epoch: number): number;

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
    return { ...this.options, lastEpoch: this.lastEpoch, baseLrs: this.baseLrs.slice() };
  }

  /** Restores a `stateDict()` and sets the learning rates it implies. */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    const groups = this.optimizer.paramGroups.length;
    if (stateDict === null || typeof stateDict !== 'object' || !Number.isInteger(stateDict.lastEpoch) || stateDict.lastEpoch < 0)
      throw invalidArg(op, 'stateDict.lastEpoch', 'a non-negative integer', describe(stateDict?.lastEpoch));
    if (!Array.isArray(stateDict.baseLrs) || stateDict.baseLrs.length !== groups || !stateDict.baseLrs.every(Number.isFinite))
      throw invalidArg(op, 'stateDict.baseLrs', `${groups} learning rates (one per parameter group)`, describe(stateDict.baseLrs));
    this.options = this.readOptions(op, 'stateDict', stateDict as Record<string, unknown>, false);
    this.lastEpoch = stateDict.lastEpoch;
    this.baseLrs = stateDict.baseLrs.slice();
    this.apply();
  }

  private readOptions(op: string, where: string, given: Record<string, unknown>, useDefaults: boolean): O {
    const out: Record<string, number> = {};
    for (const [key, { check, fallback }] of Object.entries(this.spec) as [string, OptionSpec][])
      out[key] = check(op, `${where}.${key}`, given[key] === undefined && useDefaults ? fallback : given[key]);
    return out as O;
  }

  private apply(): void {
    this.getLastLr().forEach((lr, i) => (this.optimizer.paramGroups[i]!.lr = lr));
  }
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
export class StepLR extends LRScheduler<Required<StepLROptions>> {
  constructor(optimizer: HasLrGroups, options: StepLROptions) {
    super('StepLR', optimizer, { stepSize: { check: positiveInteger }, gamma: { check: finiteNumber, fallback: 0.1 } }, options);
  }

  protected lrAt(baseLr: number, epoch: number): number {
    const { stepSize, gamma } = this.options;
    return baseLr * gamma ** Math.floor(epoch / stepSize);
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
export class CosineAnnealingLR extends LRScheduler<Required<CosineAnnealingLROptions>> {
  constructor(optimizer: HasLrGroups, options: CosineAnnealingLROptions) {
    super('CosineAnnealingLR', optimizer, { tMax: { check: positiveInteger }, etaMin: { check: finiteNumber, fallback: 0 } }, options);
  }

  protected lrAt(baseLr: number, epoch: number): number {
    const { tMax, etaMin } = this.options;
    return etaMin + ((baseLr - etaMin) * (1 + Math.cos((Math.PI * epoch) / tMax))) / 2;
  }
}
