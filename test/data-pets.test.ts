import { describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import * as sc from '../dist/index.js';
import { realDatasets, tempDir, writePet, writeSplit } from './helpers/datasets.js';

const SIZE = 20;

/** A small Pets layout with every kind of file the loader must accept or skip. */
async function makePets(): Promise<string> {
  const root = await tempDir('pets');
  await writePet(root, 'cat_1', 40, 30, 'jpeg');
  await writePet(root, 'cat_2', 36, 28, 'gif');
  await writePet(root, 'cat_3', 30, 24, 'rgba-png');
  await writePet(root, 'cat_4', 32, 32, 'gray-jpeg');
  await writePet(root, 'dog_1', 40, 30, 'jpeg', { w: 20, h: 15 }); // trimap of another size
  await writePet(root, 'dog_2', 40, 30, 'jpeg');
  await writeFile(join(root, 'oxford-iiit-pet', 'images', 'dog_2.jpg'), Buffer.from('not an image at all, just text'));
  await writePet(root, 'dog_3', 64, 48, 'jpeg');
  const whole = await readFile(join(root, 'oxford-iiit-pet', 'images', 'dog_3.jpg'));
  await writeFile(join(root, 'oxford-iiit-pet', 'images', 'dog_3.jpg'), whole.subarray(0, whole.length >> 1)); // truncated JPEG
  await writePet(root, 'dog_4', 40, 30, 'jpeg');
  const bad = Buffer.alloc(40 * 30, 2);
  bad[5 * 40 + 7] = 7;
  await writeFile(join(root, 'oxford-iiit-pet', 'annotations', 'trimaps', 'dog_4.png'), await sharp(bad, { raw: { width: 40, height: 30, channels: 1 } }).png().toBuffer());
  await writePet(root, 'dog_6', 40, 30, 'jpeg');
  await writeFile(join(root, 'oxford-iiit-pet', 'annotations', 'trimaps', 'dog_6.png'), ''); // empty trimap
  await writeSplit(root, 'trainval', [
    '#Image CLASS-ID SPECIES BREED ID',
    'cat_1 1 1 1',
    'cat_2 1 1 1',
    '',
    'cat_3 1 1 1',
    'cat_4 1 1 1',
    'dog_1 2 2 1',
    'dog_2 2 2 1',
    'dog_3 2 2 1',
    'dog_4 2 2 1',
    'dog_5 2 2 1',
    'dog_6 2 2 1',
  ]);
  return root;
}

async function load(root: string, extra: Partial<sc.data.OxfordPetsOptions> = {}) {
  const warnings: string[] = [];
  const pets = await sc.data.oxfordPets({ dir: root, split: 'trainval', size: SIZE, cacheDir: false, onWarning: (m) => warnings.push(m), ...extra });
  return { pets, warnings };
}

describe('oxfordPets on small files', () => {
  it('keeps usable items (whatever their real format) and skips the others with one warning each', async () => {
    const root = await makePets();
    const { pets, warnings } = await load(root);
    const base = join(root, 'oxford-iiit-pet');
    expect(pets.names).toEqual(['cat_1', 'cat_2', 'cat_3', 'cat_4']);
    expect(pets.length).toBe(4);
    expect(pets.classes).toEqual(['pet', 'background', 'border']);
    expect(pets.imageShape).toEqual([3, SIZE, SIZE]);
    const byFile = new Map(pets.skipped.map((s) => [s.file, s.reason]));
    expect(byFile.get(join(base, 'annotations', 'trimaps', 'dog_1.png'))).toBe('trimap is 20×15 but its image is 40×30');
    expect(byFile.get(join(base, 'images', 'dog_2.jpg'))).toMatch(/^image cannot be decoded \(.*unsupported image format.*\)$/);
    expect(byFile.get(join(base, 'images', 'dog_3.jpg'))).toMatch(/^image cannot be decoded \(.+\)$/);
    expect(byFile.get(join(base, 'annotations', 'trimaps', 'dog_4.png'))).toBe(
      'trimap has value 7 at (x 7, y 5); trimaps hold 1 (pet), 2 (background) and 3 (border) only',
    );
    expect(byFile.get(join(base, 'images', 'dog_5.jpg'))).toBe('image is missing (listed in annotations/trainval.txt line 11)');
    expect(byFile.get(join(base, 'annotations', 'trimaps', 'dog_6.png'))).toMatch(/^trimap cannot be decoded \(.+\)$/);
    expect(pets.skipped.length).toBe(6);
    expect(warnings.length).toBe(6);
    for (const w of warnings) expect(w).not.toContain('\n');
    expect(warnings).toContain(`oxfordPets: skipping ${join(base, 'images', 'dog_5.jpg')}: image is missing (listed in annotations/trainval.txt line 11)`);
  });

  it('resizes the image and the mask (nearest, trimap − 1) to size×size', async () => {
    const { pets } = await load(await makePets());
    const plane = SIZE * SIZE;
    for (let i = 0; i < pets.length; i++) {
      const { image, mask, name } = await pets.get(i);
      expect(name).toBe(pets.names[i]);
      expect(image.length).toBe(3 * plane);
      expect(mask.length).toBe(plane);
      // The trimap is 3 on the top row, 1 on the left half, 2 on the right: nearest sampling keeps that exactly.
      for (let y = 0; y < SIZE; y++)
        for (let x = 0; x < SIZE; x++) expect(mask[y * SIZE + x]).toBe(y === 0 ? 2 : x < SIZE / 2 ? 0 : 1);
      // Red grows to the right, green downwards (gray for the grayscale JPEG: equal planes).
      const at = (c: number, y: number, x: number) => image[c * plane + y * SIZE + x]!;
      if (name === 'cat_4') {
        expect(image.subarray(0, plane)).toEqual(image.subarray(plane, 2 * plane));
        expect(image.subarray(0, plane)).toEqual(image.subarray(2 * plane));
      } else {
        expect(at(0, 10, SIZE - 1) - at(0, 10, 0)).toBeGreaterThan(180);
        expect(at(1, SIZE - 1, 10) - at(1, 0, 10)).toBeGreaterThan(180);
        expect(Math.abs(at(2, 10, 10) - 128)).toBeLessThan(16);
      }
    }
  });

  it('reports bad split files and bad options as errors naming the file and line', async () => {
    const root = await makePets();
    const split = join(root, 'oxford-iiit-pet', 'annotations', 'test.txt');
    await expect(load(root, { split: 'test' })).rejects.toThrow(`oxfordPets: cannot read the split file ${split} (missing)`);
    await writeSplit(root, 'test', ['# only a comment', '']);
    await expect(load(root, { split: 'test' })).rejects.toThrow(`oxfordPets: ${split} lists no images (it is empty or holds only comments)`);
    await writeSplit(root, 'test', ['cat_1 1 1 1', 'cat_2 1 1']);
    await expect(load(root, { split: 'test' })).rejects.toThrow(
      `oxfordPets: ${split} line 2: expected 'NAME CLASS_ID SPECIES BREED_ID' but read 'cat_2 1 1'`,
    );
    await writeSplit(root, 'test', ['../../etc/passwd 1 1 1']);
    await expect(load(root, { split: 'test' })).rejects.toThrow(`oxfordPets: ${split} line 1: expected`);
    await expect(load(root, { size: 0 })).rejects.toThrow('oxfordPets: expected an integer in [1, 4096] for options.size but received 0');
    await expect(load(await tempDir('nopets'))).rejects.toThrow(/^oxfordPets: Oxford-IIIT Pet not found: looked for .*oxford-iiit-pet .*npm run datasets -- pets/);
  });

  it('caches decoded items on disk and reads them back instead of decoding', async () => {
    const root = await makePets();
    const cacheDir = await tempDir('pets-cache');
    const image = join(root, 'oxford-iiit-pet', 'images', 'cat_1.jpg');
    const mtime = new Date('2024-01-02T03:04:05Z'); // whole seconds, so it can be restored exactly
    await utimes(image, mtime, mtime);
    const first = await load(root, { cacheDir });
    const entries = await readdir(join(cacheDir, `oxford-pets-${SIZE}`));
    expect(entries.filter((e) => e.endsWith('.bin')).length).toBe(4);
    // Decoding failures are remembered; missing files are not (they may still arrive).
    expect(entries.filter((e) => e.endsWith('.skip')).length).toBe(5);
    expect(entries.filter((e) => e.endsWith('.tmp'))).toEqual([]);

    // Garble an image but keep its size and mtime: the cache key is unchanged, so the cached pixels are served.
    const { size } = await stat(image);
    await writeFile(image, Buffer.alloc(size, 7));
    await utimes(image, mtime, mtime);
    const second = await load(root, { cacheDir });
    expect(second.pets.names).toEqual(first.pets.names);
    expect(second.pets.skipped).toEqual(first.pets.skipped);
    expect(await second.pets.get(0)).toEqual(await first.pets.get(0));

    // A real change (new mtime) is a new key: the garbled file is decoded and skipped.
    await utimes(image, new Date(), new Date());
    const third = await load(root, { cacheDir });
    expect(third.pets.names).toEqual(['cat_2', 'cat_3', 'cat_4']);
  });

  it('lets concurrent runs share one cache folder (atomic writes)', async () => {
    const root = await makePets();
    const cacheDir = await tempDir('pets-cache');
    const runs = await Promise.all([load(root, { cacheDir }), load(root, { cacheDir }), load(root, { cacheDir })]);
    for (const run of runs) expect(run.pets.names).toEqual(['cat_1', 'cat_2', 'cat_3', 'cat_4']);
    expect(await runs[1]!.pets.get(2)).toEqual(await runs[0]!.pets.get(2));
    expect((await readdir(join(cacheDir, `oxford-pets-${SIZE}`))).filter((e) => e.endsWith('.tmp'))).toEqual([]);
  });

  it('warns once and carries on without a cache when the cache folder cannot be written', async () => {
    const root = await makePets();
    const notADir = join(await tempDir('pets-cache'), 'file');
    await writeFile(notADir, 'x');
    const { pets, warnings } = await load(root, { cacheDir: notADir });
    expect(pets.length).toBe(4);
    expect(warnings[0]).toMatch(new RegExp(`^oxfordPets: not caching decoded images: cannot write ${notADir}/oxford-pets-${SIZE} \\(.+\\)$`));
  });
});

const real = realDatasets('oxford-iiit-pet');

describe.skipIf(real === null)('oxfordPets on the real data set', () => {
  const splitLines = async (split: string) =>
    (await readFile(join(real!, 'oxford-iiit-pet', 'annotations', `${split}.txt`), 'utf8')).split('\n').filter((l) => l.trim() && !l.startsWith('#')).length;

  it('counts the split files minus what is skipped; masks hold 0–2 only', async () => {
    const cacheDir = await tempDir('pets-cache');
    for (const split of ['trainval', 'test'] as const) {
      const warnings: string[] = [];
      const pets = await sc.data.oxfordPets({ dir: real!, split, size: 64, cacheDir, onWarning: (m) => warnings.push(m) });
      expect(pets.length + pets.skipped.length).toBe(await splitLines(split));
      expect(warnings.length).toBe(pets.skipped.length);
      const seen = new Set<number>();
      for (let i = 0; i < pets.length; i++) for (const v of (await pets.get(i)).mask) seen.add(v);
      expect([...seen].sort()).toEqual([0, 1, 2]);
    }
  });

  it('reads the GIF and the RGBA PNG that the release names .jpg', async () => {
    // A view of the real files with a split that lists the two quirky images.
    const root = await tempDir('pets-quirks');
    const base = join(root, 'oxford-iiit-pet');
    await mkdir(join(base, 'images'), { recursive: true });
    await mkdir(join(base, 'annotations', 'trimaps'), { recursive: true });
    for (const name of ['Abyssinian_34', 'Abyssinian_5']) {
      await symlink(join(real!, 'oxford-iiit-pet', 'images', `${name}.jpg`), join(base, 'images', `${name}.jpg`));
      await symlink(join(real!, 'oxford-iiit-pet', 'annotations', 'trimaps', `${name}.png`), join(base, 'annotations', 'trimaps', `${name}.png`));
    }
    await writeSplit(root, 'test', ['Abyssinian_34 1 1 1', 'Abyssinian_5 1 1 1']);
    const pets = await sc.data.oxfordPets({ dir: root, split: 'test', size: 32, cacheDir: false });
    expect(pets.skipped).toEqual([]);
    const gif = await pets.get(0);
    expect(new Set(gif.mask)).toEqual(new Set([1])); // its trimap is all background
    const png = await pets.get(1);
    expect(new Set(png.image).size).toBeGreaterThan(50);
    expect(new Set(png.mask).has(0)).toBe(true);
  });
});
