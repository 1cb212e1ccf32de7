/**
 * `summary(model, inputShape)`: a torchinfo-style table of a model's layers with output
 * shapes, parameters and multiply-adds, and the totals.
 *
 * How shapes are found: the model's own `forward` runs, but every layer that can infer its
 * output from its input shape (all the built-in layers) returns uninitialised tensors of the
 * right shape instead of computing, after the same input checks its real forward makes. So
 * a summary costs no arithmetic (a 512×512 SegNet is instant), needs no shape code in the
 * models beyond their forward, and fails on a bad input shape with the error a real forward
 * would give. Glue between layers in a model's forward (concatenation, reshapes) does run,
 * on the uninitialised tensors: cheap copies, no kernels of consequence.
 */
import { describe, invalidArg, shapeStr } from '../errors.js';
import { noGrad } from '../autograd/graph.js';
import { dtypeSize } from '../dtype.js';
import { checkShape, empty, numelOf, scope, Tensor } from '../tensor.js';
import type { Shape } from '../tensor.js';
import { Module, withTracer } from './module.js';
import type { AnyModule, CallTracer } from './module.js';

/** One module call in the forward pass. */
export interface LayerSummary {
  /** Dotted path from the summarised model ('' for the model itself). */
  name: string;
  /** Class name. */
  type: string;
  /** Nesting depth of the call (0 for the model). */
  depth: number;
  outputShape: number[];
  /** Parameters of the module, its descendants' included. */
  params: number;
  /** Multiply-adds of this call (for a container, the sum over the layers it ran). */
  multAdds: number;
  /** No other module ran inside this call. */
  leaf: boolean;
  /** The module already ran earlier in this pass (shared weights count once in the totals). */
  repeated: boolean;
}

export interface ModelSummary {
  totalParams: number;
  trainableParams: number;
  /** Total multiply-adds of one forward pass: conv = weight elements × N·H_out·W_out, linear = weight elements × rows. */
  multAdds: number;
  layers: LayerSummary[];
  inputShape: number[];
  /** Bytes of the input tensor. */
  inputBytes: number;
  /** torchinfo's estimate: outputs of layers with parameters, twice (activations + their gradients). */
  forwardBackwardBytes: number;
  /** Bytes of parameters and buffers. */
  paramBytes: number;
  /** The printed table. */
  text: string;
}

export interface SummaryOptions {
  /** Print the table with console.log. Default true. */
  print?: boolean;
  /** Deepest call level shown in the table (the totals always cover everything). Default: all. */
  depth?: number;
}

interface OpenCall {
  row: LayerSummary;
  module: AnyModule;
  inputShape: number[] | null;
  childCalls: number;
}

function firstTensor(value: unknown): Tensor | null {
  if (value instanceof Tensor) return value;
  if (Array.isArray(value)) return value.map(firstTensor).find((t) => t !== null) ?? null;
  if (value !== null && typeof value === 'object') return Object.values(value).map(firstTensor).find((t) => t !== null) ?? null;
  return null;
}

const countParams = (m: AnyModule): number => m.parameters().reduce((n, p) => n + p.numel, 0);

/** Records one row per module call; leaf layers report their multiply-adds to every open call. */
class SummaryTracer implements CallTracer {
  readonly shapeOnly = true;
  readonly rows: LayerSummary[] = [];
  private readonly open: OpenCall[] = [];
  private readonly seen = new Set<AnyModule>();

  constructor(private readonly names: ReadonlyMap<AnyModule, string>) {}

  enter(module: AnyModule, args: readonly unknown[]): void {
    const parent = this.open[this.open.length - 1];
    if (parent) parent.childCalls++;
    const row: LayerSummary = {
      name: this.names.get(module) ?? module.path,
      type: module.constructor.name,
      depth: this.open.length,
      outputShape: [],
      params: countParams(module),
      multAdds: 0,
      leaf: true,
      repeated: this.seen.has(module),
    };
    this.seen.add(module);
    this.rows.push(row);
    const input = firstTensor(args);
    this.open.push({ row, module, inputShape: input === null ? null : input.shape.slice(), childCalls: 0 });
  }

  exit(_module: AnyModule, output: unknown): void {
    const call = this.open.pop()!;
    const out = firstTensor(output);
    call.row.outputShape = out === null ? [] : out.shape.slice();
    call.row.leaf = call.childCalls === 0;
    if (!call.row.leaf || call.inputShape === null || out === null) return;
    const cost = call.module.multAdds(call.inputShape, call.row.outputShape);
    call.row.multAdds = cost;
    for (const ancestor of this.open) ancestor.row.multAdds += cost;
  }
}

/**
 * Runs `model` on an input of `inputShape` without computing (see the file comment), prints
 * a torchinfo-style table and returns its figures.
 *
 * @example
 * const model = sc.models.vgg({ conv: 'dsc' });
 * const { totalParams, multAdds } = sc.summary(model, [1, 3, 32, 32]); // prints the table
 * totalParams; // 174821
 */
export function summary(model: AnyModule, inputShape: readonly number[], opts: SummaryOptions = {}): ModelSummary {
  if (!(model instanceof Module)) throw invalidArg('summary', 'model', 'a Module', describe(model));
  const shape = checkShape('summary', 'inputShape', inputShape);
  const depth = opts.depth ?? Infinity;
  if (!(depth >= 0)) throw invalidArg('summary', 'options.depth', 'a number >= 0', describe(opts.depth));
  const names = new Map(model.namedModules().map(([name, m]) => [m, name] as const));
  const tracer = new SummaryTracer(names);
  noGrad(() => scope(() => void withTracer(tracer, () => model.call(empty(shape)))));

  const params = model.parameters();
  const float32 = dtypeSize('float32');
  const leafRows = tracer.rows.filter((r) => r.leaf);
  const result: ModelSummary = {
    totalParams: params.reduce((n, p) => n + p.numel, 0),
    trainableParams: params.filter((p) => p.requiresGrad).reduce((n, p) => n + p.numel, 0),
    multAdds: leafRows.reduce((n, r) => n + r.multAdds, 0),
    layers: tracer.rows,
    inputShape: shape,
    inputBytes: numelOf(shape) * float32,
    forwardBackwardBytes: leafRows.filter((r) => r.params > 0).reduce((n, r) => n + 2 * numelOf(r.outputShape) * float32, 0),
    paramBytes: [...params, ...model.buffers()].reduce((n, t) => n + t.numel * dtypeSize(t.dtype), 0),
    text: '',
  };
  result.text = formatSummary(result, depth);
  if (opts.print ?? true) console.log(result.text);
  return result;
}

// ------------------------------------------------------------------------- formatting

const count = (n: number): string => n.toLocaleString('en-US');
const megabytes = (bytes: number): string => (bytes / 1e6).toFixed(2);

/** A number in the unit torchinfo picks: "(G): 1.23", "(M): 75.50", "(k): 4.61" or plain. */
function scaled(n: number): [string, string] {
  for (const [unit, size] of [['G', 1e9], ['M', 1e6], ['k', 1e3]] as const) if (n >= size) return [` (${unit})`, (n / size).toFixed(2)];
  return ['', String(n)];
}

/** Tree-drawing prefixes (├─, └─, │) for rows given by depth. */
function treePrefixes(depths: readonly number[]): string[] {
  const isLast = depths.map((d, i) => {
    for (let j = i + 1; j < depths.length; j++) if (depths[j]! <= d) return depths[j]! < d;
    return true;
  });
  const continuing: boolean[] = [];
  return depths.map((d, i) => {
    continuing[d] = !isLast[i];
    if (d === 0) return '';
    let prefix = '';
    for (let l = 1; l < d; l++) prefix += continuing[l] ? '│ ' : '  ';
    return prefix + (isLast[i] ? '└─' : '├─');
  });
}

const rowLabel = (r: LayerSummary): string => (r.name === '' ? r.type : `${r.name} (${r.type})`);

/** Columns as wide as their widest cell: text columns (the first `textColumns`) left-aligned, figures right-aligned. */
function formatTable(header: readonly string[], rows: readonly (readonly string[])[], rule: string, textColumns = 2): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]): string => cells.map((s, c) => (c < textColumns ? s.padEnd(widths[c]!) : s.padStart(widths[c]!))).join('   ').trimEnd();
  const width = widths.reduce((a, b) => a + b, 0) + 3 * (widths.length - 1);
  return [rule.repeat(width), line(header), rule.repeat(width), ...rows.map(line), rule.repeat(width)];
}

function formatSummary(s: ModelSummary, depth: number): string {
  const shown = s.layers.filter((r) => r.depth <= depth);
  const prefixes = treePrefixes(shown.map((r) => r.depth));
  const cells = shown.map((r, i) => [
    prefixes[i]! + rowLabel(r),
    shapeStr(r.outputShape),
    r.params === 0 ? '--' : r.repeated ? '(recursive)' : count(r.params),
    r.multAdds === 0 ? '--' : count(r.multAdds),
  ]);
  const lines = formatTable(['Layer (type)', 'Output shape', 'Param #', 'Mult-adds'], cells, '=');
  const [unit, value] = scaled(s.multAdds);
  const rule = lines[0]!;
  lines.push(
    `Total params: ${count(s.totalParams)}`,
    `Trainable params: ${count(s.trainableParams)}`,
    `Non-trainable params: ${count(s.totalParams - s.trainableParams)}`,
    `Total mult-adds${unit}: ${value}`,
    rule,
    `Input size (MB): ${megabytes(s.inputBytes)}`,
    `Forward/backward pass size (MB): ${megabytes(s.forwardBackwardBytes)}`,
    `Params size (MB): ${megabytes(s.paramBytes)}`,
    `Estimated total size (MB): ${megabytes(s.inputBytes + s.forwardBackwardBytes + s.paramBytes)}`,
    rule,
  );
  return lines.join('\n');
}

const ratio = (a: number, b: number): string => (a === 0 ? '--' : (b / a).toFixed(3));

/**
 * Two summaries of the same architecture side by side (say regular and DSC), with the
 * `other / base` ratio of parameters and multiply-adds for every layer call both have that
 * has weights in either, and for the totals.
 *
 * @example
 * const opts = { print: false };
 * const regular = sc.summary(sc.models.vgg({ conv: 'regular' }), [1, 3, 32, 32], opts);
 * const dsc = sc.summary(sc.models.vgg({ conv: 'dsc' }), [1, 3, 32, 32], opts);
 * console.log(sc.compareSummaries(regular, dsc, ['regular', 'DSC']));
 */
export function compareSummaries(base: ModelSummary, other: ModelSummary, labels: readonly [string, string] = ['A', 'B']): string {
  const keyed = (rows: readonly LayerSummary[]): Map<string, LayerSummary> => {
    const calls = new Map<string, number>();
    return new Map(
      rows.map((r) => {
        const n = calls.get(r.name) ?? 0;
        calls.set(r.name, n + 1);
        return [`${r.name}#${n}`, r] as const;
      }),
    );
  };
  const otherRows = keyed(other.layers);
  const [a, b] = labels;
  const cells: string[][] = [];
  for (const [key, r] of keyed(base.layers)) {
    const o = otherRows.get(key);
    if (o === undefined || (r.params === 0 && o.params === 0 && r.multAdds === 0 && o.multAdds === 0)) continue;
    const type = r.type === o.type ? r.type : `${r.type} → ${o.type}`;
    const shapes = shapeStr(r.outputShape) === shapeStr(o.outputShape) ? shapeStr(r.outputShape) : `${shapeStr(r.outputShape)} / ${shapeStr(o.outputShape)}`;
    cells.push([
      `${'  '.repeat(r.depth)}${r.name === '' ? type : `${r.name} (${type})`}`,
      shapes,
      count(r.params),
      count(o.params),
      ratio(r.params, o.params),
      count(r.multAdds),
      count(o.multAdds),
      ratio(r.multAdds, o.multAdds),
    ]);
  }
  const lines = formatTable(['Layer (type)', 'Output shape', `Params ${a}`, `Params ${b}`, `${b}/${a}`, `Mult-adds ${a}`, `Mult-adds ${b}`, `${b}/${a}`], cells, '=');
  lines.push(
    `Total params: ${count(base.totalParams)} (${a}) vs ${count(other.totalParams)} (${b}), ${b}/${a} = ${ratio(base.totalParams, other.totalParams)}`,
    `Total mult-adds: ${count(base.multAdds)} (${a}) vs ${count(other.multAdds)} (${b}), ${b}/${a} = ${ratio(base.multAdds, other.multAdds)}`,
    `Params size (MB): ${megabytes(base.paramBytes)} (${a}) vs ${megabytes(other.paramBytes)} (${b})`,
    `Forward/backward pass size (MB): ${megabytes(base.forwardBackwardBytes)} (${a}) vs ${megabytes(other.forwardBackwardBytes)} (${b})`,
    lines[0]!,
  );
  return lines.join('\n');
}
