/**
 * Decodes one Oxford-IIIT Pet image and its trimap to size×size arrays, or says precisely
 * why it cannot. Used up front by the dataset check and by the loader's worker threads, so it
 * imports nothing that loads the native addon.
 */
import { readFile } from 'node:fs/promises';
import type { DiskCache } from './cache.js';
import { decodeImage, ImageDecodeError, loadSharp, oneLine } from './decode-image.js';

/** A listed image and its trimap (absolute paths) with the cache key of their decoded form. */
export interface PetFiles {
  name: string;
  image: string;
  trimap: string;
  cacheKey: string;
}

/** size×size pixels: image uint8 CHW (RGB), mask uint8 with trimap − 1 (0 pet, 1 background, 2 border). */
export interface PetPixels {
  image: Uint8Array;
  mask: Uint8Array;
}

/** An item that cannot be used: which file is at fault and why. */
export class SkipError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    /** False when the fault may go away by itself (a file not there yet): not cached. */
    readonly lasting = true,
  ) {
    super(`${file}: ${reason}`);
  }
}

async function readBytes(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SkipError(file, code === 'ENOENT' ? `${what} is missing` : `${what} cannot be read (${oneLine(err)})`, false);
  }
}

/** Full-resolution trimap values, checked to be 1–3. */
async function decodeTrimap(file: string, bytes: Buffer): Promise<{ values: Uint8Array; width: number; height: number }> {
  const sharp = await loadSharp();
  let decoded;
  try {
    decoded = await sharp(bytes).extractChannel(0).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new SkipError(file, `trimap cannot be decoded (${oneLine(err)})`);
  }
  const { data, info } = decoded;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 1 || v > 3) {
      const at = `(x ${i % info.width}, y ${Math.floor(i / info.width)})`;
      throw new SkipError(file, `trimap has value ${v} at ${at}; trimaps hold 1 (pet), 2 (background) and 3 (border) only`);
    }
  }
  return { values: data, width: info.width, height: info.height };
}

/** Nearest-neighbour resize (PyTorch's 'nearest': source = floor(dst · in / out)) with −1. */
function resizeTrimap(trimap: { values: Uint8Array; width: number; height: number }, size: number): Uint8Array {
  const mask = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const row = Math.floor((y * trimap.height) / size) * trimap.width;
    for (let x = 0; x < size; x++) mask[y * size + x] = trimap.values[row + Math.floor((x * trimap.width) / size)]! - 1;
  }
  return mask;
}

async function decodePetImage(file: string, bytes: Buffer, size: number): Promise<{ pixels: Uint8Array; width: number; height: number }> {
  try {
    // The real release has a GIF and an RGBA PNG named .jpg: the format is sniffed from the bytes.
    return await decodeImage(bytes, size);
  } catch (err) {
    throw new SkipError(file, `image cannot be decoded (${err instanceof ImageDecodeError ? err.detail : oneLine(err)})`);
  }
}

/** Both results; when both fail, the image's error (so the reason reported does not depend on timing). */
async function bothOrImageError<A, B>(image: Promise<A>, trimap: Promise<B>): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled([image, trimap]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return [a.value, b.value];
}

/** Decodes and resizes one pair, throwing SkipError for anything unusable. */
export async function decodePet(files: PetFiles, size: number): Promise<PetPixels> {
  const [image, trimap] = await bothOrImageError(
    readBytes(files.image, 'image').then((bytes) => decodePetImage(files.image, bytes, size)),
    readBytes(files.trimap, 'trimap').then((bytes) => decodeTrimap(files.trimap, bytes)),
  );
  if (trimap.width !== image.width || trimap.height !== image.height)
    throw new SkipError(files.trimap, `trimap is ${trimap.width}×${trimap.height} but its image is ${image.width}×${image.height}`);
  return { image: image.pixels, mask: resizeTrimap(trimap, size) };
}

/**
 * decodePet through the disk cache: a hit reads one small file; a miss decodes and stores the
 * result (or the reason it was skipped, so later runs report it without decoding again).
 */
export async function loadPet(files: PetFiles, size: number, cache: DiskCache | null): Promise<PetPixels> {
  if (cache) {
    const plane = size * size;
    const hit = await cache.read(`${files.cacheKey}.bin`);
    if (hit && hit.length === 4 * plane)
      return { image: new Uint8Array(hit.buffer, hit.byteOffset, 3 * plane), mask: new Uint8Array(hit.buffer, hit.byteOffset + 3 * plane, plane) };
    const skipped = await cache.read(`${files.cacheKey}.skip`);
    if (skipped) {
      const { file, reason } = JSON.parse(skipped.toString('utf8')) as { file: string; reason: string };
      throw new SkipError(file, reason);
    }
  }
  try {
    const pixels = await decodePet(files, size);
    await cache?.write(`${files.cacheKey}.bin`, Buffer.concat([pixels.image, pixels.mask])).catch(() => undefined);
    return pixels;
  } catch (err) {
    if (err instanceof SkipError && err.lasting)
      await cache?.write(`${files.cacheKey}.skip`, JSON.stringify({ file: err.file, reason: err.reason })).catch(() => undefined);
    throw err;
  }
}
