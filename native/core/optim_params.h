// sgd_step / adam_step operands and params as every backend reads them (checked once here):
// PyTorch's SGD and Adam/AdamW, with the step-dependent bias corrections folded in.
#pragma once
#include <cmath>

#include "core/op_call.h"

namespace sepconv {

// adam_step's params with the step-dependent bias corrections folded in.
struct AdamUpdate {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;                   // AdamW: param *= 1 - lr*wd; Adam: grad += wd*param
  bool amsgrad;
  double step_size;                 // lr / (1 - beta1^step)
  double inv_sqrt_bias_correction2; // 1 / sqrt(1 - beta2^step)
};

namespace detail {
inline void check_like_param(const OpCall& c, const char* operand, const TensorArg& t, const TensorArg& param) {
  SEPCONV_CHECK(t.numel() == param.numel(), op_name(c.op), ": ", operand, " has ", t.numel(), " elements, expected ",
                param.numel());
  SEPCONV_CHECK(t.dtype == param.dtype, op_name(c.op), ": ", operand, " must be ", dtype_name(param.dtype), ", got ",
                dtype_name(t.dtype));
}
}  // namespace detail

// first_step: the momentum buffer starts as the first (decayed) gradient, undampened.
inline SgdStepParams sgd_params(const OpCall& c) {
  const TensorArg& param = c.in(0);
  const SgdStepParams p = c.params_as<SgdStepParams>();
  SEPCONV_CHECK(c.num_inputs == (p.momentum != 0 ? 3 : 2), "sgd_step: a momentum buffer is needed iff momentum != 0");
  for (int i = 1; i < c.num_inputs; ++i)
    detail::check_like_param(c, i == 1 ? "grad" : "momentum_buffer", c.in(i), param);
  return p;
}

inline AdamUpdate adam_params(const OpCall& c) {
  const TensorArg& param = c.in(0);
  const AdamStepParams p = c.params_as<AdamStepParams>();
  const bool amsgrad = p.amsgrad;
  SEPCONV_CHECK(c.num_inputs == (amsgrad ? 5 : 4), "adam_step: max_exp_avg_sq is needed iff amsgrad");
  static const char* const names[] = {"param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  for (int i = 1; i < c.num_inputs; ++i) detail::check_like_param(c, names[i], c.in(i), param);
  const double lr = p.lr, beta1 = p.beta1, beta2 = p.beta2, step = double(p.step);
  SEPCONV_CHECK(step >= 1, "adam_step: step counts from 1, got ", step);
  return {lr,
          beta1,
          beta2,
          p.eps,
          p.weight_decay,
          p.decoupled,
          amsgrad,
          lr / (1 - std::pow(beta1, step)),
          1 / std::sqrt(1 - std::pow(beta2, step))};
}

}  // namespace sepconv
