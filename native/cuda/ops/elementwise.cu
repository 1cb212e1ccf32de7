// Elementwise ops, broadcasting and reductions (CUDA).
#include "core/checks/elementwise.h"
#include "cuda/common.cuh"
#include "cuda/ops/registry.h"

namespace sepconv::cuda::ops {

namespace {

constexpr int kThreads = 256;

// A broadcast binary op's index map: per output dim its size and each operand's stride
// (0 where the operand broadcasts).
struct BroadcastMap {
  int ndim;
  int64_t size[kMaxDims];
  int64_t a_stride[kMaxDims];
  int64_t b_stride[kMaxDims];
};

template <BinaryKind Kind, class T>
__device__ __forceinline__ T apply(T a, T b) {
  if (Kind == BinaryKind::add) return a + b;
  if (Kind == BinaryKind::sub) return a - b;
  if (Kind == BinaryKind::mul) return a * b;
  return a / b;
}

template <BinaryKind Kind, class T>
__global__ void binary_same_shape_kernel(const T* a, const T* b, T* out, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = apply<Kind>(a[i], b[i]);
}

template <BinaryKind Kind, class T>
__global__ void binary_broadcast_kernel(const T* a, const T* b, T* out, int64_t n, BroadcastMap m) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rest = i, ia = 0, ib = 0;
    for (int d = m.ndim - 1; d >= 0; --d) {
      const int64_t q = rest / m.size[d], coord = rest - q * m.size[d];
      ia += coord * m.a_stride[d];
      ib += coord * m.b_stride[d];
      rest = q;
    }
    out[i] = apply<Kind>(a[ia], b[ib]);
  }
}

template <BinaryKind Kind, class T>
void run_binary(const TensorArg& a, const TensorArg& b, const TensorArg& out) {
  const int64_t n = out.numel();
  bool same = true;
  for (int d = 0; d < out.ndim; ++d) same = same && a.shape[d] == out.shape[d] && b.shape[d] == out.shape[d];
  if (same) {
    launch("binary", binary_same_shape_kernel<Kind, T>, blocks_for(n, kThreads), kThreads, a.ptr<T>(), b.ptr<T>(),
           out.ptr<T>(), n);
    return;
  }
  BroadcastMap m{};
  m.ndim = out.ndim;
  for (int d = 0; d < out.ndim; ++d) m.size[d] = out.shape[d];
  broadcast_strides(a, out, m.a_stride);
  broadcast_strides(b, out, m.b_stride);
  launch("binary", binary_broadcast_kernel<Kind, T>, blocks_for(n, kThreads), kThreads, a.ptr<T>(), b.ptr<T>(),
         out.ptr<T>(), n, m);
}

template <class T>
__global__ void affine_kernel(const T* x, T* out, int64_t n, T alpha, T beta) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = alpha * x[i] + beta;
}

template <class T>
__global__ void axpy_kernel(const T* x, T* y, int64_t n, T alpha) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] += alpha * x[i];
}

template <class T>
__global__ void relu_forward_kernel(const T* x, T* out, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = x[i] > T(0) ? x[i] : T(0);
}

template <class T>
__global__ void relu_backward_kernel(const T* x, const T* dy, T* dx, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    dx[i] = x[i] > T(0) ? dy[i] : T(0);
}

// sum_to as a reduction of x viewed as [kept..., reduced...]: output element o sums the
// `reduced` elements whose kept coordinates are o's. Kept and reduced dims each keep x's
// order; strides are x's.
struct ReduceMap {
  int kept_ndim, reduced_ndim;
  int64_t kept_size[kMaxDims], kept_stride[kMaxDims];
  int64_t reduced_size[kMaxDims], reduced_stride[kMaxDims];
};

__device__ __forceinline__ int64_t offset_of(int64_t index, int ndim, const int64_t* size, const int64_t* stride) {
  int64_t off = 0;
  for (int d = ndim - 1; d >= 0; --d) {
    const int64_t q = index / size[d];
    off += (index - q * size[d]) * stride[d];
    index = q;
  }
  return off;
}

// Few reduced elements per output: one thread per output element, summing in order.
template <class T>
__global__ void sum_to_serial_kernel(const T* x, T* out, int64_t outputs, int64_t reduced, ReduceMap m) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < outputs; o += int64_t(gridDim.x) * blockDim.x) {
    const int64_t base = offset_of(o, m.kept_ndim, m.kept_size, m.kept_stride);
    T acc = T(0);
    for (int64_t r = 0; r < reduced; ++r) acc += x[base + offset_of(r, m.reduced_ndim, m.reduced_size, m.reduced_stride)];
    out[o] = acc;
  }
}

// Many reduced elements per output: one block per output element (grid-strided): its threads sum strided parts of the
// reduced elements, then a block reduction; the order is fixed, so results are deterministic.
template <class T>
__global__ void sum_to_kernel(const T* x, T* out, int64_t outputs, int64_t reduced, ReduceMap m) {
  __shared__ T scratch[32];
  for (int64_t o = blockIdx.x; o < outputs; o += gridDim.x) {
    const int64_t base = offset_of(o, m.kept_ndim, m.kept_size, m.kept_stride);
    T acc = T(0);
    for (int64_t r = threadIdx.x; r < reduced; r += blockDim.x)
      acc += x[base + offset_of(r, m.reduced_ndim, m.reduced_size, m.reduced_stride)];
    acc = block_sum(acc, scratch);
    if (threadIdx.x == 0) out[o] = acc;
  }
}

}  // namespace

void binary(const OpCall& c) {
  const TensorArg &a = c.in(0), &b = c.in(1), &out = c.out(0);
  const BinaryKind kind = check_binary(c);
  float_dispatch(c, "a", a.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (out.numel() == 0) return;
    switch (kind) {
      case BinaryKind::add: return run_binary<BinaryKind::add, T>(a, b, out);
      case BinaryKind::sub: return run_binary<BinaryKind::sub, T>(a, b, out);
      case BinaryKind::mul: return run_binary<BinaryKind::mul, T>(a, b, out);
      case BinaryKind::div: return run_binary<BinaryKind::div, T>(a, b, out);
    }
  });
}

void affine(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  check_affine(c);
  const AffineParams p = c.params_as<AffineParams>();
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = x.numel();
    if (n > 0)
      launch("affine", affine_kernel<T>, blocks_for(n, kThreads), kThreads, x.ptr<T>(), out.ptr<T>(), n, T(p.alpha),
             T(p.beta));
  });
}

void axpy(const OpCall& c) {
  const TensorArg &x = c.in(0), &y = c.in(1);
  check_axpy(c);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = x.numel();
    if (n > 0) launch("axpy", axpy_kernel<T>, blocks_for(n, kThreads), kThreads, x.ptr<T>(), y.ptr<T>(), n, T(c.params_as<AxpyParams>().alpha));
  });
}

void sum_to(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  check_sum_to(c);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const int64_t outputs = out.numel();
    if (outputs == 0) return;
    ReduceMap m{};
    int64_t stride = 1, reduced = 1;
    int kept_dims[kMaxDims], reduced_dims[kMaxDims];
    int64_t strides[kMaxDims];
    for (int d = x.ndim - 1; d >= 0; --d) strides[d] = stride, stride *= x.shape[d];
    for (int d = 0; d < x.ndim; ++d) {
      if (out.shape[d] == x.shape[d]) kept_dims[m.kept_ndim++] = d;
      else reduced_dims[m.reduced_ndim++] = d, reduced *= x.shape[d];
    }
    for (int i = 0; i < m.kept_ndim; ++i) m.kept_size[i] = x.shape[kept_dims[i]], m.kept_stride[i] = strides[kept_dims[i]];
    for (int i = 0; i < m.reduced_ndim; ++i)
      m.reduced_size[i] = x.shape[reduced_dims[i]], m.reduced_stride[i] = strides[reduced_dims[i]];
    if (reduced < kThreads)
      launch("sum_to", sum_to_serial_kernel<T>, blocks_for(outputs, kThreads), kThreads, x.ptr<T>(), out.ptr<T>(),
             outputs, reduced, m);
    else
      launch("sum_to", sum_to_kernel<T>, blocks_for(outputs, 1), kThreads, x.ptr<T>(), out.ptr<T>(), outputs, reduced,
             m);
  });
}

void relu_forward(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  check_relu_forward(c);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = x.numel();
    if (n > 0) launch("relu_forward", relu_forward_kernel<T>, blocks_for(n, kThreads), kThreads, x.ptr<T>(), out.ptr<T>(), n);
  });
}

void relu_backward(const OpCall& c) {
  const TensorArg &x = c.in(0), &dy = c.in(1), &dx = c.out(0);
  check_relu_backward(c);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const int64_t n = x.numel();
    if (n > 0)
      launch("relu_backward", relu_backward_kernel<T>, blocks_for(n, kThreads), kThreads, x.ptr<T>(), dy.ptr<T>(),
             dx.ptr<T>(), n);
  });
}

}  // namespace sepconv::cuda::ops
