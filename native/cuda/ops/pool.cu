// Max-pooling with int32 argmax indices and max-unpooling, forward and backward.
// Pooling is one thread per output; the backward scatter-adds with atomics (windows may
// overlap); unpooling scatters/gathers by index. Indices are checked on the device: the
// first bad element (lowest position, via atomicMin) is read back and reported as the CPU
// op reports it.
#include "core/checks/pool.h"
#include "cuda/common.cuh"

namespace sepconv::cuda {
namespace {

constexpr int kThreads = 256;

// The window scan of the CPU kernel: first in-bounds tap, then any greater value or NaN;
// a window over padding only gives -inf and index -1.
template <class T>
__global__ void max_pool_kernel(const T* __restrict__ x, T* __restrict__ out, int32_t* __restrict__ index,
                                Pool2dGeometry g, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ow = i % g.out_w, oh = (i / g.out_w) % g.out_h, plane = i / (g.out_w * g.out_h);
    const T* src = x + plane * g.in_h * g.in_w;
    const int64_t h0 = oh * g.stride_h - g.pad_h, w0 = ow * g.stride_w - g.pad_w;
    T best = T(-INFINITY);
    int64_t best_at = -1;
    for (int64_t ky = 0; ky < g.kernel_h; ++ky) {
      const int64_t h = h0 + ky * g.dilation_h;
      if (h < 0 || h >= g.in_h) continue;
      for (int64_t kx = 0; kx < g.kernel_w; ++kx) {
        const int64_t w = w0 + kx * g.dilation_w;
        if (w < 0 || w >= g.in_w) continue;
        const T v = src[h * g.in_w + w];
        if (best_at < 0 || v > best || v != v) {
          best = v;
          best_at = h * g.in_w + w;
        }
      }
    }
    out[i] = best;
    index[i] = int32_t(best_at);
  }
}

// Element k of plane p moves between src and dst by idx (see move_by_index in the CPU op);
// dst is zeroed first for the scatters. Bad indices are skipped (gathers write 0) and the
// lowest bad element is kept in *first_bad.
template <class T>
__global__ void move_by_index_kernel(const T* __restrict__ src, const int32_t* __restrict__ idx, T* __restrict__ dst,
                                     IndexMove kind, int64_t count, int64_t limit, int64_t src_plane,
                                     int64_t dst_plane, int64_t total, unsigned long long* first_bad) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = i / count, k = i % count, at = idx[i];
    if (at < 0 || at >= limit) {
      if (!(at == -1 && kind == IndexMove::ScatterAdd)) atomicMin(first_bad, (unsigned long long)i);
      if (kind == IndexMove::Gather) dst[p * dst_plane + k] = T(0);
      continue;
    }
    if (kind == IndexMove::Gather)
      dst[p * dst_plane + k] = src[p * src_plane + at];
    else if (kind == IndexMove::ScatterAdd)
      atomicAdd(dst + p * dst_plane + at, src[p * src_plane + k]);
    else
      dst[p * dst_plane + at] = src[p * src_plane + k];
  }
}

void move_checked(const OpCall& c) {
  const IndexMoveOperands m = check_index_move(c);
  const char* op = op_name(c.op);
  const TensorArg &src = m.src, &idx = m.idx, &dst = m.dst;
  const int64_t limit = m.indexed().shape[2] * m.indexed().shape[3], count = idx.shape[2] * idx.shape[3];
  const int64_t total = idx.numel();
  cudaStream_t stream = current_stream();
  auto* first_bad = static_cast<unsigned long long*>(workspace(sizeof(unsigned long long)));
  SEPCONV_CHECK(cudaMemsetAsync(first_bad, 0xff, sizeof *first_bad, stream) == cudaSuccess, op, ": cudaMemset failed");
  float_dispatch(c, "input", src.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (m.kind != IndexMove::Gather)
      SEPCONV_CHECK(cudaMemsetAsync(dst.data, 0, size_t(dst.numel()) * sizeof(T), stream) == cudaSuccess, op,
                    ": cudaMemset failed");
    if (total == 0) return;
    launch(op, move_by_index_kernel<T>, dim3(blocks_for(total, kThreads)), dim3(kThreads), src.ptr<T>(),
           idx.ptr<int32_t>(), dst.ptr<T>(), m.kind, count, limit, src.shape[2] * src.shape[3],
           dst.shape[2] * dst.shape[3], total, first_bad);
  });
  unsigned long long bad = 0;
  int32_t value = 0;
  SEPCONV_CHECK(cudaMemcpyAsync(&bad, first_bad, sizeof bad, cudaMemcpyDeviceToHost, stream) == cudaSuccess &&
                    cudaStreamSynchronize(stream) == cudaSuccess,
                op, ": reading the index check back failed");
  if (bad == ~0ull) return;
  SEPCONV_CHECK(cudaMemcpyAsync(&value, idx.ptr<int32_t>() + bad, sizeof value, cudaMemcpyDeviceToHost, stream) ==
                        cudaSuccess &&
                    cudaStreamSynchronize(stream) == cudaSuccess,
                op, ": reading the bad index back failed");
  fail_bad_index(m, value, int64_t(bad));
}

}  // namespace

namespace ops {

void max_pool2d_forward(const OpCall& c) {
  const Pool2dGeometry g = check_max_pool2d_forward(c);
  const TensorArg &x = c.in(0), &out = c.out(0), &idx = c.out(1);
  const int64_t total = out.numel();
  if (total == 0) return;
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    launch("max_pool2d_forward", max_pool_kernel<T>, dim3(blocks_for(total, kThreads)), dim3(kThreads), x.ptr<T>(),
           out.ptr<T>(), idx.ptr<int32_t>(), g, total);
  });
}

void max_pool2d_backward(const OpCall& c) { move_checked(c); }

void max_unpool2d_forward(const OpCall& c) { move_checked(c); }

void max_unpool2d_backward(const OpCall& c) { move_checked(c); }

}  // namespace ops
}  // namespace sepconv::cuda
