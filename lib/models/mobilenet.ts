/** MobileNet v1 ("MobileNets", Howard et al. 2017) and its all-regular-conv baseline. */
import { describe, invalidArg } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, DepthwiseConv2d, Flatten, Linear, Module, PointwiseConv2d, ReLU, Sequential } from '../nn/index.js';
import { applyInit, scaleInput, zooOptions } from './blocks.js';
import type { ConvKind, ZooOptions } from './blocks.js';

/**
 * conv: 'dsc' = MobileNet (depthwise + pointwise blocks), 'regular' = the paper's "Conv
 * MobileNet" (default 'dsc'); numClasses default 10 (CIFAR-10; the paper's ImageNet model has 1000).
 */
export interface MobileNetOptions extends ZooOptions {
  /** α: every width is floor(α · width) (Keras' rounding). Default 1. */
  widthMultiplier?: number;
}

/** [output width, stride] of the 13 blocks after the stem. */
const BLOCKS: readonly (readonly [number, number])[] = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2],
  [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

/** One block: depthwise 3×3 + BN + ReLU + pointwise + BN + ReLU, or a regular 3×3 conv + BN + ReLU. */
function block(kind: ConvKind, inChannels: number, outChannels: number, stride: number): Sequential {
  if (kind === 'regular') return new Sequential(new Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false }), new BatchNorm2d(outChannels), new ReLU());
  return new Sequential(
    new DepthwiseConv2d(inChannels, 3, { stride, padding: 1, bias: false }),
    new BatchNorm2d(inChannels),
    new ReLU(),
    new PointwiseConv2d(inChannels, outChannels, { bias: false }),
    new BatchNorm2d(outChannels),
    new ReLU(),
  );
}

/**
 * `features.0`: 3×3 stride-2 conv (32α) + BN + ReLU; `features.1`…`features.13`: the blocks
 * (5 of them stride 2, so H, W shrink 32×); `pool`: global average; `fc`: Linear(1024α → numClasses).
 * At 224×224 with 1000 classes and α = 1: 4,231,976 parameters and 568,740,352 mult-adds
 * (the paper's 4.2M and 569M); the regular variant 29.3M.
 */
export class MobileNet extends Module {
  readonly features: Sequential;
  readonly pool: AdaptiveAvgPool2d;
  readonly flatten: Flatten;
  readonly fc: Linear;

  /** What the input is multiplied by before the first layer (options.inputScale). */
  readonly inputScale: number;

  constructor(opts: MobileNetOptions = {}) {
    super();
    const { conv: kind, numClasses, inChannels, init, inputScale } = zooOptions('MobileNet', opts, { conv: 'dsc', numClasses: 10 });
    this.inputScale = inputScale;
    const alpha = opts.widthMultiplier ?? 1;
    if (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 4)) throw invalidArg('MobileNet', 'options.widthMultiplier', 'a number in (0, 4]', describe(opts.widthMultiplier));
    const width = (w: number): number => Math.max(1, Math.floor(w * alpha));
    let channels = width(32);
    const layers = [new Sequential(new Conv2d(inChannels, channels, 3, { stride: 2, padding: 1, bias: false }), new BatchNorm2d(channels), new ReLU())];
    for (const [w, stride] of BLOCKS) {
      layers.push(block(kind, channels, width(w), stride));
      channels = width(w);
    }
    this.features = this.registerModule('features', new Sequential(...layers));
    this.pool = this.registerModule('pool', new AdaptiveAvgPool2d(1));
    this.flatten = this.registerModule('flatten', new Flatten());
    this.fc = this.registerModule('fc', new Linear(channels, numClasses));

    applyInit(this, init);
  }

  forward(x: Tensor): Tensor {
    return this.fc.call(this.flatten.call(this.pool.call(this.features.call(scaleInput(x, this.inputScale)))));
  }
}

/**
 * MobileNet v1 with a width multiplier; `conv: 'regular'` swaps each depthwise separable
 * block for a full 3×3 conv.
 *
 * @example
 * const model = sc.models.mobilenet({ widthMultiplier: 0.5 });
 * model.call(sc.randn([4, 3, 32, 32])).shape; // [4, 10]
 */
export function mobilenet(opts: MobileNetOptions = {}): MobileNet {
  return new MobileNet(opts);
}
