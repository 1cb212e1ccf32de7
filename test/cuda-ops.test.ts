// Every op through the public API on the CUDA device (emulated unless SEPCONV_TEST_CUDA=device)
// against the same call on the CPU: forward outputs and the gradients of a random projection
// of them, on small odd shapes (partial tiles, broadcasting, stride 2, padding).
import { describeCuda } from './helpers/cuda.js';
import { expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { castCopy } from '../dist/tensor.js';
import { expectClose, randomArray } from './helpers/gradcheck.js';

type Dev = sc.Device;
type FloatDType = 'float32' | 'float64';

let seedCounter = 1;

/** Random inputs, identical on both devices (the same seed per case and position). */
class Inputs {
  private next = 0;
  /** The float inputs made with requiresGrad, whose gradients are compared. */
  readonly leaves: sc.Tensor[] = [];
  constructor(
    readonly device: Dev,
    readonly dtype: FloatDType,
    private readonly seed: number,
    private readonly grads: boolean,
  ) {}
  private values(n: number): Float64Array {
    return randomArray(n, this.seed * 1000 + this.next++);
  }
  x(shape: number[], grad = true, scale = 1): sc.Tensor {
    const data = this.values(numel(shape)).map((v) => v * scale);
    const t = sc.tensor(data, shape, { dtype: this.dtype, device: this.device, requiresGrad: grad && this.grads });
    if (t.requiresGrad) this.leaves.push(t);
    return t;
  }
  /** int32 in [low, high). */
  ints(shape: number[], high: number, low = 0): sc.Tensor {
    const data = Int32Array.from(this.values(numel(shape)), (v) => low + Math.min(high - low - 1, Math.floor(((v + 1) / 2) * (high - low))));
    return sc.tensor(data, shape, { dtype: 'int32', device: this.device });
  }
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Runs `f` on both devices and compares what it returns plus the gradients, for every input
 * made with grad, of sum(output * r) over the differentiable outputs (r fixed and random).
 */
function matches(f: (inp: Inputs) => sc.Tensor | sc.Tensor[], opts: { dtype?: FloatDType; atol?: number; rtol?: number; grads?: boolean } = {}): void {
  const dtype = opts.dtype ?? 'float32';
  const seed = seedCounter++;
  const run = (device: Dev): Float64Array[] =>
    sc.scope(() => {
      const inp = new Inputs(device, dtype, seed, opts.grads ?? true);
      sc.manualSeed(seed);
      const outs = ([] as sc.Tensor[]).concat(f(inp));
      for (const t of outs) expect(t.device).toBe(device);
      const results = outs.map((t) => Float64Array.from(t.toArray() as ArrayLike<number>));
      const differentiable = outs.filter((t) => t.requiresGrad);
      if (differentiable.length === 0) return results;
      const loss = differentiable
        .map((t, k) => t.mul(sc.tensor(randomArray(t.numel, seed * 7919 + k), t.shape as number[], { dtype: t.dtype, device })).sum())
        .reduce((a, b) => a.add(b));
      loss.backward();
      for (const leaf of inp.leaves) results.push(Float64Array.from(leaf.grad!.toArray() as ArrayLike<number>));
      return results;
    });
  const cpu = run('cpu');
  const gpu = run('cuda');
  expect(gpu.length).toBe(cpu.length);
  const tol = dtype === 'float64' ? { atol: 1e-10, rtol: 1e-9 } : { atol: 2e-5, rtol: 2e-4 };
  cpu.forEach((expected, k) => expectClose(gpu[k]!, expected, opts.atol ?? tol.atol, opts.rtol ?? tol.rtol));
}

describeCuda('CUDA ops against the CPU', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`binary ops with broadcasting and their gradients (sum_to), ${dtype}`, () => {
      matches((i) => {
        const a = i.x([3, 1, 5]);
        const b = i.x([4, 1]);
        const c = i.x([5]);
        return [a.add(b), a.sub(c), a.mul(b).mul(c), a.div(b.mul(b).add(1.5))];
      }, { dtype });
    });
  }

  it('affine, neg, sum and mean over dims, a whole-tensor sum of an odd size', () => {
    matches((i) => {
      const x = i.x([2, 3, 7, 5]);
      const big = i.x([100_003], true, 0.01);
      return [x.mul(2.5).add(-1), x.neg(), x.sum([0, 2]), x.sum(1, true), x.mean([1, 3]), big.sum(), x.sum([0, 1, 2, 3])];
    });
  });

  it('relu forward and backward', () => {
    matches((i) => [sc.F.relu(i.x([3, 17, 9]))]);
  });

  it('cat, split and narrow (narrow_copy) along every dim, float and int32', () => {
    matches((i) => {
      const a = i.x([2, 3, 5]);
      const b = i.x([2, 4, 5]);
      const c = i.x([2, 3, 2]);
      const ints = sc.cat([i.ints([3, 2], 9), i.ints([1, 2], 9)], 0);
      return [sc.cat([a, b], 1), sc.cat([a, c], 2), sc.cat([a, a], 0), ...sc.split(b, [1, 3], 1), sc.F.narrow(a, 2, 1, 3), castCopy(ints, 'float32')];
    });
  });

  it('fills, dtype conversions and the seeded random fills give the same values', () => {
    matches((i) => {
      const x = i.x([4, 5], false, 40);
      const fills = (['float32', 'float64', 'int32', 'uint8'] as const).map((dtype) => castCopy(sc.full([3, 2], 7, { dtype, device: i.device }), 'float64'));
      const conversions = (['float64', 'int32', 'uint8'] as const).map((dtype) => castCopy(castCopy(x, dtype), 'float32'));
      const random = [sc.randn([1001], { device: i.device }), sc.rand([257], { low: -2, high: 3, device: i.device })];
      const dropped = sc.F.dropout(sc.ones([999], { device: i.device }), 0.3);
      return [...fills, ...conversions, ...random, dropped];
    }, { atol: 1e-6, rtol: 1e-6 });
  });

  it('matmul (batched, odd sizes) and linear', () => {
    matches((i) => [sc.matmul(i.x([37, 19]), i.x([19, 45])), sc.matmul(i.x([3, 5, 33]), i.x([33, 7])), sc.F.linear(i.x([9, 70]), i.x([13, 70]), i.x([13]))]);
  });

  it('conv2d (stride 2, padding, groups, bias) and convTranspose2d', () => {
    matches((i) => [
      sc.F.conv2d(i.x([2, 4, 11, 9]), i.x([6, 2, 3, 3]), i.x([6]), { stride: 2, padding: 1, groups: 2 }),
      sc.F.conv2d(i.x([1, 3, 7, 8]), i.x([5, 3, 1, 1]), null),
      sc.F.convTranspose2d(i.x([2, 4, 5, 6]), i.x([4, 3, 2, 2]), i.x([3]), { stride: 2 }),
    ]);
  });

  it('depthwiseConv2d (channel multiplier, stride 2, padding, dilation)', () => {
    matches((i) => [
      sc.F.depthwiseConv2d(i.x([2, 3, 13, 10]), i.x([6, 1, 3, 3]), i.x([6]), { stride: 2, padding: 1 }),
      sc.F.depthwiseConv2d(i.x([1, 5, 9, 9]), i.x([5, 1, 3, 3]), null, { padding: 2, dilation: 2 }),
    ]);
  });

  it('batchNorm2d in training (running stats updated) and eval mode', () => {
    matches((i) => {
      const x = i.x([3, 5, 7, 6]);
      const runningMean = i.x([5], false);
      const runningVar = sc.full([5], 1.5, { device: i.device });
      const y = sc.F.batchNorm2d(x, runningMean, runningVar, i.x([5]), i.x([5]), { training: true, momentum: 0.2 });
      const z = sc.F.batchNorm2d(i.x([2, 5, 3, 3]), runningMean, runningVar, null, null, { training: false });
      return [y, z, runningMean, runningVar];
    }, { atol: 5e-5 });
  });

  it('maxPool2d (padding, stride, ceil mode) and maxUnpool2d', () => {
    matches((i) => {
      const { output, indices } = sc.F.maxPool2d(i.x([2, 3, 9, 11]), { kernelSize: 3, stride: 2, padding: 1, ceilMode: true });
      const pooled = sc.F.maxPool2d(i.x([1, 2, 8, 6], false), { kernelSize: 2 });
      const unpooled = sc.F.maxUnpool2d(i.x(pooled.output.shape as number[]), pooled.indices, { kernelSize: 2 });
      return [output, castCopy(indices, 'float32'), unpooled];
    });
  });

  it('softmax, logSoftmax and crossEntropy (classification and per-pixel, ignore_index)', () => {
    matches((i) => {
      const targets = i.ints([2, 5, 4], 3);
      const pixelLogits = i.x([2, 3, 5, 4]);
      return [
        sc.F.softmax(i.x([4, 7, 3]), 1),
        sc.F.logSoftmax(i.x([5, 11]), -1),
        sc.F.crossEntropy(i.x([9, 10]), i.ints([9], 10)),
        sc.F.crossEntropy(pixelLogits, targets, { reduction: 'none' }),
        sc.F.crossEntropy(pixelLogits, i.ints([2, 5, 4], 3, -1), { ignoreIndex: -1, reduction: 'sum' }),
      ];
    });
  });

  it('interpolate (nearest, bilinear), avgPool2d and adaptiveAvgPool2d', () => {
    matches((i) => [
      sc.F.interpolate(i.x([2, 3, 5, 7]), { scaleFactor: 2 }),
      sc.F.interpolate(i.x([1, 2, 6, 5]), { size: [11, 9], mode: 'bilinear', alignCorners: true }),
      sc.F.interpolate(i.x([1, 2, 6, 5]), { size: [4, 13], mode: 'bilinear' }),
      sc.F.avgPool2d(i.x([2, 3, 9, 8]), { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }),
      sc.F.adaptiveAvgPool2d(i.x([2, 4, 7, 9]), [3, 4]),
    ]);
  });

  it('float64 through conv, depthwise, batch norm, pooling, matmul and cross-entropy', () => {
    matches((i) => {
      const h = sc.F.conv2d(i.x([2, 3, 7, 6]), i.x([4, 3, 3, 3]), i.x([4]), { padding: 1 });
      const d = sc.F.depthwiseConv2d(h, i.x([4, 1, 3, 3]), null, { stride: 2, padding: 1 });
      const n = sc.F.batchNorm2d(d, null, null, i.x([4]), i.x([4]), { training: true });
      const p = sc.F.maxPool2d(sc.F.relu(n), { kernelSize: 2 }).output;
      const logits = sc.matmul(p.flatten(1), i.x([8, 5]));
      return [logits, sc.F.crossEntropy(logits, i.ints([2], 5))];
    }, { dtype: 'float64' });
  });

  it('SGD (momentum, nesterov, weight decay), Adam (amsgrad) and AdamW steps', () => {
    matches((i) => {
      const params = [i.x([33, 7], false), i.x([129], false), i.x([5, 3], false)];
      for (const p of params) p.requiresGrad = true;
      const opts = [
        new sc.optim.SGD([params[0]!], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
        new sc.optim.Adam([params[1]!], { lr: 0.01, amsgrad: true, weightDecay: 0.1 }),
        new sc.optim.AdamW([params[2]!], { lr: 0.01 }),
      ];
      for (let step = 0; step < 3; step++) {
        for (const p of params) {
          p.grad?.dispose();
          p.grad = i.x(p.shape as number[], false);
        }
        for (const o of opts) o.step();
      }
      return params.map((p) => p.detach());
    }, { grads: false });
  });
});
