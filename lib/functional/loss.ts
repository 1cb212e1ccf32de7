/** Softmax cross-entropy with integer class targets, as PyTorch's `F.cross_entropy`. */
import { record } from '../autograd/graph.js';
import { describe, invalidArg, shapeStr } from '../errors.js';
import { empty, runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import { expectFloatTensor, expectTensor } from './validate.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface CrossEntropyOptions {
  /** Targets equal to this contribute no loss and no gradient (default -100, as PyTorch). */
  ignoreIndex?: number;
  /** 'mean' over the non-ignored targets (default), 'sum', or 'none' (per-target losses). */
  reduction?: Reduction;
}

const REDUCTIONS: readonly string[] = ['mean', 'sum', 'none'] satisfies Reduction[];

/**
 * Cross-entropy between softmax(logits) over dim 1 and int32 class targets: logits
 * [N, C] with targets [N], or per pixel logits [N, C, H, W] (any trailing dims) with
 * targets [N, H, W]. Computed as log-sum-exp minus the target's logit, so large logits
 * neither overflow nor lose precision. A target outside [0, C) that is not `ignoreIndex`
 * is an error naming its value and position. Differentiable with respect to `logits`.
 *
 * @example
 * const loss = sc.F.crossEntropy(logits, labels);            // mean over the batch
 * const perPixel = sc.F.crossEntropy(seg, masks, { reduction: 'none', ignoreIndex: 255 });
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  expectFloatTensor(op, 'logits', logits);
  if (logits.ndim < 2) throw invalidArg(op, 'logits', 'a tensor of at least 2 dims [N, C, ...]', `shape ${shapeStr(logits.shape)}`);
  expectTensor(op, 'targets', targets);
  if (targets.dtype !== 'int32')
    throw invalidArg(op, 'targets', 'an int32 tensor of class indices', `a ${targets.dtype} tensor of shape ${shapeStr(targets.shape)}`);
  const expected = [logits.shape[0]!, ...logits.shape.slice(2)];
  if (targets.shape.join() !== expected.join())
    throw invalidArg(op, 'targets', `shape ${shapeStr(expected)} (logits ${shapeStr(logits.shape)} without the class dim)`, `shape ${shapeStr(targets.shape)}`);
  if (logits.shape[1] === 0) throw invalidArg(op, 'logits', 'at least one class', `shape ${shapeStr(logits.shape)}`);
  if (options === null || typeof options !== 'object') throw invalidArg(op, 'options', 'an object', describe(options));
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) throw invalidArg(op, 'options.ignoreIndex', 'an integer', describe(ignoreIndex));
  const reduction = options.reduction ?? 'mean';
  if (!REDUCTIONS.includes(reduction)) throw invalidArg(op, 'options.reduction', "'mean', 'sum' or 'none'", describe(reduction));

  const loss = empty(reduction === 'none' ? targets.shape : [], logits.dtype, logits.device);
  const logSumExp = empty(targets.shape, logits.dtype, logits.device);
  runKernel(ops.cross_entropy_forward, [logits, targets], [loss, logSumExp], { ignoreIndex, reduction });
  record('crossEntropy', loss, [logits], [logits, targets, logSumExp], { ignoreIndex, reduction });
  logSumExp.dispose();
  return loss;
}
