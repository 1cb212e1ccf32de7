/** Batch normalisation, as PyTorch's `F.batch_norm` on [N, C, H, W] tensors. */
import { record } from '../autograd/graph.js';
import { describe, invalidArg, shapeStr } from '../errors.js';
import { empty, full, runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import { expectFloatTensor, expectRank, expectSameDtype } from './validate.js';

export interface BatchNormOptions {
  /** Normalise with the batch's statistics and update the running ones (default false, as PyTorch). */
  training?: boolean;
  /** running = (1 - momentum) * running + momentum * batch statistic (default 0.1). */
  momentum?: number;
  /** Added to the variance before its square root (default 1e-5). */
  eps?: number;
}

function channelVector(op: string, argument: string, t: Tensor | null, input: Tensor): Tensor | null {
  if (t === null || t === undefined) return null;
  expectFloatTensor(op, argument, t);
  const c = input.shape[1]!;
  if (t.ndim !== 1 || t.shape[0] !== c)
    throw invalidArg(op, argument, `a tensor of shape [${c}] (the channels of input ${shapeStr(input.shape)})`, `shape ${shapeStr(t.shape)}`);
  expectSameDtype(op, argument, t, input, 'input');
  return t;
}

function numberOption(op: string, name: string, value: unknown, fallback: number, ok: (v: number) => boolean, expected: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !ok(value)) throw invalidArg(op, `options.${name}`, expected, describe(value));
  return value;
}

/**
 * Normalises each channel of an [N, C, H, W] tensor to zero mean and unit variance, then
 * scales by `weight` and shifts by `bias` (either may be null). In training mode the
 * batch's statistics are used (biased variance) and `runningMean` / `runningVar` (when
 * given) are updated in place with the unbiased variance, as PyTorch does; in evaluation
 * mode the running statistics are used. Differentiable with respect to input, weight, bias.
 *
 * @example
 * const y = sc.F.batchNorm2d(x, runningMean, runningVar, gamma, beta, { training: true });
 */
export function batchNorm2d(
  input: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  options: BatchNormOptions = {},
): Tensor {
  const op = 'batchNorm2d';
  expectFloatTensor(op, 'input', input);
  expectRank(op, 'input', input, 4, '[N, C, H, W]');
  if (options === null || typeof options !== 'object') throw invalidArg(op, 'options', 'an object', describe(options));
  const training = options.training ?? false;
  if (typeof training !== 'boolean') throw invalidArg(op, 'options.training', 'a boolean', describe(training));
  const momentum = numberOption(op, 'momentum', options.momentum, 0.1, Number.isFinite, 'a finite number');
  const eps = numberOption(op, 'eps', options.eps, 1e-5, (v) => v > 0 && Number.isFinite(v), 'a positive number');
  const mean = channelVector(op, 'runningMean', runningMean, input);
  const variance = channelVector(op, 'runningVar', runningVar, input);
  if ((mean === null) !== (variance === null))
    throw invalidArg(op, mean === null ? 'runningMean' : 'runningVar', 'a Tensor (runningMean and runningVar go together)', 'null');
  if (!training && mean === null)
    throw invalidArg(op, 'runningMean', 'a Tensor (evaluation normalises with the running statistics)', 'null');
  const [n, c, h, w] = input.shape as [number, number, number, number];
  if (training && n * h * w <= 1)
    throw invalidArg(op, 'input', 'more than 1 value per channel when training', `shape ${shapeStr(input.shape)}`);
  let gamma = channelVector(op, 'weight', weight, input);
  let beta = channelVector(op, 'bias', bias, input);
  // The kernel's affine form takes both: a missing one is the identity (1 or 0).
  const affine = gamma !== null || beta !== null;
  if (affine) {
    gamma ??= full([c], 1, { dtype: input.dtype, device: input.device });
    beta ??= full([c], 0, { dtype: input.dtype, device: input.device });
  }

  const y = empty(input.shape, input.dtype, input.device);
  const saveMean = empty([c], input.dtype, input.device);
  const saveInvstd = empty([c], input.dtype, input.device);
  const inputs = [input, ...(affine ? [gamma!, beta!] : []), ...(mean ? [mean, variance!] : [])];
  runKernel(ops.batch_norm_forward, inputs, [y, saveMean, saveInvstd], { training, momentum, eps, affine, running: mean !== null });
  const saved = [input, saveMean, saveInvstd, ...(affine ? [gamma!] : [])];
  record('batchNorm2d', y, [input, weight, bias], saved, { training, channels: c });
  saveMean.dispose();
  saveInvstd.dispose();
  if (gamma !== weight) gamma?.dispose();
  if (beta !== bias) beta?.dispose();
  return y;
}
