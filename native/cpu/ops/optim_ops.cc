// Fused SGD and Adam/AdamW parameter updates, in place (CPU).
#include <cmath>

#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

void check_like_param(const OpCall& c, const char* operand, const TensorArg& t, const TensorArg& param) {
  check_numel(c, operand, t, param.numel());
  check_dtype(c, operand, t, param.dtype);
}

}  // namespace

void sgd_step(const OpCall& c) {
  const TensorArg& param = c.in(0);
  const double momentum = c.param(1);
  SEPCONV_CHECK(c.num_inputs == (momentum != 0 ? 3 : 2), "sgd_step: a momentum buffer is needed iff momentum != 0");
  for (int i = 1; i < c.num_inputs; ++i) check_like_param(c, i == 1 ? "grad" : "momentum_buffer", c.in(i), param);
  float_dispatch(c, "param", param.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).optim;
    const SgdHyper<T> h{T(c.param(0)), T(momentum), T(c.param(2)), T(c.param(3)), c.param(4) != 0, c.param(5) != 0};
    T* p = param.ptr<T>();
    const T* g = c.in(1).ptr<T>();
    T* buffer = momentum != 0 ? c.in(2).ptr<T>() : nullptr;
    c.ctx.pool.parallel_for(size_t(param.numel()), kElementwiseGrain, [&](size_t s, size_t e) {
      k.sgd(p + s, g + s, buffer ? buffer + s : nullptr, e - s, h);
    });
  });
}

void adam_step(const OpCall& c) {
  const TensorArg& param = c.in(0);
  const bool amsgrad = c.param(7) != 0;
  SEPCONV_CHECK(c.num_inputs == (amsgrad ? 5 : 4), "adam_step: max_exp_avg_sq is needed iff amsgrad");
  static const char* const names[] = {"param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  for (int i = 1; i < c.num_inputs; ++i) check_like_param(c, names[i], c.in(i), param);
  const double lr = c.param(0), beta1 = c.param(1), beta2 = c.param(2), step = c.param(6);
  SEPCONV_CHECK(step >= 1, "adam_step: step counts from 1, got ", step);
  float_dispatch(c, "param", param.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).optim;
    const AdamHyper<T> h{T(lr),
                         T(beta1),
                         T(beta2),
                         T(c.param(3)),
                         T(c.param(4)),
                         c.param(5) != 0,
                         T(lr / (1 - std::pow(beta1, step))),
                         T(1 / std::sqrt(1 - std::pow(beta2, step)))};
    T* p = param.ptr<T>();
    const T* g = c.in(1).ptr<T>();
    T* m = c.in(2).ptr<T>();
    T* v = c.in(3).ptr<T>();
    T* vmax = amsgrad ? c.in(4).ptr<T>() : nullptr;
    c.ctx.pool.parallel_for(size_t(param.numel()), kElementwiseGrain, [&](size_t s, size_t e) {
      k.adam(p + s, g + s, m + s, v + s, vmax ? vmax + s : nullptr, e - s, h);
    });
  });
}

}  // namespace sepconv::cpu::ops
