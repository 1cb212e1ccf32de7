/**
 * sepconv: deep-learning training for Node.js on native SIMD kernels.
 *
 * @example
 * import * as sc from 'sepconv';
 * const x = sc.randn([2, 3], { requiresGrad: true });
 * x.mul(x).sum().backward();
 * console.log(x.grad!.toArray()); // 2 * x
 */
import './tensor-methods.js'; // attaches Tensor#add, #sum, #backward, … (before anything runs)
import { native } from './native.js';
import type { BackendInfo, MemoryStats } from './native.js';
import { requireCuda } from './tensor.js';
import type { Tensor } from './tensor.js';
import { DEVICE_CODE, isDevice } from './dtype.js';
import type { Device } from './dtype.js';
import { describe, invalidArg } from './errors.js';
import { gemmInto } from './functional/linear.js';

export { Tensor, tensor, zeros, ones, full, zerosLike, randn, rand, empty, manualSeed, getRngState, setRngState, scope } from './tensor.js';
export type { Shape, TensorOptions, RngState } from './tensor.js';
export type { DType, FloatDType, Device } from './dtype.js';
export { noGrad, isGradEnabled } from './autograd/graph.js';
export { SepconvError } from './errors.js';
export { profileKernels, formatKernelProfile } from './profiler.js';
export type { KernelStat } from './profiler.js';
export * as F from './functional/index.js';
export * as data from './data/index.js';
export * as optim from './optim/index.js';
export { matmul } from './functional/linear.js';
export * as nn from './nn/index.js';
export * as models from './models/index.js';
export { summary, compareSummaries } from './nn/summary.js';
export type { ModelSummary, LayerSummary, SummaryOptions } from './nn/summary.js';
export { cat, split, chunk } from './functional/concat.js';
export { save, load, loadMetadata } from './io/checkpoint.js';
export type { SaveOptions, StateDict } from './io/checkpoint.js';
export { saveTrainingState, loadTrainingState } from './io/training-state.js';
export type { StateValue, TrainingState } from './io/training-state.js';
export * as train from './train/index.js';
export * as onnx from './onnx/index.js';
export type { BackendInfo, CudaDeviceInfo, MemoryStats } from './native.js';

/** Which kernels run here: `{ isa, threads, cuda, supportedIsas }`, plus the CUDA device or why there is none. */
export function backend(): BackendInfo {
  return native.backend();
}

/** Sets this thread's kernel pool size (default: hardware threads or SEPCONV_NUM_THREADS). */
export function setNumThreads(threads: number): void {
  native.setNumThreads(threads);
}

/** Memory of `device` held by live tensors and by its allocator's reuse cache. */
export function memoryStats(device: Device = 'cpu'): MemoryStats {
  checkDevice('memoryStats', device);
  return native.memoryStats(DEVICE_CODE[device]);
}

/** Returns `device`'s cached (freed but kept for reuse) memory to the system or the GPU. */
export function emptyCache(device: Device = 'cpu'): void {
  checkDevice('emptyCache', device);
  native.emptyCache(DEVICE_CODE[device]);
}

/** Waits until the CUDA work queued by this thread has finished (for timing; reads wait anyway). */
export function cudaSynchronize(): void {
  requireCuda('cudaSynchronize');
  native.cudaSynchronize();
}

function checkDevice(op: string, device: unknown): void {
  if (!isDevice(device)) throw invalidArg(op, 'device', "'cpu' or 'cuda'", describe(device));
  if (device === 'cuda') requireCuda(op);
}

/** @internal Test hook: run float32 kernels on another ISA path in this thread. */
export function _setIsa(isa: string): void {
  native.setIsa(isa);
}

/**
 * @internal Test hook: the algorithm of eligible 3×3 convolutions in this thread ('auto' picks
 * by shape; 'im2col' or 'winograd' force one where it applies).
 */
export function _setConvAlgo(algo: 'auto' | 'im2col' | 'winograd'): void {
  native.setConvAlgo(algo);
}

/**
 * @internal Test hook: out = alpha * op(a) * op(b) + beta * out on the native GEMM, with
 * op() transposing when asked. No validation beyond the native layer's.
 */
export function _gemm(out: Tensor, a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean; alpha?: number; beta?: number }): void {
  gemmInto(out, a, b, opts);
}
