/**
 * `sc.models`: the model zoo. Every model takes `{ conv: 'regular' | 'dsc', numClasses }`
 * so both variants come from one definition.
 */
import type { TensorModule } from '../nn/index.js';
import { mobilenet } from './mobilenet.js';
import { segnet } from './segnet.js';
import { unet } from './unet.js';
import { vgg } from './vgg.js';
import type { ConvKind } from './blocks.js';
import type { InitScheme } from '../nn/init.js';

export { CONV_KINDS } from './blocks.js';
export type { ConvKind } from './blocks.js';
export { VGG, vgg } from './vgg.js';
export type { VggOptions } from './vgg.js';
export { SegNet, segnet } from './segnet.js';
export type { SegNetOptions } from './segnet.js';
export { UNet, unet } from './unet.js';
export type { UNetOptions, UNetDecoder } from './unet.js';
export { MobileNet, mobilenet } from './mobilenet.js';
export type { MobileNetOptions } from './mobilenet.js';

export interface ModelEntry {
  /** Builds the model; `conv` defaults to the model's own default (mobilenet: 'dsc', the rest 'regular'). */
  build(opts: { conv?: ConvKind; numClasses?: number; inChannels?: number; init?: InitScheme; inputScale?: number }): TensorModule;
  /** The input [C, H, W] the model is meant for (its dataset's). */
  defaultInput: readonly [number, number, number];
  task: 'classification' | 'segmentation';
}

export type ModelName = 'vgg' | 'segnet' | 'unet' | 'mobilenet';

/** The zoo by name, for command lines and experiment scripts. */
export const MODELS: Readonly<Record<ModelName, ModelEntry>> = {
  vgg: { build: vgg, defaultInput: [3, 32, 32], task: 'classification' },
  segnet: { build: segnet, defaultInput: [3, 128, 128], task: 'segmentation' },
  unet: { build: unet, defaultInput: [3, 128, 128], task: 'segmentation' },
  mobilenet: { build: mobilenet, defaultInput: [3, 32, 32], task: 'classification' },
};
