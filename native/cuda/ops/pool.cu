// Max-pooling with int32 argmax indices and max-unpooling, forward and backward.
// Pooling is one thread per output; the backward scatter-adds with atomics (windows may
// overlap); unpooling scatters/gathers by index. Indices are checked on the device: the
// first bad element (lowest position, via atomicMin) is read back and reported as the CPU
// op reports it.
#include "cpu/ops/index_checks.h"
#include "cuda/common.cuh"

namespace sepconv::cuda {
namespace {

struct PoolGeometry {
  int64_t in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
};

// PyTorch's pooled size: floor (or ceil) of the window count; in ceil mode a last window
// that would start in the right padding is dropped.
int64_t pooled_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

void check_same_shape(const OpCall& c, const char* operand, const TensorArg& t, const TensorArg& like, const char* like_name) {
  bool same = t.ndim == like.ndim;
  for (int d = 0; same && d < t.ndim; ++d) same = t.shape[d] == like.shape[d];
  SEPCONV_CHECK(same, op_name(c.op), ": ", operand, " must have the shape of ", like_name);
}

void check_planes(const OpCall& c, const TensorArg& a, const char* a_name, const TensorArg& b, const char* b_name) {
  check_ndim(c, a_name, a, 4);
  check_ndim(c, b_name, b, 4);
  SEPCONV_CHECK(a.shape[0] == b.shape[0] && a.shape[1] == b.shape[1], op_name(c.op), ": ", a_name, " and ", b_name,
                " must have the same batch and channel sizes");
  SEPCONV_CHECK(a.shape[2] * a.shape[3] <= INT32_MAX && b.shape[2] * b.shape[3] <= INT32_MAX, op_name(c.op),
                ": planes must have fewer than 2^31 elements (indices are int32)");
}

PoolGeometry pool_geometry(const OpCall& c, const TensorArg& x, const TensorArg& out) {
  PoolGeometry g{x.shape[2], x.shape[3], out.shape[2], out.shape[3], c.iparam(0), c.iparam(1), c.iparam(2),
                 c.iparam(3),  c.iparam(4), c.iparam(5), c.iparam(6),  c.iparam(7)};
  const bool ceil_mode = c.param(8) != 0;
  SEPCONV_CHECK(g.kernel_h > 0 && g.kernel_w > 0 && g.stride_h > 0 && g.stride_w > 0 && g.dilation_h > 0 &&
                    g.dilation_w > 0 && g.pad_h >= 0 && g.pad_w >= 0,
                op_name(c.op), ": kernel, stride and dilation must be positive and padding non-negative");
  SEPCONV_CHECK(2 * g.pad_h <= g.kernel_h && 2 * g.pad_w <= g.kernel_w, op_name(c.op),
                ": padding must be at most half the kernel size");
  const int64_t oh = pooled_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h, ceil_mode);
  const int64_t ow = pooled_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w, ceil_mode);
  SEPCONV_CHECK(oh > 0 && ow > 0 && g.out_h == oh && g.out_w == ow, op_name(c.op), ": out is ", g.out_h, "x",
                g.out_w, " per plane, the window geometry gives ", oh, "x", ow);
  return g;
}

constexpr int kThreads = 256;

// The window scan of the CPU kernel: first in-bounds tap, then any greater value or NaN;
// a window over padding only gives -inf and index -1.
template <class T>
__global__ void max_pool_kernel(const T* __restrict__ x, T* __restrict__ out, int32_t* __restrict__ index,
                                PoolGeometry g, int64_t total) {
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

enum class IndexMove { ScatterAdd, ScatterAssign, Gather };

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

void move_checked(const OpCall& c, IndexMove kind, const TensorArg& src, const TensorArg& idx, const TensorArg& dst,
                  const char* public_name) {
  check_dtype(c, "indices", idx, DType::I32);
  check_dtype(c, "out", dst, src.dtype);
  const char* op = op_name(c.op);
  const TensorArg& indexed = kind == IndexMove::Gather ? src : dst;
  const int64_t limit = indexed.shape[2] * indexed.shape[3], count = idx.shape[2] * idx.shape[3];
  const int64_t total = idx.numel();
  cudaStream_t stream = current_stream();
  auto* first_bad = static_cast<unsigned long long*>(workspace(sizeof(unsigned long long)));
  SEPCONV_CHECK(cudaMemsetAsync(first_bad, 0xff, sizeof *first_bad, stream) == cudaSuccess, op, ": cudaMemset failed");
  float_dispatch(c, "input", src.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (kind != IndexMove::Gather)
      SEPCONV_CHECK(cudaMemsetAsync(dst.data, 0, size_t(dst.numel()) * sizeof(T), stream) == cudaSuccess, op,
                    ": cudaMemset failed");
    if (total == 0) return;
    launch(op, move_by_index_kernel<T>, dim3(blocks_for(total, kThreads)), dim3(kThreads), src.ptr<T>(),
           idx.ptr<int32_t>(), dst.ptr<T>(), kind, count, limit, src.shape[2] * src.shape[3],
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
  fail(public_name, ": expected values in [0, ", limit - 1, "] (positions within the ", indexed.shape[2], "x",
       indexed.shape[3], " plane) for indices but received ", value, " at ", cpu::coordinates(int64_t(bad), idx));
}

}  // namespace

namespace ops {

void max_pool2d_forward(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0), &idx = c.out(1);
  check_planes(c, x, "x", out, "out");
  check_same_shape(c, "indices", idx, out, "out");
  check_dtype(c, "out", out, x.dtype);
  check_dtype(c, "indices", idx, DType::I32);
  const PoolGeometry g = pool_geometry(c, x, out);
  const int64_t total = out.numel();
  if (total == 0) return;
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    launch("max_pool2d_forward", max_pool_kernel<T>, dim3(blocks_for(total, kThreads)), dim3(kThreads), x.ptr<T>(),
           out.ptr<T>(), idx.ptr<int32_t>(), g, total);
  });
}

void max_pool2d_backward(const OpCall& c) {
  const TensorArg &dy = c.in(0), &idx = c.in(1), &dx = c.out(0);
  check_planes(c, dy, "dy", dx, "dx");
  check_same_shape(c, "indices", idx, dy, "dy");
  move_checked(c, IndexMove::ScatterAdd, dy, idx, dx, "maxPool2d backward");
}

void max_unpool2d_forward(const OpCall& c) {
  const TensorArg &x = c.in(0), &idx = c.in(1), &out = c.out(0);
  check_planes(c, x, "x", out, "out");
  check_same_shape(c, "indices", idx, x, "x");
  move_checked(c, IndexMove::ScatterAssign, x, idx, out, "maxUnpool2d");
}

void max_unpool2d_backward(const OpCall& c) {
  const TensorArg &dy = c.in(0), &idx = c.in(1), &dx = c.out(0);
  check_planes(c, dy, "dy", dx, "dx");
  check_same_shape(c, "indices", idx, dx, "dx");
  move_checked(c, IndexMove::Gather, dy, idx, dx, "maxUnpool2d backward");
}

}  // namespace ops
}  // namespace sepconv::cuda
