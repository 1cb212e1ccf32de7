// Fused optimizer updates: one pass over a parameter, its gradient and its state buffers,
// updating them in place. Step-dependent scalars (bias corrections) are folded by the caller.
#pragma once
#include <cstddef>

namespace sepconv::cpu {

template <class T>
struct SgdHyper {
  T lr, momentum, dampening, weight_decay;
  bool nesterov;
  bool first_step;  // the momentum buffer starts as the first (decayed) gradient, undampened
};

template <class T>
struct AdamHyper {
  T lr, beta1, beta2, eps, weight_decay;
  // 1 - beta in double, then rounded: 1 - float(0.999) is off by 1.3e-5 relative.
  T one_minus_beta1, one_minus_beta2;
  bool decoupled_weight_decay;  // AdamW: param *= 1 - lr*wd; Adam: grad += wd*param
  T step_size;                  // lr / (1 - beta1^step)
  T inv_sqrt_bias_correction2;  // 1 / sqrt(1 - beta2^step)
};

template <class T>
struct OptimKernels {
  // PyTorch's SGD: d = g + wd*p; with momentum, buf = m*buf + (1-dampening)*d and
  // d = nesterov ? d + m*buf : buf; then p -= lr*d. `momentum_buffer` is null without momentum.
  void (*sgd)(T* param, const T* grad, T* momentum_buffer, size_t n, const SgdHyper<T>& h);
  // PyTorch's Adam/AdamW; `max_exp_avg_sq` is null unless amsgrad.
  void (*adam)(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, T* max_exp_avg_sq, size_t n, const AdamHyper<T>& h);
};

}  // namespace sepconv::cpu
