// Fused SGD and Adam/AdamW parameter updates, in place (CUDA); the same formulas, in the same
// order, as the CPU kernels (cpu/kernels/optim.inl).
#include "core/optim_params.h"
#include "cuda/common.cuh"
#include "cuda/ops/registry.h"

namespace sepconv::cuda::ops {

namespace {

constexpr int kThreads = 256;

template <class T>
struct SgdArgs {
  T lr, momentum, dampening, weight_decay;
  bool nesterov, first_step;
};

template <class T>
__global__ void sgd_kernel(T* param, const T* grad, T* buffer, int64_t n, SgdArgs<T> h) {
  // First step: buf = d exactly (the buffer starts zeroed).
  const T keep = h.first_step ? T(0) : h.momentum, take = h.first_step ? T(1) : T(1) - h.dampening;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const T p = param[i];
    T d = p * h.weight_decay + grad[i];
    if (buffer) {
      const T b = d * take + buffer[i] * keep;
      buffer[i] = b;
      d = h.nesterov ? b * h.momentum + d : b;
    }
    param[i] = d * -h.lr + p;
  }
}

template <class T>
struct AdamArgs {
  T lr, beta1, beta2, eps, weight_decay, step_size, inv_sqrt_bias_correction2;
  T one_minus_beta1, one_minus_beta2;  // in double, then rounded (1 - float(0.999) is off by 1.3e-5)
  bool decoupled;
};

template <class T>
__global__ void adam_kernel(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, int64_t n,
                            AdamArgs<T> h) {
  const T coupled_wd = h.decoupled ? T(0) : h.weight_decay;
  const T param_scale = h.decoupled ? T(1) - h.lr * h.weight_decay : T(1);
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    T p = param[i];
    const T g = p * coupled_wd + grad[i];
    p = p * param_scale;
    const T m = exp_avg[i] * h.beta1 + g * h.one_minus_beta1;
    T v = exp_avg_sq[i] * h.beta2 + g * g * h.one_minus_beta2;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    if (max_exp_avg_sq) {
      v = max(max_exp_avg_sq[i], v);
      max_exp_avg_sq[i] = v;
    }
    const T denom = sqrt(v) * h.inv_sqrt_bias_correction2 + h.eps;
    param[i] = (m / denom) * -h.step_size + p;
  }
}

}  // namespace

void sgd_step(const OpCall& c) {
  const TensorArg& param = c.in(0);
  const SgdStepParams sp = sgd_params(c);
  const int64_t n = param.numel();
  float_dispatch(c, "param", param.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (n == 0) return;
    const SgdArgs<T> h{T(sp.lr), T(sp.momentum), T(sp.dampening), T(sp.weight_decay), sp.nesterov, sp.first_step};
    launch("sgd_step", sgd_kernel<T>, blocks_for(n, kThreads), kThreads, param.ptr<T>(), c.in(1).ptr<T>(),
           sp.momentum != 0 ? c.in(2).ptr<T>() : static_cast<T*>(nullptr), n, h);
  });
}

void adam_step(const OpCall& c) {
  const TensorArg& param = c.in(0);
  const AdamUpdate ap = adam_params(c);
  const int64_t n = param.numel();
  float_dispatch(c, "param", param.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (n == 0) return;
    const AdamArgs<T> h{T(ap.lr),           T(ap.beta1),     T(ap.beta2),
                        T(ap.eps),          T(ap.weight_decay), T(ap.step_size),
                        T(ap.inv_sqrt_bias_correction2), T(1 - ap.beta1),
                        T(1 - ap.beta2),    ap.decoupled};
    launch("adam_step", adam_kernel<T>, blocks_for(n, kThreads), kThreads, param.ptr<T>(), c.in(1).ptr<T>(),
           c.in(2).ptr<T>(), c.in(3).ptr<T>(), ap.amsgrad ? c.in(4).ptr<T>() : static_cast<T*>(nullptr), n, h);
  });
}

}  // namespace sepconv::cuda::ops
