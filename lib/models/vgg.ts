/** The CIFAR-10 VGG of the Keras regular-vs-DSC experiment. */
import { invalidArg, shapeStr } from '../errors.js';
import { expectFloatTensor } from '../functional/validate.js';
import type { Tensor } from '../tensor.js';
import { Flatten, Linear, MaxPool2d, Module, ReLU, Sequential } from '../nn/index.js';
import type { TensorModule } from '../nn/index.js';
import { applyInit, conv3x3, positiveInt, scaleInput, zooOptions } from './blocks.js';
import type { ZooOptions } from './blocks.js';

/** conv: 'regular' Conv2d or 'dsc' Keras-style SeparableConv2d for every conv (default 'regular'); numClasses default 10 (CIFAR-10). */
export interface VggOptions extends ZooOptions {
  /** Input height and width (a multiple of 8). Default 32. */
  inputSize?: number;
}

const WIDTHS = [64, 128, 256] as const;

/**
 * Three blocks of [3×3 'same' conv + ReLU] ×2 + MaxPool2d(2) with 64, 128, 256 filters,
 * then Flatten and Linear(256·(size/8)² → numClasses). Names match the PyTorch reference
 * (`features.0.weight` … `fc.weight`; DSC: `features.0.depthwise.weight`, `features.0.pointwise.weight`, …).
 * Parameters on 32×32: 1,186,378 regular, 174,821 DSC.
 */
export class VGG extends Module {
  readonly features: Sequential;
  readonly flatten: Flatten;
  readonly fc: Linear;
  readonly inChannels: number;
  readonly inputSize: number;

  /** What the input is multiplied by before the first layer (options.inputScale). */
  readonly inputScale: number;

  constructor(opts: VggOptions = {}) {
    super();
    const { conv: kind, numClasses, inChannels: imageChannels, init, inputScale } = zooOptions('VGG', opts, { conv: 'regular', numClasses: 10 });
    this.inputScale = inputScale;
    this.inChannels = imageChannels;
    this.inputSize = positiveInt('VGG', 'inputSize', opts.inputSize, 32);
    if (this.inputSize % 8 !== 0) throw invalidArg('VGG', 'options.inputSize', 'a multiple of 8 (three 2×2 pools)', String(opts.inputSize));
    const layers: TensorModule[] = [];
    let inChannels = this.inChannels;
    for (const width of WIDTHS) {
      layers.push(conv3x3(kind, inChannels, width, true), new ReLU(), conv3x3(kind, width, width, true), new ReLU(), new MaxPool2d(2));
      inChannels = width;
    }
    this.features = this.registerModule('features', new Sequential(...layers));
    this.flatten = this.registerModule('flatten', new Flatten());
    const side = this.inputSize / 8;
    this.fc = this.registerModule('fc', new Linear(inChannels * side * side, numClasses));

    applyInit(this, init);
  }

  forward(x: Tensor): Tensor {
    const s = expectFloatTensor(this.label(), 'input', x).shape;
    if (s.length !== 4 || s[1] !== this.inChannels || s[2] !== this.inputSize || s[3] !== this.inputSize)
      throw invalidArg(this.label(), 'input', `a [N, ${this.inChannels}, ${this.inputSize}, ${this.inputSize}] tensor (fc takes ${this.fc.inFeatures} features)`, `shape ${shapeStr(s)}`);
    return this.fc.call(this.flatten.call(this.features.call(scaleInput(x, this.inputScale))));
  }
}

/**
 * The CIFAR-10 VGG, regular or DSC.
 *
 * @example
 * const model = sc.models.vgg({ conv: 'dsc' }); // 174,821 parameters
 * const logits = model.call(sc.randn([8, 3, 32, 32])); // [8, 10]
 */
export function vgg(opts: VggOptions = {}): VGG {
  return new VGG(opts);
}
