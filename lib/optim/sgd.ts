/** Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (PyTorch's `torch.optim.SGD`). */
import { invalidArg } from '../errors.js';
import { runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import { expectBoolean, expectNumber, Optimizer } from './optimizer.js';
import type { ParamGroup, ParamsArg, ParamState } from './optimizer.js';

export interface SGDOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor (default 0). */
  momentum?: number;
  /** Dampening of the gradient in the momentum buffer (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov?: boolean;
}

export type SGDHyper = Required<SGDOptions>;

/**
 * SGD: with d = grad + weightDecay * param and, when momentum is on,
 * buf = momentum * buf + (1 - dampening) * d (buf = d at the first step),
 * d = nesterov ? d + momentum * buf : buf; then param -= lr * d. One fused kernel per parameter.
 *
 * @example
 * const opt = new sc.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class SGD extends Optimizer<SGDHyper> {
  constructor(params: ParamsArg<SGDHyper>, options: SGDOptions) {
    const o: Partial<SGDOptions> = options ?? {};
    super('SGD', params, { lr: o.lr as number, momentum: o.momentum ?? 0, dampening: o.dampening ?? 0, weightDecay: o.weightDecay ?? 0, nesterov: o.nesterov ?? false }, ['momentumBuffer'], false);
  }

  protected checkHyper(h: SGDHyper, where: string): void {
    expectNumber('SGD', where, h, 'lr', (v) => v >= 0, 'a non-negative number');
    expectNumber('SGD', where, h, 'momentum', (v) => v >= 0, 'a non-negative number');
    expectNumber('SGD', where, h, 'dampening', () => true, 'a number');
    expectNumber('SGD', where, h, 'weightDecay', (v) => v >= 0, 'a non-negative number');
    expectBoolean('SGD', where, h, 'nesterov');
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0))
      throw invalidArg('SGD', `${where}.nesterov`, 'false unless momentum > 0 and dampening is 0', 'true');
  }

  protected update(param: Tensor, grad: Tensor, group: ParamGroup<SGDHyper>, state: ParamState): void {
    const { lr, momentum, dampening, weightDecay, nesterov } = group;
    if (momentum === 0) {
      runKernel(ops.sgd_step, [param, grad], [], { lr, momentum: 0, dampening, weightDecay, nesterov: false, firstStep: false });
      return;
    }
    const first = state.buffers['momentumBuffer'] === undefined;
    const buffer = this.buffer(state, 'momentumBuffer', param);
    runKernel(ops.sgd_step, [param, grad, buffer], [], { lr, momentum, dampening, weightDecay, nesterov, firstStep: first });
  }
}
