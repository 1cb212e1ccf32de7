// narrow_copy (CUDA): cat/split/narrow's slice copies, any dtype, moved as whole elements.
#include "core/checks/elementwise.h"
#include "cuda/common.cuh"
#include "cuda/ops/registry.h"

namespace sepconv::cuda::ops {

namespace {

constexpr int kThreads = 256;

// Per outer index the slice is `block` contiguous elements in both tensors.
template <class T>
__global__ void narrow_copy_kernel(const T* src, T* dst, int64_t outer, int64_t block, int64_t src_stride,
                                   int64_t dst_stride) {
  const int64_t n = outer * block;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = i / block, r = i - o * block;
    dst[o * dst_stride + r] = src[o * src_stride + r];
  }
}

}  // namespace

void narrow_copy(const OpCall& c) {
  const TensorArg &src = c.in(0), &dst = c.out(0);
  const NarrowSlice slice = check_narrow_copy(c);
  const int64_t dim = slice.dim, src_start = slice.src_start, dst_start = slice.dst_start, length = slice.length,
                outer = slice.outer, inner = slice.inner;
  const int64_t block = length * inner;
  if (block == 0 || outer == 0) return;
  // A byte copy: move each element as an unsigned integer of its size.
  auto run = [&](auto zero) {
    using T = decltype(zero);
    launch("narrow_copy", narrow_copy_kernel<T>, blocks_for(outer * block, kThreads), kThreads,
           src.ptr<T>() + src_start * inner, dst.ptr<T>() + dst_start * inner, outer, block, src.shape[dim] * inner,
           dst.shape[dim] * inner);
  };
  switch (dtype_size(src.dtype)) {
    case 1: return run(uint8_t{});
    case 4: return run(uint32_t{});
    default: return run(uint64_t{});
  }
}

}  // namespace sepconv::cuda::ops
