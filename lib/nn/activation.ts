/** Shape-preserving layers: `ReLU` and `Dropout`. */
import { relu } from '../functional/elementwise.js';
import type { Shape, Tensor } from '../tensor.js';
import { Layer, rangeArg } from './layer.js';
import { dropout } from '../functional/dropout.js';

/**
 * max(x, 0), elementwise.
 *
 * @example
 * new sc.nn.ReLU().call(sc.tensor([-1, 2], [2])).toArray(); // [0, 2]
 */
export class ReLU extends Layer {
  outputShape(input: Shape): number[] {
    return input.slice();
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return relu(x);
  }
}

/**
 * In training mode zeroes each element with probability `p` and scales the rest by
 * 1/(1 − p); in eval mode passes the input through (PyTorch's nn.Dropout).
 *
 * @example
 * const head = new sc.nn.Sequential(new sc.nn.Dropout(0.5), new sc.nn.Linear(512, 10));
 */
export class Dropout extends Layer {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    this.p = rangeArg('Dropout', 'p', p, 0, 1);
  }

  outputShape(input: Shape): number[] {
    return input.slice();
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return dropout(x, this.p, this.training);
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
