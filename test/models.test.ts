import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';

const count = (m: sc.nn.AnyModule): number => m.parameters().reduce((n, p) => n + p.numel, 0);

/** State-dict names and shapes of the PyTorch reference models (scripts/torch-state-dict-keys.py). */
const torchKeys = JSON.parse(readFileSync(new URL('./fixtures/torch-state-dict-keys.json', import.meta.url), 'utf8')) as Record<string, [string, number[]][]>;
const stateShapes = (m: sc.nn.AnyModule): [string, number[]][] => Object.entries(m.stateDict()).map(([n, t]) => [n, [...t.shape]]);

describe('vgg', () => {
  it('has the Keras experiment parameter counts', () => {
    expect(count(sc.models.vgg({ conv: 'regular' }))).toBe(1_186_378);
    const dsc = sc.models.vgg({ conv: 'dsc' });
    expect(count(dsc)).toBe(174_821);
    const perLayer = [...dsc.features].filter((m) => m instanceof sc.nn.SeparableConv2d).map(count);
    expect([...perLayer, count(dsc.fc)]).toEqual([283, 4_736, 8_896, 17_664, 34_176, 68_096, 40_970]);
  });

  it('names and shapes its tensors exactly as the PyTorch reference', () => {
    expect(stateShapes(sc.models.vgg({ conv: 'regular' }))).toEqual(torchKeys.vgg_regular);
    expect(stateShapes(sc.models.vgg({ conv: 'dsc' }))).toEqual(torchKeys.vgg_dsc);
  });

  it('takes numClasses, inChannels and inputSize', () => {
    const m = sc.models.vgg({ numClasses: 5, inChannels: 1, inputSize: 64 });
    expect(m.fc.weight.shape).toEqual([5, 256 * 8 * 8]);
    expect(() => sc.models.vgg({ inputSize: 30 })).toThrow('VGG: expected a multiple of 8 (three 2×2 pools) for options.inputSize but received 30');
    expect(() => sc.models.vgg({ conv: 'separable' as 'dsc' })).toThrow("VGG: expected 'regular' or 'dsc' for options.conv but received 'separable'");
  });

  it('rejects a wrong input size before any kernel runs', () => {
    expect(() => sc.models.vgg().call(sc.zeros([1, 3, 64, 64]))).toThrow(
      'VGG: expected a [N, 3, 32, 32] tensor (fc takes 4096 features) for input but received shape [1, 3, 64, 64]',
    );
  });
});

describe('segnet', () => {
  it('has the reference parameter counts', () => {
    expect(count(sc.models.segnet({ conv: 'regular' }))).toBe(15_274_892);
    expect(count(sc.models.segnet({ conv: 'dsc' }))).toBe(1_749_671);
  });

  it('names and shapes its tensors exactly as the PyTorch reference, buffers included', () => {
    expect(stateShapes(sc.models.segnet({ conv: 'regular' }))).toEqual(torchKeys.segnet_regular);
    expect(stateShapes(sc.models.segnet({ conv: 'dsc' }))).toEqual(torchKeys.segnet_dsc);
  });

  it('rejects H, W not divisible by 16 before any kernel runs, naming the pool and the shapes', () => {
    const model = sc.models.segnet({ conv: 'dsc' });
    expect(() => model.call(sc.zeros([1, 3, 100, 100]))).toThrow(
      'SegNet: expected H and W divisible by 16 (4 max-pool stages) for input but received shape [1, 3, 100, 100] (the pool after enc.2 would get [1, 256, 25, 25])',
    );
    expect(() => model.call(sc.zeros([1, 3, 64, 72]))).toThrow('(the pool after enc.3 would get [1, 512, 8, 9])');
    expect(() => model.call(sc.zeros([1, 1, 64, 64]))).toThrow(
      'SegNet: expected a 4-D [N, 3, H, W] tensor (H, W divisible by 16) for input but received shape [1, 1, 64, 64]',
    );
    expect(model.inputBn.numBatchesTracked.item()).toBe(0); // nothing ran
  });
});

describe('unet', () => {
  it('matches the common PyTorch U-Net (milesial) parameter count in the regular variant', () => {
    // milesial/Pytorch-UNet UNet(3, n_classes=3, bilinear=False): 31,037,763 parameters.
    expect(count(sc.models.unet({ conv: 'regular' }))).toBe(31_037_763);
    expect(count(sc.models.unet({ conv: 'dsc' }))).toBe(5_988_382);
    expect(count(sc.models.unet({ conv: 'regular', decoder: 'upsample' }))).toBe(28_948_803);
    expect(count(sc.models.unet({ conv: 'dsc', decoder: 'upsample' }))).toBe(3_899_422);
  });

  it('has 4 levels, a bottleneck and a head', () => {
    const m = sc.models.unet({ baseWidth: 8, numClasses: 2 });
    expect(m.enc.length).toBe(5);
    expect(m.up.length).toBe(4);
    expect(m.dec.length).toBe(4);
    expect(m.head.weight.shape).toEqual([2, 8, 1, 1]);
    expect((m.up.at(0) as sc.nn.ConvTranspose2d).weight.shape).toEqual([128, 64, 2, 2]);
    expect(() => sc.models.unet({ decoder: 'pixelshuffle' as 'upsample' })).toThrow(
      "UNet: expected 'transpose' or 'upsample' for options.decoder but received 'pixelshuffle'",
    );
    expect(() => m.call(sc.zeros([1, 3, 40, 40]))).toThrow('(the pool after enc.3 would get [1, 64, 5, 5])');
  });
});

describe('mobilenet', () => {
  it('matches the MobileNet paper at 224×224, 1000 classes (4.2M vs 29.3M parameters)', () => {
    expect(count(sc.models.mobilenet({ numClasses: 1000 }))).toBe(4_231_976);
    expect(count(sc.models.mobilenet({ conv: 'regular', numClasses: 1000 }))).toBe(29_294_088);
  });

  it('scales every width by the multiplier', () => {
    const half = sc.models.mobilenet({ widthMultiplier: 0.5 });
    expect(((half.features.at(0) as sc.nn.Sequential).at(0) as sc.nn.Conv2d).outChannels).toBe(16);
    expect(half.fc.inFeatures).toBe(512);
    expect(() => sc.models.mobilenet({ widthMultiplier: 0 })).toThrow('MobileNet: expected a number in (0, 4] for options.widthMultiplier but received 0');
  });
});
