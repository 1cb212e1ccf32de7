/** Softmax and log-softmax over one dim, numerically stable (max-shifted log-sum-exp). */
import { record } from '../autograd/graph.js';
import { describe, invalidArg } from '../errors.js';
import { empty, runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import { expectFloatTensor } from './validate.js';

function resolveDim(op: string, input: Tensor, dim: unknown): number {
  const n = input.ndim;
  if (n === 0) throw invalidArg(op, 'input', 'a tensor with at least 1 dim', 'a 0-d tensor');
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < -n || dim >= n)
    throw invalidArg(op, 'dim', `an integer in [${-n}, ${n - 1}]`, describe(dim));
  return dim < 0 ? dim + n : dim;
}

function softmaxOp(op: 'softmax' | 'logSoftmax', log: boolean, input: Tensor, dim: number): Tensor {
  expectFloatTensor(op, 'input', input);
  const d = resolveDim(op, input, dim);
  const out = empty(input.shape, input.dtype, input.device);
  runKernel(ops.softmax_forward, [input], [out], { dim: d, log });
  return record(op, out, [input], [out], { dim: d });
}

/**
 * exp(x) / sum(exp(x)) along `dim`.
 *
 * @example
 * const probs = sc.F.softmax(logits, 1); // class probabilities of [N, C] or [N, C, H, W] logits
 */
export function softmax(input: Tensor, dim: number): Tensor {
  return softmaxOp('softmax', false, input, dim);
}

/**
 * x - log(sum(exp(x))) along `dim`: the log of softmax, computed without forming it.
 *
 * @example
 * const logProbs = sc.F.logSoftmax(logits, -1);
 */
export function logSoftmax(input: Tensor, dim: number): Tensor {
  return softmaxOp('logSoftmax', true, input, dim);
}
