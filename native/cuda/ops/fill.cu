// Constant and random fills, dtype conversion (CUDA). The random fills use the CPU's counter
// stream (core/random.h), so a seed draws the same numbers on both devices.
#include "core/random.h"
#include "cuda/common.cuh"
#include "cuda/ops/registry.h"

namespace sepconv::cuda::ops {

namespace {

constexpr int kThreads = 256;

template <class F>
void any_dispatch(DType t, F&& f) {
  switch (t) {
    case DType::F32: return f(float{});
    case DType::F64: return f(double{});
    case DType::I32: return f(int32_t{});
    case DType::U8: return f(uint8_t{});
  }
}

template <class T>
__global__ void fill_kernel(T* out, int64_t n, T value) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = value;
}

template <class S, class D>
__global__ void convert_kernel(const S* x, D* out, int64_t n) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = static_cast<D>(x[i]);
}

template <class T>
__global__ void randn_kernel(T* out, int64_t n, double mean, double stddev, uint64_t seed, uint64_t counter) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = T(mean + stddev * normal_from_bits(random_bits(seed, counter + uint64_t(i))));
}

template <class T>
__global__ void uniform_kernel(T* out, int64_t n, double low, double high, uint64_t seed, uint64_t counter) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = T(low + (high - low) * to_unit(random_bits(seed, counter + uint64_t(i))));
}

template <class T>
__global__ void bernoulli_kernel(T* out, int64_t n, uint64_t threshold, T scale, uint64_t seed, uint64_t counter) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    out[i] = (random_bits(seed, counter + uint64_t(i)) >> 11) < threshold ? scale : T(0);
}

}  // namespace

void fill(const OpCall& c) {
  const TensorArg& out = c.out(0);
  const double value = c.params_as<FillParams>().value;
  const int64_t n = out.numel();
  if (n == 0) return;
  any_dispatch(out.dtype, [&](auto zero) {
    using T = decltype(zero);
    launch("fill", fill_kernel<T>, blocks_for(n, kThreads), kThreads, out.ptr<T>(), n, T(value));
  });
}

void copy(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  check_numel(c, "out", out, x.numel());
  const int64_t n = x.numel();
  if (n == 0) return;
  if (x.dtype == out.dtype) {
    const size_t bytes = size_t(n) * dtype_size(x.dtype);
    const cudaError_t err = cudaMemcpyAsync(out.data, x.data, bytes, cudaMemcpyDeviceToDevice, current_stream());
    if (err != cudaSuccess) fail("copy: cudaMemcpyAsync: ", cudaGetErrorString(err));
    return;
  }
  any_dispatch(x.dtype, [&](auto zx) {
    using S = decltype(zx);
    any_dispatch(out.dtype, [&](auto zo) {
      using D = decltype(zo);
      launch("copy", convert_kernel<S, D>, blocks_for(n, kThreads), kThreads, x.ptr<S>(), out.ptr<D>(), n);
    });
  });
}

void fill_randn(const OpCall& c) {
  const TensorArg& out = c.out(0);
  const int64_t n = out.numel();
  const FillRandnParams q = c.params_as<FillRandnParams>();
  float_dispatch(c, "out", out.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (n == 0) return;
    launch("fill_randn", randn_kernel<T>, blocks_for(n, kThreads), kThreads, out.ptr<T>(), n, q.mean, q.std,
           uint64_t(q.seed), uint64_t(q.counter));
  });
}

void fill_uniform(const OpCall& c) {
  const TensorArg& out = c.out(0);
  const int64_t n = out.numel();
  const FillUniformParams q = c.params_as<FillUniformParams>();
  float_dispatch(c, "out", out.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (n == 0) return;
    launch("fill_uniform", uniform_kernel<T>, blocks_for(n, kThreads), kThreads, out.ptr<T>(), n, q.low, q.high,
           uint64_t(q.seed), uint64_t(q.counter));
  });
}

void fill_bernoulli(const OpCall& c) {
  const TensorArg& out = c.out(0);
  const FillBernoulliParams q = c.params_as<FillBernoulliParams>();
  const double keep_prob = q.keep_prob, scale = q.scale;
  SEPCONV_CHECK(keep_prob >= 0 && keep_prob <= 1, "fill_bernoulli: keep_prob must be in [0, 1], got ", keep_prob);
  const int64_t n = out.numel();
  float_dispatch(c, "out", out.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (n == 0) return;
    launch("fill_bernoulli", bernoulli_kernel<T>, blocks_for(n, kThreads), kThreads, out.ptr<T>(), n,
           keep_threshold(keep_prob), T(scale), uint64_t(q.seed), uint64_t(q.counter));
  });
}

}  // namespace sepconv::cuda::ops
