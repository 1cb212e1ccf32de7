/**
 * The optimizer base: parameter groups, per-parameter state, zeroGrad/step, and state dicts
 * that resume exactly. Updates run as one fused native kernel per parameter, in place.
 */
import { noGrad } from '../autograd/graph.js';
import { isFloat } from '../dtype.js';
import { describe, invalidArg, shapeStr } from '../errors.js';
import { castCopy, full, tensor, Tensor } from '../tensor.js';

export type HyperValue = number | boolean | readonly [number, number];
/** A group's hyper-parameters (values are HyperValues): every optimizer has a learning rate. */
export type Hyper = { lr: number };

/** A parameter group: its tensors and its hyper-parameters (PyTorch's `param_groups` entries). */
export type ParamGroup<H extends Hyper> = H & { params: Tensor[] };

/** Parameters to optimize: tensors, or groups of them that override some hyper-parameters. */
export type ParamsArg<H extends Hyper> = readonly Tensor[] | readonly (Partial<H> & { params: readonly Tensor[] })[];

export interface OptimizerStateDict {
  /** Per parameter index (counted across groups, in order): its step count (a float64 scalar tensor, when the optimizer counts steps) and buffers. */
  state: Record<number, Record<string, Tensor>>;
  /** Each group's hyper-parameters, with `params` as parameter indices. */
  paramGroups: { params: number[]; [hyper: string]: HyperValue | number[] }[];
}

/** What an optimizer keeps per parameter. */
export interface ParamState {
  step: number;
  buffers: Record<string, Tensor>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tensor);

export abstract class Optimizer<H extends Hyper> {
  /** The groups, in order; hyper-parameters may be changed between steps (schedulers set `lr`). */
  readonly paramGroups: ParamGroup<H>[];
  private readonly states = new Map<Tensor, ParamState>();

  /**
   * @param name the optimizer's name in error messages
   * @param defaults every hyper-parameter, already merged with the caller's options
   * @param bufferNames the per-parameter buffers a state dict may hold
   * @param countsSteps whether state dicts carry a per-parameter step count
   */
  protected constructor(
    protected readonly name: string,
    params: ParamsArg<H>,
    protected readonly defaults: H,
    private readonly bufferNames: readonly string[],
    private readonly countsSteps: boolean,
  ) {
    this.checkHyper(defaults, 'options');
    if (!Array.isArray(params) || params.length === 0)
      throw invalidArg(name, 'params', 'a non-empty array of Tensors or of parameter groups', describe(params));
    const groups: readonly unknown[] = params.every((p) => p instanceof Tensor) ? [{ params }] : params;
    const seen = new Set<Tensor>();
    this.paramGroups = groups.map((g, gi) => {
      const where = groups === params ? `params[${gi}]` : 'params';
      if (!isPlainObject(g) || !Array.isArray(g['params']))
        throw invalidArg(name, where, 'a Tensor or a group { params: Tensor[], ... }', describe(g));
      const tensors = (g['params'] as unknown[]).map((p, pi) => this.checkParam(p, groups === params ? `${where}.params[${pi}]` : `params[${pi}]`));
      for (const p of tensors) {
        if (seen.has(p)) throw invalidArg(name, where, 'each parameter in one place only', `the parameter of shape ${shapeStr(p.shape)} twice`);
        seen.add(p);
      }
      // Own copies of array values (betas): groups never share them with each other or the caller.
      const group = { params: tensors } as unknown as ParamGroup<H>;
      for (const [key, fallback] of Object.entries(defaults)) {
        const v: unknown = g[key] !== undefined ? g[key] : fallback;
        (group as Record<string, unknown>)[key] = Array.isArray(v) ? v.slice() : v;
      }
      if (groups === params) this.checkHyper(group, where);
      return group;
    });
  }

  /** Validates one group's hyper-parameters (`where` names it in messages). */
  protected abstract checkHyper(h: H, where: string): void;
  /** Updates one parameter in place from its gradient (called under noGrad). */
  protected abstract update(param: Tensor, grad: Tensor, group: ParamGroup<H>, state: ParamState): void;

  /** Drops every parameter's gradient (frees it), like PyTorch's `zero_grad()` (set_to_none). */
  zeroGrad(): void {
    for (const group of this.paramGroups)
      for (const p of group.params) {
        p.grad?.dispose();
        p.grad = null;
      }
  }

  /** One update of every parameter that has a gradient; the others are left as they are. */
  step(): void {
    noGrad(() => {
      for (const group of this.paramGroups)
        for (const p of group.params) {
          if (p.grad === null || p.grad.isDisposed) continue;
          let state = this.states.get(p);
          if (state === undefined) this.states.set(p, (state = { step: 0, buffers: {} }));
          this.update(p, p.grad, group, state);
        }
    });
  }

  /** A zero-filled state buffer shaped like `param`, on its device, that survives enclosing scopes. */
  protected buffer(state: ParamState, key: string, param: Tensor): Tensor {
    const b = (state.buffers[key] ??= full(param.shape, 0, { dtype: param.dtype, device: param.device }).keep());
    b.moveTo(param.device); // the state follows a model moved after it was made (no-op otherwise)
    return b;
  }

  private allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * A snapshot (copies) of the optimizer's state: per parameter index its step count and
   * buffers as tensors, and each group's hyper-parameters. The caller owns the tensors.
   *
   * @example
   * const saved = opt.stateDict();
   * // ... later, with the same parameters in the same order:
   * opt.loadStateDict(saved);
   */
  stateDict(): OptimizerStateDict {
    const state: Record<number, Record<string, Tensor>> = {};
    this.allParams().forEach((p, i) => {
      const s = this.states.get(p);
      if (s === undefined) return;
      const entry: Record<string, Tensor> = {};
      if (this.countsSteps) entry['step'] = tensor([s.step], [], { dtype: 'float64' });
      for (const [key, t] of Object.entries(s.buffers)) entry[key] = castCopy(t, t.dtype);
      state[i] = entry;
    });
    let index = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const hyper: Record<string, HyperValue> = {};
      for (const key of Object.keys(this.defaults)) {
        const v = (g as unknown as Record<string, HyperValue>)[key]!;
        hyper[key] = Array.isArray(v) ? ([v[0], v[1]] as const) : v;
      }
      return { ...hyper, params: g.params.map(() => index++) };
    });
    return { state, paramGroups };
  }

  /** Restores a `stateDict()` taken from an optimizer over parameters of the same shapes (copies its tensors). */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    if (!isPlainObject(stateDict) || !Array.isArray(stateDict.paramGroups) || !isPlainObject(stateDict.state))
      throw invalidArg(op, 'stateDict', 'an object { state, paramGroups } from stateDict()', describe(stateDict));
    if (stateDict.paramGroups.length !== this.paramGroups.length)
      throw invalidArg(op, 'stateDict.paramGroups', `${this.paramGroups.length} groups (as this optimizer has)`, `${stateDict.paramGroups.length}`);
    stateDict.paramGroups.forEach((g, gi) => {
      const count = this.paramGroups[gi]!.params.length;
      if (!isPlainObject(g) || !Array.isArray(g.params) || g.params.length !== count)
        throw invalidArg(op, `stateDict.paramGroups[${gi}]`, `a group of ${count} parameters (as this optimizer's group ${gi})`, isPlainObject(g) && Array.isArray(g.params) ? `${g.params.length} parameters` : describe(g));
      const hyper = { ...this.paramGroups[gi]! } as H;
      for (const key of Object.keys(this.defaults)) if (g[key] !== undefined) (hyper as Record<string, unknown>)[key] = g[key];
      this.checkHyper(hyper, `stateDict.paramGroups[${gi}]`);
    });
    const params = this.allParams();
    const loaded = new Map<Tensor, ParamState>();
    for (const [key, entry] of Object.entries(stateDict.state)) {
      const i = Number(key);
      const p = params[i];
      if (!Number.isInteger(i) || p === undefined)
        throw invalidArg(op, 'stateDict.state', `parameter indices in [0, ${params.length - 1}]`, `'${key}'`);
      if (!isPlainObject(entry)) throw invalidArg(op, `stateDict.state[${i}]`, 'an object of tensors', describe(entry));
      loaded.set(p, this.loadEntry(op, i, p, entry as Record<string, unknown>));
    }
    // Everything checked: now replace the hyper-parameters and the state.
    stateDict.paramGroups.forEach((g, gi) => {
      for (const key of Object.keys(this.defaults)) {
        const v = g[key];
        if (v !== undefined) (this.paramGroups[gi] as Record<string, unknown>)[key] = Array.isArray(v) ? v.slice() : v;
      }
    });
    for (const s of this.states.values()) for (const t of Object.values(s.buffers)) t.dispose();
    this.states.clear();
    for (const [p, s] of loaded) this.states.set(p, s);
  }

  private loadEntry(op: string, i: number, p: Tensor, entry: Record<string, unknown>): ParamState {
    const state: ParamState = { step: 0, buffers: {} };
    const copies: Tensor[] = [];
    try {
      for (const [key, t] of Object.entries(entry)) {
        const where = `stateDict.state[${i}].${key}`;
        if (key === 'step' && this.countsSteps) {
          if (!(t instanceof Tensor) || t.numel !== 1) throw invalidArg(op, where, 'a one-element tensor', describe(t));
          const step = t.item();
          if (!Number.isInteger(step) || step < 0) throw invalidArg(op, where, 'a non-negative integer step count', String(step));
          state.step = step;
          continue;
        }
        if (!this.bufferNames.includes(key))
          throw invalidArg(op, `stateDict.state[${i}]`, `only ${[...(this.countsSteps ? ['step'] : []), ...this.bufferNames].join(', ')}`, `'${key}'`);
        if (!(t instanceof Tensor) || t.isDisposed || !isFloat(t.dtype) || t.shape.join() !== p.shape.join())
          throw invalidArg(op, where, `a float tensor of shape ${shapeStr(p.shape)} (parameter ${i})`, t instanceof Tensor ? `a ${t.dtype} tensor of shape ${shapeStr(t.shape)}` : describe(t));
        const copy = castCopy(t, p.dtype, p.device).keep();
        copies.push(copy);
        state.buffers[key] = copy;
      }
    } catch (err) {
      for (const t of copies) t.dispose();
      throw err;
    }
    return state;
  }

  private checkParam(p: unknown, where: string): Tensor {
    if (!(p instanceof Tensor) || p.isDisposed || !isFloat(p.dtype) || p.gradFn !== null)
      throw invalidArg(this.name, where, 'a live float Tensor that is a leaf of the graph (a parameter)', p instanceof Tensor ? `a ${p.isDisposed ? 'disposed' : p.dtype} tensor of shape ${shapeStr(p.shape)}${p.gradFn ? ' produced by an op' : ''}` : describe(p));
    return p;
  }
}

/** Hyper-parameter checks shared by the optimizers; each throws "<name>: expected … for <where>.<key> …". */
export function expectNumber(name: string, where: string, h: object, key: string, ok: (v: number) => boolean, expected: string): void {
  const v = (h as Record<string, unknown>)[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw invalidArg(name, `${where}.${key}`, expected, describe(v));
}

export function expectBoolean(name: string, where: string, h: object, key: string): void {
  const v = (h as Record<string, unknown>)[key];
  if (typeof v !== 'boolean') throw invalidArg(name, `${where}.${key}`, 'a boolean', describe(v));
}
