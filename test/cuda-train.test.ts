// Training on the CUDA device (emulated unless SEPCONV_TEST_CUDA=device): model.to moves
// parameters, buffers and optimizer state; a few steps match the same steps on the CPU;
// the DataLoader delivers batches on the device; sc.train.fit runs with device 'cuda'.
import { describeCuda } from './helpers/cuda.js';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { expectClose } from './helpers/gradcheck.js';
import { makeCifarDir, tempDir } from './helpers/datasets.js';

const nn = sc.nn;

function tinyNet(conv: 'regular' | 'dsc'): sc.nn.Sequential {
  const conv3x3 = (cin: number, cout: number): sc.nn.TensorModule =>
    conv === 'dsc' ? new nn.SeparableConv2d(cin, cout, 3, { padding: 1, bias: false }) : new nn.Conv2d(cin, cout, 3, { padding: 1, bias: false });
  return new nn.Sequential(
    conv3x3(3, 8), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
    conv3x3(8, 12), new nn.BatchNorm2d(12), new nn.ReLU(), new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(), new nn.Dropout(0.2), new nn.Linear(12, 5),
  );
}

/** Trains `steps` steps on fixed random batches on `device`; returns the losses and the final weights. */
function train(device: sc.Device, conv: 'regular' | 'dsc', optimizer: 'sgd' | 'adam', steps: number): { losses: number[]; weights: Float32Array[] } {
  sc.manualSeed(7);
  const model = tinyNet(conv);
  // Part of the run on the CPU: the optimizer state made there has to follow the model.
  const opt = optimizer === 'sgd' ? new sc.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 }) : new sc.optim.Adam(model.parameters(), { lr: 0.01 });
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    if (i === 1) model.to(device);
    sc.scope(() => {
      const x = sc.randn([6, 3, 9, 9], { device: model.device });
      const y = sc.tensor([0, 1, 2, 3, 4, 0], [6], { dtype: 'int32', device: model.device });
      opt.zeroGrad();
      const loss = sc.F.crossEntropy(model.call(x), y);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    });
  }
  for (const p of model.parameters()) expect(p.device).toBe(device);
  for (const b of model.buffers()) expect(b.device).toBe(device);
  return { losses, weights: [...model.parameters(), ...model.buffers()].map((t) => Float32Array.from(t.toArray() as ArrayLike<number>)) };
}

describeCuda('training on the CUDA device', () => {
  for (const [conv, optimizer] of [['regular', 'sgd'], ['dsc', 'adam']] as const) {
    it(`${conv} convolutions with ${optimizer}: model.to('cuda') mid-run, steps match the CPU`, () => {
      const cpu = train('cpu', conv, optimizer, 4);
      const gpu = train('cuda', conv, optimizer, 4);
      expectClose(gpu.losses, cpu.losses, 1e-4, 1e-3);
      gpu.weights.forEach((w, i) => expectClose(w, cpu.weights[i]!, 1e-4, 1e-3));
    });
  }

  it('model.to("cpu") brings everything back', () => {
    const model = tinyNet('dsc').to('cuda');
    expect(model.device).toBe('cuda');
    model.to('cpu');
    expect(model.device).toBe('cpu');
    expect([...model.parameters(), ...model.buffers()].every((t) => t.device === 'cpu')).toBe(true);
  });

  it('the DataLoader uploads batches to the device', async () => {
    const dataset: sc.data.Dataset<sc.data.LoaderItem> = {
      length: 10,
      imageShape: [3, 4, 4],
      async get(i) {
        return { image: new Uint8Array(48).fill(i * 20), label: i % 3 };
      },
    };
    const rows: number[] = [];
    for await (const { x, y } of new sc.data.DataLoader(dataset, { batchSize: 4, workers: 0, device: 'cuda' })) {
      expect([x.device, y.device]).toEqual(['cuda', 'cuda']);
      rows.push(...Array.from(y.toArray()));
      expect(x.toArray()[47]).toBeCloseTo(((rows.length - y.numel) * 20) / 255, 6);
      x.dispose();
      y.dispose();
    }
    expect(rows).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
  });

  // One training and one validation step of VGG: one to two minutes on the emulator.
  it('sc.train.fit with device "cuda" trains like the CPU run', { timeout: 600_000 }, async () => {
    const root = await makeCifarDir(await tempDir('fit-cuda'), 8);
    const options = (device: sc.Device) => ({ model: 'vgg' as const, conv: 'dsc' as const, dataDir: root, epochs: 1, batchSize: 8, limit: 8, valLimit: 8, device, out: join(root, device) });
    const cpu = await sc.train.fit(options('cpu'));
    const gpu = await sc.train.fit(options('cuda'));
    expect(gpu.status).toBe('completed');
    const learned = (rows: Record<string, number>[]) => rows.map((r) => [r['trainLoss']!, r['valLoss']!]).flat();
    expectClose(learned(gpu.metrics), learned(cpu.metrics), 1e-3, 1e-3);
  });
});
