/**
 * The safetensors container format, byte-level: an 8-byte little-endian header length N,
 * N bytes of UTF-8 JSON ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__:
 * { key: string } }), then the tensors' raw little-endian bytes, back to back.
 *
 * The writer produces what the reference (Rust) writer produces for the same tensors: entries
 * sorted by descending dtype alignment then name, __metadata__ first, compact JSON, the header
 * padded with spaces to a multiple of 8 bytes. The reader applies the reference reader's
 * checks (header within the file and under 100 MB, every tensor's bytes matching its dtype
 * and shape, tensors back to back covering the data section exactly) and reports each
 * problem in words instead of failing later.
 */

/**
 * dtypes sepconv reads; it writes F32, F64, I32 and U8 (it has no int64 or half tensors: I64
 * loads as int32, F16 and BF16 — common in PyTorch checkpoints — widen to float32).
 */
export type SafetensorsDType = 'F32' | 'F64' | 'I32' | 'U8' | 'I64' | 'F16' | 'BF16';

export const DTYPE_BYTES: Record<SafetensorsDType, number> = { F32: 4, F64: 8, I32: 4, U8: 1, I64: 8, F16: 2, BF16: 2 };

// Positions in the reference's Dtype enum (declared in increasing alignment); only order matters.
const DTYPE_RANK: Record<SafetensorsDType, number> = { U8: 1, F16: 7, BF16: 8, I32: 9, F32: 11, F64: 12, I64: 13 };

export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range within the data section (after the header). */
  begin: number;
  end: number;
}

export interface Header {
  /** In data order (by begin offset). */
  entries: TensorEntry[];
  metadata: Record<string, string>;
}

/** A malformed file; checkpoint.ts adds the operation and the path. */
export class FormatError extends Error {}

const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** obj[key] = value as an own property, even for keys such as '__proto__' (names come from files). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The bytes before the data section (length prefix + padded JSON header) for tensors of the
 * given dtypes, shapes and byte lengths, and the order their data must follow.
 */
export function encodeHeader(
  tensors: readonly { name: string; dtype: SafetensorsDType; shape: readonly number[]; byteLength: number }[],
  metadata?: Readonly<Record<string, string>>,
): { prefix: Buffer; order: number[] } {
  const order = tensors.map((_, i) => i);
  order.sort((a, b) => {
    const ta = tensors[a]!, tb = tensors[b]!;
    // Names compare as UTF-8 bytes, as Rust's String ordering does.
    return DTYPE_RANK[tb.dtype] - DTYPE_RANK[ta.dtype] || Buffer.compare(utf8(ta.name), utf8(tb.name));
  });
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) setOwn(header, '__metadata__', metadata);
  let offset = 0;
  for (const i of order) {
    const t = tensors[i]!;
    setOwn(header, t.name, { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.byteLength] });
    offset += t.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const body = utf8(json);
  const prefix = Buffer.alloc(8 + body.length);
  prefix.writeBigUInt64LE(BigInt(body.length), 0);
  body.copy(prefix, 8);
  return { prefix, order };
}

/** The header length from the first 8 bytes, checked against the file size. */
export function headerLength(first8: Uint8Array, fileBytes: number): number {
  if (fileBytes < 8)
    throw new FormatError(`the file has ${fileBytes} bytes, fewer than the 8-byte header length that starts a safetensors file`);
  const n = Buffer.from(first8.buffer, first8.byteOffset, 8).readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new FormatError(`the header length ${n} is over the 100 MB limit (a corrupt or non-safetensors file)`);
  if (Number(n) + 8 > fileBytes) throw new FormatError(`the header length ${n} runs past the end of the file (${fileBytes} bytes): truncated?`);
  return Number(n);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isSize = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function parseEntry(name: string, value: unknown): TensorEntry {
  if (!isPlainObject(value)) throw new FormatError(`the header entry for tensor '${name}' is not an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES))
    throw new FormatError(`tensor '${name}' has dtype ${JSON.stringify(dtype)}; sepconv reads F32, F64, F16, BF16, I32, U8 and I64`);
  if (!Array.isArray(shape) || !shape.every(isSize))
    throw new FormatError(`tensor '${name}' has shape ${JSON.stringify(shape)}, not an array of sizes`);
  if (shape.length > 8) throw new FormatError(`tensor '${name}' has ${shape.length} dims; sepconv supports at most 8`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSize) || offsets[0] > offsets[1])
    throw new FormatError(`tensor '${name}' has data_offsets ${JSON.stringify(offsets)}, not a [begin, end] byte range`);
  const entry: TensorEntry = { name, dtype: dtype as SafetensorsDType, shape, begin: offsets[0], end: offsets[1] };
  const needed = shape.reduce((a: number, b: number) => a * b, 1) * DTYPE_BYTES[entry.dtype];
  if (needed !== entry.end - entry.begin)
    throw new FormatError(
      `tensor '${name}' (${dtype} ${shapeText(shape)}) needs ${needed} bytes but its data_offsets [${entry.begin}, ${entry.end}] hold ${entry.end - entry.begin}`,
    );
  return entry;
}

/** Parses and checks the JSON header against a data section of `dataBytes` bytes. */
export function parseHeader(headerBytes: Uint8Array, dataBytes: number): Header {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new FormatError('the header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FormatError(`the header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(json)) throw new FormatError('the header is not a JSON object');
  const metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name !== '__metadata__') {
      entries.push(parseEntry(name, value));
      continue;
    }
    if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === 'string'))
      throw new FormatError('__metadata__ must map keys to strings');
    for (const [k, v] of Object.entries(value)) setOwn(metadata, k, v as string);
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let end = 0;
  let previous: TensorEntry | null = null;
  for (const e of entries) {
    if (e.begin < end)
      throw new FormatError(`tensors '${previous!.name}' and '${e.name}' overlap (data_offsets [${previous!.begin}, ${previous!.end}] and [${e.begin}, ${e.end}])`);
    if (e.begin > end)
      throw new FormatError(`${e.begin - end} unused bytes precede tensor '${e.name}' (data_offsets [${e.begin}, ${e.end}]); tensors must be stored back to back`);
    end = e.end;
    previous = e;
  }
  if (end > dataBytes) throw new FormatError(`the tensors need ${end} bytes of data but the file holds ${dataBytes} after the header: truncated?`);
  if (end < dataBytes) throw new FormatError(`the file holds ${dataBytes} bytes of data after the header but the tensors cover only ${end}`);
  return { entries, metadata };
}
