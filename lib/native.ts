/**
 * The one place that loads the native addon. Everything else calls ops through
 * `runKernel` (tensor.ts), which looks ops up by the names of the native op list.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type StorageHandle = object & { readonly __brand?: 'StorageHandle' };

export interface BackendInfo {
  /** The SIMD path running float32 kernels: 'avx512', 'avx2' or 'scalar'. */
  isa: string;
  /** Threads in this environment's kernel pool (SEPCONV_NUM_THREADS overrides). */
  threads: number;
  /** True when the CUDA backend is built and a device is visible. */
  cuda: boolean;
  /** Every ISA this build and CPU can run. */
  supportedIsas: string[];
}

export interface MemoryStats {
  bytesInUse: number;
  bytesCached: number;
  peakBytesInUse: number;
  allocations: number;
  cacheHits: number;
}

export interface NativeAddon {
  alloc(bytes: number): StorageHandle;
  free(handle: StorageHandle): void;
  write(handle: StorageHandle, byteOffset: number, data: ArrayBufferView): void;
  read(handle: StorageHandle, byteOffset: number, byteLength: number): ArrayBuffer;
  run(op: number, handles: StorageHandle[], meta: Float64Array, params: Float64Array, numInputs: number): void;
  opNames(): string[];
  backend(): BackendInfo;
  setIsa(isa: string): void;
  setConvAlgo(algo: string): void;
  setNumThreads(threads: number): void;
  memoryStats(): MemoryStats;
  emptyCache(): void;
  readonly metaStride: number;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;

function load(): NativeAddon {
  try {
    return nodeGypBuild(packageRoot) as NativeAddon;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `sepconv: could not load the native addon (${reason}). Run \`npm rebuild sepconv\` ` +
        '(needs a C++17 compiler and Python for node-gyp) or install a prebuilt binary.',
    );
  }
}

export const native: NativeAddon = load();

const opIds = new Map(native.opNames().map((name, id) => [name, id] as const));

/** The native id of an op, by its name in native/core/ops.h. */
export function opId(name: string): number {
  const id = opIds.get(name);
  if (id === undefined) throw new Error(`sepconv: op '${name}' is not in this build of the native addon (rebuild it)`);
  return id;
}
