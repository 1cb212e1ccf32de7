/**
 * Initialisation schemes: PyTorch's defaults and Keras' (glorot_uniform kernels with Keras' fan
 * rules, zero biases), per layer and through the zoo's `init` option. The Keras limits below are
 * worked out from Keras' own rule (fan_in = receptive field × input depth of its kernel layout).
 */
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';

/** Checks a U(-limit, limit) sample: inside the bounds, reaching close to them, variance limit²/3. */
function expectUniform(t: sc.Tensor, limit: number): void {
  const v = Array.from(t.toArray() as Float32Array);
  const max = Math.max(...v.map(Math.abs));
  expect(max).toBeLessThanOrEqual(limit * (1 + 1e-6));
  expect(max).toBeGreaterThan(limit * 0.9);
  const variance = v.reduce((s, x) => s + x * x, 0) / v.length;
  expect(Math.abs(variance / (limit * limit / 3) - 1)).toBeLessThan(0.12);
}

const zerosOf = (t: sc.Tensor | null) => Array.from(t!.toArray()).every((x) => x === 0);

describe("init: 'keras'", () => {
  it('draws each layer kind with Keras fan rules and zero biases', () => {
    sc.manualSeed(1);
    // Conv2D(64 filters, 3×3) on 16 channels: kernel (3, 3, 16, 64) → fan_in 144, fan_out 576.
    const conv = new sc.nn.Conv2d(16, 64, 3, { init: 'keras' });
    expectUniform(conv.weight, Math.sqrt(6 / (144 + 576)));
    expect(zerosOf(conv.bias)).toBe(true);
    // SeparableConv2D(32→64, 3×3, depth_multiplier 2): depthwise kernel (3, 3, 32, 2) → fan_in
    // 288, fan_out 18 (not the [64, 1, 3, 3] weight's own fans 9 / 576); pointwise (1, 1, 64, 64).
    const sep = new sc.nn.SeparableConv2d(32, 64, 3, { init: 'keras', depthMultiplier: 2, depthwiseBias: true });
    expectUniform(sep.depthwise.weight, Math.sqrt(6 / (288 + 18)));
    expectUniform(sep.pointwise.weight, Math.sqrt(6 / (64 + 64)));
    expect(zerosOf(sep.depthwise.bias) && zerosOf(sep.pointwise.bias)).toBe(true);
    // Dense(10) on 4096 features: kernel (4096, 10).
    const fc = new sc.nn.Linear(4096, 10, { init: 'keras' });
    expectUniform(fc.weight, Math.sqrt(6 / 4106));
    expect(zerosOf(fc.bias)).toBe(true);
    // Conv2DTranspose(32 filters, 2×2) on 64 channels: kernel (2, 2, 32, 64) → fan_in 128, fan_out 256.
    const up = new sc.nn.ConvTranspose2d(64, 32, 2, { stride: 2, init: 'keras' });
    expectUniform(up.weight, Math.sqrt(6 / (128 + 256)));
  });

  it("keeps PyTorch's defaults otherwise: Kaiming-uniform a=√5 (bound 1/√fan_in) and U(±1/√fan_in) biases", () => {
    sc.manualSeed(2);
    const conv = new sc.nn.Conv2d(16, 64, 3);
    expectUniform(conv.weight, 1 / Math.sqrt(144));
    expectUniform(conv.bias!, 1 / Math.sqrt(144));
    expect(() => new sc.nn.Conv2d(3, 8, 3, { init: 'glorot' as never })).toThrow("Conv2d: expected 'torch' or 'keras' for init but received 'glorot'");
  });

  it('is a zoo option: every conv and linear weight re-drawn, the same for the same seed', () => {
    const bytes = (t: sc.Tensor) => Buffer.from((t.toArray() as Float32Array).buffer);
    for (const name of ['vgg', 'segnet', 'unet', 'mobilenet'] as const) {
      const build = (init: 'torch' | 'keras') => {
        sc.manualSeed(7);
        return sc.models.MODELS[name].build({ conv: 'dsc', init }).stateDict();
      };
      const [keras, again, torch] = [build('keras'), build('keras'), build('torch')];
      const weights = Object.keys(keras).filter((k) => k.endsWith('weight') && keras[k]!.ndim > 1);
      expect(weights.length).toBeGreaterThan(2);
      for (const k of weights) {
        expect(bytes(keras[k]!).equals(bytes(again[k]!))).toBe(true);
        expect(bytes(keras[k]!).equals(bytes(torch[k]!))).toBe(false);
      }
    }
    sc.manualSeed(3);
    const vgg = sc.models.vgg({ conv: 'regular', init: 'keras' });
    expect(zerosOf(vgg.fc.bias)).toBe(true);
    expectUniform(vgg.fc.weight, Math.sqrt(6 / (4096 + 10)));
    expect(() => sc.models.vgg({ init: 'he' as never })).toThrow("VGG: expected 'torch' or 'keras' for options.init but received 'he'");
  });

  it('resetParameters_ re-draws a whole module in place', () => {
    sc.manualSeed(4);
    const net = new sc.nn.Sequential(new sc.nn.Conv2d(3, 8, 3), new sc.nn.BatchNorm2d(8), new sc.nn.Linear(8, 2));
    const bnBefore = Array.from(net.stateDict()['1.weight']!.toArray());
    expect(sc.nn.init.resetParameters_(net, 'keras')).toBe(net);
    const state = net.stateDict();
    expect(zerosOf(state['0.bias']!) && zerosOf(state['2.bias']!)).toBe(true);
    expect(Array.from(state['1.weight']!.toArray())).toEqual(bnBefore);
  });
});
