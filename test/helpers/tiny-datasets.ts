// Tiny data sets in the official on-disk layouts, with patterns a network can learn in a
// few steps: CIFAR-10 records whose colour depends on the label, and Pets-style photos of
// a bright ellipse (the "pet") on a darker background with a matching trimap.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** A deterministic pseudo-random stream (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function cifarRecords(count: number, rand: () => number): Buffer {
  const records = Buffer.alloc(count * 3073);
  for (let r = 0; r < count; r++) {
    const label = r % 10;
    const base = r * 3073;
    records[base] = label;
    for (let ch = 0; ch < 3; ch++)
      for (let i = 0; i < 1024; i++) {
        const tone = ((label * (ch + 3) * 37) % 200) + 20;
        records[base + 1 + ch * 1024 + i] = Math.max(0, Math.min(255, Math.round(tone + (rand() - 0.5) * 60)));
      }
  }
  return records;
}

/**
 * Writes `dir/cifar-10-batches-bin/` with `perBatch` records in each of the five training
 * batches and `test` records in the test batch. Returns `dir`.
 */
export function writeTinyCifar(dir: string, { perBatch = 16, test = 16, seed = 1 } = {}): string {
  const root = join(dir, 'cifar-10-batches-bin');
  mkdirSync(root, { recursive: true });
  const rand = random(seed);
  for (let b = 1; b <= 5; b++) writeFileSync(join(root, `data_batch_${b}.bin`), cifarRecords(perBatch, rand));
  writeFileSync(join(root, 'test_batch.bin'), cifarRecords(test, rand));
  writeFileSync(join(root, 'batches.meta.txt'), CIFAR_CLASSES.join('\n') + '\n\n');
  return dir;
}

async function petPair(name: string, width: number, height: number, rand: () => number, imagesDir: string, trimapsDir: string): Promise<void> {
  const cx = width * (0.35 + 0.3 * rand());
  const cy = height * (0.35 + 0.3 * rand());
  const rx = width * (0.2 + 0.1 * rand());
  const ry = height * (0.2 + 0.1 * rand());
  const rgb = Buffer.alloc(width * height * 3);
  const trimap = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
      const i = y * width + x;
      trimap[i] = d < 0.8 ? 1 : d < 1.2 ? 3 : 2;
      const inside = d < 1;
      rgb[i * 3] = inside ? 230 : 40 + Math.round(rand() * 30);
      rgb[i * 3 + 1] = inside ? 170 : 60 + Math.round(rand() * 30);
      rgb[i * 3 + 2] = inside ? 60 : 110 + Math.round(rand() * 30);
    }
  await sharp(rgb, { raw: { width, height, channels: 3 } }).jpeg({ quality: 92 }).toFile(join(imagesDir, `${name}.jpg`));
  await sharp(trimap, { raw: { width, height, channels: 1 } }).png().toFile(join(trimapsDir, `${name}.png`));
}

/**
 * Writes `dir/oxford-iiit-pet/` (images/*.jpg, annotations/trimaps/*.png and the split files)
 * with `trainval` + `test` photos of varied sizes. Returns `dir`.
 */
export async function writeTinyPets(dir: string, { trainval = 8, test = 4, seed = 2 } = {}): Promise<string> {
  const root = join(dir, 'oxford-iiit-pet');
  const imagesDir = join(root, 'images');
  const trimapsDir = join(root, 'annotations', 'trimaps');
  mkdirSync(imagesDir, { recursive: true });
  mkdirSync(trimapsDir, { recursive: true });
  const rand = random(seed);
  const names = Array.from({ length: trainval + test }, (_, i) => (i % 2 === 0 ? `Abyssinian_${i + 1}` : `Bengal_${i + 1}`));
  for (const [i, name] of names.entries()) await petPair(name, 40 + (i % 3) * 12, 36 + (i % 2) * 10, rand, imagesDir, trimapsDir);
  const line = (name: string): string => (name.startsWith('Abyssinian') ? `${name} 1 1 1` : `${name} 6 1 6`);
  const header = '#Image CLASS-ID SPECIES BREED ID\n';
  writeFileSync(join(root, 'annotations', 'trainval.txt'), names.slice(0, trainval).map(line).join('\n') + '\n');
  writeFileSync(join(root, 'annotations', 'test.txt'), names.slice(trainval).map(line).join('\n') + '\n');
  writeFileSync(join(root, 'annotations', 'list.txt'), header + names.map(line).join('\n') + '\n');
  return dir;
}
