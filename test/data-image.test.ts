// sc.data.imageToTensor: the one preprocessing of datasets, predict and sessions.
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { petPicture, tempDir, writePet, writeSplit } from './helpers/datasets.js';

describe('sc.data.imageToTensor', () => {
  it('gives the pixels the Pets dataset trains on, from bytes or a path, as float32 [1, 3, S, S] in [0, 1]', async () => {
    const root = await tempDir('image');
    await writePet(root, 'cat_1', 37, 23);
    await writeSplit(root, 'test', ['cat_1 1 1 1']);
    const pets = await sc.data.oxfordPets({ dir: root, split: 'test', size: 16, cacheDir: false, onWarning: () => {} });
    const { image } = await pets.get(0);
    const file = join(root, 'oxford-iiit-pet', 'images', 'cat_1.jpg');
    const fromPath = await sc.data.imageToTensor(file, { size: 16 });
    expect([fromPath.shape, fromPath.dtype]).toEqual([[1, 3, 16, 16], 'float32']);
    expect(Array.from(fromPath.toArray())).toEqual(Array.from(image, (v) => Math.fround(v / 255)));
    const { rgb } = petPicture(37, 23);
    const png = await sharp(rgb, { raw: { width: 37, height: 23, channels: 3 } }).ensureAlpha(0.5).png().toBuffer();
    const fromPng = await sc.data.imageToTensor(png, { size: 8 });
    expect(fromPng.shape).toEqual([1, 3, 8, 8]);
    expect(Math.max(...fromPng.toArray())).toBeLessThanOrEqual(1);
  });

  it('says whether the input is no image, a damaged one or a missing file', async () => {
    const jpeg = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#808080' } }).jpeg().toBuffer();
    await expect(sc.data.imageToTensor(Buffer.from('plain text'), { size: 8 })).rejects.toThrow(/^imageToTensor: the image is not an image \(.+\)$/);
    await expect(sc.data.imageToTensor(jpeg.subarray(0, 40), { size: 8 })).rejects.toThrow(/^imageToTensor: the image cannot be decoded \(.+\)$/);
    await expect(sc.data.imageToTensor('/nonexistent/cat.jpg', { size: 8 })).rejects.toThrow('imageToTensor: /nonexistent/cat.jpg cannot be read (no such file)');
    // @ts-expect-error a number is no image
    await expect(sc.data.imageToTensor(7, { size: 8 })).rejects.toThrow('imageToTensor: expected an encoded image (Buffer or Uint8Array of JPEG, PNG, WebP…) or a file path for image but received 7');
    await expect(sc.data.imageToTensor(jpeg, { size: 0 })).rejects.toThrow('imageToTensor: expected a positive integer for options.size but received 0');
  });
});
