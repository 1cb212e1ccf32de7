/** Pieces shared by the model zoo: the regular/DSC convolution switch and input checks. */
import { describe, invalidArg, shapeStr } from '../errors.js';
import { expectFloatTensor } from '../functional/validate.js';
import type { Tensor } from '../tensor.js';
import { BatchNorm2d, Conv2d, ReLU, SeparableConv2d, Sequential } from '../nn/index.js';
import type { AnyModule, TensorModule } from '../nn/index.js';
import { initScheme, resetParameters_ } from '../nn/init.js';
import type { InitScheme } from '../nn/init.js';

/** Which convolution a model's 3×3 layers use: `Conv2d`, or depthwise + pointwise (`SeparableConv2d`). */
export type ConvKind = 'regular' | 'dsc';

export const CONV_KINDS: readonly ConvKind[] = ['regular', 'dsc'];

/** The options every zoo model takes. */
export interface ZooOptions {
  /** 'regular' or 'dsc' (depthwise separable) convolutions. */
  conv?: ConvKind;
  numClasses?: number;
  /** Default 3. */
  inChannels?: number;
  /** Parameter initialisation: 'torch' (PyTorch's defaults, the default) or 'keras' (glorot_uniform kernels, zero biases). */
  init?: InitScheme;
  /**
   * Multiplies the input before the first layer, like Keras' Rescaling layer (default 1).
   * 255 turns sepconv's [0, 1] images into the raw 0–255 pixels some reference experiments
   * trained on (Keras' CIFAR-10 VGG); being part of the model, it applies in evaluation and
   * inference as well.
   */
  inputScale?: number;
}

/** Checks the common options and applies the model's defaults. */
export function zooOptions(model: string, opts: ZooOptions, defaults: { conv: ConvKind; numClasses: number }): Required<ZooOptions> {
  const conv = opts.conv ?? defaults.conv;
  if (!CONV_KINDS.includes(conv)) throw invalidArg(model, 'options.conv', "'regular' or 'dsc'", describe(opts.conv));
  return {
    conv,
    numClasses: positiveInt(model, 'numClasses', opts.numClasses, defaults.numClasses),
    inChannels: positiveInt(model, 'inChannels', opts.inChannels, 3),
    init: initScheme(model, 'options.init', opts.init),
    inputScale: positiveNumber(model, 'inputScale', opts.inputScale, 1),
  };
}

function positiveNumber(model: string, argument: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw invalidArg(model, `options.${argument}`, 'a positive number', describe(value));
  return v;
}

/** The input times a model's inputScale (the input itself, not a copy, at scale 1). */
export function scaleInput(x: Tensor, inputScale: number): Tensor {
  return inputScale === 1 ? x : x.mul(inputScale);
}

/**
 * Applies a zoo model's `init` option once its layers exist: layers are built with PyTorch's
 * defaults, so only 'keras' re-draws them (in module order, from the seeded generator).
 */
export function applyInit(model: AnyModule, init: InitScheme): void {
  if (init !== 'torch') resetParameters_(model, init);
}

export function positiveInt(model: string, argument: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || (v as number) < 1) throw invalidArg(model, `options.${argument}`, 'a positive integer', describe(value));
  return v as number;
}

/**
 * A 3×3 stride-1 'same' convolution of either kind: `Conv2d`, or a `SeparableConv2d`
 * (depthwise 3×3 then pointwise 1×1, nothing between; `bias` is the pointwise one).
 */
export function conv3x3(kind: ConvKind, inChannels: number, outChannels: number, bias: boolean): TensorModule {
  return kind === 'dsc'
    ? new SeparableConv2d(inChannels, outChannels, 3, { padding: 1, bias })
    : new Conv2d(inChannels, outChannels, 3, { padding: 1, bias });
}

/** conv3x3 (no bias) + BatchNorm2d + ReLU, the unit SegNet and UNet stack. */
export function convBnRelu(kind: ConvKind, inChannels: number, outChannels: number): TensorModule[] {
  return [conv3x3(kind, inChannels, outChannels, false), new BatchNorm2d(outChannels), new ReLU()];
}

/** Two convBnRelu units: UNet's double conv. */
export function doubleConv(kind: ConvKind, inChannels: number, outChannels: number): Sequential {
  return new Sequential(...convBnRelu(kind, inChannels, outChannels), ...convBnRelu(kind, outChannels, outChannels));
}

/**
 * Checks an encoder-decoder input before any kernel runs: [N, channels, H, W] with H and W
 * divisible by 2^pools. The error names the pooling step that would first see an odd size.
 */
export function expectPoolableInput(model: AnyModule, x: unknown, channels: number, stages: readonly { name: string; width: number }[]): Tensor {
  const t = expectFloatTensor(model.label(), 'input', x);
  const s = t.shape;
  const factor = 2 ** stages.length;
  if (s.length !== 4 || s[1] !== channels)
    throw invalidArg(model.label(), 'input', `a 4-D [N, ${channels}, H, W] tensor (H, W divisible by ${factor})`, `shape ${shapeStr(s)}`);
  if (s[2]! % factor === 0 && s[3]! % factor === 0) return t;
  let [h, w] = [s[2]!, s[3]!];
  const odd = stages.findIndex((_, i) => {
    if (i > 0) [h, w] = [h / 2, w / 2];
    return h % 2 !== 0 || w % 2 !== 0;
  });
  const stage = stages[odd]!;
  throw invalidArg(
    model.label(),
    'input',
    `H and W divisible by ${factor} (${stages.length} max-pool stages)`,
    `shape ${shapeStr(s)} (the pool after ${stage.name} would get [${s[0]}, ${stage.width}, ${h}, ${w}])`,
  );
}
