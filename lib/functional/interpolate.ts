/**
 * Upsampling / resizing of NCHW images (PyTorch's F.interpolate, modes 'nearest' and
 * 'bilinear'), with PyTorch's source-index formulas so results match it pixel for pixel.
 */
import { record } from '../autograd/graph.js';
import { describe, invalidArg, shapeStr } from '../errors.js';
import { empty, runKernel, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import { expectFloatTensor, expectRank, optionalBoolean, pair } from './validate.js';

export type InterpolateMode = 'nearest' | 'bilinear';

export interface InterpolateOptions {
  /** Output [H, W] (or one number for both). Exactly one of size and scaleFactor. */
  size?: number | readonly [number, number];
  /** Multiplier for H and W (or [h, w]); the output is floor(input * scaleFactor). */
  scaleFactor?: number | readonly [number, number];
  /** 'nearest' (default, PyTorch's legacy nearest: floor(dst * scale)) or 'bilinear'. */
  mode?: InterpolateMode;
  /**
   * Bilinear only: map corner pixels' centres onto each other (true) or scale pixel areas
   * (false, the default).
   */
  alignCorners?: boolean;
  /**
   * With scaleFactor: compute source coordinates from the sizes (in / out) instead of
   * 1 / scaleFactor. They differ when input * scaleFactor is not an integer.
   */
  recomputeScaleFactor?: boolean;
}


function positivePair(argument: string, value: unknown): [number, number] {
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (ok(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && ok(value[0]) && ok(value[1])) return [value[0], value[1]];
  throw invalidArg('interpolate', argument, 'a positive number or a pair [h, w] of them', describe(value));
}

/**
 * Resizes the H and W dims of an NCHW tensor, as PyTorch's F.interpolate.
 *
 * @example
 * const up = sc.F.interpolate(x, { scaleFactor: 2 });                       // nearest
 * const y = sc.F.interpolate(x, { size: [64, 64], mode: 'bilinear', alignCorners: false });
 */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  expectFloatTensor('interpolate', 'input', input);
  expectRank('interpolate', 'input', input, 4, '(N, C, H, W)');
  if (options === null || typeof options !== 'object')
    throw invalidArg('interpolate', 'options', 'an object with size or scaleFactor', describe(options));
  const mode = options.mode ?? 'nearest';
  if (mode !== 'nearest' && mode !== 'bilinear')
    throw invalidArg('interpolate', 'options.mode', "'nearest' or 'bilinear'", describe(mode));
  if (options.alignCorners !== undefined && mode === 'nearest')
    throw invalidArg('interpolate', 'options.alignCorners', "undefined with mode 'nearest' (it applies to 'bilinear' only)", describe(options.alignCorners));
  const alignCorners = optionalBoolean('interpolate', 'options.alignCorners', options.alignCorners, false);
  const recompute = optionalBoolean('interpolate', 'options.recomputeScaleFactor', options.recomputeScaleFactor, false);
  const hasSize = options.size !== undefined, hasScale = options.scaleFactor !== undefined;
  if (hasSize === hasScale)
    throw invalidArg('interpolate', 'options', 'exactly one of size and scaleFactor', hasSize ? 'both' : 'neither');
  const [n, c, h, w] = input.shape as [number, number, number, number];
  if (h === 0 || w === 0) throw invalidArg('interpolate', 'input', 'a non-empty H and W', `shape ${shapeStr(input.shape)}`);
  let outH: number, outW: number;
  // The coordinate ratio (input / output) handed to the kernel; 0 means "derive from the sizes".
  let ratioH = 0, ratioW = 0;
  if (hasSize) {
    [outH, outW] = pair('interpolate', 'options.size', options.size, 1);
  } else {
    const [sh, sw] = positivePair('options.scaleFactor', options.scaleFactor);
    outH = Math.floor(h * sh);
    outW = Math.floor(w * sw);
    if (outH < 1 || outW < 1)
      throw invalidArg('interpolate', 'options.scaleFactor', `a factor giving an output of at least 1x1 for input ${shapeStr(input.shape)}`,
        `${describe(options.scaleFactor)} (output [${outH}, ${outW}])`);
    if (!recompute) [ratioH, ratioW] = [1 / sh, 1 / sw];
  }
  const params = { mode, alignCorners, scaleH: ratioH, scaleW: ratioW };
  const out = empty([n, c, outH, outW], input.dtype, input.device);
  runKernel(ops.upsample2d_forward, [input], [out], params);
  return record('interpolate', out, [input], [], { inputShape: input.shape, params });
}
