/**
 * `Module`: the base of every layer and model, as in PyTorch. A module owns parameters
 * (trainable tensors), buffers (state such as BatchNorm running statistics) and child
 * modules, each registered under a name; the dotted paths of those names (`enc.0.1.weight`)
 * are the keys of `stateDict()` and match PyTorch's, so weights move between the two.
 */
import { describe, invalidArg, opError, SepconvError, shapeStr } from '../errors.js';
import { castCopy, requireCuda, runKernel, scope, Tensor } from '../tensor.js';
import { ops } from '../ops.js';
import type { Device } from '../dtype.js';

/** A module of any signature (what containers, `children()` and `summary` accept). */
export type AnyModule = Module<unknown[], unknown>;

/** A state dict: dotted names to tensors, in registration order. */
export type StateDict = Record<string, Tensor>;

export interface LoadStateDictResult {
  /** Names the module has but the dict lacked (only with `strict: false`). */
  missingKeys: string[];
  /** Names the dict has but the module lacks (only with `strict: false`). */
  unexpectedKeys: string[];
}

// ------------------------------------------------------------------------------ tracing

/**
 * @internal Observes module calls. `summary` uses it to record each call's output shape and
 * cost; with `shapeOnly`, layers that can infer their outputs (`dryForward`) skip compute.
 */
export interface CallTracer {
  readonly shapeOnly: boolean;
  enter(module: AnyModule, args: readonly unknown[]): void;
  exit(module: AnyModule, output: unknown): void;
}

let activeTracer: CallTracer | null = null;

/** @internal Runs `fn` with `tracer` observing every module call. */
export function withTracer<T>(tracer: CallTracer, fn: () => T): T {
  const previous = activeTracer;
  activeTracer = tracer;
  try {
    return fn();
  } finally {
    activeTracer = previous;
  }
}

// ------------------------------------------------------------------------------ Module

/**
 * The base class of layers and models. Subclasses register their parts in the constructor
 * and implement `forward`; callers use `call`, which runs `forward` in a `sc.scope` so the
 * temporaries it creates are freed on return (what backward needs is kept by the graph).
 *
 * @example
 * class TwoLayer extends sc.nn.Module {
 *   readonly fc1 = this.registerModule('fc1', new sc.nn.Linear(4, 8));
 *   readonly fc2 = this.registerModule('fc2', new sc.nn.Linear(8, 2));
 *   forward(x: sc.Tensor): sc.Tensor {
 *     return this.fc2.call(sc.F.relu(this.fc1.call(x)));
 *   }
 * }
 * const net = new TwoLayer();
 * net.namedParameters().map(([name]) => name); // ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> {
  /** Training mode (BatchNorm uses batch statistics, Dropout drops); see `train()`/`eval()`. */
  training = true;
  private readonly ownParameters = new Map<string, Tensor | null>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly ownChildren = new Map<string, AnyModule>();
  private parent: { module: AnyModule; name: string } | null = null;

  /** The computation. Call modules through `call` (it frees temporaries and feeds `summary`). */
  abstract forward(...args: In): Out;

  /**
   * Runs `forward` inside `sc.scope`: tensors it creates and does not return are freed when
   * it returns. Compose modules with `child.call(x)` so summaries see every layer.
   */
  call(...args: In): Out {
    const tracer = activeTracer;
    if (tracer === null) return scope(() => this.forward(...args));
    tracer.enter(this as AnyModule, args);
    const output = scope(() => (tracer.shapeOnly ? this.dryForward(...args) : null) ?? this.forward(...args));
    tracer.exit(this as AnyModule, output);
    return output;
  }

  /**
   * Outputs of the right shapes and dtypes (uninitialised memory) after the same input checks
   * as `forward`, without computing them; null when only running `forward` can tell
   * (containers). `summary` uses it to walk a model without doing its arithmetic.
   */
  protected dryForward(..._args: In): Out | null {
    return null;
  }

  /** Multiply-adds of one call that produced `output` from `input` (0 unless a weight layer). */
  multAdds(_input: readonly number[], _output: readonly number[]): number {
    return 0;
  }

  // ---------------------------------------------------------------------- registration

  /** Registers a trainable tensor (made a `requiresGrad` leaf kept alive across scopes). */
  protected registerParameter<T extends Tensor | null>(name: string, tensor: T): T {
    this.checkNewName(name);
    if (tensor !== null) {
      tensor.requiresGrad = true;
      tensor.keep();
    }
    this.ownParameters.set(name, tensor);
    return tensor;
  }

  /** Registers non-trainable state saved in the state dict (e.g. `running_mean`). */
  protected registerBuffer(name: string, tensor: Tensor): Tensor {
    this.checkNewName(name);
    this.ownBuffers.set(name, tensor.keep());
    return tensor;
  }

  /** Registers a child module under `name` (its parameters become `name.…`). */
  protected registerModule<M extends AnyModule>(name: string, module: M): M {
    this.checkNewName(name);
    if (!(module instanceof Module)) throw invalidArg(this.label(), `module '${name}'`, 'a Module', describe(module));
    this.ownChildren.set(name, module);
    if (module.parent === null) module.parent = { module: this as AnyModule, name };
    return module;
  }

  private checkNewName(name: string): void {
    if (typeof name !== 'string' || name === '' || name.includes('.'))
      throw invalidArg(this.label(), 'name', 'a non-empty name without dots', describe(name));
    if (this.ownParameters.has(name) || this.ownBuffers.has(name) || this.ownChildren.has(name))
      throw opError(this.label(), `'${name}' is already registered`);
  }

  // ---------------------------------------------------------------------------- naming

  /** This module's dotted path from the root it was first registered under ('' for a root). */
  get path(): string {
    const parts: string[] = [];
    for (let m: AnyModule = this as AnyModule; m.parent !== null; m = m.parent.module) parts.unshift(m.parent.name);
    return parts.join('.');
  }

  /** How errors name this module: `features.3 (Conv2d)`, or the class name for a root. */
  label(): string {
    const path = this.path;
    return path === '' ? this.constructor.name : `${path} (${this.constructor.name})`;
  }

  // ------------------------------------------------------------------------- traversal

  /** Direct children with their names. */
  namedChildren(): [string, AnyModule][] {
    return [...this.ownChildren];
  }

  /** Direct children. */
  children(): AnyModule[] {
    return [...this.ownChildren.values()];
  }

  /** This module and every descendant with dotted names ('' for this one), each once. */
  namedModules(): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    const seen = new Set<AnyModule>();
    const visit = (prefix: string, module: AnyModule): void => {
      if (seen.has(module)) return;
      seen.add(module);
      out.push([prefix, module]);
      for (const [name, child] of module.ownChildren) visit(join(prefix, name), child);
    };
    visit('', this as AnyModule);
    return out;
  }

  /** This module and every descendant. */
  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every parameter with its dotted name (shared tensors listed once), as PyTorch orders them. */
  namedParameters(): [string, Tensor][] {
    return this.namedTensors((m) => m.ownParameters);
  }

  /** Every parameter (the list to give an optimizer). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every buffer with its dotted name (BatchNorm: running_mean, running_var, num_batches_tracked). */
  namedBuffers(): [string, Tensor][] {
    return this.namedTensors((m) => m.ownBuffers);
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  private namedTensors(pick: (m: AnyModule) => ReadonlyMap<string, Tensor | null>): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [prefix, module] of this.namedModules())
      for (const [name, t] of pick(module)) {
        if (t === null || seen.has(t)) continue;
        seen.add(t);
        out.push([join(prefix, name), t]);
      }
    return out;
  }

  // ------------------------------------------------------------------------------ modes

  /** Sets training mode on this module and its descendants. Returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: BatchNorm uses running statistics, Dropout passes through. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Frees and clears every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * Moves parameters (with their gradients) and buffers to `device` in place: tensor identity
   * is kept, so an optimizer built earlier still holds them, and its state follows at its
   * next step. Returns this.
   *
   * @example
   * const model = sc.models.vgg({ conv: 'dsc' }).to('cuda'); // needs sc.backend().cuda
   */
  to(device: Device): this {
    const op = `${this.label()}.to`;
    if (device !== 'cpu' && device !== 'cuda') throw invalidArg(op, 'device', "'cpu' or 'cuda'", describe(device));
    const misplaced = [...this.parameters(), ...this.buffers()].filter((t) => t.device !== device);
    if (misplaced.length === 0) return this;
    if (device === 'cuda') requireCuda(`${op}('cuda')`);
    for (const t of misplaced) t.moveTo(device);
    return this;
  }

  /** The device of the first parameter or buffer ('cpu' for a module without any). */
  get device(): Device {
    return (this.parameters()[0] ?? this.buffers()[0])?.device ?? 'cpu';
  }

  // ------------------------------------------------------------------------ state dict

  /**
   * Parameters and buffers by dotted name, in PyTorch's order (each module's parameters, then
   * its buffers, then its children's). The tensors share memory with the module (as in
   * PyTorch): training changes them, so save or copy them before training on.
   */
  stateDict(): StateDict {
    const dict: StateDict = {};
    for (const [name, t] of this.namedTensors((m) => new Map([...m.ownParameters, ...m.ownBuffers]))) dict[name] = t.detach();
    return dict;
  }

  /**
   * Copies a state dict's tensors into this module's parameters and buffers (converting the
   * dtype if needed). Strict by default: missing and unexpected names are errors; shape
   * mismatches always are. Every problem is reported by name and nothing is copied if any.
   *
   * @example
   * const copy = sc.models.vgg({ conv: 'dsc' });
   * copy.loadStateDict(model.stateDict());
   */
  loadStateDict(dict: StateDict | ReadonlyMap<string, Tensor>, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const op = `${this.label()}.loadStateDict`;
    if (dict === null || typeof dict !== 'object') throw invalidArg(op, 'dict', 'an object of tensors by name', describe(dict));
    const strict = opts.strict ?? true;
    const given = new Map<string, unknown>(dict instanceof Map ? dict : Object.entries(dict));
    const own = new Map(this.namedTensors((m) => new Map([...m.ownParameters, ...m.ownBuffers])));
    const missing = [...own.keys()].filter((k) => !given.has(k));
    const unexpected = [...given.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    for (const [name, target] of own) {
      if (!given.has(name)) continue;
      const source = given.get(name);
      if (!(source instanceof Tensor) || source.isDisposed)
        problems.push(`${name}: expected a live Tensor but received ${source instanceof Tensor ? 'a disposed tensor' : describe(source)}`);
      else if (shapeStr(source.shape) !== shapeStr(target.shape))
        problems.push(`${name}: expected shape ${shapeStr(target.shape)} but received ${shapeStr(source.shape)}`);
    }
    if (strict && missing.length > 0) problems.push(`missing: ${missing.join(', ')}`);
    if (strict && unexpected.length > 0) problems.push(`unexpected: ${unexpected.join(', ')}`);
    if (problems.length > 0)
      throw new SepconvError(`${op}: the state dict does not fit (nothing was loaded)\n  ${problems.join('\n  ')}`);
    for (const [name, target] of own) {
      const source = given.get(name);
      if (!(source instanceof Tensor)) continue;
      if (source.device === target.device) runKernel(ops.copy, [source], [target]);
      else {
        const moved = castCopy(source, source.dtype, target.device);
        runKernel(ops.copy, [moved], [target]);
        moved.dispose();
      }
    }
    return { missingKeys: missing, unexpectedKeys: unexpected };
  }

  // --------------------------------------------------------------------------- printing

  /** The arguments shown in `toString()` after the class name (PyTorch's `extra_repr`). */
  protected extraRepr(): string {
    return '';
  }

  /** PyTorch-style structure: `VGG(\n  (features): Sequential(\n    (0): Conv2d(3, 64, …)`. */
  toString(): string {
    const extra = this.extraRepr();
    if (this.ownChildren.size === 0) return `${this.constructor.name}(${extra})`;
    const lines = [...this.ownChildren].map(([name, child]) => `  (${name}): ${String(child).replaceAll('\n', '\n  ')}`);
    if (extra !== '') lines.unshift(`  ${extra}`);
    return `${this.constructor.name}(\n${lines.join('\n')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}
