import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';

const nn = sc.nn;

/** A small classifier whose convolutions are regular or depthwise separable. */
function tinyNet(conv: 'regular' | 'dsc'): sc.nn.Sequential {
  const conv3x3 = (cin: number, cout: number): sc.nn.TensorModule =>
    conv === 'dsc' ? new nn.SeparableConv2d(cin, cout, 3, { padding: 1, bias: false }) : new nn.Conv2d(cin, cout, 3, { padding: 1, bias: false });
  return new nn.Sequential(
    conv3x3(3, 16), new nn.BatchNorm2d(16), new nn.ReLU(), new nn.MaxPool2d(2),
    conv3x3(16, 32), new nn.BatchNorm2d(32), new nn.ReLU(), new nn.MaxPool2d(4),
    new nn.Flatten(), new nn.Linear(32, 4),
  );
}

/** Trains on one fixed batch; returns the loss of every step. */
function overfit(model: sc.nn.Sequential, optimizer: { zeroGrad(): void; step(): void }, steps: number): number[] {
  sc.manualSeed(100);
  const x = sc.randn([8, 3, 8, 8]);
  const y = sc.tensor([0, 1, 2, 3, 0, 1, 2, 3], [8], { dtype: 'int32' });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    optimizer.zeroGrad();
    const loss = sc.F.crossEntropy(model.call(x), y);
    loss.backward();
    optimizer.step();
    losses.push(loss.item());
    loss.dispose();
  }
  return losses;
}

describe('a tiny model overfits one batch (loss falls 10× within 100 steps)', () => {
  for (const conv of ['regular', 'dsc'] as const) {
    it(`${conv} with SGD (momentum 0.9)`, () => {
      sc.manualSeed(1);
      const model = tinyNet(conv);
      const losses = overfit(model, new sc.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }), 100);
      expect(losses.at(-1)!).toBeLessThan(losses[0]! / 10);
    });

    it(`${conv} with Adam`, () => {
      sc.manualSeed(1);
      const model = tinyNet(conv);
      const losses = overfit(model, new sc.optim.Adam(model.parameters(), { lr: 0.01 }), 100);
      expect(losses.at(-1)!).toBeLessThan(losses[0]! / 10);
    });
  }
});
