/**
 * The ONNX graph while it is being built: nodes in execution order, initializers (model
 * tensors by their state-dict names, or constants made for the graph) and unique value names.
 * `proto.ts` turns it into a ModelProto; `fold.ts` rewrites it before that.
 */
import type { AnyModule } from '../nn/module.js';
import type { Tensor } from '../tensor.js';

/** An attribute: int, ints, string, or a float (tagged, since JS numbers do not say which). */
export type AttributeValue = number | readonly number[] | string | { float: number };

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
  /** The sc.nn layer the node came from (the BatchNorm fold reads its weights). */
  module: AnyModule | null;
}

export type Initializer = { name: string; float32: Tensor } | { name: string; int64: readonly number[]; dims: readonly number[] };

/** A traced value: its name in the graph and its shape in the traced forward. */
export interface ValueRef {
  name: string;
  shape: readonly number[];
  /**
   * Set on MaxPool indices: H·W of the pooled input. ONNX's indices count over the whole
   * N·C·H·W input, sepconv's (and PyTorch's) within each H×W plane; this converts.
   */
  planeSize?: number;
}

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers = new Map<string, Initializer>();
  /** Tensors made for the graph (folded weights, constants); freed once it is encoded. */
  readonly owned: Tensor[] = [];
  private readonly names = new Set<string>();
  private readonly paramInitializers = new Map<Tensor, string>();
  private readonly moved = new Map<string, string>();

  /** `paramNames`: the model's parameters and buffers by their state-dict names. */
  constructor(private readonly paramNames: ReadonlyMap<Tensor, string>) {}

  /** `base`, or `base_2`, `base_3`, … if taken. */
  unique(base: string): string {
    let name = base;
    for (let i = 2; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Whether `t` is one of the model's parameters or buffers. */
  isParam(t: Tensor): boolean {
    return this.paramNames.has(t);
  }

  /** A parameter or buffer of the model as an initializer named by its state-dict key (added once). */
  param(t: Tensor): string {
    const known = this.paramInitializers.get(t);
    if (known !== undefined) return known;
    const name = this.unique(this.paramNames.get(t) ?? 'param');
    this.initializers.set(name, { name, float32: t });
    this.paramInitializers.set(t, name);
    return name;
  }

  /** A float32 tensor made for the graph; the graph owns (and later frees) it. */
  floatConstant(base: string, t: Tensor): string {
    const name = this.unique(base);
    this.owned.push(t.keep()); // made inside module calls: outlive their scopes
    this.initializers.set(name, { name, float32: t });
    return name;
  }

  int64Constant(base: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.unique(base);
    this.initializers.set(name, { name, int64: values, dims });
    return name;
  }

  /** Appends a node named `name`; its outputs are named `name`, `name.<suffix>` … (unique). */
  node(opType: string, name: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, outputSuffixes: readonly string[] = [''], module: AnyModule | null = null): string[] {
    const nodeName = this.unique(name);
    const outputs = outputSuffixes.map((s) => (s === '' ? nodeName : this.unique(`${nodeName}.${s}`)));
    this.nodes.push({ opType, name: nodeName, inputs, outputs, attributes, module });
    return outputs;
  }

  /**
   * Gives value `from` the exact name `to` (a graph output's public name); a value already
   * called `to` (a layer at that path) is renamed out of the way first.
   */
  publish(from: string, to: string): void {
    if (from === to) return;
    if (this.nodes.some((n) => n.outputs.includes(to))) {
      const away = this.unique(to);
      this.rename(to, away);
      this.moved.set(to, away);
    }
    this.names.add(to);
    this.rename(from, to);
  }

  /** The current name of a value named `name` before `publish` moved it out of the way. */
  current(name: string): string {
    return this.moved.get(name) ?? name;
  }

  private rename(from: string, to: string): void {
    for (const node of this.nodes) {
      node.inputs = node.inputs.map((n) => (n === from ? to : n));
      node.outputs = node.outputs.map((n) => (n === from ? to : n));
    }
  }
}
