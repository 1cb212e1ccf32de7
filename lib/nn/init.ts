/**
 * In-place initialisers (`sc.nn.init`), PyTorch's `torch.nn.init` under camelCase names, and
 * the two layer-initialisation schemes of the frameworks the reference experiments ran in.
 * Random ones draw from the generator `sc.manualSeed` seeds.
 */
import { describe, invalidArg, shapeStr } from '../errors.js';
import { nextRandom, runKernel } from '../tensor.js';
import type { Shape, Tensor } from '../tensor.js';

/**
 * Fills `t` with samples from U(low, high). Returns `t`.
 *
 * @example
 * sc.nn.init.uniform_(conv.weight, -0.1, 0.1);
 */
export function uniform_(t: Tensor, low = 0, high = 1): Tensor {
  runKernel('fill_uniform', [], [t], [low, high, ...nextRandom(t.numel)]);
  return t;
}

/**
 * Fills `t` with `value`. Returns `t`.
 *
 * @example
 * sc.nn.init.constant_(bn.weight, 0); // e.g. zero-init the last BN of a residual block
 */
export function constant_(t: Tensor, value: number): Tensor {
  runKernel('fill', [], [t], [value]);
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

/** Outputs each input feeds: dim 0 times the receptive field ([out, in, kh, kw] → out·kh·kw, as PyTorch). */
export function fanOut(shape: Shape): number {
  if (shape.length < 2) throw invalidArg('fanOut', 'shape', 'a weight shape with at least 2 dims', shapeStr(shape));
  return shape[0]! * shape.slice(2).reduce((n, d) => n * d, 1);
}

/**
 * Glorot/Xavier uniform: U(−b, b) with b = gain·√(6 / (fan_in + fan_out)), PyTorch's
 * xavier_uniform_ (fans from the shape as fanIn/fanOut say) and Keras' glorot_uniform (pass
 * Keras' fans where its kernel layout counts them differently, e.g. a depthwise kernel).
 *
 * @example
 * sc.nn.init.xavierUniform_(linear.weight);
 */
export function xavierUniform_(t: Tensor, opts: { gain?: number; fanIn?: number; fanOut?: number } = {}): Tensor {
  const fans = (opts.fanIn ?? fanIn(t.shape)) + (opts.fanOut ?? fanOut(t.shape));
  const bound = (opts.gain ?? 1) * Math.sqrt(6 / fans);
  return uniform_(t, -bound, bound);
}

/**
 * How layers draw their parameters: 'torch' — PyTorch's defaults (weight Kaiming-uniform with
 * a = √5, bias U(±1/√fan_in)); 'keras' — Keras' defaults (kernel glorot_uniform with Keras'
 * fan rules, bias zeros). BatchNorm starts at weight 1, bias 0 under both.
 */
export type InitScheme = 'torch' | 'keras';

export const INIT_SCHEMES: readonly InitScheme[] = ['torch', 'keras'];

/** A layer option `init`, checked; `layer` and `argument` name it in the error. */
export function initScheme(layer: string, argument: string, value: unknown): InitScheme {
  if (value === undefined) return 'torch';
  if (!INIT_SCHEMES.includes(value as InitScheme)) throw invalidArg(layer, argument, "'torch' or 'keras'", describe(value));
  return value as InitScheme;
}

/** What a layer with parameters does to (re)draw them under a scheme. */
export interface Initialisable {
  resetParameters(scheme: InitScheme): void;
}

const isInitialisable = (m: object): m is Initialisable => typeof (m as Partial<Initialisable>).resetParameters === 'function';

/**
 * Re-draws the parameters of every layer in `module` (itself included) under `scheme`, in
 * module order; BatchNorm and other layers without a scheme keep theirs. Returns `module`.
 *
 * @example
 * sc.manualSeed(0);
 * const model = sc.nn.init.resetParameters_(sc.models.vgg({ conv: 'dsc' }), 'keras');
 */
export function resetParameters_<M extends { modules(): object[] }>(module: M, scheme: InitScheme): M {
  initScheme('resetParameters_', 'scheme', scheme);
  for (const m of module.modules()) if (isInitialisable(m)) m.resetParameters(scheme);
  return module;
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
