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
import { randomBytes } from 'node:crypto';
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
}

const FILE_DTYPE: Record<DType, SafetensorsDType> = { float32: 'F32', float64: 'F64', int32: 'I32', uint8: 'U8' };
const TENSOR_DTYPE: Record<Exclude<SafetensorsDType, 'I64'>, DType> = { F32: 'float32', F64: 'float64', I32: 'int32', U8: 'uint8' };

// Data on disk is little-endian; on a big-endian host each element's bytes are swapped.
const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';
function toLittleEndian(bytes: Buffer, elementSize: number): Buffer {
  if (HOST_IS_LITTLE_ENDIAN || elementSize === 1) return bytes;
  return elementSize === 4 ? bytes.swap32() : bytes.swap64();
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

/** @internal Writes named tensors (any order) and metadata atomically; `op` names the caller in errors. */
export function writeTensors(op: string, path: string, tensors: [string, Tensor][], metadata: Record<string, string> | undefined): void {
  const described = tensors.map(([name, t]) => {
    if (name === '__metadata__') throw invalidArg(op, 'stateDict', 'tensor names other than __metadata__ (reserved by the format)', "'__metadata__'");
    expectTensor(op, `stateDict['${name}']`, t);
    const dtype = FILE_DTYPE[t.dtype];
    return { name, dtype, shape: t.shape, byteLength: t.numel * DTYPE_BYTES[dtype] };
  });
  const { prefix, order } = encodeHeader(described, metadata);
  writeAtomically(op, path, (fd) => {
    writeAll(fd, prefix);
    for (const i of order) {
      const data = tensors[i]![1].toArray();
      writeAll(fd, toLittleEndian(Buffer.from(data.buffer, data.byteOffset, data.byteLength), data.BYTES_PER_ELEMENT));
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
  writeTensors('save', path, entriesOf('save', stateDict), checkMetadata('save', options.metadata));
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

function readTensor(file: OpenFile, entry: TensorEntry, dataStart: number): Tensor {
  const bytes = readExactly(file, entry.end - entry.begin, dataStart + entry.begin);
  if (entry.dtype === 'I64') return tensor(narrowInt64(entry, bytes), entry.shape);
  const dtype = TENSOR_DTYPE[entry.dtype];
  toLittleEndian(Buffer.from(bytes.buffer), DTYPE_BYTES[entry.dtype]);
  return tensor(new (arrayCtor(dtype))(bytes.buffer as ArrayBuffer), entry.shape, { dtype });
}

/** @internal Every tensor of a file and its metadata; `op` names the caller in errors. */
export function readCheckpoint(op: string, path: string): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  return withFile(op, path, (file, header, dataStart) => {
    const tensors: Record<string, Tensor> = {};
    try {
      for (const entry of header.entries) setOwn(tensors, entry.name, readTensor(file, entry, dataStart));
    } catch (err) {
      for (const t of Object.values(tensors)) t.dispose();
      throw err;
    }
    return { tensors, metadata: header.metadata };
  });
}

/**
 * Loads every tensor of a safetensors file (written by sepconv, PyTorch or any safetensors
 * writer) onto the CPU. I64 tensors load as int32 when their values fit.
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
