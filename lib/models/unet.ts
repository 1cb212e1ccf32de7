/** U-Net: a 4-level encoder-decoder with skip connections by concatenation. */
import { describe, invalidArg } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Conv2d, ConvTranspose2d, MaxPool2d, Module, ModuleList, Sequential, Upsample } from '../nn/index.js';
import type { TensorModule } from '../nn/index.js';
import { cat } from '../functional/concat.js';
import { applyInit, doubleConv, expectPoolableInput, positiveInt, scaleInput, zooOptions } from './blocks.js';
import type { ZooOptions } from './blocks.js';

export type UNetDecoder = 'transpose' | 'upsample';

/** conv: 'regular' Conv2d or 'dsc' SeparableConv2d (bias-free) for every 3×3 conv (default 'regular'); numClasses default 3. */
export interface UNetOptions extends ZooOptions {
  /** Width of the first level; level i has baseWidth·2^i, the bottleneck 16·baseWidth. Default 64. */
  baseWidth?: number;
  /**
   * How the decoder doubles H, W and halves the width: 'transpose' = ConvTranspose2d(2, stride 2)
   * (the U-Net paper's up-convolution); 'upsample' = bilinear Upsample ×2 + 1×1 conv. Default 'transpose'.
   */
  decoder?: UNetDecoder;
}

const LEVELS = 4;

/**
 * `enc.0`…`enc.3`: double conv (3×3 conv + BN + ReLU, twice) at widths w, 2w, 4w, 8w, each
 * followed by a 2×2 max pool; `enc.4`: the bottleneck double conv at 16w; `up.i` doubles the
 * resolution and halves the width, the result is concatenated after the skip of the same
 * level (`[skip, up]`, channels first) and `dec.i` (double conv) narrows it; `head`: 1×1 conv
 * to numClasses. The transposed convs and the 1×1 convs are the same in both variants.
 * H and W must be divisible by 16.
 */
export class UNet extends Module {
  readonly enc: ModuleList<Sequential>;
  readonly pool: MaxPool2d;
  readonly up: ModuleList<TensorModule>;
  readonly dec: ModuleList<Sequential>;
  readonly head: Conv2d;
  readonly inChannels: number;
  private readonly widths: number[];

  /** What the input is multiplied by before the first layer (options.inputScale). */
  readonly inputScale: number;

  constructor(opts: UNetOptions = {}) {
    super();
    const { conv: kind, numClasses, inChannels: imageChannels, init, inputScale } = zooOptions('UNet', opts, { conv: 'regular', numClasses: 3 });
    this.inputScale = inputScale;
    this.inChannels = imageChannels;
    const base = positiveInt('UNet', 'baseWidth', opts.baseWidth, 64);
    const decoder = opts.decoder ?? 'transpose';
    if (decoder !== 'transpose' && decoder !== 'upsample') throw invalidArg('UNet', 'options.decoder', "'transpose' or 'upsample'", describe(opts.decoder));
    this.widths = Array.from({ length: LEVELS + 1 }, (_, i) => base * 2 ** i);
    this.enc = this.registerModule('enc', new ModuleList(this.widths.map((w, i) => doubleConv(kind, i === 0 ? this.inChannels : this.widths[i - 1]!, w))));
    this.pool = this.registerModule('pool', new MaxPool2d(2));
    const levels = [3, 2, 1, 0];
    const upsampler = (w: number): TensorModule =>
      decoder === 'transpose'
        ? new ConvTranspose2d(2 * w, w, 2, { stride: 2 })
        : new Sequential(new Upsample({ scaleFactor: 2, mode: 'bilinear' }), new Conv2d(2 * w, w, 1));
    this.up = this.registerModule('up', new ModuleList(levels.map((i) => upsampler(this.widths[i]!))));
    this.dec = this.registerModule('dec', new ModuleList(levels.map((i) => doubleConv(kind, 2 * this.widths[i]!, this.widths[i]!))));
    this.head = this.registerModule('head', new Conv2d(base, numClasses, 1));

    applyInit(this, init);
  }

  forward(x: Tensor): Tensor {
    expectPoolableInput(this, x, this.inChannels, this.widths.slice(0, LEVELS).map((width, i) => ({ name: `enc.${i}`, width })));
    const skips: Tensor[] = [];
    let y = scaleInput(x, this.inputScale);
    for (let i = 0; i < LEVELS; i++) {
      y = this.enc.at(i).call(y);
      skips.push(y);
      y = this.pool.call(y);
    }
    y = this.enc.at(LEVELS).call(y);
    for (let i = 0; i < LEVELS; i++) y = this.dec.at(i).call(cat([skips.pop()!, this.up.at(i).call(y)], 1));
    return this.head.call(y);
  }
}

/**
 * U-Net for segmentation, regular or DSC.
 *
 * @example
 * const model = sc.models.unet({ conv: 'dsc', baseWidth: 16, decoder: 'upsample' });
 * model.call(sc.randn([1, 3, 64, 64])).shape; // [1, 3, 64, 64]
 */
export function unet(opts: UNetOptions = {}): UNet {
  return new UNet(opts);
}
