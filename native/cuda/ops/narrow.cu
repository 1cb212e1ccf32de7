// narrow_copy (CUDA): cat/split/narrow's slice copies, any dtype, moved as whole elements.
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
  const int64_t dim = c.iparam(0), src_start = c.iparam(1), dst_start = c.iparam(2), length = c.iparam(3);
  check_dtype(c, "dst", dst, src.dtype);
  SEPCONV_CHECK(src.ndim == dst.ndim, "narrow_copy: src has ", src.ndim, " dims but dst has ", dst.ndim);
  SEPCONV_CHECK(dim >= 0 && dim < src.ndim, "narrow_copy: dim ", dim, " is out of range for ", src.ndim, " dims");
  for (int d = 0; d < src.ndim; ++d)
    SEPCONV_CHECK(d == dim || src.shape[d] == dst.shape[d], "narrow_copy: src and dst differ at dim ", d, " (",
                  src.shape[d], " vs ", dst.shape[d], ")");
  SEPCONV_CHECK(length >= 0 && src_start >= 0 && dst_start >= 0 && src_start + length <= src.shape[dim] &&
                    dst_start + length <= dst.shape[dim],
                "narrow_copy: slice [", src_start, ", ", src_start + length, ") -> [", dst_start, ", ",
                dst_start + length, ") does not fit sizes ", src.shape[dim], " and ", dst.shape[dim]);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < dim; ++d) outer *= src.shape[d];
  for (int d = int(dim) + 1; d < src.ndim; ++d) inner *= src.shape[d];
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
