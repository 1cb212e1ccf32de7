// Fused SGD and Adam/AdamW parameter updates, in place (CPU).
#include "core/optim_params.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

void sgd_step(const OpCall& c) {
  const TensorArg& param = c.in(0);
  const SgdStepParams sp = sgd_params(c);
  float_dispatch(c, "param", param.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).optim;
    const SgdHyper<T> h{T(sp.lr), T(sp.momentum), T(sp.dampening), T(sp.weight_decay), sp.nesterov, sp.first_step};
    T* p = param.ptr<T>();
    const T* g = c.in(1).ptr<T>();
    T* buffer = sp.momentum != 0 ? c.in(2).ptr<T>() : nullptr;
    c.ctx.pool.parallel_for(size_t(param.numel()), kElementwiseGrain, [&](size_t s, size_t e) {
      k.sgd(p + s, g + s, buffer ? buffer + s : nullptr, e - s, h);
    });
  });
}

void adam_step(const OpCall& c) {
  const TensorArg& param = c.in(0);
  const AdamUpdate ap = adam_params(c);
  float_dispatch(c, "param", param.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).optim;
    const AdamHyper<T> h{T(ap.lr),           T(ap.beta1),        T(ap.beta2),
                         T(ap.eps),          T(ap.weight_decay), T(1 - ap.beta1),
                         T(1 - ap.beta2),    ap.decoupled,
                         T(ap.step_size),    T(ap.inv_sqrt_bias_correction2)};
    T* p = param.ptr<T>();
    const T* g = c.in(1).ptr<T>();
    T* m = c.in(2).ptr<T>();
    T* v = c.in(3).ptr<T>();
    T* vmax = ap.amsgrad ? c.in(4).ptr<T>() : nullptr;
    c.ctx.pool.parallel_for(size_t(param.numel()), kElementwiseGrain, [&](size_t s, size_t e) {
      k.adam(p + s, g + s, m + s, v + s, vmax ? vmax + s : nullptr, e - s, h);
    });
  });
}

}  // namespace sepconv::cpu::ops
