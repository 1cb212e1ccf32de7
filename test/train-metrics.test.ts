// Metrics, run files, configuration and pictures of sc.train (no training here).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as sc from '../dist/index.js';

const { ConfusionMatrix, argmaxClasses, topK } = sc.train;

describe('ConfusionMatrix', () => {
  it('gives micro accuracy, per-class IoU and mean IoU as defined', () => {
    const cm = new ConfusionMatrix(3);
    // targets 0 0 0 1 1 2, predictions 0 0 1 1 2 2
    cm.add(Int32Array.of(0, 0, 1, 1, 2, 2), Int32Array.of(0, 0, 0, 1, 1, 2));
    expect(cm.total).toBe(6);
    expect(cm.accuracy()).toBeCloseTo(4 / 6, 12);
    // class 0: tp 2, fn 1, fp 0 → 2/3; class 1: tp 1, fn 1, fp 1 → 1/3; class 2: tp 1, fp 1 → 1/2
    const iou = cm.classIoU();
    expect(iou[0]).toBeCloseTo(2 / 3, 12);
    expect(iou[1]).toBeCloseTo(1 / 3, 12);
    expect(iou[2]).toBeCloseTo(1 / 2, 12);
    expect(cm.meanIoU()).toBeCloseTo((2 / 3 + 1 / 3 + 1 / 2) / 3, 12);
  });

  it('accumulates over batches, skips the ignore index and leaves absent classes out of the mean', () => {
    const cm = new ConfusionMatrix(4);
    cm.add([1, 1], [1, 255], 255);
    cm.add([0], [0]);
    expect(cm.total).toBe(2);
    expect(cm.accuracy()).toBe(1);
    expect(Number.isNaN(cm.classIoU()[3]!)).toBe(true);
    expect(cm.meanIoU()).toBe(1);
  });

  it('rejects labels outside the classes and mismatched lengths', () => {
    const cm = new ConfusionMatrix(2);
    expect(() => cm.add([0, 2], [0, 1])).toThrow('ConfusionMatrix.add: expected classes in [0, 1] for label pair 1 but received target 1, predicted 2');
    expect(() => cm.add([0], [0, 1])).toThrow('ConfusionMatrix.add: expected 2 labels (as many as target) for predicted but received 1');
  });
});

describe('argmaxClasses and topK', () => {
  it('takes the argmax over axis 1 of [N, C, H, W] scores, ties to the lower class', () => {
    // N=2, C=2, H=1, W=2
    const scores = Float32Array.of(0.1, 0.5, 0.9, 0.5, 3, -1, 2, 4);
    expect(Array.from(argmaxClasses(scores, [2, 2, 1, 2]))).toEqual([1, 0, 0, 1]);
    expect(Array.from(argmaxClasses(Float32Array.of(0.2, 0.7, 0.1), [1, 3]))).toEqual([1]);
    expect(() => argmaxClasses(scores, [2, 3])).toThrow('argmaxClasses: expected [N, C, ...] with 8 elements for shape but received [2, 3]');
  });

  it('orders the best k classes', () => {
    expect(topK([0.1, 0.4, 0.2, 0.3], 2)).toEqual([{ index: 1, score: 0.4 }, { index: 3, score: 0.3 }]);
  });
});

describe('run files', () => {
  const rows = [
    { epoch: 1, trainLoss: 1.25, valLoss: NaN, valAccuracy: 0.5 },
    { epoch: 2, trainLoss: 0.75, valLoss: 0.9, valAccuracy: 0.625, lr: 0.001 },
  ];

  it('writes metrics as JSON lines (NaN as null) and CSV with every column', () => {
    const jsonl = sc.train.metricsJsonl(rows);
    expect(jsonl.split('\n')[0]).toBe('{"epoch":1,"trainLoss":1.25,"valLoss":null,"valAccuracy":0.5}');
    const back = sc.train.parseMetricsJsonl(jsonl);
    expect(back[1]).toEqual(rows[1]);
    expect(Number.isNaN(back[0]!['valLoss'])).toBe(true);
    expect(sc.train.metricsCsv(rows)).toBe('epoch,trainLoss,valLoss,valAccuracy,lr\n1,1.25,,0.5,\n2,0.75,0.9,0.625,0.001\n');
  });

  it('writes files atomically without leaving temporary files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sepconv-files-'));
    const path = join(dir, 'config.json');
    await sc.train.writeFileAtomic(path, '{"a":1}');
    await sc.train.writeFileAtomic(path, '{"a":2}');
    expect(readFileSync(path, 'utf8')).toBe('{"a":2}');
    expect(readdirSync(dir)).toEqual(['config.json']);
    await expect(sc.train.writeFileAtomic(join(dir, 'missing', 'x.json'), 'x')).rejects.toThrow(/ENOENT/);
    expect(readdirSync(dir)).toEqual(['config.json']);
  });
});

describe('configuration', () => {
  it('reproduces the keras-vgg preset: Keras init, raw pixels, Adam eps 1e-7', () => {
    const c = sc.train.resolveConfig({ preset: 'keras-vgg' });
    expect(c).toMatchObject({ model: 'vgg', conv: 'regular', dataset: 'cifar10', batchSize: 128, epochs: 10, optimizer: 'adam', lr: 1e-3, eps: 1e-7, init: 'keras', pixels: 'raw', scheduler: 'none', hflip: false, contrast: 0, imageSize: 32 });
    expect(sc.train.resolveConfig({})).toMatchObject({ eps: 1e-8, init: 'torch', pixels: 'unit' });
    expect(() => sc.train.resolveConfig({ init: 'glorot' as never })).toThrow("--init 'glorot' is not one of: torch, keras");
    expect(() => sc.train.resolveConfig({ pixels: 255 as never })).toThrow('--pixels 255 is not one of: unit, raw');
  });

  it('gives a zoo model with inputScale the scaled input (raw-pixel runs use 255)', () => {
    sc.manualSeed(0);
    const model = sc.models.vgg({ conv: 'dsc', inputScale: 255 });
    const plain = sc.models.vgg({ conv: 'dsc' });
    plain.loadStateDict(model.stateDict());
    const x = sc.rand([2, 3, 32, 32]);
    const scaled = sc.noGrad(() => model.eval().call(x).toArray());
    const manual = sc.noGrad(() => plain.eval().call(x.mul(255)).toArray());
    expect(Array.from(scaled)).toEqual(Array.from(manual));
    expect(() => sc.models.vgg({ inputScale: 0 })).toThrow('VGG: expected a positive number for options.inputScale but received 0');
  });

  it('reproduces the segnet-article preset: StepLR(7, 0.7) for regular, no scheduler for DSC', () => {
    const regular = sc.train.resolveConfig({ preset: 'segnet-article' });
    expect(regular).toMatchObject({ model: 'segnet', dataset: 'pets', imageSize: 128, batchSize: 64, epochs: 20, optimizer: 'adam', lr: 1e-3, hflip: true, contrast: 0.3, scheduler: 'step', stepSize: 7, gamma: 0.7 });
    expect(sc.train.resolveConfig({ preset: 'segnet-article', conv: 'dsc' }).scheduler).toBe('none');
  });

  it('reproduces the unet-article training: 100 epochs, heavy augmentation, StepLR(25, 0.8)', () => {
    expect(sc.train.resolveConfig({ preset: 'unet-article' })).toMatchObject({
      model: 'unet', dataset: 'pets', imageSize: 128, epochs: 100, hflip: true, rotate: 15, channelDropout: 0.1, erase: 0.25, scheduler: 'step', stepSize: 25, gamma: 0.8,
    });
    expect(() => sc.train.resolveConfig({ erase: 1.5 })).toThrow('--erase expects a probability in [0, 1] but received 1.5');
    expect(() => sc.train.resolveConfig({ channelDropout: -0.1 })).toThrow('--channel-dropout expects a probability in [0, 1] but received -0.1');
  });

  it('lets explicit options override the preset', () => {
    const c = sc.train.resolveConfig({ preset: 'segnet-article', epochs: 2, imageSize: 64, scheduler: 'cosine' });
    expect(c).toMatchObject({ epochs: 2, imageSize: 64, scheduler: 'cosine', batchSize: 64 });
  });

  it('names the accepted values of unknown ones', () => {
    // @ts-expect-error an unknown model on purpose
    expect(() => sc.train.resolveConfig({ model: 'resnet' })).toThrow("--model 'resnet' is not one of: vgg, segnet, unet, mobilenet");
    // @ts-expect-error an unknown dataset on purpose
    expect(() => sc.train.resolveConfig({ dataset: 'mnist' })).toThrow("--dataset 'mnist' is not one of: cifar10, pets");
    // @ts-expect-error an unknown preset on purpose
    expect(() => sc.train.resolveConfig({ preset: 'fast' })).toThrow("--preset 'fast' is not one of: keras-vgg, segnet-article, unet-article");
    expect(() => sc.train.resolveConfig({ model: 'segnet', dataset: 'cifar10' })).toThrow(
      '--model segnet is a segmentation network but --dataset cifar10 is a classification data set; use --dataset pets',
    );
    expect(() => sc.train.resolveConfig({ model: 'segnet', imageSize: 100 })).toThrow('--image-size must be a multiple of 16 for segnet (four 2×2 poolings) but received 100');
    expect(() => sc.train.resolveConfig({ epochs: 0 })).toThrow('--epochs expects an integer ≥ 1 but received 0');
  });
});

describe('RNG state', () => {
  it('replays the same draws after setRngState', () => {
    sc.manualSeed(5);
    sc.randn([7]);
    const state = sc.getRngState();
    const a = Array.from(sc.randn([16]).toArray());
    sc.randn([3]);
    sc.setRngState(state);
    expect(Array.from(sc.randn([16]).toArray())).toEqual(a);
    expect(() => sc.setRngState({ seed: -1, counter: 0 })).toThrow('setRngState: expected { seed, counter } of non-negative integers for state but received an object');
  });
});

describe('pictures', () => {
  const rows = [1, 2, 3].map((epoch) => ({ epoch, trainLoss: 2 / epoch, valLoss: 2.2 / epoch, trainAccuracy: 0.3 * epoch, valAccuracy: 0.28 * epoch }));

  it('draws one panel per metric with train and validation series', () => {
    const panels = sc.train.curvePanels([{ label: '', color: '#000', rows }], 'classification');
    expect(panels.map((p) => p.title)).toEqual(['Loss', 'Accuracy']);
    expect(panels[1]!.series.map((s) => [s.label, s.dashed])).toEqual([['train', false], ['validation', true]]);
    expect(panels[0]!.series[1]!.points).toEqual([[1, 2.2], [2, 1.1], [3, 2.2 / 3]]);
    const seg = sc.train.curvePanels([{ label: 'regular', color: '#00f', rows: [] }, { label: 'DSC', color: '#f00', rows: [] }], 'segmentation');
    expect(seg.map((p) => p.title)).toEqual(['Loss', 'Pixel accuracy', 'Mean IoU']);
  });

  it('renders curves to a PNG', async () => {
    const png = await sc.train.renderCurves([{ label: '', color: '#4e79a7', rows }], 'classification');
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 960, 340]);
  });

  it('lays out the masks grid as input, ground truth and prediction rows, and animates frames', async () => {
    const size = 16;
    const image = new Uint8Array(3 * size * size).fill(200);
    const target = new Uint8Array(size * size).fill(0);
    const predicted = new Uint8Array(size * size).fill(1);
    const frame = await sc.train.renderMaskGrid([{ image, target, predicted }], size, ['pet', 'background', 'border'], 'epoch 1');
    const { data, info } = await sharp(frame).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    // cells are 128 px (16 px scaled ×8) after a 116 px label column and a 34 px title
    expect([info.width, info.height]).toEqual([116 + 132, 34 + 3 * 132 + 30]);
    const pixel = (x: number, y: number): number[] => Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    expect(pixel(116 + 64, 34 + 64)).toEqual([200, 200, 200]);
    expect(pixel(116 + 64, 34 + 132 + 64)).toEqual([242, 142, 43]);
    expect(pixel(116 + 64, 34 + 2 * 132 + 64)).toEqual([38, 70, 110]);
    const gif = await sc.train.renderGif([frame, frame, frame]);
    const meta = await sharp(gif, { animated: true }).metadata();
    expect([meta.format, meta.pages, meta.pageHeight, meta.loop]).toEqual(['gif', 3, info.height, 0]);
  });
});
