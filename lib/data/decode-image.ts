/**
 * The one image preprocessing of sepconv: encoded bytes (JPEG, PNG, WebP, GIF, TIFF, AVIF —
 * sniffed from the bytes, not the file name) to size×size RGB uint8 CHW pixels, resized with
 * sharp's bilinear kernel and no aspect preservation. The Pets dataset, `sc.data.imageToTensor`,
 * `predict` and inference sessions all go through `decodeImage`, so a model sees at inference
 * exactly the pixels it was trained on. Imports nothing that loads the native addon (the loader's
 * worker threads use it).
 */
import { readFile } from 'node:fs/promises';

// sharp (libvips) loads on first use: importing sepconv stays fast for code that never decodes images.
type Sharp = (typeof import('sharp'))['default'];
let sharpModule: Promise<Sharp> | null = null;
export const loadSharp = (): Promise<Sharp> => (sharpModule ??= import('sharp').then((m) => m.default));

/** An encoded image in memory, or the path of an image file. */
export type ImageSource = Uint8Array | string;

/** size×size pixels and the size the image had before resizing. */
export interface DecodedImage {
  /** uint8 CHW RGB, 3×size×size. */
  pixels: Uint8Array;
  width: number;
  height: number;
}

/** Why an image could not be used: 'unreadable' file, bytes that are 'not-an-image', or an image sharp 'cannot-decode'. */
export type ImageFault = 'unreadable' | 'not-an-image' | 'cannot-decode';

export class ImageDecodeError extends Error {
  constructor(
    readonly fault: ImageFault,
    /** sharp's or the file system's reason, on one line. */
    readonly detail: string,
  ) {
    super(`${fault === 'unreadable' ? 'cannot be read' : fault === 'not-an-image' ? 'is not an image' : 'cannot be decoded'} (${detail})`);
  }
}

export function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.trim().split(/\s*\n\s*/).join('; ');
}

/** The bytes of `source` (read from disk when it is a path). */
export async function imageBytes(source: ImageSource): Promise<Uint8Array> {
  if (typeof source !== 'string') return source;
  try {
    return await readFile(source);
  } catch (err) {
    throw new ImageDecodeError('unreadable', (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${source} does not exist` : oneLine(err));
  }
}

/** Interleaved RGB (HWC, sharp's raw layout) to planar CHW. */
function planar(rgb: Uint8Array, plane: number): Uint8Array {
  const pixels = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    pixels[i] = rgb[3 * i]!;
    pixels[plane + i] = rgb[3 * i + 1]!;
    pixels[2 * plane + i] = rgb[3 * i + 2]!;
  }
  return pixels;
}

/**
 * Decodes an image and resizes it to size×size RGB (alpha dropped, grey and CMYK converted to
 * sRGB). Throws ImageDecodeError saying whether the bytes are no image at all or an image that
 * cannot be decoded (truncated, damaged).
 */
export async function decodeImage(source: ImageSource, size: number): Promise<DecodedImage> {
  const bytes = await imageBytes(source);
  const sharp = await loadSharp();
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(bytes).metadata());
  } catch (err) {
    throw new ImageDecodeError('not-an-image', oneLine(err));
  }
  try {
    const { data, info } = await sharp(bytes)
      .removeAlpha()
      .toColourspace('srgb')
      .resize(size, size, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels instead of 3`);
    return { pixels: planar(data, size * size), width: width!, height: height! };
  } catch (err) {
    throw new ImageDecodeError('cannot-decode', oneLine(err));
  }
}
