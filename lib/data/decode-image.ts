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
    throw new ImageDecodeError('unreadable', (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : oneLine(err));
  }
}

/** The formats sharp decodes, by their leading bytes (so damaged images are told from non-images). */
function looksLikeImage(b: Uint8Array): boolean {
  const ascii = (at: number, text: string): boolean => [...text].every((ch, i) => b[at + i] === ch.charCodeAt(0));
  return (
    (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) || // JPEG
    (b[0] === 0x89 && ascii(1, 'PNG')) ||
    ascii(0, 'GIF8') ||
    (ascii(0, 'RIFF') && ascii(8, 'WEBP')) ||
    ascii(0, 'II*\0') ||
    ascii(0, 'MM\0*') || // TIFF
    ascii(4, 'ftyp') || // AVIF, HEIF
    /^\s*<(\?xml|svg)/.test(Buffer.from(b.subarray(0, 64)).toString('latin1'))
  );
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
  const fault: ImageFault = looksLikeImage(bytes) ? 'cannot-decode' : 'not-an-image';
  try {
    const { width, height } = await sharp(bytes).metadata();
    const { data, info } = await sharp(bytes)
      .removeAlpha()
      .toColourspace('srgb')
      .resize(size, size, { fit: 'fill', kernel: 'linear' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels instead of 3`);
    return { pixels: planar(data, size * size), width: width!, height: height! };
  } catch (err) {
    throw new ImageDecodeError(fault, oneLine(err));
  }
}
