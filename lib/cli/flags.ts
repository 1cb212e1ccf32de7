/**
 * Command-line flags of the training commands: one table gives parsing, conversion to
 * `fit` options and the help text, so they cannot drift apart.
 */
import { parseStrict, UsageError } from './command.js';
import { CONVS, DATASETS, DEVICES, INITS, MODELS, OPTIMIZERS, PIXELS, PRESETS, SCHEDULERS } from '../train/config.js';
import type { TrainOptions } from '../train/config.js';

export type FlagKind = 'string' | 'number' | 'boolean';

export interface Flag {
  /** The option it sets (camelCase of the flag). */
  key: string;
  kind: FlagKind;
  help: string;
  /** Shown as the value placeholder in help. */
  value?: string;
}

const choices = (values: readonly string[]): string => values.join('|');

/** The flags `train` and `compare` share (each sets the `fit` option of the same name). */
export const TRAIN_FLAGS: Record<string, Flag> = {
  preset: { key: 'preset', kind: 'string', value: choices(PRESETS), help: 'reference experiment settings (explicit flags override them)' },
  model: { key: 'model', kind: 'string', value: choices(MODELS), help: 'network (default vgg)' },
  conv: { key: 'conv', kind: 'string', value: choices(CONVS), help: 'regular convolutions or depthwise separable (default regular)' },
  dataset: { key: 'dataset', kind: 'string', value: choices(DATASETS), help: "default: the model's (vgg, mobilenet: cifar10; segnet, unet: pets)" },
  'data-dir': { key: 'dataDir', kind: 'string', value: 'DIR', help: 'folder holding the data set (default $SEPCONV_DATA, else ./datasets)' },
  epochs: { key: 'epochs', kind: 'number', value: 'N', help: 'default 10' },
  'batch-size': { key: 'batchSize', kind: 'number', value: 'B', help: 'default 64' },
  lr: { key: 'lr', kind: 'number', value: 'LR', help: 'learning rate (default 0.001)' },
  optimizer: { key: 'optimizer', kind: 'string', value: choices(OPTIMIZERS), help: 'default adam' },
  eps: { key: 'eps', kind: 'number', value: 'E', help: "Adam's epsilon (default 1e-8; keras-vgg: Keras' 1e-7)" },
  init: { key: 'init', kind: 'string', value: choices(INITS), help: "parameter initialisation: PyTorch's or Keras' (glorot_uniform, zero biases) (default torch)" },
  pixels: { key: 'pixels', kind: 'string', value: choices(PIXELS), help: 'network input: unit = [0, 1], raw = 0–255 as Keras\' CIFAR-10 VGG (default unit)' },
  momentum: { key: 'momentum', kind: 'number', value: 'M', help: 'SGD momentum (default 0.9)' },
  'weight-decay': { key: 'weightDecay', kind: 'number', value: 'WD', help: 'default 0' },
  scheduler: { key: 'scheduler', kind: 'string', value: choices(SCHEDULERS), help: 'per-epoch learning-rate schedule (default none)' },
  'step-size': { key: 'stepSize', kind: 'number', value: 'N', help: 'StepLR: epochs between decays (default 7)' },
  gamma: { key: 'gamma', kind: 'number', value: 'G', help: 'StepLR: decay factor (default 0.7)' },
  'image-size': { key: 'imageSize', kind: 'number', value: 'S', help: 'Pets images are resized to S×S (default 128; CIFAR is 32)' },
  limit: { key: 'limit', kind: 'number', value: 'N', help: 'train on the first N training items' },
  'val-limit': { key: 'valLimit', kind: 'number', value: 'N', help: 'validate on the first N test items' },
  hflip: { key: 'hflip', kind: 'boolean', help: 'random horizontal flips of image and mask' },
  'no-hflip': { key: 'hflip', kind: 'boolean', help: 'no flips (overrides a preset)' },
  contrast: { key: 'contrast', kind: 'number', value: 'C', help: 'contrast jitter strength (0: none)' },
  rotate: { key: 'rotate', kind: 'number', value: 'DEG', help: 'random rotation of image and mask by up to ±DEG degrees (0: none)' },
  'channel-dropout': { key: 'channelDropout', kind: 'number', value: 'P', help: 'blank each colour channel with probability P (0: none)' },
  erase: { key: 'erase', kind: 'number', value: 'P', help: 'erase a random block of the image with probability P (0: none)' },
  seed: { key: 'seed', kind: 'number', value: 'S', help: 'initialisation, data order and augmentation (default 0)' },
  threads: { key: 'threads', kind: 'number', value: 'T', help: 'kernel threads (default: all cores or $SEPCONV_NUM_THREADS)' },
  device: { key: 'device', kind: 'string', value: choices(DEVICES), help: 'default cpu' },
  'mask-samples': { key: 'maskSamples', kind: 'number', value: 'N', help: 'validation images in masks.png (default 6)' },
  out: { key: 'out', kind: 'string', value: 'DIR', help: 'output directory (default runs/<model>-<conv>)' },
  resume: { key: 'resume', kind: 'string', value: 'DIR', help: 'continue the run in DIR where it stopped' },
  overwrite: { key: 'overwrite', kind: 'boolean', help: 'replace a run already in the output directory' },
};

export const HELP_FLAG: Record<string, Flag> = { help: { key: 'help', kind: 'boolean', help: 'show this help' } };

export interface Parsed {
  options: Record<string, string | number | boolean>;
  positionals: string[];
}

/**
 * Parses `argv` against `flags`. Numbers are converted (a non-number is passed on as text so
 * validation can name it); unknown flags and missing values are usage errors naming the
 * accepted flags.
 */
export function parseFlags(command: string, argv: readonly string[], flags: Record<string, Flag>, allowPositionals = false): Parsed {
  const spec = Object.fromEntries(Object.entries(flags).map(([name, f]) => [name, { type: f.kind === 'boolean' ? ('boolean' as const) : ('string' as const) }]));
  const parsed = parseStrict(command, argv, spec, allowPositionals);
  const options: Record<string, string | number | boolean> = {};
  for (const [name, raw] of Object.entries(parsed.values)) {
    const flag = flags[name]!;
    if (raw === undefined || Array.isArray(raw)) continue;
    if (name === 'no-hflip') options[flag.key] = false;
    else if (flag.kind === 'number') options[flag.key] = raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : String(raw);
    else options[flag.key] = raw;
  }
  if ('hflip' in parsed.values && 'no-hflip' in parsed.values) throw new UsageError('--hflip and --no-hflip exclude each other');
  return { options, positionals: parsed.positionals };
}

/** The flags block of a command's help text. */
export function flagsHelp(flags: Record<string, Flag>): string {
  const entries = Object.entries(flags).map(([name, f]) => [`--${name}${f.value ? ` ${f.value}` : ''}`, f.help] as const);
  const width = Math.max(...entries.map(([left]) => left.length));
  return entries.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`).join('\n');
}

export type TrainFlagOptions = TrainOptions & { resume?: string; overwrite?: boolean; help?: boolean };

