/**
 * `sc.data.imageToTensor`: an encoded image (or its path) as the model input the datasets
 * train on. `imageInput` is the same step for callers that batch the arrays themselves
 * (`predict`, inference sessions).
 */
import { describe, invalidArg, opError } from '../errors.js';
import { isDevice } from '../dtype.js';
import type { Device } from '../dtype.js';
import { tensor } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import { toFloatImage } from './augment.js';
import { decodeImage, ImageDecodeError } from './decode-image.js';
import type { ImageSource } from './decode-image.js';

export type { ImageSource } from './decode-image.js';

export interface ImageToTensorOptions {
  /** The side the image is resized to (no aspect preservation), e.g. a checkpoint's imageSize. */
  size: number;
  /** Where the tensor lives (default 'cpu'). */
  device?: Device;
}

/** A decoded model input: float32 CHW in [0, 1] at size×size, and the image's own size. */
export interface ImageInput {
  data: Float32Array;
  width: number;
  height: number;
}

function checkSource(op: string, argument: string, source: unknown): asserts source is ImageSource {
  if (!(source instanceof Uint8Array) && typeof source !== 'string')
    throw invalidArg(op, argument, 'an encoded image (Buffer or Uint8Array of JPEG, PNG, WebP…) or a file path', describe(source));
}

function checkSize(op: string, size: unknown): asserts size is number {
  if (!Number.isInteger(size) || (size as number) < 1) throw invalidArg(op, 'options.size', 'a positive integer', describe(size));
}

/** What `source` is, for messages: its path, or "the image" for bytes in memory. */
function named(source: ImageSource, label: string): string {
  return typeof source === 'string' ? source : label;
}

/**
 * Decodes `source` and converts it to float32 CHW in [0, 1]; errors are SepconvErrors that
 * say whether the input is no image at all or an image that cannot be decoded.
 */
export async function imageInput(op: string, source: ImageSource, size: number, label = 'the image'): Promise<ImageInput> {
  checkSource(op, label, source);
  try {
    const { pixels, width, height } = await decodeImage(source, size);
    return { data: toFloatImage(pixels), width, height };
  } catch (err) {
    if (err instanceof ImageDecodeError) throw opError(op, `${named(source, label)} ${err.message}`);
    throw err;
  }
}

/**
 * An encoded image (Buffer/Uint8Array of JPEG, PNG, WebP, GIF, TIFF or AVIF, sniffed from the
 * bytes; or a file path) as a float32 [1, 3, size, size] tensor in [0, 1]: RGB (alpha dropped,
 * grey converted), resized bilinearly to size×size without keeping the aspect ratio — exactly
 * what `oxfordPets` feeds training, so `predict` and `sc.infer` sessions use it too. Throws a
 * SepconvError for bytes that are no image and for images that cannot be decoded.
 *
 * @example
 * const x = await sc.data.imageToTensor(readFileSync('cat.jpg'), { size: 128 }); // [1, 3, 128, 128]
 * const logits = model.eval().call(x);
 */
export async function imageToTensor(source: ImageSource, options: ImageToTensorOptions): Promise<Tensor> {
  checkSource('imageToTensor', 'image', source);
  if (options === null || typeof options !== 'object') throw invalidArg('imageToTensor', 'options', '{ size, device? }', describe(options));
  checkSize('imageToTensor', options.size);
  const device = options.device ?? 'cpu';
  if (!isDevice(device)) throw invalidArg('imageToTensor', 'options.device', "'cpu' or 'cuda'", describe(device));
  const { data } = await imageInput('imageToTensor', source, options.size);
  return tensor(data, [1, 3, options.size, options.size], { device });
}
