/** `sepconv export`: a checkpoint as an ONNX model. */
import type { ConvKind, ModelName } from '../models/index.js';
import { DEFAULT_OPSET, exportOnnx, OPSETS } from '../onnx/export.js';
import { CONVS, MODELS as MODEL_NAMES } from '../train/config.js';
import { loadCheckpointModel } from '../train/setup.js';
import { choice, parseOptions, positiveNumber, UsageError } from './command.js';
import type { CliIO, Command } from './command.js';

const OPTIONS = {
  checkpoint: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  opset: { type: 'string' },
  'image-size': { type: 'string' },
  'keep-batchnorm': { type: 'boolean' },
  model: { type: 'string' },
  conv: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const HELP = `Usage: sepconv export --checkpoint FILE --out model.onnx [options]

Writes the network in a checkpoint as an ONNX model (eval mode: BatchNorm's running
statistics, folded into the preceding conv; batch dim symbolic, H and W fixed). The
checkpoint's metadata names the network; its class names go into the model's metadata.

Options:
  --checkpoint FILE        weights written by sepconv train (required)
  --out FILE               the .onnx file to write (required)
  --format onnx            the only format (default onnx)
  --opset N                ONNX opset, ${OPSETS[0]} to ${OPSETS.at(-1)} (default ${DEFAULT_OPSET})
  --image-size S           input H = W (default: the checkpoint's training size)
  --keep-batchnorm         keep BatchNormalization nodes instead of folding them into convs
  --model NAME             ${MODEL_NAMES.join(', ')}: only for files without sepconv metadata
  --conv KIND              ${CONVS.join(', ')}: only for files without sepconv metadata
  -h, --help               this text

Example:
  sepconv export --checkpoint runs/segnet-dsc/best.safetensors --out segnet-dsc.onnx`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const values = parseOptions('export', argv, OPTIONS);
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  choice('format', values.format ?? 'onnx', ['onnx']);
  if (values.checkpoint === undefined) throw new UsageError('--checkpoint FILE is required');
  if (values.out === undefined) throw new UsageError('--out FILE is required');
  const opset = values.opset === undefined ? DEFAULT_OPSET : positiveNumber('opset', values.opset, true);
  if (!OPSETS.includes(opset)) throw new UsageError(`--opset ${opset} is not supported: give ${OPSETS[0]} to ${OPSETS.at(-1)}`);
  const imageSize = values['image-size'] === undefined ? undefined : positiveNumber('image-size', values['image-size'], true);
  const hints = {
    model: values.model === undefined ? undefined : choice<ModelName>('model', values.model, MODEL_NAMES),
    conv: values.conv === undefined ? undefined : choice<ConvKind>('conv', values.conv, CONVS),
  };
  const { model, identity } = await loadCheckpointModel(values.checkpoint, hints);
  const channels = 3; // checkpoints hold RGB networks (buildModel's default)
  const size = imageSize ?? identity.imageSize;
  const result = exportOnnx(model, {
    inputShape: [1, channels, size, size],
    path: values.out,
    opset,
    foldBatchNorm: !values['keep-batchnorm'],
    metadata: { sepconv: JSON.stringify(identity), classes: JSON.stringify(identity.classes) },
  });
  const shape = (dims: readonly (number | string | null)[]): string => `[${dims.map((d) => d ?? '?').join(', ')}]`;
  io.out(
    `${values.out}: ${identity.model} (${identity.conv}), opset ${result.opset}, ${result.nodes} nodes, ${result.foldedBatchNorms} BatchNorms folded, ` +
      `input ${shape(result.inputs[0]!.dims)} -> output ${shape(result.outputs[0]!.dims)}, ${(result.bytes.length / 1e6).toFixed(1)} MB`,
  );
  return 0;
}

export const exportCommand: Command = { name: 'export', description: 'write a checkpoint as an ONNX model (onnxruntime, mobile, browsers)', help: HELP, run };
