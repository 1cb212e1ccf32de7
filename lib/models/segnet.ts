/** The Oxford-IIIT Pet SegNet of "Efficient Image Segmentation Using PyTorch". */
import type { Tensor } from '../tensor.js';
import { BatchNorm2d, MaxPool2d, MaxUnpool2d, Module, ModuleList, Sequential } from '../nn/index.js';
import type { TensorModule } from '../nn/index.js';
import { applyInit, convBnRelu, expectPoolableInput, scaleInput, zooOptions } from './blocks.js';
import type { ZooOptions } from './blocks.js';

/**
 * conv: 'regular' Conv2d or 'dsc' depthwise 3×3 + pointwise 1×1 (both bias-free) for every
 * conv (default 'regular'); numClasses default 3 (the pet trimap classes).
 */
export type SegNetOptions = ZooOptions;

const WIDTHS = [64, 128, 256, 512] as const;
const ENCODER_DEPTHS = [2, 2, 3, 3] as const;

/**
 * Input BatchNorm2d; four encoder stages of 2, 2, 3, 3 × (bias-free 3×3 conv + BN + ReLU),
 * widths 64…512, each ending in a 2×2 max pool that keeps its indices; a mirrored decoder
 * that unpools first and narrows at each stage's last conv, down to numClasses (still + BN
 * + ReLU). Names as the PyTorch reference: `input_bn.*`, `enc.0.0.weight`, `dec.3.7.bias`, ….
 * Parameters: 15,274,892 regular, 1,749,671 DSC. H and W must be divisible by 16.
 */
export class SegNet extends Module {
  readonly inputBn: BatchNorm2d;
  readonly enc: ModuleList<Sequential>;
  readonly pool: MaxPool2d<true>;
  readonly unpool: MaxUnpool2d;
  readonly dec: ModuleList<Sequential>;
  readonly inChannels: number;

  /** What the input is multiplied by before the first layer (options.inputScale). */
  readonly inputScale: number;

  constructor(opts: SegNetOptions = {}) {
    super();
    const { conv: kind, numClasses, inChannels: imageChannels, init, inputScale } = zooOptions('SegNet', opts, { conv: 'regular', numClasses: 3 });
    this.inputScale = inputScale;
    this.inChannels = imageChannels;
    this.inputBn = this.registerModule('input_bn', new BatchNorm2d(this.inChannels));
    let inChannels = this.inChannels;
    const encoder = WIDTHS.map((width, s) => {
      const layers: TensorModule[] = [];
      for (let i = 0; i < ENCODER_DEPTHS[s]!; i++) {
        layers.push(...convBnRelu(kind, inChannels, width));
        inChannels = width;
      }
      return new Sequential(...layers);
    });
    this.enc = this.registerModule('enc', new ModuleList(encoder));
    this.pool = this.registerModule('pool', new MaxPool2d(2, { stride: 2, returnIndices: true }));
    this.unpool = this.registerModule('unpool', new MaxUnpool2d(2, { stride: 2 }));
    const decoder = [3, 2, 1, 0].map((s) => {
      const width = WIDTHS[s]!;
      const narrowTo = s > 0 ? WIDTHS[s - 1]! : numClasses;
      const depth = ENCODER_DEPTHS[s]!;
      const layers: TensorModule[] = [];
      for (let i = 0; i < depth; i++) layers.push(...convBnRelu(kind, width, i === depth - 1 ? narrowTo : width));
      return new Sequential(...layers);
    });
    this.dec = this.registerModule('dec', new ModuleList(decoder));

    applyInit(this, init);
  }

  forward(x: Tensor): Tensor {
    expectPoolableInput(this, x, this.inChannels, WIDTHS.map((width, i) => ({ name: `enc.${i}`, width })));
    let y = this.inputBn.call(scaleInput(x, this.inputScale));
    const indices: Tensor[] = [];
    const sizes: number[][] = [];
    for (const stage of this.enc) {
      y = stage.call(y);
      sizes.push(y.shape.slice());
      const pooled = this.pool.call(y);
      y = pooled.output;
      indices.push(pooled.indices);
    }
    for (const stage of this.dec) y = stage.call(this.unpool.call(y, indices.pop()!, sizes.pop()!));
    return y;
  }
}

/**
 * The pet-segmentation SegNet, regular or DSC.
 *
 * @example
 * const model = sc.models.segnet({ conv: 'dsc' }); // 1,749,671 parameters
 * const logits = model.call(sc.randn([2, 3, 128, 128])); // [2, 3, 128, 128]
 */
export function segnet(opts: SegNetOptions = {}): SegNet {
  return new SegNet(opts);
}
