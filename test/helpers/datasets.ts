/**
 * Data-set fixtures: the real copies at ../shared/datasets (SEPCONV_TEST_DATA overrides) for
 * integration tests, and small data sets in the official layouts written into temp folders.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { warnOnce } from './notice.js';
import sharp from 'sharp';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The folder with real cifar-10-batches-bin/ and oxford-iiit-pet/, or null (tests then skip, saying why). */
export function realDatasets(folder: string): string | null {
  const dir = process.env.SEPCONV_TEST_DATA ?? resolve(repoRoot, '..', 'shared', 'datasets');
  if (existsSync(join(dir, folder))) return dir;
  warnOnce(`data-${folder}`, `skipping the tests on real ${folder} data: ${join(dir, folder)} not found (set SEPCONV_TEST_DATA to a folder holding ${folder}/)`);
  return null;
}

const tempDirs: string[] = [];
// Registered once at import, so folders made inside tests are removed too.
afterAll(() => Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true }))));

/** A fresh temp folder, removed after the file's tests. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `sepconv-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export const CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** One CIFAR record: the label byte, then pixel bytes derived from (record, position). */
export function cifarRecord(label: number, seed: number): Uint8Array {
  const r = new Uint8Array(3073);
  r[0] = label;
  for (let i = 1; i < r.length; i++) r[i] = (seed * 31 + i * 7) & 255;
  return r;
}

export async function writeCifarBatch(file: string, records: Uint8Array[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, Buffer.concat(records));
}

/** A CIFAR layout with `perFile` records in each batch file (labels cycle 0–9). */
export async function makeCifarDir(root: string, perFile = 3): Promise<string> {
  const folder = join(root, 'cifar-10-batches-bin');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'batches.meta.txt'), CIFAR_CLASSES.join('\n') + '\n\n');
  const files = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
  for (let f = 0; f < files.length; f++)
    await writeCifarBatch(
      join(folder, files[f]!),
      Array.from({ length: perFile }, (_, r) => cifarRecord((f * perFile + r) % 10, f * 100 + r)),
    );
  return root;
}

/** An RGB test picture w×h whose pixels encode their position, and its trimap (1 left half, 2 right, 3 top row). */
export function petPicture(w: number, h: number): { rgb: Buffer; trimap: Buffer } {
  const rgb = Buffer.alloc(w * h * 3);
  const trimap = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      rgb[3 * i] = Math.round((255 * x) / (w - 1));
      rgb[3 * i + 1] = Math.round((255 * y) / (h - 1));
      rgb[3 * i + 2] = 128;
      trimap[i] = y === 0 ? 3 : x < w / 2 ? 1 : 2;
    }
  return { rgb, trimap };
}

export type PetImageKind = 'jpeg' | 'gif' | 'rgba-png' | 'gray-jpeg';

/** Writes images/<name>.jpg (in `kind`'s real format) and annotations/trimaps/<name>.png. */
export async function writePet(root: string, name: string, w: number, h: number, kind: PetImageKind = 'jpeg', trimapSize = { w, h }): Promise<void> {
  const base = join(root, 'oxford-iiit-pet');
  await mkdir(join(base, 'images'), { recursive: true });
  await mkdir(join(base, 'annotations', 'trimaps'), { recursive: true });
  const { rgb } = petPicture(w, h);
  const raw = { raw: { width: w, height: h, channels: 3 as const } };
  let image: Buffer;
  if (kind === 'jpeg') image = await sharp(rgb, raw).jpeg({ quality: 95 }).toBuffer();
  else if (kind === 'gray-jpeg') image = await sharp(rgb, raw).grayscale().jpeg().toBuffer();
  else if (kind === 'gif') image = await sharp(rgb, raw).gif().toBuffer();
  else image = await sharp(rgb, raw).ensureAlpha(0.5).png().toBuffer();
  await writeFile(join(base, 'images', `${name}.jpg`), image);
  const { trimap } = petPicture(trimapSize.w, trimapSize.h);
  await writeFile(
    join(base, 'annotations', 'trimaps', `${name}.png`),
    await sharp(trimap, { raw: { width: trimapSize.w, height: trimapSize.h, channels: 1 } }).png().toBuffer(),
  );
}

export async function writeSplit(root: string, split: string, lines: string[]): Promise<void> {
  await mkdir(join(root, 'oxford-iiit-pet', 'annotations'), { recursive: true });
  await writeFile(join(root, 'oxford-iiit-pet', 'annotations', `${split}.txt`), lines.join('\n') + '\n');
}
