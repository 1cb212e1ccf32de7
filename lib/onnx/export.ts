/** `sc.onnx.export`: a module built from sc.nn layers as an ONNX model file. */
import { noGrad } from '../autograd/graph.js';
import { describe, invalidArg, opError, shapeStr } from '../errors.js';
import { writeFileAtomically } from '../io/checkpoint.js';
import { Module } from '../nn/module.js';
import type { AnyModule } from '../nn/module.js';
import { foldBatchNorms } from './fold.js';
import { encodeModel } from './proto.js';
import type { ElementType, ValueInfo } from './proto.js';
import { INPUT_NAME, traceModel } from './trace.js';
import type { Trace } from './trace.js';

const OP = 'sc.onnx.export';

/** The IR version each opset shipped with (onnx's helper VERSION_TABLE); onnxruntime checks the pair. */
const IR_VERSION: Record<number, number> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };
/** The opsets the exporter writes. */
export const OPSETS: readonly number[] = Object.keys(IR_VERSION).map(Number);
export const DEFAULT_OPSET = 17;

export interface OnnxExportOptions {
  /** [N, C, H, W] (or whatever the model takes) to trace with. N is only for tracing: the export's batch dim is symbolic ('batch'). */
  inputShape: readonly number[];
  /** Also write the model here (atomically). */
  path?: string;
  /** ONNX opset, 13…21. Default 17. */
  opset?: number;
  /** Fold each BatchNorm2d that follows a conv into the conv's weights. Default true. */
  foldBatchNorm?: boolean;
  /** Stored as the model's metadata_props (e.g. class names). */
  metadata?: Readonly<Record<string, string>>;
}

export interface OnnxExportResult {
  /** The ModelProto bytes (what `path` holds when given). */
  bytes: Uint8Array;
  /** ONNX nodes in the graph. */
  nodes: number;
  /** BatchNorms that went into the conv before them. */
  foldedBatchNorms: number;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  opset: number;
}

function checkOptions(model: unknown, options: OnnxExportOptions): { opset: number; shape: number[] } {
  if (!(model instanceof Module)) throw invalidArg(OP, 'model', 'an sc.nn.Module', describe(model));
  if (options === null || typeof options !== 'object') throw invalidArg(OP, 'options', 'an object with inputShape', describe(options));
  const shape = options.inputShape;
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d >= 1))
    throw invalidArg(OP, 'options.inputShape', 'an array of positive integers such as [1, 3, 32, 32]', Array.isArray(shape) ? shapeStr(shape) : describe(shape));
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!OPSETS.includes(opset)) throw invalidArg(OP, 'options.opset', `an integer from ${OPSETS[0]} to ${OPSETS.at(-1)}`, describe(options.opset));
  if (options.path !== undefined && (typeof options.path !== 'string' || options.path === '')) throw invalidArg(OP, 'options.path', 'a file path', describe(options.path));
  if (options.foldBatchNorm !== undefined && typeof options.foldBatchNorm !== 'boolean')
    throw invalidArg(OP, 'options.foldBatchNorm', 'a boolean', describe(options.foldBatchNorm));
  for (const [key, value] of Object.entries(options.metadata ?? {}))
    if (typeof value !== 'string') throw invalidArg(OP, `options.metadata['${key}']`, 'a string', describe(value));
  return { opset, shape: [...shape] };
}

/**
 * The dims of each output: those that follow the batch (they differ between two traces at
 * batch sizes N and N + 1 by exactly that) are 'batch', other batch-dependent ones unknown.
 */
function outputInfos(trace: Trace, probe: Trace, batch: number): ValueInfo[] {
  return trace.outputs.map(({ name, value }, i) => {
    const other = probe.outputs[i]?.value.shape;
    if (other === undefined || other.length !== value.shape.length)
      throw opError(OP, `the model's outputs change with the batch size (output '${name}'); ONNX export needs a graph that does not`);
    const dims = value.shape.map((d, j) => (d === other[j] ? d : d === batch && other[j] === batch + 1 ? 'batch' : null));
    return { name, elemType: (value.planeSize === undefined ? 'float32' : 'int32') as ElementType, dims };
  });
}

/**
 * Exports `model` to ONNX, run with eval-mode semantics (BatchNorm's running statistics,
 * Dropout off; the model's modes are restored afterwards). Every call of an sc.nn layer in
 * the model's forward becomes ONNX nodes; depthwise convs are `Conv` with group = C and a
 * SeparableConv2d is its two Convs; a layer or op ONNX cannot express is an Error naming
 * the module (path and class). The batch dim is symbolic; the other input dims are fixed.
 *
 * @example
 * const model = sc.models.segnet({ conv: 'dsc' });
 * const { bytes, nodes } = sc.onnx.export(model, { inputShape: [1, 3, 128, 128], path: 'segnet-dsc.onnx' });
 */
export function exportOnnx(model: AnyModule, options: OnnxExportOptions): OnnxExportResult {
  const { opset, shape } = checkOptions(model, options);
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  const traces: Trace[] = [];
  try {
    const trace = traceModel(model, shape);
    traces.push(trace);
    const probe = traceModel(model, [shape[0]! + 1, ...shape.slice(1)]);
    traces.push(probe);
    if (probe.graph.nodes.map((n) => n.opType).join() !== trace.graph.nodes.map((n) => n.opType).join())
      throw opError(OP, "the model's graph changes with the batch size; ONNX export needs one that does not");
    const graph = trace.graph;
    const outputs = outputInfos(trace, probe, shape[0]!);
    publishOutputs(trace);
    const folded = options.foldBatchNorm === false ? 0 : noGrad(() => foldBatchNorms(graph, new Set(outputs.map((o) => o.name))));
    const inputs: ValueInfo[] = [{ name: INPUT_NAME, elemType: 'float32', dims: ['batch', ...shape.slice(1)] }];
    const bytes = encodeModel(graph, { graphName: model.constructor.name, opset, irVersion: IR_VERSION[opset]!, inputs, outputs, metadata: options.metadata ?? {} });
    if (options.path !== undefined) writeFileAtomically(OP, options.path, bytes);
    return { bytes, nodes: graph.nodes.length, foldedBatchNorms: folded, inputs, outputs, opset };
  } finally {
    for (const [m, training] of modes) m.training = training;
    for (const t of traces.flatMap((tr) => tr.graph.owned)) t.dispose();
  }
}

/**
 * Gives the outputs their public names: a node's output is renamed; the input, or a value
 * already published under another name, goes through an Identity. MaxPool indices leave in
 * sepconv's (and PyTorch's) convention: per H×W plane (i mod H·W), int32.
 */
function publishOutputs(trace: Trace): void {
  const g = trace.graph;
  const published = new Map<string, string>();
  for (const { name, value } of trace.outputs) {
    const source = g.current(value.name);
    if (value.planeSize !== undefined) {
      const [within] = g.node('Mod', `${name}.within_plane`, [published.get(source) ?? source, g.int64Constant(`${name}.plane`, [value.planeSize], [])]);
      g.publish(g.node('Cast', `${name}.int32`, [within!], { to: 6 })[0]!, name);
    } else if (source === INPUT_NAME || published.has(source)) {
      g.publish(g.node('Identity', `${name}.identity`, [published.get(source) ?? source])[0]!, name);
    } else {
      g.publish(source, name);
      published.set(source, name);
    }
  }
}
