// Operand checks and shape of the batch-norm ops, shared by the CPU and CUDA ops (host-only,
// no CPU-only includes).
#pragma once
#include <algorithm>
#include <cstdint>

#include "core/op_checks.h"

namespace sepconv {

// x [N, C, *] as N images of C channels of `plane` values each.
struct NormShape {
  int64_t batch, channels, plane;
  SEPCONV_HOST_DEVICE int64_t per_channel() const { return batch * plane; }
  // Flat offset of the i-th value (image-major) of `channel`.
  SEPCONV_HOST_DEVICE int64_t at(int64_t channel, int64_t i) const {
    return ((i / plane) * channels + channel) * plane + i % plane;
  }
};

namespace norm_checks {

inline NormShape norm_shape(const OpCall& c, const TensorArg& x) {
  SEPCONV_CHECK(x.ndim >= 2, op_name(c.op), ": x must have at least 2 dims [N, C, ...], got ", x.ndim);
  return {x.shape[0], x.shape[1], x.numel() / std::max<int64_t>(1, x.shape[0] * x.shape[1])};
}

inline void check_channel_vector(const OpCall& c, const char* operand, const TensorArg& t, const TensorArg& x,
                                 int64_t channels) {
  check_ndim(c, operand, t, 1);
  check_numel(c, operand, t, channels);
  check_dtype(c, operand, t, x.dtype);
}

}  // namespace norm_checks

// batch_norm_forward (see core/ops.h for the operands and params).
inline NormShape check_batch_norm_forward(const OpCall& c) {
  using norm_checks::check_channel_vector;
  const TensorArg& x = c.in(0);
  const NormShape s = norm_checks::norm_shape(c, x);
  const BatchNormForwardParams p = c.params_as<BatchNormForwardParams>();
  const bool training = p.training, affine = p.affine, running = p.running;
  SEPCONV_CHECK(c.num_inputs == 1 + (affine ? 2 : 0) + (running ? 2 : 0), "batch_norm_forward: ", c.num_inputs,
                " inputs do not match the affine/running flags");
  SEPCONV_CHECK(training || running, "batch_norm_forward: evaluation needs running statistics");
  SEPCONV_CHECK(!training || s.per_channel() > 1, "batch_norm_forward: training needs more than one value per channel");
  for (int i = 1; i < c.num_inputs; ++i) check_channel_vector(c, "weight/bias/running stats", c.in(i), x, s.channels);
  check_numel(c, "y", c.out(0), x.numel());
  check_dtype(c, "y", c.out(0), x.dtype);
  check_channel_vector(c, "mean", c.out(1), x, s.channels);
  check_channel_vector(c, "invstd", c.out(2), x, s.channels);
  return s;
}

// batch_norm_backward (see core/ops.h for the operands and params).
inline NormShape check_batch_norm_backward(const OpCall& c) {
  using norm_checks::check_channel_vector;
  const TensorArg &x = c.in(0), &dy = c.in(1);
  const NormShape s = norm_checks::norm_shape(c, x);
  const BatchNormBackwardParams p = c.params_as<BatchNormBackwardParams>();
  const bool affine = p.affine, need_dx = p.need_dx, need_dparams = p.need_dparams;
  SEPCONV_CHECK(c.num_inputs == (affine ? 5 : 4), "batch_norm_backward: ", c.num_inputs,
                " inputs do not match the affine flag");
  SEPCONV_CHECK(c.num_outputs == (need_dx ? 1 : 0) + (need_dparams ? 2 : 0), "batch_norm_backward: ", c.num_outputs,
                " outputs do not match the need_dx/need_dparams flags");
  SEPCONV_CHECK(affine || !need_dparams, "batch_norm_backward: parameter gradients need affine");
  check_numel(c, "dy", dy, x.numel());
  check_dtype(c, "dy", dy, x.dtype);
  for (int i = 2; i < c.num_inputs; ++i) check_channel_vector(c, "mean/invstd/weight", c.in(i), x, s.channels);
  if (need_dx) {
    check_numel(c, "dx", c.out(0), x.numel());
    check_dtype(c, "dx", c.out(0), x.dtype);
  }
  for (int i = need_dx ? 1 : 0; i < c.num_outputs; ++i) check_channel_vector(c, "dweight/dbias", c.out(i), x, s.channels);
  return s;
}

}  // namespace sepconv
