/**
 * In-place initialisers (`sc.nn.init`), PyTorch's `torch.nn.init` under camelCase names.
 * Random ones draw from the generator `sc.manualSeed` seeds.
 */
import { invalidArg, shapeStr } from '../errors.js';
import { nextRandom, runKernel } from '../tensor.js';
import { ops } from '../ops.js';
import type { Shape, Tensor } from '../tensor.js';

/**
 * Fills `t` with samples from U(low, high). Returns `t`.
 *
 * @example
 * sc.nn.init.uniform_(conv.weight, -0.1, 0.1);
 */
export function uniform_(t: Tensor, low = 0, high = 1): Tensor {
  const [seed, counter] = nextRandom(t.numel);
  runKernel(ops.fill_uniform, [], [t], { low, high, seed, counter });
  return t;
}

/**
 * Fills `t` with `value`. Returns `t`.
 *
 * @example
 * sc.nn.init.constant_(bn.weight, 0); // e.g. zero-init the last BN of a residual block
 */
export function constant_(t: Tensor, value: number): Tensor {
  runKernel(ops.fill, [], [t], { value });
  return t;
}

export const zeros_ = (t: Tensor): Tensor => constant_(t, 0);
export const ones_ = (t: Tensor): Tensor => constant_(t, 1);

/**
 * Inputs feeding each output of a weight: dim 1 times the receptive field
 * ([out, in, kh, kw] → in·kh·kw; a ConvTranspose2d weight [in, out, kh, kw] → out·kh·kw, as PyTorch).
 */
export function fanIn(shape: Shape): number {
  if (shape.length < 2) throw invalidArg('fanIn', 'shape', 'a weight shape with at least 2 dims', shapeStr(shape));
  return shape.slice(1).reduce((n, d) => n * d, 1);
}

/**
 * He/Kaiming uniform for a leaky-ReLU slope `a`: U(−b, b) with b = gain·√(3 / fan_in),
 * gain = √(2 / (1 + a²)). PyTorch's Conv2d and Linear use a = √5, giving b = 1/√fan_in.
 *
 * @example
 * sc.nn.init.kaimingUniform_(conv.weight); // He init for a ReLU network (a = 0)
 */
export function kaimingUniform_(t: Tensor, opts: { a?: number } = {}): Tensor {
  const a = opts.a ?? 0;
  const bound = Math.sqrt(2 / (1 + a * a)) * Math.sqrt(3 / fanIn(t.shape));
  return uniform_(t, -bound, bound);
}
