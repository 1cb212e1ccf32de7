// Batch normalisation over [N, C, *]: one block per channel reduces its N*plane values with
// a fixed thread-to-element assignment and a tree sum (deterministic), and its thread 0
// turns the sums into per-channel coefficients (in double, as the CPU op does) and updates
// the running statistics; an elementwise kernel then applies the coefficients.
#include "core/checks/norm.h"
#include "cuda/common.cuh"

namespace sepconv::cuda {
namespace {

constexpr int kThreads = 256;

// Per channel: y = (x - shift) * scale + offset (forward), or
// dx = a*dy + b*(x - mean) + c (backward); three coefficients either way.
template <class T>
struct Coeffs {
  T* p;  // [3, C]
  int64_t channels;
  __device__ T& operator()(int which, int64_t ch) const { return p[which * channels + ch]; }
};

struct ForwardFlags {
  bool training, affine, running;
  double momentum, eps;
};

template <class T>
__global__ void bn_forward_channel_kernel(const T* __restrict__ x, const T* weight, const T* bias, T* running_mean,
                                          T* running_var, T* mean, T* invstd, Coeffs<T> k, NormShape s, ForwardFlags f) {
  __shared__ T scratch[32];
  const int64_t ch = blockIdx.x;
  if (!f.training) {
    if (threadIdx.x != 0) return;
    const double is = 1 / sqrt(double(running_var[ch]) + f.eps);
    mean[ch] = k(0, ch) = running_mean[ch];
    invstd[ch] = T(is);
    k(1, ch) = T(is * (f.affine ? double(weight[ch]) : 1.0));
    k(2, ch) = f.affine ? bias[ch] : T(0);
    return;
  }
  // Moments about an element of the channel keep E[(x-s)^2] - E[x-s]^2 free of cancellation.
  const T shift = x[ch * s.plane];
  T sum = T(0), sum_sq = T(0);
  for (int64_t i = threadIdx.x; i < s.per_channel(); i += blockDim.x) {
    const T v = x[s.at(ch, i)] - shift;
    sum += v;
    sum_sq += v * v;
  }
  sum = block_sum(sum, scratch);
  sum_sq = block_sum(sum_sq, scratch);
  if (threadIdx.x != 0) return;
  const double count = double(s.per_channel());
  const double shifted_mean = double(sum) / count;
  const double var = fmax(0.0, double(sum_sq) / count - shifted_mean * shifted_mean);
  const double m = double(shift) + shifted_mean;
  const double is = 1 / sqrt(var + f.eps);
  const double sc = is * (f.affine ? double(weight[ch]) : 1.0);
  mean[ch] = T(m);
  invstd[ch] = T(is);
  k(0, ch) = shift;
  k(1, ch) = T(sc);
  k(2, ch) = T((f.affine ? double(bias[ch]) : 0.0) - shifted_mean * sc);
  if (f.running) {
    // PyTorch updates the running variance with the unbiased estimate.
    running_mean[ch] = T((1 - f.momentum) * double(running_mean[ch]) + f.momentum * m);
    running_var[ch] = T((1 - f.momentum) * double(running_var[ch]) + f.momentum * var * count / (count - 1));
  }
}

template <class T>
__global__ void bn_forward_apply_kernel(const T* __restrict__ x, Coeffs<T> k, T* __restrict__ y, NormShape s) {
  const int64_t total = s.per_channel() * s.channels;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ch = (i / s.plane) % s.channels;
    y[i] = (x[i] - k(0, ch)) * k(1, ch) + k(2, ch);
  }
}

struct BackwardFlags {
  bool training, affine, reduce, need_dparams;
};

template <class T>
__global__ void bn_backward_channel_kernel(const T* __restrict__ x, const T* __restrict__ dy, const T* mean,
                                           const T* invstd, const T* weight, T* dweight, T* dbias, Coeffs<T> k,
                                           NormShape s, BackwardFlags f) {
  __shared__ T scratch[32];
  const int64_t ch = blockIdx.x;
  T sum_dy = T(0), sum_dy_xc = T(0);
  if (f.reduce) {
    const T mu = mean[ch];
    for (int64_t i = threadIdx.x; i < s.per_channel(); i += blockDim.x) {
      const int64_t at = s.at(ch, i);
      sum_dy += dy[at];
      sum_dy_xc += dy[at] * (x[at] - mu);
    }
    sum_dy = block_sum(sum_dy, scratch);
    sum_dy_xc = block_sum(sum_dy_xc, scratch);
  }
  if (threadIdx.x != 0) return;
  const double count = double(s.per_channel());
  const double is = double(invstd[ch]);
  const double ga = (f.affine ? double(weight[ch]) : 1.0) * is;
  k(0, ch) = T(ga);
  k(1, ch) = T(f.training ? -ga * is * is * double(sum_dy_xc) / count : 0.0);
  k(2, ch) = T(f.training ? -ga * double(sum_dy) / count : 0.0);
  if (f.need_dparams) {
    dweight[ch] = T(double(sum_dy_xc) * is);
    dbias[ch] = sum_dy;
  }
}

template <class T>
__global__ void bn_backward_apply_kernel(const T* __restrict__ x, const T* __restrict__ dy, const T* mean, Coeffs<T> k,
                                         T* __restrict__ dx, NormShape s, bool training) {
  const int64_t total = s.per_channel() * s.channels;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ch = (i / s.plane) % s.channels;
    dx[i] = training ? k(0, ch) * dy[i] + k(1, ch) * (x[i] - mean[ch]) + k(2, ch) : k(0, ch) * dy[i];
  }
}

}  // namespace

namespace ops {

void batch_norm_forward(const OpCall& c) {
  const NormShape s = check_batch_norm_forward(c);
  const TensorArg& x = c.in(0);
  const BatchNormForwardParams p = c.params_as<BatchNormForwardParams>();
  const bool training = p.training, affine = p.affine, running = p.running;
  if (s.channels == 0) return;
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const char* op = "batch_norm_forward";
    const Coeffs<T> k{static_cast<T*>(workspace(3 * size_t(s.channels) * sizeof(T))), s.channels};
    const ForwardFlags f{training, affine, running, p.momentum, p.eps};
    const T* weight = affine ? c.in(1).ptr<T>() : nullptr;
    const T* bias = affine ? c.in(2).ptr<T>() : nullptr;
    T* running_mean = running ? c.in(affine ? 3 : 1).ptr<T>() : nullptr;
    T* running_var = running ? c.in(affine ? 4 : 2).ptr<T>() : nullptr;
    launch(op, bn_forward_channel_kernel<T>, dim3(unsigned(s.channels)), dim3(kThreads), x.ptr<T>(), weight, bias,
           running_mean, running_var, c.out(1).ptr<T>(), c.out(2).ptr<T>(), k, s, f);
    launch(op, bn_forward_apply_kernel<T>, dim3(blocks_for(x.numel(), kThreads)), dim3(kThreads), x.ptr<T>(), k,
           c.out(0).ptr<T>(), s);
  });
}

void batch_norm_backward(const OpCall& c) {
  const NormShape s = check_batch_norm_backward(c);
  const TensorArg &x = c.in(0), &dy = c.in(1);
  const BatchNormBackwardParams p = c.params_as<BatchNormBackwardParams>();
  const bool training = p.training, affine = p.affine, need_dx = p.need_dx, need_dparams = p.need_dparams;
  if (s.channels == 0) return;
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const char* op = "batch_norm_backward";
    const Coeffs<T> k{static_cast<T*>(workspace(3 * size_t(s.channels) * sizeof(T))), s.channels};
    const BackwardFlags f{training, affine, training || need_dparams, need_dparams};
    T* dweight = need_dparams ? c.out(need_dx ? 1 : 0).ptr<T>() : nullptr;
    T* dbias = need_dparams ? c.out(need_dx ? 2 : 1).ptr<T>() : nullptr;
    launch(op, bn_backward_channel_kernel<T>, dim3(unsigned(s.channels)), dim3(kThreads), x.ptr<T>(), dy.ptr<T>(),
           c.in(2).ptr<T>(), c.in(3).ptr<T>(), affine ? c.in(4).ptr<T>() : nullptr, dweight, dbias, k, s, f);
    if (need_dx)
      launch(op, bn_backward_apply_kernel<T>, dim3(blocks_for(x.numel(), kThreads)), dim3(kThreads), x.ptr<T>(),
             dy.ptr<T>(), c.in(2).ptr<T>(), k, c.out(0).ptr<T>(), s, training);
  });
}

}  // namespace ops
}  // namespace sepconv::cuda
