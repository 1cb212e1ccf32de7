/** `sepconv eval` and `sepconv predict`: a checkpoint on a data split, or on image files. */
import { CONVS, MODELS } from '../train/config.js';
import type { EvaluateOptions } from '../train/evaluate.js';
import { evaluate, predict } from '../train/fit.js';
import type { PredictOptions } from '../train/predict.js';
import { readIdentity, taskOfIdentity } from '../train/setup.js';
import { UsageError } from './command.js';
import type { CliIO, Command } from './command.js';
import { flagsHelp, HELP_FLAG, parseFlags } from './flags.js';
import type { Flag } from './flags.js';

const CHECKPOINT_FLAGS: Record<string, Flag> = {
  checkpoint: { key: 'checkpoint', kind: 'string', value: 'FILE', help: 'weights written by sepconv train (best.safetensors, last.safetensors)' },
  model: { key: 'model', kind: 'string', value: MODELS.join('|'), help: 'needed only for files without sepconv metadata (checked otherwise)' },
  conv: { key: 'conv', kind: 'string', value: CONVS.join('|'), help: 'needed only for files without sepconv metadata (checked otherwise)' },
  threads: { key: 'threads', kind: 'number', value: 'T', help: 'kernel threads' },
};

const EVAL_FLAGS: Record<string, Flag> = {
  ...CHECKPOINT_FLAGS,
  'data-dir': { key: 'dataDir', kind: 'string', value: 'DIR', help: "folder holding the data set (default: the checkpoint's run's, else $SEPCONV_DATA, else ./datasets)" },
  split: { key: 'split', kind: 'string', value: 'test|train', help: 'default test' },
  'batch-size': { key: 'batchSize', kind: 'number', value: 'B', help: 'default 64' },
  limit: { key: 'limit', kind: 'number', value: 'N', help: 'evaluate the first N items' },
  json: { key: 'json', kind: 'boolean', help: 'print the result as JSON' },
  ...HELP_FLAG,
};

const PREDICT_FLAGS: Record<string, Flag> = {
  ...CHECKPOINT_FLAGS,
  out: { key: 'out', kind: 'string', value: 'DIR', help: 'where masks, overlays and predictions.json go (required for segmentation)' },
  'top-k': { key: 'topK', kind: 'number', value: 'K', help: 'classes listed per image (default 5)' },
  ...HELP_FLAG,
};

/** Checks the flags every checkpoint command shares. */
function checkpointOptions(options: Record<string, string | number | boolean>): void {
  if (typeof options['checkpoint'] !== 'string') throw new UsageError('--checkpoint FILE is required');
  for (const [key, accepted] of [['model', MODELS], ['conv', CONVS]] as const)
    if (options[key] !== undefined && !(accepted as readonly unknown[]).includes(options[key]))
      throw new UsageError(`--${key} '${options[key]}' is not one of: ${accepted.join(', ')}`);
  for (const key of ['threads', 'batchSize', 'limit', 'topK'])
    if (options[key] !== undefined && !(Number.isInteger(options[key]) && (options[key] as number) > 0))
      throw new UsageError(`--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} expects a positive integer but received '${options[key]}'`);
}

const EVAL_HELP = `Usage: sepconv eval --checkpoint FILE [options]

Loss and metrics of a checkpoint on a data split (accuracy for classifiers; pixel accuracy,
mean IoU and per-class IoU for segmenters). The checkpoint says which network and data set.

Options:
${flagsHelp(EVAL_FLAGS)}`;

async function runEval(argv: string[], io: CliIO): Promise<number> {
  const { options } = parseFlags('eval', argv, EVAL_FLAGS);
  if (options['help']) {
    io.out(EVAL_HELP);
    return 0;
  }
  const { json, help: _help, ...rest } = options;
  checkpointOptions(rest);
  if (rest['split'] !== undefined && rest['split'] !== 'test' && rest['split'] !== 'train')
    throw new UsageError(`--split '${rest['split']}' is not one of: test, train`);
  const result = await evaluate(rest as unknown as EvaluateOptions, { onEvent: (e) => e.type === 'warning' && io.err(`warning: ${e.message}`) });
  if (json) io.out(JSON.stringify(result, null, 2));
  else {
    io.out(`${result.checkpoint}: ${result.model} (${result.conv}) on ${result.dataset} ${result.split}, ${result.items} items, ${result.seconds.toFixed(1)}s`);
    for (const [key, value] of Object.entries(result.metrics)) io.out(`  ${key.padEnd(16)} ${value.toFixed(4)}`);
  }
  return 0;
}

export const evalCommand: Command = { name: 'eval', description: 'loss and metrics of a checkpoint on a data split', help: EVAL_HELP, run: runEval };

const PREDICT_HELP = `Usage: sepconv predict --checkpoint FILE IMAGE... [options]

Classifiers print the top classes of each image with probabilities (JSON). Segmenters write
NAME.mask.png (colour mask) and NAME.overlay.png (mask over the photo), at the image's own
size, and predictions.json to --out. Every image is read before anything is written.

Options:
${flagsHelp(PREDICT_FLAGS)}`;

async function runPredict(argv: string[], io: CliIO): Promise<number> {
  const { options, positionals } = parseFlags('predict', argv, PREDICT_FLAGS, true);
  if (options['help']) {
    io.out(PREDICT_HELP);
    return 0;
  }
  const { help: _help, ...rest } = options;
  checkpointOptions(rest);
  if (positionals.length === 0) throw new UsageError('give at least one image file');
  const identity = readIdentity(rest['checkpoint'] as string);
  if (rest['out'] === undefined && identity !== null && taskOfIdentity(identity) === 'segmentation')
    throw new UsageError('predict: a segmentation checkpoint writes mask files; pass --out DIR');
  const predictions = await predict({ ...rest, images: positionals } as unknown as PredictOptions);
  io.out(JSON.stringify(predictions, null, 2));
  return 0;
}

export const predictCommand: Command = { name: 'predict', description: 'run a checkpoint on image files (top-5 classes, or mask and overlay PNGs)', help: PREDICT_HELP, run: runPredict };
