/**
 * Inverted dropout: in training, zero each element (or each channel, dropout2d) with
 * probability p and scale the rest by 1 / (1 - p), so evaluation is the identity. Masks come
 * from the seeded generator, so a run is reproducible under sc.manualSeed.
 */
import { record } from '../autograd/graph.js';
import { describe, invalidArg } from '../errors.js';
import { empty, nextRandom, runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import type { Shape } from '../tensor.js';
import { rawBinary } from './elementwise.js';
import { expectFloatTensor, expectRank } from './validate.js';

function checkArgs(op: string, input: Tensor, p: unknown, training: unknown): void {
  expectFloatTensor(op, 'input', input);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw invalidArg(op, 'p', 'a probability in [0, 1]', describe(p));
  if (typeof training !== 'boolean') throw invalidArg(op, 'training', 'a boolean', describe(training));
}

/** input * mask, where the mask (of `maskShape`, broadcast over input) keeps with probability 1 - p. */
function applyMask(op: string, input: Tensor, p: number, maskShape: Shape): Tensor {
  const mask = empty(maskShape, input.dtype, input.device);
  const [seed, counter] = nextRandom(mask.numel);
  runKernel(ops.fill_bernoulli, [], [mask], { keepProb: 1 - p, scale: p === 1 ? 0 : 1 / (1 - p), seed, counter });
  const out = rawBinary('mul', input, mask);
  const result = record('dropout', out, [input], [mask]);
  mask.dispose(); // the graph holds its own reference while backward needs it
  return result;
}

/**
 * Zeroes elements with probability `p` and scales the others by 1 / (1 - p) when
 * `training`; returns `input` itself otherwise (PyTorch's F.dropout).
 *
 * @example
 * const h = sc.F.dropout(features, 0.5, model.training);
 */
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  checkArgs('dropout', input, p, training);
  if (!training || p === 0) return input;
  return applyMask('dropout', input, p, input.shape);
}

/**
 * Zeroes whole channels of an NCHW tensor with probability `p` (one draw per sample and
 * channel) and scales the others by 1 / (1 - p) when `training` (PyTorch's F.dropout2d).
 *
 * @example
 * const h = sc.F.dropout2d(featureMaps, 0.2, true);
 */
export function dropout2d(input: Tensor, p = 0.5, training = true): Tensor {
  checkArgs('dropout2d', input, p, training);
  expectRank('dropout2d', 'input', input, 4, '(N, C, H, W)');
  if (!training || p === 0) return input;
  return applyMask('dropout2d', input, p, [input.shape[0]!, input.shape[1]!, 1, 1]);
}
