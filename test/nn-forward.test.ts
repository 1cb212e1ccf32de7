import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { expectClose } from './helpers/gradcheck.js';

const nn = sc.nn;
const values = (t: sc.Tensor): number[] => Array.from(t.toArray() as Float32Array);

describe('layer forward passes', () => {
  it('every layer returns the shape its outputShape promises', () => {
    sc.manualSeed(11);
    const x = sc.randn([2, 4, 9, 10]);
    const layers: sc.nn.Layer[] = [
      new nn.Conv2d(4, 6, 3, { stride: 2, padding: 1, dilation: 1 }),
      new nn.Conv2d(4, 6, [3, 1], { padding: 'same', groups: 2 }),
      new nn.DepthwiseConv2d(4, 3, { stride: 2, depthMultiplier: 2 }),
      new nn.PointwiseConv2d(4, 3),
      new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }),
      new nn.BatchNorm2d(4),
      new nn.ReLU(),
      new nn.Dropout(0.3),
      new nn.AvgPool2d(2),
      new nn.AdaptiveAvgPool2d([2, 3]),
      new nn.Upsample({ scaleFactor: 2 }),
      new nn.Upsample({ size: [5, 7], mode: 'bilinear', alignCorners: true }),
      new nn.Flatten(),
    ];
    for (const layer of layers) expect(layer.call(x).shape, String(layer)).toEqual(layer.outputShape(x.shape));
    expect(new nn.SeparableConv2d(4, 5, 3, { stride: 2 }).call(x).shape).toEqual([2, 5, 4, 4]);
    expect(new nn.MaxPool2d(3, { stride: 2, padding: 1 }).call(x).shape).toEqual([2, 4, 5, 5]);
  });

  it('Conv2d, DepthwiseConv2d and SeparableConv2d compute what the functional ops do', () => {
    sc.manualSeed(12);
    const x = sc.randn([2, 3, 8, 7]);
    const conv = new nn.Conv2d(3, 5, 3, { padding: 1, stride: [1, 2] });
    expect(values(conv.call(x))).toEqual(values(sc.F.conv2d(x, conv.weight, conv.bias, { padding: 1, stride: [1, 2] })));
    const sep = new nn.SeparableConv2d(3, 5, 3, { padding: 1, depthwiseBias: true });
    const viaGroups = sc.F.conv2d(sc.F.conv2d(x, sep.depthwise.weight, sep.depthwise.bias, { padding: 1, groups: 3 }), sep.pointwise.weight, sep.pointwise.bias);
    expectClose(sep.call(x).toArray(), viaGroups.toArray(), 1e-5, 1e-5);
  });

  it('Linear maps the last dim of any rank', () => {
    sc.manualSeed(13);
    const fc = new nn.Linear(4, 3);
    const x = sc.randn([2, 5, 4]);
    const y = fc.call(x);
    expect(y.shape).toEqual([2, 5, 3]);
    expectClose(y.toArray(), fc.call(x.reshape([10, 4])).toArray(), 0, 0);
  });

  it('BatchNorm2d: batch statistics and running updates in training, running statistics in eval', () => {
    sc.manualSeed(14);
    const bn = new nn.BatchNorm2d(2);
    const x = sc.randn([4, 2, 3, 3], { mean: 5, std: 2 });
    const y = bn.call(x);
    const perChannel = y.mean([0, 2, 3]).toArray();
    expectClose(perChannel, [0, 0], 1e-5, 0);
    expect(bn.numBatchesTracked.item()).toBe(1);
    const mean = x.mean([0, 2, 3]).toArray();
    expectClose(bn.runningMean.toArray(), Array.from(mean, (m) => 0.1 * m), 1e-5, 1e-5);
    bn.eval();
    const yEval = bn.call(x);
    const rm = bn.runningMean.toArray(), rv = bn.runningVar.toArray();
    const xs = x.toArray();
    const expected = Array.from(xs, (v, i) => {
      const c = Math.floor(i / 9) % 2;
      return (v - rm[c]!) / Math.sqrt(rv[c]! + 1e-5);
    });
    expectClose(yEval.toArray(), expected, 1e-5, 1e-5);
    expect(bn.numBatchesTracked.item()).toBe(1);
  });

  it('Dropout drops in training and is the identity in eval', () => {
    sc.manualSeed(15);
    const drop = new nn.Dropout(0.5);
    const x = sc.ones([1000]);
    const y = values(drop.call(x));
    const kept = y.filter((v) => v !== 0);
    expect(kept.every((v) => v === 2)).toBe(true);
    expect(kept.length).toBeGreaterThan(400);
    expect(kept.length).toBeLessThan(600);
    drop.eval();
    expect(drop.call(x)).toBe(x);
  });


  it('Upsample nearest repeats pixels', () => {
    const x = sc.tensor([1, 2, 3, 4], [1, 1, 2, 2]);
    expect(values(new nn.Upsample({ scaleFactor: 2 }).call(x))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('MaxPool2d indices feed MaxUnpool2d back to the argmax positions', () => {
    const x = sc.tensor([1, 5, 2, 0, 3, 4, 9, 8, 7, 6, 1, 2, 0, 0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 5, 5]);
    const pool = new nn.MaxPool2d(2, { returnIndices: true });
    const { output, indices } = pool.call(x);
    expect(values(output)).toEqual([9, 8, 2, 1]);
    expect(Array.from(indices.toArray())).toEqual([6, 7, 11, 17]);
    const restored = new nn.MaxUnpool2d(2).call(output, indices, [5, 5]);
    expect(values(restored)).toEqual([0, 0, 0, 0, 0, 0, 9, 8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(new nn.MaxPool2d(2).call(x).shape).toEqual([1, 1, 2, 2]);
  });

});

describe('module calls', () => {
  it('free their temporaries: repeated inference holds no extra memory', () => {
    sc.manualSeed(16);
    const model = sc.models.vgg({ conv: 'dsc' }).eval();
    const x = sc.randn([2, 3, 32, 32]);
    const run = (): void => sc.noGrad(() => model.call(x)).dispose();
    run();
    const before = sc.memoryStats().bytesInUse;
    for (let i = 0; i < 3; i++) run();
    expect(sc.memoryStats().bytesInUse).toBe(before);
  });

  it('keep what backward needs and give every parameter a gradient', () => {
    sc.manualSeed(17);
    const model = sc.models.vgg({ conv: 'dsc' });
    const loss = sc.F.crossEntropy(model.call(sc.randn([2, 3, 32, 32])), sc.tensor([1, 7], [2], { dtype: 'int32' }));
    loss.backward();
    for (const [name, p] of model.namedParameters()) {
      expect(p.grad, name).not.toBeNull();
      expect(p.grad!.shape, name).toEqual(p.shape);
    }
  });
});

describe('model forward passes on a small batch, both variants', () => {
  const cases: [string, (conv: 'regular' | 'dsc') => sc.nn.AnyModule, number[], number[]][] = [
    ['vgg', (conv) => sc.models.vgg({ conv }), [2, 3, 32, 32], [2, 10]],
    ['segnet', (conv) => sc.models.segnet({ conv }), [2, 3, 32, 32], [2, 3, 32, 32]],
    ['unet transpose', (conv) => sc.models.unet({ conv, baseWidth: 8 }), [2, 3, 32, 32], [2, 3, 32, 32]],
    ['unet upsample', (conv) => sc.models.unet({ conv, baseWidth: 8, decoder: 'upsample', numClasses: 2 }), [1, 3, 16, 32], [1, 2, 16, 32]],
    ['mobilenet', (conv) => sc.models.mobilenet({ conv, widthMultiplier: 0.25 }), [2, 3, 32, 32], [2, 10]],
  ];
  for (const [name, build, input, output] of cases)
    it(name, () => {
      for (const conv of ['regular', 'dsc'] as const) {
        sc.manualSeed(18);
        const model = build(conv);
        const y = model.call(sc.randn(input));
        expect(y.shape, conv).toEqual(output);
        expect(values(y).every(Number.isFinite), conv).toBe(true);
        expect(sc.summary(model, input, { print: false }).layers[0]!.outputShape, conv).toEqual(output);
      }
    });
});

describe('state dict round trip', () => {
  it('a model loaded from another model’s state dict gives identical outputs', () => {
    sc.manualSeed(19);
    const a = sc.models.segnet({ conv: 'dsc' });
    const x = sc.randn([2, 3, 32, 32]);
    a.call(x); // one training-mode pass moves the BatchNorm running statistics
    a.eval();
    sc.manualSeed(20);
    const b = sc.models.segnet({ conv: 'dsc' }).eval();
    const ya = values(sc.noGrad(() => a.call(x)));
    expect(values(sc.noGrad(() => b.call(x)))).not.toEqual(ya);
    b.loadStateDict(a.stateDict());
    expect(values(sc.noGrad(() => b.call(x)))).toEqual(ya);
    expect(b.inputBn.numBatchesTracked.item()).toBe(1);
  });

  it('survives a safetensors checkpoint file', () => {
    sc.manualSeed(21);
    const a = sc.models.vgg({ conv: 'dsc' }).eval();
    const x = sc.randn([2, 3, 32, 32]);
    const dir = mkdtempSync(join(tmpdir(), 'sepconv-nn-'));
    try {
      const path = join(dir, 'vgg-dsc.safetensors');
      sc.save(a.stateDict(), path);
      sc.manualSeed(22);
      const b = sc.models.vgg({ conv: 'dsc' }).eval();
      b.loadStateDict(sc.load(path));
      expect(values(sc.noGrad(() => b.call(x)))).toEqual(values(sc.noGrad(() => a.call(x))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
