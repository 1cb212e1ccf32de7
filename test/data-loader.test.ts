import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sc from '../dist/index.js';
import { makeCifarDir, realDatasets, tempDir, writePet, writeSplit } from './helpers/datasets.js';

const T = sc.data.transforms;
const here = dirname(fileURLToPath(import.meta.url));

interface Rows {
  x: Float32Array;
  y: Int32Array;
  xShape: readonly number[];
  yShape: readonly number[];
  indices: number[];
}

/** Runs one epoch (or its first `limit` batches) and returns each batch's arrays, disposing the tensors. */
async function epoch(loader: sc.data.DataLoader, limit = Infinity): Promise<Rows[]> {
  const out: Rows[] = [];
  for await (const { x, y, indices } of loader) {
    out.push({ x: x.toArray() as Float32Array, y: y.toArray() as Int32Array, xShape: x.shape, yShape: y.shape, indices });
    expect(x.dtype).toBe('float32');
    expect(y.dtype).toBe('int32');
    x.dispose();
    y.dispose();
    if (out.length === limit) break;
  }
  return out;
}

/** Each dataset index's row of x, from a list of batches. */
function rowsByIndex(batches: Rows[]): Map<number, number[]> {
  const rows = new Map<number, number[]>();
  for (const b of batches) {
    const per = b.x.length / b.indices.length;
    b.indices.forEach((index, r) => rows.set(index, Array.from(b.x.subarray(r * per, (r + 1) * per))));
  }
  return rows;
}

const cifarRoot = async () => makeCifarDir(await tempDir('loader'), 3); // 15 training items, labels i % 10

describe('DataLoader batching', () => {
  it('yields float32 images in [0, 1] and int32 labels, in order, with a smaller last batch', async () => {
    const train = await sc.data.cifar10({ dir: await cifarRoot(), split: 'train' });
    const loader = new sc.data.DataLoader(train, { batchSize: 4, workers: 2 });
    expect(loader.length).toBe(4);
    const batches = await epoch(loader);
    expect(batches.map((b) => b.xShape)).toEqual([[4, 3, 32, 32], [4, 3, 32, 32], [4, 3, 32, 32], [3, 3, 32, 32]]);
    expect(batches.map((b) => b.yShape)).toEqual([[4], [4], [4], [3]]);
    expect(batches.flatMap((b) => b.indices)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(batches.flatMap((b) => Array.from(b.y))).toEqual(Array.from({ length: 15 }, (_, i) => i % 10));
    const item = await train.get(6);
    expect(Array.from(batches[1]!.x.subarray(2 * 3072, 3 * 3072))).toEqual(Array.from(item.image, (v) => Math.fround(v / 255)));
    const dropped = new sc.data.DataLoader(train, { batchSize: 4, dropLast: true, workers: 0 });
    expect(dropped.length).toBe(3);
    expect((await epoch(dropped)).length).toBe(3);
    await loader.close();
  });

  it('shuffles by (seed, epoch): a new order each epoch, the same for the same seed', async () => {
    const train = await sc.data.cifar10({ dir: await cifarRoot(), split: 'train' });
    const order = async (seed: number, epochs: number) => {
      const loader = new sc.data.DataLoader(train, { batchSize: 5, shuffle: true, seed, workers: 0 });
      const orders: number[][] = [];
      for (let e = 0; e < epochs; e++) orders.push((await epoch(loader)).flatMap((b) => b.indices));
      return orders;
    };
    const [first, second] = await order(7, 2);
    expect([...first!].sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(second).not.toEqual(first);
    expect(await order(7, 2)).toEqual([first, second]);
    expect((await order(8, 1))[0]).not.toEqual(first);
  });

  it('augments each item the same way whatever the worker count and batch size', async () => {
    const train = await sc.data.cifar10({ dir: await cifarRoot(), split: 'train' });
    const transform = [T.randomCrop(32, { padding: 4 }), T.randomHorizontalFlip(), T.colorJitter({ brightness: 0.3 }), T.randomErasing({ p: 0.5 })];
    const run = (workers: number, batchSize: number) =>
      epoch(new sc.data.DataLoader(train, { batchSize, shuffle: true, seed: 3, transform, workers }));
    const inline = rowsByIndex(await run(0, 4));
    const pooled = rowsByIndex(await run(2, 3));
    expect(pooled.size).toBe(15);
    for (const [index, row] of inline) expect(pooled.get(index)).toEqual(row);
    // The augmentation really is random per item and per epoch.
    const plain = rowsByIndex(await epoch(new sc.data.DataLoader(train, { batchSize: 15, workers: 0 })));
    expect([...inline].filter(([i, row]) => row.some((v, k) => v !== plain.get(i)![k])).length).toBeGreaterThan(10);
  });

  it('prepares `prefetch` batches ahead while the current one is in use', async () => {
    const requested: number[] = [];
    const dataset: sc.data.Dataset<sc.data.LoaderItem> = {
      length: 40,
      classes: ['a', 'b'],
      skipped: [],
      imageShape: [1, 2, 2],
      async get(i) {
        requested.push(i);
        return { image: new Uint8Array([i, i, i, i]), label: i % 2 };
      },
    };
    const loader = new sc.data.DataLoader(dataset, { batchSize: 4, prefetch: 3 }); // a plain dataset: read in this thread
    const iterator = loader[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value!.indices).toEqual([0, 1, 2, 3]);
    await new Promise((r) => setTimeout(r, 50));
    // Batch 0 is in the caller's hands; batches 1–3 are ready; batch 4 waits for a free prefetch slot.
    expect(requested.length).toBe(16);
    await iterator.next();
    await new Promise((r) => setTimeout(r, 50));
    expect(requested.length).toBe(20);
    await iterator.return!(undefined);
  });

  it('rejects bad options and items with messages naming them', async () => {
    const train = await sc.data.cifar10({ dir: await cifarRoot(), split: 'test' });
    expect(() => new sc.data.DataLoader(train, { batchSize: 0 })).toThrow('DataLoader: expected an integer ≥ 1 for options.batchSize but received 0');
    expect(() => new sc.data.DataLoader(train, { workers: -1 })).toThrow('DataLoader: expected an integer ≥ 0 for options.workers but received -1');
    expect(() => new sc.data.DataLoader(train, { transform: [(() => 1) as unknown as sc.data.Transform] })).toThrow(
      'DataLoader: expected transforms made by sc.data.transforms (custom functions cannot cross into the loader worker threads) for transform but received a function',
    );
    expect(() => new sc.data.DataLoader({} as sc.data.Dataset<sc.data.LoaderItem>)).toThrow(
      'DataLoader: expected a dataset with length and get(index) for dataset but received an object',
    );
    const odd: sc.data.Dataset<sc.data.LoaderItem> = { length: 1, classes: [], skipped: [], imageShape: [3, 2, 2], get: async () => ({ image: new Uint8Array(5), label: 0 }) };
    await expect(epoch(new sc.data.DataLoader(odd))).rejects.toThrow(
      'DataLoader: expected { image: Uint8Array or Float32Array of 3×2×2, label: integer } or { image, mask: Uint8Array of 2×2 } for dataset.get(0) but received an object',
    );
  });

  it('passes errors raised in a worker to the loop', async () => {
    const train = await sc.data.cifar10({ dir: await cifarRoot(), split: 'train' });
    for (const workers of [0, 2]) {
      const loader = new sc.data.DataLoader(train, { batchSize: 4, transform: [T.randomCrop(40)], workers });
      await expect(epoch(loader)).rejects.toThrow('randomCrop: expected at most the padded image size [32, 32] for size but received [40, 40]');
      await loader.close();
    }
  });
});

describe('DataLoader on Oxford-IIIT Pet files', () => {
  it('yields int32 masks [B, H, W] and moves them with the flipped images', async () => {
    const root = await tempDir('loader-pets');
    for (const name of ['a_1', 'a_2', 'a_3']) await writePet(root, name, 48, 40);
    await writeSplit(root, 'test', ['a_1 1 1 1', 'a_2 1 1 1', 'a_3 1 1 1']);
    const pets = await sc.data.oxfordPets({ dir: root, split: 'test', size: 16, cacheDir: false });
    const [plain] = await epoch(new sc.data.DataLoader(pets, { batchSize: 3 }));
    const [flipped] = await epoch(new sc.data.DataLoader(pets, { batchSize: 3, transform: [T.randomHorizontalFlip(1)] }));
    expect(plain!.yShape).toEqual([3, 16, 16]);
    expect(plain!.xShape).toEqual([3, 3, 16, 16]);
    expectMirrored(plain!, flipped!, 16);
    expect(new Set(plain!.y)).toEqual(new Set([0, 1, 2]));
  });

  it('reports an item that breaks after the check as skipped and leaves it out of its batch', async () => {
    const root = await tempDir('loader-pets');
    for (const name of ['b_1', 'b_2', 'b_3']) await writePet(root, name, 24, 20);
    await writeSplit(root, 'trainval', ['b_1 1 1 1', 'b_2 1 1 1', 'b_3 1 1 1']);
    const warnings: string[] = [];
    const pets = await sc.data.oxfordPets({ dir: root, split: 'trainval', size: 8, cacheDir: false, onWarning: (w) => warnings.push(w) });
    const gone = join(root, 'oxford-iiit-pet', 'images', 'b_2.jpg');
    await rm(gone);
    const batches = await epoch(new sc.data.DataLoader(pets, { batchSize: 3, workers: 1 }));
    expect(batches.map((b) => b.indices)).toEqual([[0, 2]]);
    expect(batches[0]!.xShape).toEqual([2, 3, 8, 8]);
    expect(pets.skipped).toEqual([{ file: gone, reason: 'image is missing' }]);
    expect(warnings).toEqual([`oxfordPets: skipping ${gone}: image is missing`]);
    await expect(pets.get(1)).rejects.toThrow(`oxfordPets.get: item 1 (b_2) became unusable after the check: ${gone}: image is missing`);
    expect(warnings.length).toBe(1); // reported once
  });
});

/** Rows of `b` are rows of `a` mirrored left–right, for the images and the masks. */
function expectMirrored(a: Rows, b: Rows, size: number): void {
  const mirror = (data: ArrayLike<number>) => {
    const out: number[] = [];
    for (let row = 0; row < data.length / size; row++) for (let x = size - 1; x >= 0; x--) out.push(data[row * size + x]!);
    return out;
  };
  expect(Array.from(b.x)).toEqual(mirror(a.x));
  expect(Array.from(b.y)).toEqual(mirror(a.y));
  expect(Array.from(b.x)).not.toEqual(Array.from(a.x));
}

describe('DataLoader workers', () => {
  it('never load the native addon (their import graph stays in dist/data and dist/errors.js)', () => {
    const dist = resolve(here, '..', 'dist');
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^import [^;]*?from '(\.{1,2}\/[^']+)'/gm)) visit(resolve(dirname(file), spec!));
    };
    visit(join(dist, 'data', 'worker.js'));
    const outside = [...seen].map((f) => f.slice(dist.length + 1)).filter((f) => !f.startsWith('data/'));
    expect(outside).toEqual(['errors.js']);
    expect(seen.has(join(dist, 'data', 'pets-decode.js'))).toBe(true); // the walk did follow imports
  });

  it('do not keep the process alive when a loop stops early without close()', async () => {
    const root = await cifarRoot();
    const script = `
      import * as sc from ${JSON.stringify(join(resolve(here, '..', 'dist'), 'index.js'))};
      const train = await sc.data.cifar10({ dir: ${JSON.stringify(root)}, split: 'train' });
      for await (const { x } of new sc.data.DataLoader(train, { batchSize: 2, workers: 2 })) { console.log(x.shape.join('x')); break; }
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('2x3x32x32');
    expect(child.status).toBe(0);
  });
});

const real = realDatasets('oxford-iiit-pet');

describe.skipIf(real === null)('DataLoader on the real Oxford-IIIT Pet', () => {
  it('flips each image together with its mask', async () => {
    const pets = await sc.data.oxfordPets({ dir: real!, split: 'test', size: 32, cacheDir: await tempDir('loader-cache') });
    const [plain] = await epoch(new sc.data.DataLoader(pets, { batchSize: 8, workers: 2 }), 1);
    const [flipped] = await epoch(new sc.data.DataLoader(pets, { batchSize: 8, workers: 2, transform: [T.randomHorizontalFlip(1)] }), 1);
    expectMirrored(plain!, flipped!, 32);
  });
});
