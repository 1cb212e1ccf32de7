// Transforms run through the public DataLoader on an in-memory dataset (in this thread).
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';

const T = sc.data.transforms;
const H = 12;
const W = 16;
const PLANE = H * W;
const MASK_FILL = 9;

/**
 * Image whose channel 0 encodes the mask: block classes 0/1/2 at levels 64/128/192, so an
 * image pixel can be checked against its mask pixel after any geometric transform. Channels
 * 1 and 2 encode x and y.
 */
function blocks(index: number): sc.data.LoaderItem {
  const image = new Uint8Array(3 * PLANE);
  const mask = new Uint8Array(PLANE);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const cls = ((x >> 2) + (y >> 2) + index) % 3;
      mask[y * W + x] = cls;
      image[y * W + x] = 64 * (cls + 1);
      image[PLANE + y * W + x] = x * 10;
      image[2 * PLANE + y * W + x] = y * 10;
    }
  return { image, mask };
}

const dataset: sc.data.Dataset<sc.data.LoaderItem> = {
  length: 6,
  classes: ['a', 'b', 'c'],
  skipped: [],
  imageShape: [3, H, W],
  get: async (i) => blocks(i),
};

/** Each item after `transform`: image [3, h, w] and mask [h, w] as plain arrays. */
async function augmented(transform: sc.data.Transform[], seed = 1, epochs = 1) {
  const loader = new sc.data.DataLoader(dataset, { batchSize: dataset.length, transform, seed });
  const items: { image: number[]; mask: number[]; h: number; w: number }[] = [];
  for (let e = 0; e < epochs; e++)
    for await (const { x, y } of loader) {
      const [b, , h, w] = x.shape as number[];
      const xs = x.toArray();
      const ys = y.toArray();
      for (let i = 0; i < b!; i++)
        items.push({ image: Array.from(xs.subarray(i * 3 * h! * w!, (i + 1) * 3 * h! * w!)), mask: Array.from(ys.subarray(i * h! * w!, (i + 1) * h! * w!)), h: h!, w: w! });
    }
  return items;
}

const original = (i: number) => {
  const { image, mask } = blocks(i);
  return { image: Array.from(image, (v) => Math.fround(v / 255)), mask: Array.from(mask!) };
};

const LEVELS = [0, 1, 2].map((c) => Math.fround((64 * (c + 1)) / 255));

/**
 * Image channel 0 and mask agree: fill pixels pair with MASK_FILL, a pixel exactly at a class
 * level has that class, and a blended pixel (bilinear, at a block edge) is within the blend range.
 */
function expectAligned(item: { image: number[]; mask: number[] }, fill: number): number {
  let exact = 0;
  item.mask.forEach((m, p) => {
    const v = item.image[p]!;
    if (v === fill || m === MASK_FILL) expect([v, m]).toEqual([fill, MASK_FILL]);
    else if (LEVELS.includes(v)) {
      expect(LEVELS.indexOf(v)).toBe(m);
      exact++;
    } else expect(Math.abs(v * 255 - 64 * (m + 1))).toBeLessThan(128);
  });
  return exact;
}

describe('geometric transforms move image and mask together', () => {
  it('randomHorizontalFlip mirrors both, or neither', async () => {
    const flipped = await augmented([T.randomHorizontalFlip(1)]);
    flipped.forEach((item, i) => {
      const o = original(i);
      const mirror = (a: number[], planes: number) =>
        Array.from({ length: planes * PLANE }, (_, k) => a[Math.floor(k / W) * W + (W - 1 - (k % W))]!);
      expect(item.image).toEqual(mirror(o.image, 3));
      expect(item.mask).toEqual(mirror(o.mask, 1));
    });
    expect(await augmented([T.randomHorizontalFlip(0)])).toEqual(Array.from({ length: 6 }, (_, i) => ({ ...original(i), h: H, w: W })));
    const half = await augmented([T.randomHorizontalFlip(0.5)], 1, 4);
    const changed = half.filter((item, k) => item.mask.some((m, p) => m !== original(k % 6).mask[p])).length;
    expect(changed).toBeGreaterThan(4);
    expect(changed).toBeLessThan(20);
  });

  it('randomCrop pads with fill / maskFill and crops the same window from both', async () => {
    const items = await augmented([T.randomCrop([10, 14], { padding: 3, fill: -1, maskFill: MASK_FILL })], 5, 3);
    let padded = 0;
    items.forEach((item, k) => {
      expect([item.h, item.w]).toEqual([10, 14]);
      const plane = 10 * 14;
      // Channels 1 and 2 say where each pixel came from: the window is a translation of the original.
      const o = original(k % 6);
      for (let p = 0; p < plane; p++) {
        if (item.image[p] === -1) {
          expect(item.mask[p]).toBe(MASK_FILL);
          padded++;
          continue;
        }
        const sx = Math.round((item.image[plane + p]! * 255) / 10);
        const sy = Math.round((item.image[2 * plane + p]! * 255) / 10);
        expect(item.mask[p]).toBe(o.mask[sy * W + sx]);
        expect(item.image[p]).toBe(o.image[sy * W + sx]);
      }
    });
    expect(padded).toBeGreaterThan(0);
    // No padding and the full size: the identity.
    expect((await augmented([T.randomCrop([H, W])]))[2]).toEqual({ ...original(2), h: H, w: W });
  });

  it('randomRotation keeps the mask on the image, with one border for both', async () => {
    const items = await augmented([T.randomRotation(40, { fill: 0, maskFill: MASK_FILL })], 2, 2);
    let exact = 0;
    let outside = 0;
    for (const item of items) {
      exact += expectAligned(item, 0);
      outside += item.mask.filter((m) => m === MASK_FILL).length;
    }
    expect(exact).toBeGreaterThan(0.5 * items.length * PLANE);
    expect(outside).toBeGreaterThan(0);
    expect(await augmented([T.randomRotation(0)])).toEqual(await augmented([]));
  });
});

describe('photometric transforms', () => {
  it('colorJitter brightness scales every pixel of an image by one factor in [1 − b, 1 + b]', async () => {
    const items = await augmented([T.colorJitter({ brightness: 0.4 })]);
    const factors = items.map((item, i) => {
      const o = original(i).image;
      const f = item.image[0]! / o[0]!;
      item.image.forEach((v, p) => expect(v).toBeCloseTo(Math.min(1, f * o[p]!), 5));
      expect(item.mask).toEqual(original(i).mask);
      return f;
    });
    for (const f of factors) expect(f).toBeGreaterThanOrEqual(0.6 - 1e-6);
    for (const f of factors) expect(f).toBeLessThanOrEqual(1.4 + 1e-6);
    expect(new Set(factors.map((f) => f.toFixed(4))).size).toBe(items.length);
  });

  it('colorJitter contrast and saturation stay in [0, 1] and leave a gray image gray', async () => {
    const all = await augmented([T.colorJitter({ brightness: 0.5, contrast: 0.9, saturation: 0.9 })]);
    for (const item of all) for (const v of item.image) expect(v >= 0 && v <= 1).toBe(true);
    const gray: sc.data.Dataset<sc.data.LoaderItem> = {
      ...dataset,
      get: async (i) => ({ image: new Uint8Array(3 * PLANE).fill(40 + i * 20), label: 0 }),
    };
    const loader = new sc.data.DataLoader(gray, { batchSize: 6, transform: [T.colorJitter({ saturation: 0.9 })] });
    for await (const { x } of loader) {
      const xs = x.toArray();
      for (let i = 0; i < 6; i++) for (let k = 0; k < 3 * PLANE; k++) expect(xs[i * 3 * PLANE + k]).toBeCloseTo((40 + i * 20) / 255, 5);
    }
  });

  it('channelDropout blanks exactly one whole channel', async () => {
    for (const item of await augmented([T.channelDropout(1, { fill: 0.5 })])) {
      const blanked = [0, 1, 2].filter((c) => item.image.slice(c * PLANE, (c + 1) * PLANE).every((v) => v === 0.5));
      expect(blanked.length).toBe(1);
    }
  });

  it('randomErasing fills one rectangle of the image within the area range, and not the mask', async () => {
    const items = await augmented([T.randomErasing({ p: 1, scale: [0.1, 0.3], value: -2 })]);
    items.forEach((item, i) => {
      const erased = item.image.slice(0, PLANE).map((v, p) => (v === -2 ? p : -1)).filter((p) => p >= 0);
      const xs = erased.map((p) => p % W);
      const ys = erased.map((p) => Math.floor(p / W));
      const box = (Math.max(...xs) - Math.min(...xs) + 1) * (Math.max(...ys) - Math.min(...ys) + 1);
      expect(erased.length).toBe(box);
      expect(erased.length / PLANE).toBeGreaterThan(0.05);
      expect(erased.length / PLANE).toBeLessThan(0.4);
      expect(item.mask).toEqual(original(i).mask);
    });
  });

  it('normalize computes (x − mean) / std per channel', async () => {
    const [item] = await augmented([T.normalize([0.5, 0.25, 0], [0.5, 2, 1])]);
    const o = original(0).image;
    const expected = o.map((v, k) => {
      const c = Math.floor(k / PLANE);
      return Math.fround((v - [0.5, 0.25, 0][c]!) * (1 / [0.5, 2, 1][c]!));
    });
    item!.image.forEach((v, k) => expect(v).toBeCloseTo(expected[k]!, 6));
    await expect(augmented([T.normalize([0.5, 0.5], 1)])).rejects.toThrow(
      'normalize: expected 1 or 3 values (one per channel) for mean but received 2 values',
    );
  });
});

describe('transform composition and seeds', () => {
  it('compose flattens nested lists and keeps the order', () => {
    const flip = T.randomHorizontalFlip();
    const crop = T.randomCrop(8);
    expect(T.compose(flip, [crop, [T.normalize(0, 1)]])).toEqual([flip, crop, { kind: 'normalize', mean: [0], std: [1] }]);
  });

  it('the same seed repeats every augmentation; another seed or epoch changes them', async () => {
    const heavy = [T.randomRotation(20), T.randomCrop(10, { padding: 2 }), T.colorJitter({ contrast: 0.5 }), T.randomErasing()];
    const a = await augmented(heavy, 11, 2);
    expect(await augmented(heavy, 11, 2)).toEqual(a);
    expect(await augmented(heavy, 12)).not.toEqual(a.slice(0, 6));
    expect(a.slice(6)).not.toEqual(a.slice(0, 6));
  });

  it('rejects bad arguments with messages naming them', () => {
    expect(() => T.randomHorizontalFlip(2)).toThrow('randomHorizontalFlip: expected a probability in [0, 1] for p but received 2');
    expect(() => T.randomCrop(0)).toThrow('randomCrop: expected a positive integer or [height, width] of positive integers for size but received 0');
    expect(() => T.randomCrop(8, { padding: -1 })).toThrow('randomCrop: expected an integer ≥ 0 for options.padding but received -1');
    expect(() => T.randomCrop(8, { maskFill: 300 })).toThrow('randomCrop: expected an integer class id in 0–255 for options.maskFill but received 300');
    expect(() => T.colorJitter({ brightness: -0.1 })).toThrow('colorJitter: expected a finite number ≥ 0 for options.brightness but received -0.1');
    expect(() => T.randomRotation(NaN)).toThrow('randomRotation: expected a finite number ≥ 0 for degrees but received NaN');
    expect(() => T.randomErasing({ scale: [0.5, 0.1] })).toThrow(
      'randomErasing: expected a range [low, high] of positive numbers with low ≤ high for options.scale but received array of length 2',
    );
    expect(() => T.randomErasing({ scale: [0.5, 2] })).toThrow('randomErasing: expected area fractions within (0, 1] for options.scale but received array of length 2');
    expect(() => T.normalize([0.5], [0])).toThrow('normalize: expected positive values for std but received [0]');
    expect(() => T.compose(T.randomHorizontalFlip(), { kind: 'sharpen' } as unknown as sc.data.Transform)).toThrow(
      'compose: expected transforms made by sc.data.transforms (custom functions cannot cross into the loader worker threads) for transform but received an object',
    );
  });
});
