/**
 * Turns one forward pass into an ONNX graph. The model's own `forward` runs (so any module
 * built from sc.nn layers exports, whatever its control flow); every call of a layer the
 * exporter knows (layers.ts) becomes its ONNX nodes, and that layer only infers its output
 * shape instead of computing. Between layers, the differentiable ops a forward calls
 * (`cat`, `relu`, `add`, … as seen by autograd's `record`) become nodes too. Values are
 * followed by tensor identity; anything the trace cannot explain is an error naming the
 * module (its path and class) whose forward produced it.
 */
import { noGrad, withOpObserver } from '../autograd/graph.js';
import { describe, opError, shapeStr } from '../errors.js';
import { withTracer } from '../nn/module.js';
import type { AnyModule, CallTracer } from '../nn/module.js';
import { Tensor, zeros } from '../tensor.js';
import { GraphBuilder } from './graph.js';
import type { ValueRef } from './graph.js';
import { converterFor, reshapeTo, SUPPORTED_LAYERS } from './layers.js';
import type { Converter, LayerOutput } from './layers.js';

const OP = 'sc.onnx.export';

export const INPUT_NAME = 'input';

export interface Trace {
  graph: GraphBuilder;
  /** The model's outputs: a name per returned tensor ('output' for a single one) and its value. */
  outputs: { name: string; value: ValueRef }[];
}

interface Frame {
  module: AnyModule;
  /** Set on a layer the exporter converts (its inner calls and ops are not traced). */
  convert: Converter<AnyModule> | null;
  name: string;
  inputs: ValueRef[];
}

const BINARY_OPS: Record<string, string> = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' };
const GLUE_OPS = ['cat', 'relu', 'reshape', ...Object.keys(BINARY_OPS)];
const NUMBER_OPERAND = ' with a number operand (the exporter supports tensor operands only)';

function tensorsIn(value: unknown): Tensor[] {
  if (value instanceof Tensor) return [value];
  if (Array.isArray(value)) return value.flatMap(tensorsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(tensorsIn);
  return [];
}

/** Traces `model` (already in eval mode) on zeros of `inputShape`. */
export function traceModel(model: AnyModule, inputShape: readonly number[]): Trace {
  const paramNames = new Map<Tensor, string>([...model.namedParameters(), ...model.namedBuffers()].map(([name, t]) => [t, name]));
  const paths = new Map(model.namedModules().map(([path, m]) => [m, path === '' ? m.constructor.name : path]));
  const graph = new GraphBuilder(paramNames);
  const values = new Map<Tensor, ValueRef>();
  const stack: Frame[] = [];
  let insideConverted = 0;

  const label = (m: AnyModule): string => (m === model ? m.constructor.name : `'${paths.get(m) ?? m.path}' (${m.constructor.name})`);
  const running = (): AnyModule => stack.at(-1)?.module ?? model;

  /** The value of a tensor an op or layer reads; parameters become initializers. */
  const valueOf = (t: Tensor, reader: string): ValueRef => {
    const known = values.get(t);
    if (known !== undefined) return known;
    if (graph.isParam(t)) return { name: graph.param(t), shape: t.shape };
    throw opError(
      OP,
      `${reader} reads a tensor of shape ${shapeStr(t.shape)} that ${label(running())} computed with something the exporter cannot see ` +
        `(an op outside the supported layers and functions, or a layer run with forward() instead of call()); ` +
        `supported layers: ${SUPPORTED_LAYERS.join(', ')}; between layers: ${GLUE_OPS.join(', ')}`,
    );
  };

  const setValues = (output: unknown, result: LayerOutput): void => {
    if (output instanceof Tensor) values.set(output, result as ValueRef);
    else for (const [key, t] of Object.entries(output as Record<string, Tensor>)) values.set(t, (result as Record<string, ValueRef>)[key]!);
  };

  const tracer: CallTracer = {
    // Read by Module.call right after enter(): a converted layer only infers its output shape.
    get shapeOnly() {
      return insideConverted > 0;
    },
    enter(module, args) {
      if (insideConverted > 0) {
        insideConverted++;
        return;
      }
      const convert = converterFor(module);
      const name = paths.get(module) ?? module.path;
      const inputs = convert === null ? [] : tensorsIn(args).map((t) => valueOf(t, label(module)));
      stack.push({ module, convert, name, inputs });
      if (convert !== null) insideConverted = 1;
    },
    exit(module, output) {
      if (insideConverted > 1) {
        insideConverted--;
        return;
      }
      const frame = stack.pop()!;
      if (frame.convert !== null) {
        insideConverted = 0;
        setValues(output, frame.convert({ module, name: frame.name, label: label(module), inputs: frame.inputs, output, graph }));
        return;
      }
      for (const t of tensorsIn(output))
        if (!values.has(t))
          throw opError(
            OP,
            `${label(module)} cannot be exported to ONNX: its output was computed by operations the exporter cannot see ` +
              `(it is not one of the supported layers ${SUPPORTED_LAYERS.join(', ')}, and its forward did not build its output from them and ${GLUE_OPS.join(', ')})`,
          );
    },
  };

  const observe = (op: string, output: Tensor, inputs: readonly (Tensor | null)[]): void => {
    if (insideConverted > 0) return;
    const module = running();
    const name = `${paths.get(module) ?? module.path}.${op}`;
    const unsupported = (why: string): Error => opError(OP, `${label(module)} cannot be exported to ONNX: its forward calls '${op}'${why}`);
    // Arithmetic with a number records one input (and, where recorded as 'affine', its own name).
    if (op === 'affine') throw unsupported(NUMBER_OPERAND);
    if (!GLUE_OPS.includes(op)) throw unsupported(`, which the exporter cannot express (between layers it supports ${GLUE_OPS.join(', ')})`);
    const args = inputs.filter((t): t is Tensor => t !== null).map((t) => valueOf(t, `'${op}' in ${label(module)}`));
    let result: ValueRef;
    if (op === 'relu') result = { name: graph.node('Relu', name, [args[0]!.name])[0]!, shape: output.shape };
    else if (op === 'reshape') result = reshapeTo(graph, name, args[0]!, output.shape);
    else if (op === 'cat') {
      if (args.length === 1) result = args[0]!;
      else result = { name: graph.node('Concat', name, args.map((a) => a.name), { axis: catAxis(args, output.shape) })[0]!, shape: output.shape };
    } else {
      if (args.length !== 2) throw unsupported(NUMBER_OPERAND);
      result = { name: graph.node(BINARY_OPS[op]!, name, args.map((a) => a.name))[0]!, shape: output.shape };
    }
    values.set(output, result);
  };

  const input = zeros(inputShape, { device: model.device });
  graph.unique(INPUT_NAME);
  values.set(input, { name: INPUT_NAME, shape: input.shape });
  try {
    const output = withTracer(tracer, () => withOpObserver(observe, () => noGrad(() => model.call(input))));
    return { graph, outputs: namedOutputs(output, label(model)).map(([name, t]) => ({ name, value: valueOf(t, `the output '${name}' of ${label(model)}`) })) };
  } finally {
    input.dispose();
  }
}

/** The dim `cat` joined along: the one where the output is the inputs' sum. */
function catAxis(inputs: readonly ValueRef[], output: readonly number[]): number {
  return output.findIndex((size, d) => size === inputs.reduce((n, v) => n + v.shape[d]!, 0) && inputs.every((v) => v.shape.every((s, j) => j === d || s === output[j])));
}

function namedOutputs(output: unknown, model: string): [string, Tensor][] {
  if (output instanceof Tensor) return [['output', output]];
  const entries: [string, unknown][] = Array.isArray(output) ? output.map((t, i) => [`output_${i}`, t]) : output !== null && typeof output === 'object' ? Object.entries(output) : [];
  if (entries.length === 0 || !entries.every(([, t]) => t instanceof Tensor))
    throw opError(OP, `${model} returned ${describe(output)}; ONNX export needs a Tensor, or an array or object of Tensors`);
  return entries as [string, Tensor][];
}
