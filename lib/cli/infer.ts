/** `sepconv eval` and `sepconv predict`: a checkpoint on a data split, or on image files. */
import { CONVS, MODELS } from '../train/config.js';
import { evaluate, predict } from '../train/fit.js';
import type { EvaluateOptions } from '../train/evaluate.js';
import type { PredictOptions } from '../train/predict.js';
import { flagsHelp, HELP_FLAG, parseFlags, UsageError } from './flags.js';
import type { Flag } from './flags.js';
import { EXIT, runCommand } from './train.js';

const CHECKPOINT_FLAGS: Record<string, Flag> = {
  checkpoint: { key: 'checkpoint', kind: 'string', value: 'FILE', help: 'weights written by sepconv train (last/best.safetensors)' },
  model: { key: 'model', kind: 'string', value: MODELS.join('|'), help: 'only for files without sepconv metadata (checked otherwise)' },
  conv: { key: 'conv', kind: 'string', value: CONVS.join('|'), help: 'only for files without sepconv metadata (checked otherwise)' },
  threads: { key: 'threads', kind: 'number', value: 'T', help: 'kernel threads' },
};

const EVAL_FLAGS: Record<string, Flag> = {
  ...CHECKPOINT_FLAGS,
  'data-dir': { key: 'dataDir', kind: 'string', value: 'DIR', help: 'folder holding the data set (default $SEPCONV_DATA, else ./datasets)' },
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

function requireCheckpoint(options: Record<string, unknown>): string {
  if (typeof options['checkpoint'] !== 'string') throw new UsageError('--checkpoint FILE is required');
  return options['checkpoint'];
}

/** `sepconv eval --checkpoint FILE …` */
export function evalCommand(argv: readonly string[]): Promise<number> {
  const usage = 'usage: sepconv eval --checkpoint FILE [--data-dir DIR] [--split test|train] [--limit N] [--json]';
  return runCommand('eval', usage, async () => {
    const { options } = parseFlags('eval', argv, EVAL_FLAGS);
    if (options['help']) {
      console.log(`${usage}\n\nLoss and metrics of a checkpoint on a data split.\n\n${flagsHelp(EVAL_FLAGS)}`);
      return EXIT.ok;
    }
    const { json, help: _help, ...rest } = options;
    if (rest['split'] !== undefined && rest['split'] !== 'test' && rest['split'] !== 'train')
      throw new UsageError(`unknown --split ${JSON.stringify(rest['split'])}; accepted: test, train`);
    requireCheckpoint(rest);
    const result = await evaluate(rest as unknown as EvaluateOptions, { onEvent: (e) => e.type === 'warning' && console.error(`warning: ${e.message}`) });
    if (json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(`${result.checkpoint}: ${result.model} (${result.conv}) on ${result.dataset} ${result.split}, ${result.items} items, ${result.seconds.toFixed(1)}s`);
      for (const [key, value] of Object.entries(result.metrics)) console.log(`  ${key.padEnd(16)} ${value.toFixed(4)}`);
    }
    return EXIT.ok;
  });
}

/** `sepconv predict --checkpoint FILE image… [--out DIR]` */
export function predictCommand(argv: readonly string[]): Promise<number> {
  const usage = 'usage: sepconv predict --checkpoint FILE IMAGE… [--out DIR] [--top-k K]';
  return runCommand('predict', usage, async () => {
    const { options, positionals } = parseFlags('predict', argv, PREDICT_FLAGS, true);
    if (options['help']) {
      console.log(`${usage}\n\nClassifiers print the top classes of each image as JSON; segmenters write\nIMAGE.mask.png and IMAGE.overlay.png per image to --out.\n\n${flagsHelp(PREDICT_FLAGS)}`);
      return EXIT.ok;
    }
    requireCheckpoint(options);
    if (positionals.length === 0) throw new UsageError('give at least one image file');
    const { help: _help, ...rest } = options;
    const predictions = await predict({ ...rest, images: positionals } as unknown as PredictOptions);
    console.log(JSON.stringify(predictions, null, 2));
    return EXIT.ok;
  });
}
