/**
 * Oxford-IIIT Pet segmentation from the official layout (oxford-iiit-pet/images/*.jpg,
 * annotations/trimaps/*.png, annotations/{trainval,test}.txt). Every listed item is decoded
 * once up front (results go to the disk cache), so `length` counts usable items only and each
 * unusable one is reported by name with the reason.
 */
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { describe, invalidArg, opError } from '../errors.js';
import type { PetsSource, SkippedFile } from './batch.js';
import { cacheKey, DiskCache, defaultCacheDir } from './cache.js';
import { checkIndex, reportSkipped, SkipList, workerSource } from './dataset.js';
import type { Dataset, WorkerReadyDataset } from './dataset.js';
import { locateDataset } from './paths.js';
import { mapConcurrent, settleAs } from './concurrency.js';
import { loadPet, SkipError } from './pets-decode.js';
import type { PetFiles } from './pets-decode.js';

export interface OxfordPetsOptions {
  /** The folder that holds oxford-iiit-pet/ (default: $SEPCONV_DATA, else ./datasets). */
  dir?: string;
  split: 'trainval' | 'test';
  /** Images and masks are resized to size×size (no aspect preservation). Default 128. */
  size?: number;
  /** Where decoded items are cached (default: $SEPCONV_CACHE_DIR or the OS cache folder); false: no cache. */
  cacheDir?: string | false;
  /** Receives one line per skipped file (default: console.warn). */
  onWarning?: (message: string) => void;
}

export interface OxfordPetItem {
  /** uint8 CHW RGB pixels, 3×size×size. */
  image: Uint8Array;
  /** uint8 size×size: 0 pet, 1 background, 2 border (trimap − 1). */
  mask: Uint8Array;
  /** The image name from the split file, e.g. 'Abyssinian_100'. */
  name: string;
}

/** Mask values, by class id. */
export const PET_MASK_CLASSES = ['pet', 'background', 'border'] as const;

interface SplitEntry {
  name: string;
  line: number;
}

const NAME_PATTERN = /^[\w.-]+$/;

async function readSplit(root: string, split: string): Promise<{ file: string; entries: SplitEntry[] }> {
  const file = join(root, 'annotations', `${split}.txt`);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw opError('oxfordPets', `cannot read the split file ${file} (${err.code === 'ENOENT' ? 'missing' : err.message})`);
  });
  const entries: SplitEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    if (fields.length !== 4 || !NAME_PATTERN.test(fields[0]!) || !fields.slice(1).every((f) => /^\d+$/.test(f)))
      throw opError('oxfordPets', `${file} line ${i + 1}: expected 'NAME CLASS_ID SPECIES BREED_ID' but read '${line}'`);
    entries.push({ name: fields[0]!, line: i + 1 });
  });
  if (entries.length === 0) throw opError('oxfordPets', `${file} lists no images (it is empty or holds only comments)`);
  return { file, entries };
}

export class OxfordPetsDataset implements Dataset<OxfordPetItem>, WorkerReadyDataset {
  readonly classes: readonly string[] = PET_MASK_CLASSES;
  readonly imageShape: readonly [number, number, number];
  private readonly cache: DiskCache | null;

  /** @internal Use sc.data.oxfordPets(). */
  constructor(
    private readonly source: PetsSource,
    private readonly skips: SkipList,
  ) {
    this.imageShape = [3, source.size, source.size];
    this.cache = source.cacheDir === null ? null : new DiskCache(source.cacheDir);
  }

  get length(): number {
    return this.source.files.length;
  }
  get skipped(): readonly SkippedFile[] {
    return this.skips.entries;
  }
  /** Image names of the usable items, in split-file order. */
  get names(): string[] {
    return this.source.files.map((f) => f.name);
  }

  async get(index: number): Promise<OxfordPetItem> {
    const files = this.source.files[checkIndex('oxfordPets.get', index, this.length)]!;
    try {
      const { image, mask } = await loadPet(files, this.source.size, this.cache);
      return { image, mask, name: files.name };
    } catch (err) {
      if (err instanceof SkipError) {
        this.skips.add({ file: err.file, reason: err.reason });
        throw opError('oxfordPets.get', `item ${index} (${files.name}) became unusable after the check: ${err.file}: ${err.reason}`);
      }
      throw err;
    }
  }

  /** @internal */
  [workerSource](): PetsSource {
    return this.source;
  }
  /** @internal */
  [reportSkipped](entry: SkippedFile): void {
    this.skips.add(entry);
  }
}

async function openCache(option: string | false | undefined, size: number, warn: (m: string) => void): Promise<string | null> {
  if (option === false) return null;
  if (option !== undefined && typeof option !== 'string') throw invalidArg('oxfordPets', 'options.cacheDir', 'a folder path or false', describe(option));
  const dir = join(option ?? defaultCacheDir(), `oxford-pets-${size}`);
  const problem = await new DiskCache(dir).open();
  if (problem === null) return dir;
  warn(`oxfordPets: not caching decoded images: cannot write ${dir} (${problem})`);
  return null;
}

/** Checks one listed item: both files present, then a full decode (through the cache). */
async function checkEntry(root: string, splitFile: string, entry: SplitEntry, size: number, cache: DiskCache | null): Promise<PetFiles> {
  const image = join(root, 'images', `${entry.name}.jpg`);
  const trimap = join(root, 'annotations', 'trimaps', `${entry.name}.png`);
  const where = `listed in ${relative(root, splitFile)} line ${entry.line}`;
  const [imageStat, trimapStat] = await Promise.all([stat(image).catch(() => null), stat(trimap).catch(() => null)]);
  if (!imageStat) throw new SkipError(image, `image is missing (${where})`);
  if (!trimapStat) throw new SkipError(trimap, `trimap is missing (${where})`);
  const files: PetFiles = {
    name: entry.name,
    image,
    trimap,
    cacheKey: cacheKey(
      [
        { path: image, stat: imageStat },
        { path: trimap, stat: trimapStat },
      ],
      `oxford-pets ${size}`,
    ),
  };
  await loadPet(files, size, cache);
  return files;
}

/**
 * Loads an Oxford-IIIT Pet split for segmentation. Items the check cannot use (unreadable or
 * missing image, missing trimap or one of another size, trimap values outside 1–3) are
 * skipped with one warning line each and listed in `skipped`. The first call decodes every
 * image (about 10 ms each); later calls read the disk cache.
 *
 * @example
 * const pets = await sc.data.oxfordPets({ split: 'trainval', size: 128 });
 * const { image, mask, name } = await pets.get(0); // image 3×128×128, mask 128×128 (0 pet, 1 background, 2 border)
 */
export async function oxfordPets(options: OxfordPetsOptions): Promise<OxfordPetsDataset> {
  const split = options?.split;
  if (split !== 'trainval' && split !== 'test') throw invalidArg('oxfordPets', 'options.split', "'trainval' or 'test'", describe(split));
  const size = options.size ?? 128;
  if (!Number.isInteger(size) || size < 1 || size > 4096) throw invalidArg('oxfordPets', 'options.size', 'an integer in [1, 4096]', describe(size));
  const warn = options.onWarning ?? ((message: string) => console.warn(message));
  const root = await locateDataset('oxfordPets', 'oxford-pets', options.dir);
  const { file: splitFile, entries } = await readSplit(root, split);
  const cacheDir = await openCache(options.cacheDir, size, warn);
  const cache = cacheDir === null ? null : new DiskCache(cacheDir);

  const checked = await mapConcurrent(entries, availableParallelism() + 2, (entry) =>
    settleAs(checkEntry(root, splitFile, entry, size, cache), SkipError),
  );

  const skips = new SkipList('oxfordPets', warn);
  const files: PetFiles[] = [];
  for (const c of checked) {
    if (c instanceof SkipError) skips.add({ file: c.file, reason: c.reason });
    else files.push(c);
  }
  return new OxfordPetsDataset({ kind: 'oxford-pets', size, files, cacheDir }, skips);
}
