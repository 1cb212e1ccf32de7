/**
 * A training run's configuration: the options a user gives (CLI flags or `fit` options),
 * presets that reproduce the reference experiments, defaults, and validation with messages
 * that list the accepted values.
 */
import { resolve } from 'node:path';
import { SepconvError } from '../errors.js';
import type { Task } from './pictures.js';

export const MODELS = ['vgg', 'segnet', 'unet', 'mobilenet'] as const;
export const CONVS = ['regular', 'dsc'] as const;
export const DATASETS = ['cifar10', 'pets'] as const;
export const OPTIMIZERS = ['adam', 'sgd'] as const;
export const SCHEDULERS = ['none', 'step', 'cosine'] as const;
export const DEVICES = ['cpu', 'cuda'] as const;
export const PRESETS = ['keras-vgg', 'segnet-article', 'unet-article'] as const;
export const INITS = ['torch', 'keras'] as const;
export const PIXELS = ['unit', 'raw'] as const;

export type ModelName = (typeof MODELS)[number];
export type ConvKind = (typeof CONVS)[number];
export type DatasetName = (typeof DATASETS)[number];

/** Everything that defines a run; `config.json` holds it with machine details added. */
export interface TrainConfig {
  preset: (typeof PRESETS)[number] | null;
  model: ModelName;
  conv: ConvKind;
  dataset: DatasetName;
  /** The folder holding the data set, or null to look in $SEPCONV_DATA, then ./datasets. */
  dataDir: string | null;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: (typeof OPTIMIZERS)[number];
  /** Adam's epsilon (ignored by SGD): PyTorch's default 1e-8, Keras' 1e-7. */
  eps: number;
  /** Parameter initialisation: PyTorch's defaults or Keras' (glorot_uniform, zero biases). */
  init: (typeof INITS)[number];
  /**
   * What the network sees: 'unit' — pixels in [0, 1]; 'raw' — 0–255, as Keras' CIFAR-10 VGG
   * trained (the model multiplies its input by 255, so evaluation and inference match).
   */
  pixels: (typeof PIXELS)[number];
  /** SGD momentum (ignored by Adam). */
  momentum: number;
  weightDecay: number;
  scheduler: (typeof SCHEDULERS)[number];
  /** StepLR: epochs between decays, and the decay factor. */
  stepSize: number;
  gamma: number;
  imageSize: number;
  /** Train on the first N training items only (null: all). */
  limit: number | null;
  /** Validate on the first N validation items only (null: all). */
  valLimit: number | null;
  /** Random horizontal flip of image (and mask). */
  hflip: boolean;
  /** Contrast jitter strength (0: none), as torchvision's ColorJitter(contrast=…). */
  contrast: number;
  /** Random rotation of image and mask by up to ± this many degrees (0: none). */
  rotate: number;
  /** Probability of blanking each colour channel (0: none). */
  channelDropout: number;
  /** Probability of erasing one random block of the image (0: none), as torchvision's RandomErasing. */
  erase: number;
  seed: number;
  /** Kernel threads (null: the library default). */
  threads: number | null;
  device: (typeof DEVICES)[number];
  /** Validation images shown in masks.png (segmentation). */
  maskSamples: number;
  /** Where the run writes its files. */
  out: string;
}

export type TrainOptions = Partial<TrainConfig>;

const TASK_OF_DATASET: Record<DatasetName, Task> = { cifar10: 'classification', pets: 'segmentation' };
const TASK_OF_MODEL: Record<ModelName, Task> = { vgg: 'classification', mobilenet: 'classification', segnet: 'segmentation', unet: 'segmentation' };
const DEFAULT_DATASET: Record<Task, DatasetName> = { classification: 'cifar10', segmentation: 'pets' };

export function taskOf(dataset: DatasetName): Task {
  return TASK_OF_DATASET[dataset];
}

/**
 * Preset values. segnet-article decays the regular network's learning rate with
 * StepLR(7, 0.7) and trains the DSC one without a scheduler, as the article did; unet-article
 * is the UNet loss comparison's training: 128², 100 epochs, heavy augmentation (flips,
 * rotation, channel dropping, block removal), StepLR(25, 0.8).
 *
 * @example
 * sc.train.presetValues('segnet-article', 'dsc').scheduler; // 'none'
 */
export function presetValues(preset: (typeof PRESETS)[number], conv: ConvKind): TrainOptions {
  if (preset === 'keras-vgg')
    // The Keras reference fits on cifar10.load_data()'s raw pixels, with Keras' initialisers and Adam's epsilon.
    return {
      model: 'vgg', dataset: 'cifar10', imageSize: 32, batchSize: 128, epochs: 10, optimizer: 'adam', lr: 1e-3, eps: 1e-7,
      init: 'keras', pixels: 'raw', scheduler: 'none', hflip: false, contrast: 0,
    };
  if (preset === 'unet-article')
    // The article names the augmentations, not their strengths: these are ours (written down in the README).
    return {
      model: 'unet', dataset: 'pets', imageSize: 128, batchSize: 16, epochs: 100, optimizer: 'adam', lr: 1e-3,
      hflip: true, rotate: 15, channelDropout: 0.1, erase: 0.25, scheduler: 'step', stepSize: 25, gamma: 0.8,
    };
  return {
    model: 'segnet',
    dataset: 'pets',
    imageSize: 128,
    batchSize: 64,
    epochs: 20,
    optimizer: 'adam',
    lr: 1e-3,
    hflip: true,
    contrast: 0.3,
    ...(conv === 'regular' ? { scheduler: 'step', stepSize: 7, gamma: 0.7 } : { scheduler: 'none' }),
  };
}

export function configError(message: string): SepconvError {
  return new SepconvError(message);
}

/** A value as messages quote it (as the CLI's other commands do): strings in single quotes. */
export function quoted(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

function oneOf<T extends string>(name: string, value: unknown, accepted: readonly T[]): T {
  if (typeof value === 'string' && (accepted as readonly string[]).includes(value)) return value as T;
  throw configError(`${name} ${quoted(value)} is not one of: ${accepted.join(', ')}`);
}

function integer(name: string, value: unknown, min: number): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min) return value;
  throw configError(`${name} expects an integer ≥ ${min} but received ${quoted(value)}`);
}

function positive(name: string, value: unknown, { allowZero = false } = {}): number {
  if (typeof value === 'number' && Number.isFinite(value) && (value > 0 || (allowZero && value === 0))) return value;
  throw configError(`${name} expects a ${allowZero ? 'non-negative' : 'positive'} number but received ${quoted(value)}`);
}

function probability(name: string, value: unknown): number {
  if (typeof value === 'number' && value >= 0 && value <= 1) return value;
  throw configError(`${name} expects a probability in [0, 1] but received ${quoted(value)}`);
}

/** Names of the options as the CLI spells them, for messages. */
export function flagName(option: keyof TrainConfig): string {
  return '--' + option.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

const OPTION_KEYS: readonly (keyof TrainConfig)[] = [
  'preset', 'model', 'conv', 'dataset', 'dataDir', 'epochs', 'batchSize', 'lr', 'optimizer', 'eps', 'init', 'pixels', 'momentum', 'weightDecay', 'scheduler',
  'stepSize', 'gamma', 'imageSize', 'limit', 'valLimit', 'hflip', 'contrast', 'rotate', 'channelDropout', 'erase', 'seed', 'threads', 'device', 'maskSamples', 'out',
];

/**
 * The full configuration from user options: preset values under explicit options, then
 * defaults. Throws a SepconvError naming the option and the accepted values.
 *
 * @example
 * resolveConfig({ preset: 'keras-vgg', conv: 'dsc', epochs: 1 }).batchSize; // 128
 */
export function resolveConfig(options: TrainOptions): TrainConfig {
  for (const key of Object.keys(options))
    if (!(OPTION_KEYS as readonly string[]).includes(key)) throw configError(`option ${quoted(key)} is not one of: ${OPTION_KEYS.join(', ')}`);
  const conv = oneOf(flagName('conv'), options.conv ?? 'regular', CONVS);
  const preset = options.preset == null ? null : oneOf(flagName('preset'), options.preset, PRESETS);
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as TrainOptions;
  const o: TrainOptions = { ...(preset ? presetValues(preset, conv) : {}), ...given };

  const model = oneOf(flagName('model'), o.model ?? 'vgg', MODELS);
  const dataset = oneOf(flagName('dataset'), o.dataset ?? DEFAULT_DATASET[TASK_OF_MODEL[model]], DATASETS);
  if (TASK_OF_MODEL[model] !== TASK_OF_DATASET[dataset])
    throw configError(
      `--model ${model} is a ${TASK_OF_MODEL[model]} network but --dataset ${dataset} is a ${TASK_OF_DATASET[dataset]} data set; ` +
        `use --dataset ${DEFAULT_DATASET[TASK_OF_MODEL[model]]}`,
    );
  const imageSize = integer(flagName('imageSize'), o.imageSize ?? (dataset === 'cifar10' ? 32 : 128), 1);
  if (dataset === 'cifar10' && imageSize !== 32) throw configError(`--image-size must be 32 for cifar10 (its images are 32×32) but received ${imageSize}`);
  if (dataset === 'pets' && imageSize % 16 !== 0) throw configError(`--image-size must be a multiple of 16 for ${model} (four 2×2 poolings) but received ${imageSize}`);
  const optional = (key: 'limit' | 'valLimit' | 'threads'): number | null => (o[key] == null ? null : integer(flagName(key), o[key], 1));
  const hflip = o.hflip ?? false;
  if (typeof hflip !== 'boolean') throw configError(`--hflip expects true or false but received ${quoted(hflip)}`);
  if (o.dataDir != null && typeof o.dataDir !== 'string') throw configError(`--data-dir expects a path but received ${quoted(o.dataDir)}`);
  const out = o.out ?? `runs/${model}-${conv}`;
  if (typeof out !== 'string' || out === '') throw configError(`--out expects a path but received ${quoted(out)}`);
  return {
    preset,
    model,
    conv,
    dataset,
    // Absolute, so the run's config.json still finds the data from another directory.
    dataDir: o.dataDir == null ? null : resolve(o.dataDir),
    epochs: integer(flagName('epochs'), o.epochs ?? 10, 1),
    batchSize: integer(flagName('batchSize'), o.batchSize ?? 64, 1),
    lr: positive(flagName('lr'), o.lr ?? 1e-3),
    optimizer: oneOf(flagName('optimizer'), o.optimizer ?? 'adam', OPTIMIZERS),
    eps: positive(flagName('eps'), o.eps ?? 1e-8),
    init: oneOf(flagName('init'), o.init ?? 'torch', INITS),
    pixels: oneOf(flagName('pixels'), o.pixels ?? 'unit', PIXELS),
    momentum: positive(flagName('momentum'), o.momentum ?? 0.9, { allowZero: true }),
    weightDecay: positive(flagName('weightDecay'), o.weightDecay ?? 0, { allowZero: true }),
    scheduler: oneOf(flagName('scheduler'), o.scheduler ?? 'none', SCHEDULERS),
    stepSize: integer(flagName('stepSize'), o.stepSize ?? 7, 1),
    gamma: positive(flagName('gamma'), o.gamma ?? 0.7),
    imageSize,
    limit: optional('limit'),
    valLimit: optional('valLimit'),
    hflip,
    contrast: positive(flagName('contrast'), o.contrast ?? 0, { allowZero: true }),
    rotate: positive(flagName('rotate'), o.rotate ?? 0, { allowZero: true }),
    channelDropout: probability(flagName('channelDropout'), o.channelDropout ?? 0),
    erase: probability(flagName('erase'), o.erase ?? 0),
    seed: integer(flagName('seed'), o.seed ?? 0, 0),
    threads: optional('threads'),
    device: oneOf(flagName('device'), o.device ?? 'cpu', DEVICES),
    maskSamples: integer(flagName('maskSamples'), o.maskSamples ?? 6, 1),
    out,
  };
}

/** The model's inputScale for a pixels setting. */
export function inputScaleOf(pixels: TrainConfig['pixels']): number {
  return pixels === 'raw' ? 255 : 1;
}

/** Options that may differ when resuming a run (everything else must match its config.json). */
export const RESUMABLE_CHANGES: readonly (keyof TrainConfig)[] = ['epochs', 'threads', 'dataDir', 'out'];
