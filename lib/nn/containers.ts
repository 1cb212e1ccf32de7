/** Containers: `Sequential` (a chain, itself a layer) and `ModuleList` (an indexable list). */
import { describe, invalidArg, opError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import type { AnyModule } from './module.js';

/** A module mapping one tensor to one tensor: what `Sequential` chains. */
export type TensorModule = Module<[Tensor], Tensor>;

/** Children named '0', '1', … with array-style access, shared by the two containers. */
abstract class IndexedModules<M extends AnyModule, In extends unknown[], Out> extends Module<In, Out> {
  private readonly items: M[] = [];

  constructor(modules: readonly M[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds `module` at the end (named by its index). Returns this. */
  append(module: M): this {
    this.registerModule(String(this.items.length), module);
    this.items.push(module);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  /** The module at `index` (negative counts from the end), or an error naming the range. */
  at(index: number): M {
    const i = Number.isInteger(index) && index < 0 ? index + this.items.length : index;
    const m = Number.isInteger(i) ? this.items[i] : undefined;
    if (m === undefined) throw invalidArg(`${this.label()}.at`, 'index', `an integer in [${-this.items.length}, ${this.items.length - 1}]`, describe(index));
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/**
 * Runs its modules in order, each on the previous one's output (PyTorch's nn.Sequential).
 * Children are named '0', '1', … so parameters are `0.weight`, `1.bias`, ….
 *
 * @example
 * const block = new sc.nn.Sequential(new sc.nn.Conv2d(3, 16, 3, { padding: 1 }), new sc.nn.ReLU());
 * const y = block.call(sc.randn([1, 3, 8, 8]));
 * block.at(0); // the Conv2d
 */
export class Sequential extends IndexedModules<TensorModule, [Tensor], Tensor> {
  constructor(...modules: TensorModule[]) {
    super(modules);
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this) y = m.call(y);
    return y;
  }
}

/**
 * Holds modules so their parameters are registered (names '0', '1', …) without running them
 * in a fixed chain; the owner's `forward` calls them (PyTorch's nn.ModuleList).
 */
export class ModuleList<M extends AnyModule = AnyModule> extends IndexedModules<M, never[], never> {
  constructor(modules: readonly M[] = []) {
    super(modules);
  }

  forward(): never {
    throw opError(this.label(), 'a ModuleList is not callable; call the modules it holds');
  }
}
