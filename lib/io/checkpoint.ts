/**
 * Checkpoints as safetensors files, so weights move to and from PyTorch (`safetensors.torch.
 * load_file` / `save_file`) under the same names (`enc.0.conv.weight`).
 *
 * Writes are atomic: the file is written under a temporary name in the destination's
 * directory, flushed to disk (fsync), then renamed over the destination, so a crash leaves
 * either the previous file or the complete new one, never a torn one. Reads check the whole
 * header before allocating anything and name the file and the problem when it is malformed.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { describe, invalidArg, SepconvError } from '../errors.js';
import { tensor, Tensor } from '../tensor.js';
import { arrayCtor } from '../dtype.js';
import type { DType } from '../dtype.js';
import { expectTensor } from '../functional/validate.js';
import { DTYPE_BYTES, encodeHeader, FormatError, headerLength, parseHeader, setOwn } from './safetensors.js';
import type { Header, SafetensorsDType, TensorEntry } from './safetensors.js';

/** A state dict: tensor names (PyTorch-style dotted paths) to tensors. */
export type StateDict = Readonly<Record<string, Tensor>> | ReadonlyMap<string, Tensor>;

export interface SaveOptions {
  /** Free-form string pairs stored in the header's __metadata__ (e.g. { epoch: '12' }). */
  metadata?: Readonly<Record<string, string>>;
  /**
   * Store the SHA-256 of the data section under the metadata key `sepconv.sha256`, so a load
   * finds a flipped or lost byte (default true). `false` writes exactly the bytes the reference
   * safetensors writer would.
   */
  checksum?: boolean;
}

/**
 * The metadata key of the data section's SHA-256 (hex). Loads check it when present; files
 * without it (PyTorch's, older sepconv ones) load as before.
 */
export const CHECKSUM_KEY = 'sepconv.sha256';
const CHECKSUM_PLACEHOLDER = '0'.repeat(64);

const FILE_DTYPE: Record<DType, SafetensorsDType> = { float32: 'F32', float64: 'F64', int32: 'I32', uint8: 'U8' };
const TENSOR_DTYPE: Record<Exclude<SafetensorsDType, 'I64' | 'F16' | 'BF16'>, DType> = { F32: 'float32', F64: 'float64', I32: 'int32', U8: 'uint8' };

// Data on disk is little-endian; on a big-endian host each element's bytes are swapped.
const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';
function toLittleEndian(bytes: Buffer, elementSize: number): Buffer {
  if (HOST_IS_LITTLE_ENDIAN || elementSize === 1) return bytes;
  return elementSize === 2 ? bytes.swap16() : elementSize === 4 ? bytes.swap32() : bytes.swap64();
}

/** @internal Test hooks: `beforeRename` runs after the temporary file is complete and synced. */
export const checkpointTestHooks: { beforeRename: ((tempPath: string) => void) | null } = { beforeRename: null };

function fileError(op: string, path: string, verb: 'read' | 'write', err: unknown): SepconvError {
  if (err instanceof FormatError) return new SepconvError(`${op}: '${path}' is not a valid safetensors file: ${err.message}`);
  if (err instanceof SepconvError) return err;
  return new SepconvError(`${op}: cannot ${verb} '${path}': ${err instanceof Error ? err.message : String(err)}`);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Flushes the directory entry of a rename (POSIX); some platforms cannot open directories. */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows and some file systems refuse; the rename itself is still atomic.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Writes a file through a synced temporary file renamed over `path`. */
function writeAtomically(op: string, path: string, write: (fd: number) => void): void {
  const dir = dirname(resolve(path));
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'wx');
    write(fd);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    checkpointTestHooks.beforeRename?.(temp);
    renameSync(temp, path);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // Never created, or already renamed.
    }
    throw fileError(op, path, 'write', err);
  }
  syncDirectory(dir);
}

/** @internal Writes `bytes` to `path` atomically (errors name `op` and `path`). */
export function writeFileAtomically(op: string, path: string, bytes: Uint8Array): void {
  writeAtomically(op, path, (fd) => writeAll(fd, bytes));
}

function entriesOf(op: string, stateDict: StateDict): [string, Tensor][] {
  if (stateDict instanceof Map) return [...(stateDict as ReadonlyMap<string, Tensor>).entries()];
  if (stateDict === null || typeof stateDict !== 'object' || Array.isArray(stateDict))
    throw invalidArg(op, 'stateDict', 'an object or Map of names to Tensors', describe(stateDict));
  return Object.entries(stateDict);
}

function checkMetadata(op: string, metadata: unknown): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
    throw invalidArg(op, 'options.metadata', 'an object of string values', describe(metadata));
  for (const [key, value] of Object.entries(metadata))
    if (typeof value !== 'string') throw invalidArg(op, `options.metadata['${key}']`, 'a string', describe(value));
  return metadata as Record<string, string>;
}

/**
 * @internal Writes named tensors (any order) and metadata atomically; `op` names the caller in
 * errors. With `checksum`, the header carries a placeholder that is overwritten with the data's
 * SHA-256 once the data is written (same length, so no offset moves), all before the rename.
 */
export function writeTensors(
  op: string,
  path: string,
  tensors: [string, Tensor][],
  metadata: Record<string, string> | undefined,
  checksum = true,
): void {
  if (checksum) metadata = { ...metadata, [CHECKSUM_KEY]: CHECKSUM_PLACEHOLDER };
  const described = tensors.map(([name, t]) => {
    if (name === '__metadata__') throw invalidArg(op, 'stateDict', 'tensor names other than __metadata__ (reserved by the format)', "'__metadata__'");
    expectTensor(op, `stateDict['${name}']`, t);
    const dtype = FILE_DTYPE[t.dtype];
    return { name, dtype, shape: t.shape, byteLength: t.numel * DTYPE_BYTES[dtype] };
  });
  const { prefix, order } = encodeHeader(described, metadata);
  const hash = createHash('sha256');
  writeAtomically(op, path, (fd) => {
    writeAll(fd, prefix);
    for (const i of order) {
      const data = tensors[i]![1].toArray();
      const bytes = toLittleEndian(Buffer.from(data.buffer, data.byteOffset, data.byteLength), data.BYTES_PER_ELEMENT);
      if (checksum) hash.update(bytes);
      writeAll(fd, bytes);
    }
    if (checksum) {
      // Keys are unique in the header, so the quoted key and placeholder occur exactly once.
      const slot = prefix.indexOf(`${JSON.stringify(CHECKSUM_KEY)}:"${CHECKSUM_PLACEHOLDER}"`) + JSON.stringify(CHECKSUM_KEY).length + 2;
      writeSync(fd, Buffer.from(hash.digest('hex')), 0, 64, slot);
    }
  });
}

/**
 * Saves tensors to a safetensors file, atomically (a crash leaves the old file or the new
 * one). Names are kept as given; PyTorch reads the file with safetensors.torch.load_file.
 *
 * @example
 * sc.save(model.stateDict(), 'checkpoints/vgg.safetensors', { metadata: { epoch: '12' } });
 */
export function save(stateDict: StateDict, path: string, options: SaveOptions = {}): void {
  if (typeof path !== 'string' || path === '') throw invalidArg('save', 'path', 'a file path', describe(path));
  if (options.checksum !== undefined && typeof options.checksum !== 'boolean')
    throw invalidArg('save', 'options.checksum', 'a boolean', describe(options.checksum));
  writeTensors('save', path, entriesOf('save', stateDict), checkMetadata('save', options.metadata), options.checksum ?? true);
}

// ------------------------------------------------------------------------------- reading

interface OpenFile {
  fd: number;
  bytes: number;
}

function readExactly(file: OpenFile, length: number, position: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const n = readSync(file.fd, out, done, length - done, position + done);
    if (n === 0) throw new FormatError(`the file ended after ${position + done} bytes while reading (was it changed while loading?)`);
    done += n;
  }
  return out;
}

function withFile<T>(op: string, path: string, body: (file: OpenFile, header: Header, dataStart: number) => T): T {
  if (typeof path !== 'string' || path === '') throw invalidArg(op, 'path', 'a file path', describe(path));
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    const file = { fd, bytes: fstatSync(fd).size };
    const n = headerLength(readExactly(file, Math.min(8, file.bytes), 0), file.bytes);
    const header = parseHeader(readExactly(file, n, 8), file.bytes - 8 - n);
    return body(file, header, 8 + n);
  } catch (err) {
    throw fileError(op, path, 'read', err);
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

const INT32_MIN = -(2n ** 31n), INT32_MAX = 2n ** 31n - 1n;

/** int64 data as int32 (PyTorch stores counters such as BatchNorm's num_batches_tracked as I64). */
function narrowInt64(entry: TensorEntry, bytes: Uint8Array): Int32Array {
  const wide = new BigInt64Array(toLittleEndian(Buffer.from(bytes.buffer), 8).buffer, 0, bytes.length / 8);
  const out = new Int32Array(wide.length);
  wide.forEach((v, i) => {
    if (v < INT32_MIN || v > INT32_MAX)
      throw new FormatError(`tensor '${entry.name}' (I64) holds ${v}, outside the int32 range sepconv loads I64 tensors into`);
    out[i] = Number(v);
  });
  return out;
}

/** IEEE half (F16) or bfloat16 (BF16) data widened to float32 (exact: every half value is a float). */
function widenHalf(dtype: 'F16' | 'BF16', bytes: Uint8Array): Float32Array {
  const half = new Uint16Array(toLittleEndian(Buffer.from(bytes.buffer), 2).buffer, 0, bytes.length / 2);
  const out = new Float32Array(half.length);
  if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < half.length; ++i) bits[i] = half[i]! << 16;
    return out;
  }
  for (let i = 0; i < half.length; ++i) {
    const h = half[i]!;
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    out[i] =
      exponent === 0 ? sign * mantissa * 2 ** -24 // zero and subnormals
      : exponent === 0x1f ? (mantissa ? NaN : sign * Infinity)
      : sign * (1024 + mantissa) * 2 ** (exponent - 25);
  }
  return out;
}

function readTensor(file: OpenFile, entry: TensorEntry, dataStart: number, hash: ReturnType<typeof createHash>): Tensor {
  const bytes = readExactly(file, entry.end - entry.begin, dataStart + entry.begin);
  hash.update(bytes);
  if (entry.dtype === 'I64') return tensor(narrowInt64(entry, bytes), entry.shape);
  if (entry.dtype === 'F16' || entry.dtype === 'BF16') return tensor(widenHalf(entry.dtype, bytes), entry.shape);
  const dtype = TENSOR_DTYPE[entry.dtype];
  toLittleEndian(Buffer.from(bytes.buffer), DTYPE_BYTES[entry.dtype]);
  return tensor(new (arrayCtor(dtype))(bytes.buffer as ArrayBuffer), entry.shape, { dtype });
}

/** @internal Every tensor of a file and its metadata; `op` names the caller in errors. */
export function readCheckpoint(op: string, path: string): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  return withFile(op, path, (file, header, dataStart) => {
    const tensors: Record<string, Tensor> = {};
    const hash = createHash('sha256');
    try {
      // Entries are in data order and back to back, so this hashes the data section in order.
      for (const entry of header.entries) setOwn(tensors, entry.name, readTensor(file, entry, dataStart, hash));
      const expected = header.metadata[CHECKSUM_KEY];
      if (expected !== undefined && hash.digest('hex') !== expected)
        throw new FormatError(`its data does not match the SHA-256 in its metadata (${CHECKSUM_KEY}): the file is corrupt (a changed or damaged byte)`);
    } catch (err) {
      for (const t of Object.values(tensors)) t.dispose();
      throw err;
    }
    return { tensors, metadata: header.metadata };
  });
}

/**
 * Loads every tensor of a safetensors file (written by sepconv, PyTorch or any safetensors
 * writer) onto the CPU. I64 tensors load as int32 when their values fit; F16 and BF16 widen
 * to float32. A file that carries sepconv's checksum is checked against it.
 *
 * @example
 * model.loadStateDict(sc.load('checkpoints/vgg.safetensors'));
 */
export function load(path: string): Record<string, Tensor> {
  return readCheckpoint('load', path).tensors;
}

/**
 * The string pairs in a safetensors file's __metadata__ (reads the header only).
 *
 * @example
 * const { epoch } = sc.loadMetadata('checkpoints/vgg.safetensors');
 */
export function loadMetadata(path: string): Record<string, string> {
  return withFile('loadMetadata', path, (_file, header) => header.metadata);
}
