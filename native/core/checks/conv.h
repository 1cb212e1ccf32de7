// Operand checks and shapes of the regular 2-D convolution ops, shared by the CPU and CUDA
// ops (host-only, no CPU-only includes).
#pragma once
#include <cstdint>

#include "core/op_checks.h"
#include "core/output_size.h"

namespace sepconv {

// Shapes of one convolution, from its input-side tensor (x or dx), weight (w or dw) and
// output-side tensor (y or dy), checked against each other and the params.
struct Conv2dShape {
  int64_t batch, in_c, in_h, in_w, out_c, out_h, out_w, kernel_h, kernel_w;
  int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups;

  SEPCONV_HOST_DEVICE int64_t in_per_group() const { return in_c / groups; }
  SEPCONV_HOST_DEVICE int64_t out_per_group() const { return out_c / groups; }
  SEPCONV_HOST_DEVICE int64_t in_plane() const { return in_h * in_w; }
  SEPCONV_HOST_DEVICE int64_t out_plane() const { return out_h * out_w; }
  SEPCONV_HOST_DEVICE int64_t taps() const { return kernel_h * kernel_w; }
  // Rows of the im2col matrix of one group.
  SEPCONV_HOST_DEVICE int64_t col_rows() const { return in_per_group() * taps(); }
};

namespace conv_checks {

inline Conv2dShape conv_shape(const OpCall& c, const TensorArg& input, const TensorArg& weight,
                              const TensorArg& output) {
  const char* op = op_name(c.op);
  check_ndim(c, "input", input, 4);
  check_ndim(c, "weight", weight, 4);
  check_ndim(c, "output", output, 4);
  const Conv2dParams p = c.params_as<Conv2dParams>();
  Conv2dShape s{input.shape[0], input.shape[1], input.shape[2], input.shape[3], output.shape[1],
                output.shape[2], output.shape[3], weight.shape[2], weight.shape[3], p.stride_h,
                p.stride_w,      p.pad_h,         p.pad_w,         p.dilation_h,    p.dilation_w,
                p.groups};
  SEPCONV_CHECK(s.stride_h >= 1 && s.stride_w >= 1 && s.dilation_h >= 1 && s.dilation_w >= 1 && s.pad_h >= 0 &&
                    s.pad_w >= 0,
                op, ": stride and dilation must be >= 1 and padding >= 0");
  SEPCONV_CHECK(s.groups >= 1 && s.in_c % s.groups == 0 && s.out_c % s.groups == 0, op, ": groups=", s.groups,
                " must divide the input channels (", s.in_c, ") and output channels (", s.out_c, ")");
  SEPCONV_CHECK(weight.shape[0] == s.out_c && weight.shape[1] == s.in_per_group(), op, ": weight is [", weight.shape[0],
                ", ", weight.shape[1], ", ...], expected [", s.out_c, ", ", s.in_per_group(), ", ...]");
  SEPCONV_CHECK(output.shape[0] == s.batch, op, ": batch sizes differ (", s.batch, " vs ", output.shape[0], ")");
  const int64_t oh = output_size(s.in_h, s.kernel_h, s.stride_h, s.pad_h, s.dilation_h);
  const int64_t ow = output_size(s.in_w, s.kernel_w, s.stride_w, s.pad_w, s.dilation_w);
  SEPCONV_CHECK(oh >= 1 && ow >= 1, op, ": the kernel is larger than the padded input");
  // A smaller output is the top-left part of the full one: conv_transpose2d with an output
  // padding >= stride (allowed when below the dilation) maps to such a convolution.
  SEPCONV_CHECK(s.out_h >= 1 && s.out_h <= oh && s.out_w >= 1 && s.out_w <= ow, op, ": output plane is ", s.out_h, "x",
                s.out_w, ", expected at most ", oh, "x", ow);
  return s;
}

// The optional bias (input `input`): one value per channel, in the op's dtype.
inline void check_bias(const OpCall& c, int input, int64_t channels, DType dtype) {
  if (c.num_inputs <= input) return;
  check_numel(c, "bias", c.in(input), channels);
  check_dtype(c, "bias", c.in(input), dtype);
}

// in(0), w = in(1)[, bias = in(2)] -> out(0): the forward (x -> y) or, transposed, the input
// gradient (dy -> dx, which is conv_transpose2d's forward: its bias is per channel of dx).
inline Conv2dShape check_data_op(const OpCall& c, bool transposed) {
  const TensorArg &src = c.in(0), &w = c.in(1), &dst = c.out(0);
  const Conv2dShape s = transposed ? conv_shape(c, dst, w, src) : conv_shape(c, src, w, dst);
  check_dtype(c, "weight", w, src.dtype);
  check_dtype(c, "output", dst, src.dtype);
  check_bias(c, 2, transposed ? s.in_c : s.out_c, src.dtype);
  return s;
}

}  // namespace conv_checks

// conv2d_forward: x, w[, bias] -> y.
inline Conv2dShape check_conv2d_forward(const OpCall& c) { return conv_checks::check_data_op(c, false); }

// conv2d_backward_input: dy, w[, bias] -> dx.
inline Conv2dShape check_conv2d_backward_input(const OpCall& c) { return conv_checks::check_data_op(c, true); }

// conv2d_backward_weight: x, dy -> dw.
inline Conv2dShape check_conv2d_backward_weight(const OpCall& c) {
  const TensorArg &x = c.in(0), &dy = c.in(1), &dw = c.out(0);
  const Conv2dShape s = conv_checks::conv_shape(c, x, dw, dy);
  check_dtype(c, "grad_output", dy, x.dtype);
  check_dtype(c, "grad_weight", dw, x.dtype);
  return s;
}

}  // namespace sepconv
