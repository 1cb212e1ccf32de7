// What every CUDA op needs: the runtime API (real, or the host emulation when the same source
// is compiled with g++ and SEPCONV_CUDA_EMU), the op-call types and shared operand checks, the per-thread stream and
// scratch memory of the runtime, a checked kernel launch and the block reductions.
#pragma once
#ifdef SEPCONV_CUDA_EMU
#include "cuda/emu/cuda_runtime.h"
#else
#include <cuda_runtime.h>
#endif
#include <cstddef>
#include <cstdint>

#include "core/op_call.h"
#include "core/op_checks.h"

#ifdef __CUDACC__
#define SEPCONV_UNROLL _Pragma("unroll")
#else
#define SEPCONV_UNROLL
#endif

namespace sepconv::cuda {

// Defined by the runtime (native/cuda/runtime): the stream of the calling host thread, and
// device scratch of at least `bytes` that stays valid until the op returns (one per thread).
cudaStream_t current_stream();
void* workspace(size_t bytes);

template <class T>
struct Identity {
  using type = T;
};

// Throws if the last launch failed, naming the op. SEPCONV_CUDA_DEBUG also waits for the
// kernel, so faults inside it are reported by the op that caused them.
inline void check_launch(const char* op) {
  cudaError_t err = cudaGetLastError();
#ifdef SEPCONV_CUDA_DEBUG
  if (err == cudaSuccess) err = cudaStreamSynchronize(current_stream());
#endif
  if (err == cudaSuccess) return;
#ifdef SEPCONV_CUDA_EMU
  const char* detail = emu::last_fault();
  if (*detail) fail(op, ": CUDA kernel failed: ", cudaGetErrorString(err), " (emulator: ", detail, ")");
#endif
  fail(op, ": CUDA kernel failed: ", cudaGetErrorString(err));
}

// kernel<<<grid, block, 0, current_stream()>>>(args...) then check_launch(op). A function,
// not a macro, so templated kernels need no parentheses; the arguments convert to the
// kernel's parameter types as in a direct call.
template <class... P>
void launch(const char* op, void (*kernel)(P...), dim3 grid, dim3 block, typename Identity<P>::type... args) {
#ifdef SEPCONV_CUDA_EMU
  emu::launch(grid, block, [&] { kernel(args...); });
#else
  kernel<<<grid, block, 0, current_stream()>>>(args...);
#endif
  check_launch(op);
}

// The CUDA ops, one per op the schema declares for cuda, defined in native/cuda/ops/*.cu (so
// a declared op without a kernel fails to link).
namespace ops {
#define SEPCONV_DECLARE_CUDA_OP(name, on_cuda) SEPCONV_IF_CUDA(on_cuda, void name(const OpCall& call);)
SEPCONV_OPS(SEPCONV_DECLARE_CUDA_OP)
#undef SEPCONV_DECLARE_CUDA_OP
}  // namespace ops

// Blocks for a 1-D grid over n items; grid-stride loops in the kernels cover any remainder.
inline unsigned blocks_for(int64_t n, int threads, int64_t max_blocks = 65535) {
  const int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b < 1 ? 1 : (b > max_blocks ? max_blocks : b));
}

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  SEPCONV_UNROLL
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

template <class T>
__device__ __forceinline__ T warp_max(T v) {
  SEPCONV_UNROLL
  for (int offset = 16; offset > 0; offset >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024), returned to every thread.
// `scratch` is 32 shared values; the trailing barrier lets the caller reuse it at once.
template <class T>
__device__ T block_sum(T v, T* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  T total = lane < warps ? scratch[lane] : T(0);
  total = warp_sum(total);
  __syncthreads();
  return total;
}

template <class T>
__device__ T block_max(T v, T* scratch, T lowest) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = warp_max(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  T total = lane < warps ? scratch[lane] : lowest;
  total = warp_max(total);
  __syncthreads();
  return total;
}

}  // namespace sepconv::cuda
