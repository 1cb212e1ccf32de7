/** Normalisation layers. */
import { full, runKernel, zeros } from '../tensor.js';
import { ops } from '../ops.js';
import type { Shape, Tensor } from '../tensor.js';
import { expectNCHW, intArg, Layer, rangeArg } from './layer.js';
import { batchNorm2d } from '../functional/norm.js';

export interface BatchNorm2dOptions {
  /** Added to the variance for stability. Default 1e-5. */
  eps?: number;
  /** Weight of the new batch statistic in the running averages. Default 0.1. */
  momentum?: number;
  /** Learn a per-channel scale (`weight`, init 1) and shift (`bias`, init 0). Default true. */
  affine?: boolean;
}

/**
 * Batch normalisation over N, H, W per channel (PyTorch's nn.BatchNorm2d). Training mode
 * normalises with the batch statistics and updates the running ones in place; eval mode
 * uses the running ones. State dict names are PyTorch's: `weight`, `bias`, `running_mean`,
 * `running_var`, `num_batches_tracked`.
 *
 * @example
 * const bn = new sc.nn.BatchNorm2d(64);
 * bn.eval(); // use running statistics
 */
export class BatchNorm2d extends Layer {
  readonly eps: number;
  readonly momentum: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** Training-mode forward passes so far (int32 scalar; PyTorch keeps it as int64). */
  readonly numBatchesTracked: Tensor;

  constructor(
    readonly numFeatures: number,
    opts: BatchNorm2dOptions = {},
  ) {
    super();
    intArg('BatchNorm2d', 'numFeatures', numFeatures, 1);
    this.eps = rangeArg('BatchNorm2d', 'eps', opts.eps ?? 1e-5, 0, Infinity);
    this.momentum = rangeArg('BatchNorm2d', 'momentum', opts.momentum ?? 0.1, 0, 1, true);
    const affine = opts.affine ?? true;
    this.weight = this.registerParameter('weight', affine ? full([numFeatures], 1) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numFeatures]) : null);
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', full([numFeatures], 1));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int32' }));
  }

  outputShape(input: Shape): number[] {
    expectNCHW(this.label(), input, this.numFeatures);
    return input.slice();
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    const y = batchNorm2d(x, this.runningMean, this.runningVar, this.weight, this.bias, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
    if (this.training) runKernel(ops.fill, [], [this.numBatchesTracked], { value: this.numBatchesTracked.item() + 1 });
    return y;
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}${this.weight === null ? ', affine=false' : ''}`;
  }
}
