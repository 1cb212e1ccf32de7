import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';

const nn = sc.nn;
const count = (m: sc.nn.AnyModule): number => m.parameters().reduce((n, p) => n + p.numel, 0);
const values = (t: sc.Tensor): number[] => Array.from(t.toArray() as Float32Array);

describe('layer parameters and PyTorch defaults', () => {
  it('Conv2d: weight [out, in/groups, kh, kw] and bias [out]', () => {
    const conv = new nn.Conv2d(10, 32, 3);
    expect(conv.weight.shape).toEqual([32, 10, 3, 3]);
    expect(conv.bias!.shape).toEqual([32]);
    expect(count(conv)).toBe(2912);
    expect(count(new nn.Conv2d(16, 32, 3, { padding: 1, bias: false }))).toBe(4608);
    const grouped = new nn.Conv2d(8, 16, [3, 5], { groups: 4, bias: false });
    expect(grouped.weight.shape).toEqual([16, 2, 3, 5]);
    expect(grouped.bias).toBeNull();
    expect(grouped.stride).toEqual([1, 1]);
    expect(grouped.padding).toEqual([0, 0]);
  });

  it('depthwise, pointwise and separable convolutions', () => {
    const dw = new nn.DepthwiseConv2d(10, 3);
    expect(dw.weight.shape).toEqual([10, 1, 3, 3]);
    expect(dw.groups).toBe(10);
    expect(new nn.DepthwiseConv2d(4, 3, { depthMultiplier: 2 }).weight.shape).toEqual([8, 1, 3, 3]);
    const pw = new nn.PointwiseConv2d(10, 32);
    expect(pw.weight.shape).toEqual([32, 10, 1, 1]);
    // The two-conv DSC with both biases: 90 + 10 + 320 + 32.
    expect(count(dw) + count(pw)).toBe(452);
    expect(count(new nn.SeparableConv2d(16, 32, 3, { padding: 1, bias: false }))).toBe(656);
    expect(count(new nn.SeparableConv2d(3, 64, 3))).toBe(283);
    expect(count(new nn.SeparableConv2d(3, 64, 3, { depthwiseBias: true }))).toBe(286);
    const sep = new nn.SeparableConv2d(3, 64, 3, { stride: 2, padding: 1 });
    expect(sep.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual([
      'depthwise.weight 3x1x3x3',
      'pointwise.weight 64x3x1x1',
      'pointwise.bias 64',
    ]);
    expect(sep.depthwise.stride).toEqual([2, 2]);
    expect(sep.pointwise.stride).toEqual([1, 1]);
  });

  it("'same' and 'valid' padding", () => {
    expect(new nn.Conv2d(1, 1, 5, { padding: 'same' }).padding).toEqual([2, 2]);
    expect(new nn.Conv2d(1, 1, 3, { padding: 'same', dilation: 2 }).padding).toEqual([2, 2]);
    expect(new nn.Conv2d(1, 1, 3, { padding: 'valid' }).padding).toEqual([0, 0]);
    expect(() => new nn.Conv2d(1, 1, 2, { padding: 'same' })).toThrow(
      "Conv2d: expected 'same' only with stride 1 and an odd (dilated) kernel size for padding but received 'same' with stride [1, 1] and kernel [2, 2]",
    );
  });

  it('ConvTranspose2d: weight [in, out/groups, kh, kw]', () => {
    const up = new nn.ConvTranspose2d(64, 32, 2, { stride: 2 });
    expect(up.weight.shape).toEqual([64, 32, 2, 2]);
    expect(count(up)).toBe(64 * 32 * 4 + 32);
    expect(() => new nn.ConvTranspose2d(4, 4, 3, { outputPadding: 1 })).toThrow(
      'ConvTranspose2d: expected values smaller than stride or dilation ([1, 1], [1, 1]) for outputPadding but received [1, 1]',
    );
  });

  it('Linear and BatchNorm2d', () => {
    const fc = new nn.Linear(4096, 10);
    expect(fc.weight.shape).toEqual([10, 4096]);
    expect(count(fc)).toBe(40970);
    const bn = new nn.BatchNorm2d(3);
    expect(values(bn.weight!)).toEqual([1, 1, 1]);
    expect(values(bn.bias!)).toEqual([0, 0, 0]);
    expect(values(bn.runningMean)).toEqual([0, 0, 0]);
    expect(values(bn.runningVar)).toEqual([1, 1, 1]);
    expect(bn.numBatchesTracked.item()).toBe(0);
    expect(bn.eps).toBe(1e-5);
    expect(bn.momentum).toBe(0.1);
    expect(count(new nn.BatchNorm2d(3, { affine: false }))).toBe(0);
  });

  it('initialises conv/linear weights Kaiming-uniform (a=√5) and biases U(±1/√fan_in)', () => {
    sc.manualSeed(7);
    const conv = new nn.Conv2d(16, 64, 3); // fan_in = 144
    const bound = 1 / Math.sqrt(144);
    for (const t of [conv.weight, conv.bias!]) {
      const v = values(t);
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound);
      // Uniform on [-b, b]: mean 0, variance b²/3.
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
      expect(Math.abs(mean)).toBeLessThan(bound / 4);
      expect(variance / (bound * bound / 3)).toBeGreaterThan(t === conv.weight ? 0.9 : 0.5);
      expect(variance / (bound * bound / 3)).toBeLessThan(t === conv.weight ? 1.1 : 1.5);
    }
    // ConvTranspose2d computes fan_in from weight dim 1 (out/groups) as PyTorch does.
    const up = new nn.ConvTranspose2d(100, 4, 2);
    expect(Math.max(...values(up.weight).map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(16));
    sc.manualSeed(7);
    expect(values(new nn.Conv2d(16, 64, 3).weight)).toEqual(values(conv.weight));
  });
});

describe('layer arguments are validated at construction', () => {
  it.each([
    [() => new nn.Conv2d(0, 4, 3), 'Conv2d: expected an integer >= 1 for inChannels but received 0'],
    [() => new nn.Conv2d(4, 6, 3, { groups: 4 }), 'Conv2d: expected a divisor of inChannels (4) and outChannels (6) for groups but received 4'],
    [() => new nn.Conv2d(4, 4, [3, 0]), 'Conv2d: expected an integer >= 1 or a pair [h, w] of them for kernelSize but received array of length 2'],
    [() => new nn.DepthwiseConv2d(4, 3, { stride: 0 }), 'DepthwiseConv2d: expected an integer >= 1 or a pair [h, w] of them for stride but received 0'],
    [() => new nn.Linear(3, 1.5), 'Linear: expected an integer >= 1 for outFeatures but received 1.5'],
    [() => new nn.BatchNorm2d(4, { momentum: 2 }), 'BatchNorm2d: expected a number in [0, 1] for momentum but received 2'],
    [() => new nn.Dropout(1), 'Dropout: expected a number in [0, 1) for p but received 1'],
    [() => new nn.MaxPool2d(2, { padding: 2 }), 'MaxPool2d: expected at most half the kernel size [2, 2] for padding but received [2, 2]'],
    [() => new nn.Upsample({}), 'Upsample: expected exactly one of size and scaleFactor for options but received neither'],
    [() => new nn.Upsample({ size: 4, scaleFactor: 2 }), 'Upsample: expected exactly one of size and scaleFactor for options but received both'],
    [() => new nn.Upsample({ scaleFactor: 2, mode: 'bicubic' as 'nearest' }), "Upsample: expected 'nearest' or 'bilinear' for mode but received 'bicubic'"],
    [() => new nn.Upsample({ scaleFactor: 2, alignCorners: true }), "Upsample: expected undefined with mode 'nearest' for alignCorners but received true"],
  ])('%#', (make, message) => {
    expect(make).toThrow(message);
  });
});

describe('output shapes and input checks (no kernels run)', () => {
  it('convolutions', () => {
    expect(new nn.Conv2d(3, 8, 3).outputShape([2, 3, 10, 9])).toEqual([2, 8, 8, 7]);
    expect(new nn.Conv2d(3, 8, 3, { stride: 2, padding: 1 }).outputShape([1, 3, 7, 8])).toEqual([1, 8, 4, 4]);
    expect(new nn.Conv2d(3, 8, 3, { dilation: 2, padding: [0, 2] }).outputShape([1, 3, 9, 9])).toEqual([1, 8, 5, 9]);
    expect(new nn.SeparableConv2d(3, 8, 3, { stride: 2, padding: 1 }).outputShape([1, 3, 33, 33])).toEqual([1, 8, 17, 17]);
    expect(new nn.PointwiseConv2d(3, 5, { stride: 2 }).outputShape([1, 3, 5, 5])).toEqual([1, 5, 3, 3]);
    expect(new nn.ConvTranspose2d(4, 2, 2, { stride: 2 }).outputShape([1, 4, 5, 6])).toEqual([1, 2, 10, 12]);
    expect(new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }).outputShape([1, 4, 5, 5])).toEqual([1, 2, 10, 10]);
  });

  it('pooling, resampling, linear, flatten', () => {
    expect(new nn.MaxPool2d(2).outputShape([1, 4, 25, 24])).toEqual([1, 4, 12, 12]);
    expect(new nn.MaxPool2d(3, { stride: 2, padding: 1 }).outputShape([1, 4, 8, 8])).toEqual([1, 4, 4, 4]);
    const unpool = new nn.MaxUnpool2d(2);
    expect(unpool.outputShape([1, 4, 12, 12], [1, 4, 12, 12])).toEqual([1, 4, 24, 24]);
    expect(unpool.outputShape([1, 4, 12, 12], [1, 4, 12, 12], [25, 24])).toEqual([1, 4, 25, 24]);
    expect(unpool.outputShape([1, 4, 12, 12], [1, 4, 12, 12], [1, 4, 25, 25])).toEqual([1, 4, 25, 25]);
    expect(new nn.AvgPool2d(2).outputShape([3, 2, 5, 5])).toEqual([3, 2, 2, 2]);
    expect(new nn.AdaptiveAvgPool2d(1).outputShape([3, 2, 5, 7])).toEqual([3, 2, 1, 1]);
    expect(new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }).outputShape([1, 3, 5, 6])).toEqual([1, 3, 10, 12]);
    expect(new nn.Upsample({ scaleFactor: 1.5 }).outputShape([1, 3, 5, 6])).toEqual([1, 3, 7, 9]);
    expect(new nn.Upsample({ size: [4, 8] }).outputShape([1, 3, 5, 6])).toEqual([1, 3, 4, 8]);
    expect(new nn.Linear(6, 2).outputShape([4, 3, 6])).toEqual([4, 3, 2]);
    expect(new nn.Flatten().outputShape([2, 3, 4, 5])).toEqual([2, 60]);
    expect(new nn.Flatten(0, 2).outputShape([2, 3, 4, 5])).toEqual([24, 5]);
    expect(new nn.BatchNorm2d(3).outputShape([2, 3, 4, 5])).toEqual([2, 3, 4, 5]);
  });

  it('errors name the layer by its path in the model and give the shapes', () => {
    const model = sc.models.vgg({ conv: 'regular' });
    const conv = model.features.at(2) as sc.nn.Conv2d;
    expect(() => conv.outputShape([1, 32, 32, 32])).toThrow(
      'features.2 (Conv2d): expected a 4-D [N, 64, H, W] tensor for input but received shape [1, 32, 32, 32]',
    );
    expect(() => model.fc.outputShape([1, 1024])).toThrow('fc (Linear): expected a tensor [..., 4096] (inFeatures = 4096) for input but received shape [1, 1024]');
    expect(() => new nn.Conv2d(3, 8, 5).outputShape([1, 3, 4, 8])).toThrow(
      'Conv2d: expected H, W of at least 5x5 after padding 0x0 (the kernel) for input but received shape [1, 3, 4, 8]',
    );
    expect(() => new nn.BatchNorm2d(3).outputShape([2, 3, 4])).toThrow('BatchNorm2d: expected a 4-D [N, 3, H, W] tensor for input but received shape [2, 3, 4]');
    const unpool = new nn.MaxUnpool2d(2);
    expect(() => unpool.outputShape([1, 4, 12, 12], [1, 4, 12, 12], [27, 24])).toThrow(
      'MaxUnpool2d: expected [H, W] with H in [24, 25] and W in [24, 25] for input [1, 4, 12, 12] for outputSize but received [27, 24]',
    );
    expect(() => unpool.outputShape([1, 4, 12, 12], [1, 4, 6, 6])).toThrow(
      "MaxUnpool2d: expected the input's shape [1, 4, 12, 12] for indices but received shape [1, 4, 6, 6]",
    );
    expect(() => new nn.Flatten(2).outputShape([3, 4])).toThrow('Flatten: expected a tensor with dims 2..-1 for input but received shape [3, 4]');
  });

  it('forward checks the input before running any kernel', () => {
    const conv = new nn.Conv2d(3, 8, 3);
    expect(() => conv.call(sc.zeros([1, 4, 8, 8]))).toThrow('Conv2d: expected a 4-D [N, 3, H, W] tensor for input but received shape [1, 4, 8, 8]');
    expect(() => conv.call(sc.zeros([1, 3, 8, 8], { dtype: 'int32' }))).toThrow(
      'Conv2d: expected a float32 or float64 tensor for input but received a int32 tensor of shape [1, 3, 8, 8]',
    );
    const x = sc.zeros([1, 3, 8, 8]);
    x.dispose();
    expect(() => conv.call(x)).toThrow('Conv2d: expected a live Tensor for input but received a disposed tensor of shape [1, 3, 8, 8]');
    expect(() => new nn.SeparableConv2d(3, 8, 3).call(sc.zeros([1, 8, 8, 8]))).toThrow(
      'SeparableConv2d: expected a 4-D [N, 3, H, W] tensor for input but received shape [1, 8, 8, 8]',
    );
    expect(() => new nn.MaxUnpool2d(2).call(sc.zeros([1, 2, 2, 2]), sc.zeros([1, 2, 2, 2]))).toThrow(
      'MaxUnpool2d: expected an int32 tensor (from MaxPool2d with returnIndices) for indices but received a float32 tensor',
    );
  });
});
