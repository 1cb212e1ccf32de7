import { describe, expect, it } from 'vitest';
import { cp, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as sc from '../dist/index.js';
import { CIFAR_CLASSES, cifarRecord, makeCifarDir, realDatasets, tempDir, writeCifarBatch } from './helpers/datasets.js';

describe('cifar10 on small files', () => {
  it('reads records in file order with their labels and the class names', async () => {
    const root = await makeCifarDir(await tempDir('cifar'), 3);
    const train = await sc.data.cifar10({ dir: root, split: 'train' });
    expect(train.length).toBe(15);
    expect(train.classes).toEqual(CIFAR_CLASSES);
    expect(train.imageShape).toEqual([3, 32, 32]);
    expect(train.skipped).toEqual([]);
    const item = await train.get(4); // data_batch_2.bin, record 1
    expect(item.label).toBe(4);
    expect(Array.from(item.image)).toEqual(Array.from(cifarRecord(4, 101).subarray(1)));
    expect(Array.from(train.labels())).toEqual(Array.from({ length: 15 }, (_, i) => i % 10));
    const test = await sc.data.cifar10({ dir: root, split: 'test' });
    expect(test.length).toBe(3);
    expect((await test.get(2)).label).toBe(17 % 10);
  });

  it('hands out copies, so a caller cannot change the dataset', async () => {
    const train = await sc.data.cifar10({ dir: await makeCifarDir(await tempDir('cifar'), 1), split: 'train' });
    (await train.get(0)).image.fill(0);
    expect((await train.get(0)).image[5]).not.toBe(0);
    await expect(train.get(5)).rejects.toThrow('cifar10.get: expected an integer in [0, 5) for index but received 5');
  });

  it('names the file and record of structural damage', async () => {
    const root = await makeCifarDir(await tempDir('cifar'), 4);
    const folder = join(root, 'cifar-10-batches-bin');
    const batch3 = join(folder, 'data_batch_3.bin');
    await truncate(batch3, 4 * 3073 - 5);
    await expect(sc.data.cifar10({ dir: root, split: 'train' })).rejects.toThrow(
      `cifar10: ${batch3} is truncated: 12287 bytes is not a whole number of 3073-byte records (record 3 has 3068 of its 3073 bytes)`,
    );
    await writeCifarBatch(batch3, [cifarRecord(1, 0), cifarRecord(12, 1), cifarRecord(2, 2)]);
    await expect(sc.data.cifar10({ dir: root, split: 'train' })).rejects.toThrow(
      `cifar10: ${batch3} record 1 (byte offset 3073) has label 12; CIFAR-10 labels are 0–9`,
    );
    await writeFile(join(folder, 'test_batch.bin'), '');
    await expect(sc.data.cifar10({ dir: root, split: 'test' })).rejects.toThrow(`cifar10: ${join(folder, 'test_batch.bin')} is empty`);
    await writeFile(join(folder, 'batches.meta.txt'), 'cat\ndog\n');
    await expect(sc.data.cifar10({ dir: root, split: 'test' })).rejects.toThrow(
      `cifar10: ${join(folder, 'batches.meta.txt')} names 2 classes; CIFAR-10 has 10 (one name a line)`,
    );
  });

  it('says where it looked and how to download when the data set is missing', async () => {
    const empty = await tempDir('nodata');
    await expect(sc.data.cifar10({ dir: empty, split: 'train' })).rejects.toThrow(
      `cifar10: CIFAR-10 not found: looked for ${join(empty, 'cifar-10-batches-bin')} (data folder ${empty}, from --data-dir; ` +
        'the data folder is --data-dir, else $SEPCONV_DATA, else ./datasets). ' +
        `Download it with \`npm run datasets -- cifar10 --dir ${empty}\`, or point --data-dir or SEPCONV_DATA at a folder that holds cifar-10-batches-bin/.`,
    );
    // Pointed at the data set's own folder: names the parent instead of a nested download.
    const itself = join(empty, 'cifar-10-batches-bin');
    await expect(sc.data.cifar10({ dir: itself, split: 'train' })).rejects.toThrow(
      `cifar10: CIFAR-10 not found: ${itself} (from --data-dir) is the cifar-10-batches-bin/ folder itself; the data folder is the one that holds it: use ${empty}`,
    );
    await expect(sc.data.cifar10({ dir: empty, split: 'valid' as 'test' })).rejects.toThrow(
      "cifar10: expected 'train' or 'test' for options.split but received 'valid'",
    );
  });

  it('finds the data folder through --data-dir, then SEPCONV_DATA, then ./datasets', async () => {
    const root = await makeCifarDir(await tempDir('cifar'), 1);
    const saved = process.env.SEPCONV_DATA;
    try {
      process.env.SEPCONV_DATA = root;
      expect(sc.data.resolveDataDir()).toEqual({ dir: root, from: '$SEPCONV_DATA' });
      expect(sc.data.resolveDataDir('/elsewhere')).toEqual({ dir: '/elsewhere', from: '--data-dir' });
      expect((await sc.data.cifar10({ split: 'test' })).length).toBe(1);
      delete process.env.SEPCONV_DATA;
      expect(sc.data.resolveDataDir()).toEqual({ dir: join(process.cwd(), 'datasets'), from: 'the default ./datasets' });
    } finally {
      if (saved === undefined) delete process.env.SEPCONV_DATA;
      else process.env.SEPCONV_DATA = saved;
    }
  });

  it('reads a copy of the data set made with cp (no hidden state next to the files)', async () => {
    const root = await makeCifarDir(await tempDir('cifar'), 2);
    const copy = await tempDir('cifar-copy');
    await cp(join(root, 'cifar-10-batches-bin'), join(copy, 'cifar-10-batches-bin'), { recursive: true });
    expect((await sc.data.cifar10({ dir: copy, split: 'train' })).length).toBe(10);
  });
});

const real = realDatasets('cifar-10-batches-bin');

describe.skipIf(real === null)('cifar10 on the real data set', () => {
  it('has 50,000 training items, 5,000 per class, and 10,000 test items', async () => {
    const train = await sc.data.cifar10({ dir: real!, split: 'train' });
    expect(train.length).toBe(50_000);
    const counts = new Array(10).fill(0);
    for (const label of train.labels()) counts[label]++;
    expect(counts).toEqual(new Array(10).fill(5000));
    expect(train.classes).toEqual(CIFAR_CLASSES);
    const test = await sc.data.cifar10({ dir: real!, split: 'test' });
    expect(test.length).toBe(10_000);
    // Real photos: many distinct values, and in most images the red and blue planes differ.
    let coloured = 0;
    for (let i = 0; i < 20; i++) {
      const { image } = await test.get(i);
      expect(image.length).toBe(3072);
      expect(new Set(image).size).toBeGreaterThan(20);
      if (image.subarray(0, 1024).some((v, k) => v !== image[2048 + k])) coloured++;
    }
    expect(coloured).toBeGreaterThan(15);
  });
});
