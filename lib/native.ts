/**
 * The one place that loads the native addon. Everything else calls ops through
 * `runKernel` (tensor.ts) with the op table of ops.ts, resolved against the addon at load.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type StorageHandle = object & { readonly __brand?: 'StorageHandle' };

export interface BackendInfo {
  /** The SIMD path running float32 kernels: 'avx512', 'avx2' or 'scalar'. */
  isa: string;
  /** Threads in this environment's kernel pool (SEPCONV_NUM_THREADS overrides). */
  threads: number;
  /** True when the CUDA backend library loaded and a device is visible. */
  cuda: boolean;
  /** Device 0, when `cuda` is true (`emulated` for the host emulator used in tests). */
  cudaDevice?: CudaDeviceInfo;
  /** Why `cuda` is false: no backend library (and why it did not load), or no device. */
  cudaUnavailable?: string;
  /** Every ISA this build and CPU can run. */
  supportedIsas: string[];
}

export interface CudaDeviceInfo {
  name: string;
  computeCapability: string;
  multiprocessors: number;
  clockKHz: number;
  memoryClockKHz: number;
  memoryBusBits: number;
  totalMemory: number;
  emulated: boolean;
}

export interface MemoryStats {
  bytesInUse: number;
  bytesCached: number;
  peakBytesInUse: number;
  allocations: number;
  cacheHits: number;
  /** CUDA only: cudaMalloc calls made (the rest came from the cache). */
  deviceMallocs?: number;
  /** CUDA only: times the cache was released to retry an allocation that ran out of memory. */
  oomRetries?: number;
  /** CUDA only: the device's free and total memory. */
  deviceFree?: number;
  deviceTotal?: number;
}

export interface NativeAddon {
  /** `device` is a DEVICE_CODE (0 cpu, 1 cuda). */
  alloc(bytes: number, device?: number): StorageHandle;
  free(handle: StorageHandle): void;
  write(handle: StorageHandle, byteOffset: number, data: ArrayBufferView): void;
  read(handle: StorageHandle, byteOffset: number, byteLength: number): ArrayBuffer;
  /** Copies bytes between storages on any devices (uploads stage through pinned memory). */
  transfer(src: StorageHandle, srcByteOffset: number, dst: StorageHandle, dstByteOffset: number, byteLength: number): void;
  /** Waits for the calling thread's queued CUDA work. */
  cudaSynchronize(): void;
  /** Whether the loaded CUDA backend has a kernel for the op (by id). */
  cudaOpSupported(op: number): boolean;
  run(op: number, handles: StorageHandle[], meta: Float64Array, params: Float64Array, numInputs: number): void;
  opNames(): string[];
  backend(): BackendInfo;
  setIsa(isa: string): void;
  setConvAlgo(algo: string): void;
  setFloat32Precision(precision: string): void;
  getFloat32Precision(): string;
  setNumThreads(threads: number): void;
  memoryStats(device?: number): MemoryStats;
  emptyCache(device?: number): void;
  /** The C++ output-size helper (native/core/output_size.h), for tests against lib/functional/output-size.ts. */
  outputSize(size: number, kernel: number, stride: number, padding: number, dilation: number, ceilMode: boolean): number;
  readonly metaStride: number;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };

const fallback =
  'Fallback: `npm rebuild sepconv` compiles it from source (needs a C++17 compiler, make and Python 3; ' +
  'an npm that blocks dependency install scripts needs `npm install-scripts approve sepconv` first; ' +
  'see "Install" in the README for the platforms with prebuilt binaries)';

/**
 * Loads the addon node-gyp-build picks in `root`: build/Release/sepconv.node (a source build),
 * else prebuilds/<platform>-<arch>/ with this libc's tag (prebuilds for another arch or libc
 * are never picked). Errors name the file and the fallback.
 */
export function loadAddon(root: string): NativeAddon {
  let file: string;
  try {
    file = nodeGypBuild.resolve(root);
  } catch {
    const libc = process.platform === 'linux' ? ` (${process.env.LIBC || (existsSync('/etc/alpine-release') ? 'musl' : 'glibc')})` : '';
    throw new Error(
      `sepconv: no native addon for ${process.platform}-${process.arch}${libc}: neither ` +
        `${join(root, 'build', 'Release', 'sepconv.node')} nor a matching binary in ${join(root, 'prebuilds')}. ${fallback}.`,
    );
  }
  try {
    return require(file) as NativeAddon;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_SEPCONV_ISA') throw err; // SEPCONV_ISA names a path this CPU lacks
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(`sepconv: could not load the native addon ${file} (${reason}). ${fallback}.`);
  }
}

export const native: NativeAddon = loadAddon(packageRoot);

