/** Fully connected layers: `Linear` and the `Flatten` that usually precedes it. */
import { invalidArg, shapeStr } from '../errors.js';
import { flatten } from '../functional/elementwise.js';
import { empty, numelOf } from '../tensor.js';
import type { Shape, Tensor } from '../tensor.js';
import { initWeights, intArg, Layer } from './layer.js';
import { initScheme } from './init.js';
import type { Initialisable, InitScheme } from './init.js';
import { linear } from '../functional/linear.js';

/**
 * y = x·Wᵀ + b over the last dim (PyTorch's nn.Linear): weight [out, in], bias [out];
 * leading dims are batch dims. Initialised as PyTorch does, or as Keras' Dense with `init: 'keras'`.
 *
 * @example
 * const fc = new sc.nn.Linear(4096, 10);
 * fc.call(sc.randn([8, 4096])).shape; // [8, 10]
 */
export class Linear extends Layer implements Initialisable {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; init?: InitScheme } = {},
  ) {
    super();
    intArg('Linear', 'inFeatures', inFeatures, 1);
    intArg('Linear', 'outFeatures', outFeatures, 1);
    this.weight = this.registerParameter('weight', empty([outFeatures, inFeatures]));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : empty([outFeatures]));
    this.resetParameters(initScheme('Linear', 'init', opts.init));
  }

  /** Re-draws weight and bias under `scheme` ('keras': Dense's glorot_uniform, zero bias). */
  resetParameters(scheme: InitScheme): void {
    initWeights(this.weight, this.bias, scheme);
  }

  outputShape(input: Shape): number[] {
    if (input.length < 1 || input[input.length - 1] !== this.inFeatures)
      throw invalidArg(this.label(), 'input', `a tensor [..., ${this.inFeatures}] (inFeatures = ${this.inFeatures})`, `shape ${shapeStr(input)}`);
    return [...input.slice(0, -1), this.outFeatures];
  }

  forward(x: Tensor): Tensor {
    const outShape = this.checkInput(x);
    if (x.ndim === 2) return linear(x, this.weight, this.bias);
    return linear(x.reshape([-1, this.inFeatures]), this.weight, this.bias).reshape(outShape);
  }

  /** weight elements × rows (the product of the leading dims). */
  override multAdds(_input: Shape, output: Shape): number {
    return (this.weight.numel * numelOf(output)) / this.outFeatures;
  }

  protected override extraRepr(): string {
    return `${this.inFeatures}, ${this.outFeatures}${this.bias === null ? ', bias=false' : ''}`;
  }
}

/**
 * Flattens dims startDim..endDim into one (default: all but the batch dim), as a view.
 *
 * @example
 * new sc.nn.Flatten().call(sc.zeros([8, 256, 4, 4])).shape; // [8, 4096]
 */
export class Flatten extends Layer {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
    intArg('Flatten', 'startDim', Math.abs(startDim), 0);
    intArg('Flatten', 'endDim', Math.abs(endDim), 0);
  }

  outputShape(input: Shape): number[] {
    const n = input.length;
    const s = this.startDim < 0 ? this.startDim + n : this.startDim;
    const e = this.endDim < 0 ? this.endDim + n : this.endDim;
    if (!(s >= 0 && e < n && s <= e))
      throw invalidArg(this.label(), 'input', `a tensor with dims ${this.startDim}..${this.endDim}`, `shape ${shapeStr(input)}`);
    return [...input.slice(0, s), numelOf(input.slice(s, e + 1)), ...input.slice(e + 1)];
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return flatten(x, this.startDim, this.endDim);
  }

  protected override dryForward(x: Tensor): Tensor {
    return this.forward(x); // a view: nothing to compute
  }
}
