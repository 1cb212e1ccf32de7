// Operand checks and geometry of the depthwise conv2d ops (and the fused depthwise-pointwise
// forward), shared by the CPU and CUDA ops (host-only, no CPU-only includes).
#pragma once
#include <cstdint>

#include "core/op_checks.h"
#include "core/output_size.h"

namespace sepconv {

// PyTorch conv2d geometry of one plane: output (h, w) reads input
// (h*stride_h - pad_h + i*dilation_h, w*stride_w - pad_w + j*dilation_w) for kernel tap (i, j).
struct DepthwiseGeometry {
  int in_h, in_w, out_h, out_w;
  int kernel_h, kernel_w;
  int stride_h, stride_w;
  int pad_h, pad_w;
  int dilation_h, dilation_w;
};

// The geometry of x[N,C,H,W] * w[C*m,1,kh,kw] -> y[N,C*m,OH,OW].
struct DepthwiseShape {
  int64_t batch, channels, multiplier, out_channels;
  DepthwiseGeometry g;

  SEPCONV_HOST_DEVICE int64_t in_plane() const { return int64_t(g.in_h) * g.in_w; }
  SEPCONV_HOST_DEVICE int64_t out_plane() const { return int64_t(g.out_h) * g.out_w; }
  SEPCONV_HOST_DEVICE int taps() const { return g.kernel_h * g.kernel_w; }
};

// A checked depthwise op: its shape and its optional per-output-channel operand (the bias,
// or the bias gradient of backward_weight), null when absent.
struct DepthwiseOperands {
  DepthwiseShape s;
  const TensorArg* channel_vector;
};

namespace depthwise_checks {

// Checked against the params and the three shapes. `y` is the output (forward) or the output
// gradient (backward).
inline DepthwiseShape depthwise_shape(const OpCall& c, const TensorArg& x, const TensorArg& w, const TensorArg& y) {
  const char* op = op_name(c.op);
  check_ndim(c, "x", x, 4);
  check_ndim(c, "w", w, 4);
  check_ndim(c, "y", y, 4);
  DepthwiseShape s;
  s.batch = x.shape[0];
  s.channels = x.shape[1];
  s.out_channels = w.shape[0];
  SEPCONV_CHECK(s.channels > 0 && s.out_channels % s.channels == 0 && w.shape[1] == 1, op, ": weight [", w.shape[0],
                ", ", w.shape[1], ", ...] does not fit a depthwise conv of ", s.channels, " channels");
  s.multiplier = s.out_channels / s.channels;
  DepthwiseGeometry& g = s.g;
  g.in_h = int(x.shape[2]);
  g.in_w = int(x.shape[3]);
  g.kernel_h = int(w.shape[2]);
  g.kernel_w = int(w.shape[3]);
  const DepthwiseParams p = c.params_as<DepthwiseParams>();
  g.stride_h = int(p.stride_h);
  g.stride_w = int(p.stride_w);
  g.pad_h = int(p.pad_h);
  g.pad_w = int(p.pad_w);
  g.dilation_h = int(p.dilation_h);
  g.dilation_w = int(p.dilation_w);
  SEPCONV_CHECK(g.stride_h >= 1 && g.stride_w >= 1 && g.dilation_h >= 1 && g.dilation_w >= 1 && g.pad_h >= 0 &&
                    g.pad_w >= 0 && g.kernel_h >= 1 && g.kernel_w >= 1,
                op, ": invalid stride/padding/dilation/kernel");
  g.out_h = int(output_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h));
  g.out_w = int(output_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w));
  SEPCONV_CHECK(g.in_h + 2 * g.pad_h >= g.dilation_h * (g.kernel_h - 1) + 1 &&
                    g.in_w + 2 * g.pad_w >= g.dilation_w * (g.kernel_w - 1) + 1,
                op, ": kernel larger than the padded input");
  SEPCONV_CHECK(y.shape[0] == s.batch && y.shape[1] == s.out_channels && y.shape[2] == g.out_h && y.shape[3] == g.out_w,
                op, ": output shape [", y.shape[0], ", ", y.shape[1], ", ", y.shape[2], ", ", y.shape[3],
                "] does not match [", s.batch, ", ", s.out_channels, ", ", g.out_h, ", ", g.out_w, "]");
  check_dtype(c, "w", w, x.dtype);
  check_dtype(c, "y", y, x.dtype);
  return s;
}

// The optional per-channel operand `t` (null when absent): `channels` values of `dtype`.
inline const TensorArg* channel_vector(const OpCall& c, const char* operand, const TensorArg* t, int64_t channels,
                                       DType dtype) {
  if (t) {
    check_numel(c, operand, *t, channels);
    check_dtype(c, operand, *t, dtype);
  }
  return t;
}

// The shape with its optional per-output-channel operand `t`, checked.
inline DepthwiseOperands with_channel_vector(const OpCall& c, const DepthwiseShape& s, const char* operand,
                                             const TensorArg* t) {
  return {s, channel_vector(c, operand, t, s.out_channels, c.in(0).dtype)};
}

}  // namespace depthwise_checks

// depthwise_conv2d_forward: x, w[, bias] -> out.
inline DepthwiseOperands check_depthwise_conv2d_forward(const OpCall& c) {
  const DepthwiseShape s = depthwise_checks::depthwise_shape(c, c.in(0), c.in(1), c.out(0));
  return depthwise_checks::with_channel_vector(c, s, "bias", c.num_inputs > 2 ? &c.in(2) : nullptr);
}

// depthwise_conv2d_backward_input: dy, w -> dx.
inline DepthwiseShape check_depthwise_conv2d_backward_input(const OpCall& c) {
  return depthwise_checks::depthwise_shape(c, c.out(0), c.in(1), c.in(0));
}

// depthwise_conv2d_backward_weight: x, dy -> dw[, dbias].
inline DepthwiseOperands check_depthwise_conv2d_backward_weight(const OpCall& c) {
  const DepthwiseShape s = depthwise_checks::depthwise_shape(c, c.in(0), c.out(0), c.in(1));
  return depthwise_checks::with_channel_vector(c, s, "dbias", c.num_outputs > 1 ? &c.out(1) : nullptr);
}

// depthwise_pointwise_forward: x, w_dw[C,1,kh,kw], w_pw[C_out,C,1,1][, bias] -> y; the
// shape is the depthwise half's (the pointwise half's C_out is w_pw's first dim).
inline DepthwiseOperands check_depthwise_pointwise_forward(const OpCall& c) {
  const TensorArg &x = c.in(0), &w_dw = c.in(1), &w_pw = c.in(2), &y = c.out(0);
  check_ndim(c, "w_pw", w_pw, 4);
  check_ndim(c, "y", y, 4);
  const int64_t out_channels = w_pw.shape[0];
  SEPCONV_CHECK(w_pw.shape[1] == x.shape[1] && w_pw.shape[2] == 1 && w_pw.shape[3] == 1, op_name(c.op),
                ": pointwise weight must be [C_out, ", x.shape[1], ", 1, 1]");
  SEPCONV_CHECK(y.shape[1] == out_channels, op_name(c.op), ": output has ", y.shape[1], " channels, expected ",
                out_channels);
  // The depthwise half's shape, checked against y with the depthwise channel count.
  TensorArg y_dw = y;
  y_dw.shape[1] = x.shape[1];
  const DepthwiseShape s = depthwise_checks::depthwise_shape(c, x, w_dw, y_dw);
  SEPCONV_CHECK(s.multiplier == 1, op_name(c.op), ": channel multiplier must be 1");
  check_dtype(c, "w_pw", w_pw, x.dtype);
  return {s, depthwise_checks::channel_vector(c, "bias", c.num_inputs > 3 ? &c.in(3) : nullptr, out_channels,
                                              x.dtype)};
}

}  // namespace sepconv
