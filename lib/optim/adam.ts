/** Adam and AdamW (PyTorch's `torch.optim.Adam` / `AdamW`), including amsgrad. */
import { describe, invalidArg } from '../errors.js';
import { runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import { expectBoolean, expectNumber, Optimizer } from './optimizer.js';
import type { ParamGroup, ParamsArg, ParamState } from './optimizer.js';

export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator for stability (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay, param *= 1 - lr*weightDecay (default 0.01). */
  weightDecay?: number;
  /** Use the running maximum of the second moment (AMSGrad; default false). */
  amsgrad?: boolean;
}

export type AdamHyper = Required<AdamOptions>;

abstract class AdamBase extends Optimizer<AdamHyper> {
  protected constructor(name: string, params: ParamsArg<AdamHyper>, options: AdamOptions | undefined, private readonly decoupled: boolean) {
    const o = options ?? {};
    const defaults: AdamHyper = { lr: o.lr ?? 1e-3, betas: o.betas ?? [0.9, 0.999], eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? (decoupled ? 0.01 : 0), amsgrad: o.amsgrad ?? false };
    super(name, params, defaults, ['expAvg', 'expAvgSq', 'maxExpAvgSq'], true);
  }

  protected checkHyper(h: AdamHyper, where: string): void {
    expectNumber(this.name, where, h, 'lr', (v) => v >= 0, 'a non-negative number');
    const betas = h.betas;
    const ok = (b: unknown) => typeof b === 'number' && b >= 0 && b < 1;
    if (!Array.isArray(betas) || betas.length !== 2 || !ok(betas[0]) || !ok(betas[1]))
      throw invalidArg(this.name, `${where}.betas`, 'a pair [beta1, beta2] of numbers in [0, 1)', Array.isArray(betas) ? `[${betas.join(', ')}]` : describe(betas));
    expectNumber(this.name, where, h, 'eps', (v) => v >= 0, 'a non-negative number');
    expectNumber(this.name, where, h, 'weightDecay', (v) => v >= 0, 'a non-negative number');
    expectBoolean(this.name, where, h, 'amsgrad');
  }

  protected update(param: Tensor, grad: Tensor, group: ParamGroup<AdamHyper>, state: ParamState): void {
    const { lr, betas, eps, weightDecay, amsgrad } = group;
    state.step += 1;
    const moments = [this.buffer(state, 'expAvg', param), this.buffer(state, 'expAvgSq', param)];
    if (amsgrad) moments.push(this.buffer(state, 'maxExpAvgSq', param));
    runKernel(ops.adam_step, [param, grad, ...moments], [], { lr, beta1: betas[0], beta2: betas[1], eps, weightDecay, decoupled: this.decoupled, step: state.step, amsgrad });
  }
}

/**
 * Adam: m = b1*m + (1-b1)*g, v = b2*v + (1-b2)*g², param -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps),
 * with g = grad + weightDecay * param. One fused kernel per parameter.
 *
 * @example
 * const opt = new sc.optim.Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends AdamBase {
  constructor(params: ParamsArg<AdamHyper>, options?: AdamOptions) {
    super('Adam', params, options, false);
  }
}

/**
 * AdamW: Adam with decoupled weight decay, param *= 1 - lr * weightDecay before the Adam
 * step (weightDecay defaults to 0.01).
 *
 * @example
 * const opt = new sc.optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
 */
export class AdamW extends AdamBase {
  constructor(params: ParamsArg<AdamHyper>, options?: AdamOptions) {
    super('AdamW', params, options, true);
  }
}
