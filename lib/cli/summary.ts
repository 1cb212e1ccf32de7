/** `sepconv summary`: a model's layer table, or regular and DSC side by side. */
import { compareSummaries, summary } from '../nn/summary.js';
import type { ModelSummary } from '../nn/summary.js';
import { CONV_KINDS, MODELS } from '../models/index.js';
import type { ConvKind, ModelName } from '../models/index.js';
import { mobilenet } from '../models/mobilenet.js';
import { unet } from '../models/unet.js';
import type { TensorModule } from '../nn/index.js';
import { asUsage, choice, dims, parseOptions, positiveNumber, UsageError } from './command.js';
import type { CliIO, Command, OptionValues } from './command.js';

const MODEL_NAMES = Object.keys(MODELS) as ModelName[];

const OPTIONS = {
  model: { type: 'string' },
  conv: { type: 'string' },
  compare: { type: 'boolean' },
  input: { type: 'string' },
  batch: { type: 'string' },
  'num-classes': { type: 'string' },
  'width-multiplier': { type: 'string' },
  decoder: { type: 'string' },
  'base-width': { type: 'string' },
  depth: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const HELP = `Usage: sepconv summary --model <${MODEL_NAMES.join('|')}> [options]

Prints the model's layers with output shapes, parameters and multiply-adds (torchinfo style).

Options:
  --model <name>            ${MODEL_NAMES.join(', ')} (required)
  --conv <kind>             regular or dsc (default regular; mobilenet: dsc)
  --compare                 regular and dsc side by side with the dsc/regular ratios
  --input <CxHxW>           input size, e.g. 3x128x128 (default: the model's dataset size;
                            NxCxHxW also accepted)
  --batch <n>               batch size N (default 1)
  --num-classes <n>         output classes (default: the model's)
  --width-multiplier <a>    mobilenet only: width multiplier alpha (default 1)
  --decoder <kind>          unet only: transpose or upsample (default transpose)
  --base-width <n>          unet only: first-level width (default 64)
  --depth <n>               deepest layer level shown in the table (default: all)
  --json                    print the figures as JSON instead of a table
  -h, --help                this text

Examples:
  sepconv summary --model segnet --conv dsc --input 3x128x128
  sepconv summary --model vgg --compare`;

type Values = OptionValues<typeof OPTIONS>;

function onlyFor(values: Values, flag: 'width-multiplier' | 'decoder' | 'base-width', model: string, owner: string): void {
  if (values[flag] !== undefined && model !== owner) throw new UsageError(`--${flag} applies to --model ${owner} only`);
}

/** The model builder the flags describe (for the input's channel count), for either conv kind. */
function modelBuilder(name: ModelName, values: Values, inChannels: number): (conv?: ConvKind) => TensorModule {
  onlyFor(values, 'width-multiplier', name, 'mobilenet');
  onlyFor(values, 'decoder', name, 'unet');
  onlyFor(values, 'base-width', name, 'unet');
  const numClasses = values['num-classes'] === undefined ? undefined : positiveNumber('num-classes', values['num-classes'], true);
  if (name === 'mobilenet') {
    const widthMultiplier = values['width-multiplier'] === undefined ? undefined : positiveNumber('width-multiplier', values['width-multiplier'], false);
    return (conv) => mobilenet({ conv, numClasses, inChannels, widthMultiplier });
  }
  if (name === 'unet') {
    const decoder = values.decoder === undefined ? undefined : choice('decoder', values.decoder, ['transpose', 'upsample'] as const);
    const baseWidth = values['base-width'] === undefined ? undefined : positiveNumber('base-width', values['base-width'], true);
    return (conv) => unet({ conv, numClasses, inChannels, decoder, baseWidth });
  }
  return (conv) => MODELS[name].build({ conv, numClasses, inChannels });
}

function inputShape(name: ModelName, values: Values): number[] {
  const given = values.input === undefined ? [...MODELS[name].defaultInput] : dims('input', values.input);
  if (given.length !== 3 && given.length !== 4) throw new UsageError(`--input expects CxHxW or NxCxHxW but received '${values.input}'`);
  if (given.length === 4 && values.batch !== undefined) throw new UsageError('--batch and a 4-D --input (NxCxHxW) exclude each other');
  const batch = values.batch === undefined ? 1 : positiveNumber('batch', values.batch, true);
  return given.length === 4 ? given : [batch, ...given];
}

function asJson(s: ModelSummary): object {
  const { text: _text, ...figures } = s;
  return figures;
}

function run(argv: string[], io: CliIO): number {
  const values = parseOptions('summary', argv, OPTIONS);
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (values.model === undefined) throw new UsageError(`--model is required (one of: ${MODEL_NAMES.join(', ')})`);
  const name = choice('model', values.model, MODEL_NAMES);
  const shape = inputShape(name, values);
  const build = modelBuilder(name, values, shape[1]!);
  const depth = values.depth === undefined ? undefined : positiveNumber('depth', values.depth, true);
  const opts = { print: false, depth };
  if (values.compare) {
    if (values.conv !== undefined) throw new UsageError('--compare shows both conv kinds; drop --conv');
    // A model refusing the --input shape (or an option) is bad usage: exit 2, as documented.
    const [regular, dsc] = asUsage(() => CONV_KINDS.map((conv) => summary(build(conv), shape, opts))) as [ModelSummary, ModelSummary];
    io.out(values.json ? JSON.stringify({ regular: asJson(regular), dsc: asJson(dsc) }, null, 2) : compareSummaries(regular, dsc, ['regular', 'dsc']));
    return 0;
  }
  const conv = values.conv === undefined ? undefined : choice('conv', values.conv, CONV_KINDS);
  const result = asUsage(() => summary(build(conv), shape, opts));
  io.out(values.json ? JSON.stringify(asJson(result), null, 2) : result.text);
  return 0;
}

export const summaryCommand: Command = {
  name: 'summary',
  description: 'layer table of a model: output shapes, parameters, multiply-adds (--compare: regular vs dsc)',
  help: HELP,
  run,
};
