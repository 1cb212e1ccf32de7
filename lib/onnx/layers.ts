/**
 * How each sc.nn layer is written in ONNX. Keyed by the exact class: a subclass may change
 * `forward`, so it is traced through like any user module rather than trusted to be its base.
 */
import { opError, shapeStr } from '../errors.js';
import { AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, ConvTranspose2d, DepthwiseConv2d, Dropout, Flatten, Linear, MaxPool2d, MaxUnpool2d, PointwiseConv2d, ReLU, Upsample } from '../nn/index.js';
import type { AnyModule } from '../nn/module.js';
import { full, tensor, zeros } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import type { GraphBuilder, ValueRef } from './graph.js';

/** One call of a layer in the traced forward. */
export interface LayerCall<M> {
  module: M;
  /** The node name: the layer's path in the exported model. */
  name: string;
  /** How errors name the layer: `'enc.0.1' (BatchNorm2d)`. */
  label: string;
  /** The tensor arguments' values, in argument order. */
  inputs: ValueRef[];
  /** What the call returned (shapes only matter). */
  output: unknown;
  graph: GraphBuilder;
}

/** A converter returns the value of each tensor the layer returned (same structure). */
export type LayerOutput = ValueRef | Readonly<Record<string, ValueRef>>;
export type Converter<M> = (call: LayerCall<M>) => LayerOutput;

const outputShape = (call: LayerCall<unknown>): readonly number[] => (call.output as Tensor).shape;
const ref = (name: string, shape: readonly number[]): ValueRef => ({ name, shape });
const pads = (p: readonly [number, number]): number[] => [p[0], p[1], p[0], p[1]];

function conv(call: LayerCall<Conv2d>): ValueRef {
  const m = call.module;
  const g = call.graph;
  const inputs = [call.inputs[0]!.name, g.param(m.weight), ...(m.bias === null ? [] : [g.param(m.bias)])];
  const attributes = { kernel_shape: m.kernelSize, strides: m.stride, pads: pads(m.padding), dilations: m.dilation, group: m.groups };
  return ref(g.node('Conv', call.name, inputs, attributes, [''], m)[0]!, outputShape(call));
}

function convTranspose(call: LayerCall<ConvTranspose2d>): ValueRef {
  const m = call.module;
  const g = call.graph;
  const inputs = [call.inputs[0]!.name, g.param(m.weight), ...(m.bias === null ? [] : [g.param(m.bias)])];
  const attributes = { kernel_shape: m.kernelSize, strides: m.stride, pads: pads(m.padding), dilations: m.dilation, group: m.groups, output_padding: m.outputPadding };
  return ref(g.node('ConvTranspose', call.name, inputs, attributes)[0]!, outputShape(call));
}

function batchNorm(call: LayerCall<BatchNorm2d>): ValueRef {
  const m = call.module;
  const g = call.graph;
  const c = m.numFeatures;
  const scale = m.weight === null ? g.floatConstant(`${call.name}.weight`, full([c], 1)) : g.param(m.weight);
  const shift = m.bias === null ? g.floatConstant(`${call.name}.bias`, zeros([c])) : g.param(m.bias);
  const inputs = [call.inputs[0]!.name, scale, shift, g.param(m.runningMean), g.param(m.runningVar)];
  return ref(g.node('BatchNormalization', call.name, inputs, { epsilon: { float: m.eps } }, [''], m)[0]!, outputShape(call));
}

function linear(call: LayerCall<Linear>): ValueRef {
  const m = call.module;
  const g = call.graph;
  const x = call.inputs[0]!;
  const bias = m.bias === null ? [] : [g.param(m.bias)];
  if (x.shape.length === 2)
    return ref(g.node('Gemm', call.name, [x.name, g.param(m.weight), ...bias], { transB: 1 })[0]!, outputShape(call));
  // Leading dims are batch dims: MatMul broadcasts over them (onnxruntime folds the Transpose).
  const [wt] = g.node('Transpose', `${call.name}.weight_t`, [g.param(m.weight)], { perm: [1, 0] });
  const [product] = g.node('MatMul', m.bias === null ? call.name : `${call.name}.matmul`, [x.name, wt!]);
  if (m.bias === null) return ref(product!, outputShape(call));
  return ref(g.node('Add', call.name, [product!, bias[0]!])[0]!, outputShape(call));
}

function flatten(call: LayerCall<Flatten>): ValueRef {
  const m = call.module;
  const x = call.inputs[0]!;
  const n = x.shape.length;
  const start = m.startDim < 0 ? m.startDim + n : m.startDim;
  const end = m.endDim < 0 ? m.endDim + n : m.endDim;
  if (end === n - 1 && start > 0) return ref(call.graph.node('Flatten', call.name, [x.name], { axis: start })[0]!, outputShape(call));
  return reshapeTo(call.graph, call.name, x, outputShape(call));
}

/**
 * Reshape to `shape` as traced, keeping the batch dynamic: a leading dim equal to the
 * input's is copied (0), any other leading dim is inferred (-1), so a batch folded into dim 0
 * follows the batch too.
 */
export function reshapeTo(g: GraphBuilder, name: string, x: ValueRef, shape: readonly number[]): ValueRef {
  const target = shape.map((d, i) => (i > 0 ? d : d === x.shape[0] ? 0 : -1));
  return ref(g.node('Reshape', name, [x.name, g.int64Constant(`${name}.shape`, target)])[0]!, shape);
}

function poolAttributes(w: MaxPool2d['window']): Record<string, readonly number[]> {
  return { kernel_shape: w.kernel, strides: w.stride, pads: pads(w.padding) };
}

function maxPool(call: LayerCall<MaxPool2d<boolean>>): LayerOutput {
  const m = call.module;
  const x = call.inputs[0]!;
  if (!m.returnIndices) return ref(call.graph.node('MaxPool', call.name, [x.name], poolAttributes(m.window))[0]!, outputShape(call));
  const shape = (call.output as { output: Tensor }).output.shape;
  const [y, indices] = call.graph.node('MaxPool', call.name, [x.name], poolAttributes(m.window), ['', 'indices']);
  return { output: ref(y!, shape), indices: { name: indices!, shape, planeSize: x.shape[2]! * x.shape[3]! } };
}

function maxUnpool(call: LayerCall<MaxUnpool2d>): ValueRef {
  const m = call.module;
  const g = call.graph;
  const [x, indices] = call.inputs as [ValueRef, ValueRef];
  if (indices.planeSize === undefined)
    throw opError('sc.onnx.export', `${call.label}: its indices must come from a MaxPool2d with returnIndices in the same model`);
  const shape = outputShape(call);
  const plane = shape[2]! * shape[3]!;
  // ONNX's indices count over the whole N·C·H·W tensor. Where the unpool's output plane is the
  // pool's input plane (SegNet) they already address the right elements; otherwise re-base
  // them plane by plane: (i div HWin)·HWout + i mod HWin.
  let index = indices.name;
  if (indices.planeSize !== plane) {
    const from = g.int64Constant(`${call.name}.pool_plane`, [indices.planeSize], []);
    const [planeNo] = g.node('Div', `${call.name}.plane`, [index, from]);
    const [within] = g.node('Mod', `${call.name}.within`, [index, from]);
    const [base] = g.node('Mul', `${call.name}.base`, [planeNo!, g.int64Constant(`${call.name}.out_plane`, [plane], [])]);
    index = g.node('Add', `${call.name}.indices`, [base!, within!])[0]!;
  }
  const inputs = [x.name, index];
  const { kernel, stride, padding } = m.window;
  const natural = [0, 1].map((d) => (x.shape[2 + d]! - 1) * stride[d]! - 2 * padding[d]! + kernel[d]!);
  if (natural[0] !== shape[2] || natural[1] !== shape[3]) inputs.push(batchAndSize(g, call.name, x.name, [shape[2]!, shape[3]!]));
  return ref(g.node('MaxUnpool', call.name, inputs, poolAttributes(m.window))[0]!, shape);
}

/** An int64 [N, C, h, w] with N, C read from `x` at run time (the batch is dynamic). */
function batchAndSize(g: GraphBuilder, name: string, x: string, size: readonly [number, number]): string {
  const [shape] = g.node('Shape', `${name}.input_shape`, [x]);
  const [nc] = g.node('Slice', `${name}.batch_channels`, [shape!, g.int64Constant(`${name}.zero`, [0]), g.int64Constant(`${name}.two`, [2])]);
  return g.node('Concat', `${name}.output_shape`, [nc!, g.int64Constant(`${name}.size`, size)], { axis: 0 })[0]!;
}

function avgPool(call: LayerCall<AvgPool2d>): ValueRef {
  const attributes = { ...poolAttributes(call.module.window), count_include_pad: 1 };
  return ref(call.graph.node('AveragePool', call.name, [call.inputs[0]!.name], attributes)[0]!, outputShape(call));
}

function adaptiveAvgPool(call: LayerCall<AdaptiveAvgPool2d>): ValueRef {
  const x = call.inputs[0]!;
  const [oh, ow] = call.module.outputSize;
  const [h, w] = [x.shape[2]!, x.shape[3]!];
  if (oh === 1 && ow === 1) return ref(call.graph.node('GlobalAveragePool', call.name, [x.name])[0]!, outputShape(call));
  if (h % oh !== 0 || w % ow !== 0)
    throw opError('sc.onnx.export', `${call.label} cannot be exported: output ${oh}x${ow} from input ${shapeStr(x.shape)} needs uneven windows, and ONNX has no adaptive pooling (use an input whose H, W divide by the output size)`);
  const k = [h / oh, w / ow];
  return ref(call.graph.node('AveragePool', call.name, [x.name], { kernel_shape: k, strides: k })[0]!, outputShape(call));
}

/**
 * Resize with sepconv's (PyTorch's) sampling: nearest = floor(dst / scale) ('asymmetric',
 * 'floor'); bilinear = half-pixel centres, or 'align_corners'. A scale factor is passed as
 * scales (ONNX maps coordinates with it, as sepconv does); a size as sizes.
 */
function upsample(call: LayerCall<Upsample>): ValueRef {
  const m = call.module;
  const g = call.graph;
  const x = call.inputs[0]!;
  const attributes: Record<string, string> =
    m.mode === 'nearest'
      ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
      : { mode: 'linear', coordinate_transformation_mode: m.alignCorners ? 'align_corners' : 'half_pixel' };
  const inputs =
    m.scaleFactor !== null
      ? [x.name, '', g.floatConstant(`${call.name}.scales`, tensor([1, 1, ...m.scaleFactor], [4]))]
      : [x.name, '', '', batchAndSize(g, call.name, x.name, m.size!)];
  return ref(g.node('Resize', call.name, inputs, attributes)[0]!, outputShape(call));
}

const relu = (call: LayerCall<ReLU>): ValueRef => ref(call.graph.node('Relu', call.name, [call.inputs[0]!.name])[0]!, outputShape(call));

/** Eval-mode Dropout passes its input through: no node. */
const identity = (call: LayerCall<Dropout>): ValueRef => call.inputs[0]!;

const CONVERTERS = new Map<abstract new (...args: never[]) => AnyModule, Converter<never>>([
  [Conv2d, conv],
  [DepthwiseConv2d, conv],
  [PointwiseConv2d, conv],
  [ConvTranspose2d, convTranspose],
  [BatchNorm2d, batchNorm],
  [Linear, linear],
  [Flatten, flatten],
  [ReLU, relu],
  [Dropout, identity],
  [MaxPool2d, maxPool],
  [MaxUnpool2d, maxUnpool],
  [AvgPool2d, avgPool],
  [AdaptiveAvgPool2d, adaptiveAvgPool],
  [Upsample, upsample],
] as [abstract new (...args: never[]) => AnyModule, Converter<never>][]);

/** The converter of `module`'s exact class, or null when the trace must look inside it. */
export function converterFor(module: AnyModule): Converter<AnyModule> | null {
  return (CONVERTERS.get(module.constructor as abstract new (...args: never[]) => AnyModule) ?? null) as Converter<AnyModule> | null;
}

/** The class names of the layers above, for error messages. */
export const SUPPORTED_LAYERS = [...CONVERTERS.keys()].map((c) => c.name);
