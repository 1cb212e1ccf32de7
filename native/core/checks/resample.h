// Operand checks and the per-index source formulas of average pooling (fixed and adaptive)
// and nearest/bilinear upsampling, shared by the CPU and CUDA ops (host-only, no CPU-only
// includes). The formulas follow PyTorch's CPU kernels, including the arithmetic type of
// each step, so both backends pick the same source pixels with the same weights.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/op_checks.h"

namespace sepconv {

// The sizes of a plane-to-plane op: `count` = N*C planes of H x W on the input side and
// OH x OW on the output side.
struct Planes {
  int64_t count, h, w, oh, ow;
};

namespace resample_checks {

inline Planes check_planes(const OpCall& c, const TensorArg& input_side, const char* input_name,
                           const TensorArg& output_side, const char* output_name) {
  check_ndim(c, input_name, input_side, 4);
  check_ndim(c, output_name, output_side, 4);
  check_dtype(c, output_name, output_side, input_side.dtype);
  SEPCONV_CHECK(input_side.shape[0] == output_side.shape[0] && input_side.shape[1] == output_side.shape[1],
                op_name(c.op), ": ", input_name, " and ", output_name, " differ in batch or channels");
  SEPCONV_CHECK(input_side.shape[2] > 0 && input_side.shape[3] > 0, op_name(c.op), ": ", input_name,
                " has an empty plane");
  return {input_side.shape[0] * input_side.shape[1], input_side.shape[2], input_side.shape[3], output_side.shape[2],
          output_side.shape[3]};
}

}  // namespace resample_checks

// x -> out (forward) or dy -> dx (backward); the input side is x or dx.
inline Planes check_resample_planes(const OpCall& c, bool backward) {
  return backward ? resample_checks::check_planes(c, c.out(0), "dx", c.in(0), "dy")
                  : resample_checks::check_planes(c, c.in(0), "x", c.out(0), "out");
}

// ---- average pooling

// avg_pool2d's params per axis (0 rows, 1 columns).
struct AvgPoolAxes {
  int64_t kernel[2], stride[2], pad[2], divisor_override;
  bool count_include_pad;
};

inline AvgPoolAxes check_avg_pool_params(const OpCall& c) {
  const AvgPoolParams p = c.params_as<AvgPoolParams>();
  const AvgPoolAxes q{{p.kernel_h, p.kernel_w}, {p.stride_h, p.stride_w}, {p.pad_h, p.pad_w}, p.divisor_override,
                      p.count_include_pad};
  for (int axis = 0; axis < 2; ++axis) {
    SEPCONV_CHECK(q.kernel[axis] > 0 && q.stride[axis] > 0, op_name(c.op), ": kernel and stride must be positive");
    SEPCONV_CHECK(q.pad[axis] >= 0 && 2 * q.pad[axis] <= q.kernel[axis], op_name(c.op),
                  ": padding must be in [0, kernel / 2]");
  }
  return q;
}

// Source range [start, end) of output index o along one axis, and the window's count along
// that axis for the divisor (PyTorch's pool_size factor, or the clipped extent).
struct Window {
  int64_t start, end, count;
};

// Window o of `out` along an axis of size `in` of pooling params q (axis 0 rows, 1 columns).
inline Window pool_window(const OpCall& c, const AvgPoolAxes& q, int axis, int64_t in, int64_t out, int64_t o) {
  int64_t a = o * q.stride[axis] - q.pad[axis], b = std::min(a + q.kernel[axis], in + q.pad[axis]);
  const int64_t padded = b - a;
  a = std::max<int64_t>(a, 0);
  b = std::min(b, in);
  SEPCONV_CHECK(a < b, op_name(c.op), ": window ", o, " of an axis of size ", in, " is empty (output size ", out,
                " too large)");
  return {a, b, q.count_include_pad ? padded : b - a};
}

inline Window adaptive_window(int64_t in, int64_t out, int64_t o) {
  const int64_t a = o * in / out, b = ((o + 1) * in + out - 1) / out;
  return {a, b, b - a};
}

// ---- upsampling

// The planes of an upsampling: the image (x or dx) is H x W, the resized side OH x OW.
inline Planes check_upsample_planes(const OpCall& c, bool backward) {
  const Planes p = check_resample_planes(c, backward);
  SEPCONV_CHECK(p.oh > 0 && p.ow > 0, op_name(c.op), ": ", backward ? "dy" : "out", " has an empty plane");
  SEPCONV_CHECK(p.h <= INT32_MAX && p.w <= INT32_MAX, op_name(c.op), ": ", backward ? "dx" : "x",
                " is too tall or wide");
  return p;
}

// PyTorch's nearest_idx: exact shortcuts for equal and doubled sizes, else floor(o * scale)
// with the scale (nearest_scale) in single precision whatever the tensor's dtype.
inline float nearest_scale(int64_t in, int64_t out, double scale_param) {
  return scale_param > 0 ? float(scale_param) : float(in) / float(out);
}

inline int64_t nearest_source(int64_t in, int64_t out, float scale, int64_t o) {
  return out == in ? o : out == 2 * in ? o >> 1 : std::min(int64_t(std::floor(float(o) * scale)), in - 1);
}

// PyTorch's compute_source_index_and_lambda (area_pixel_compute_scale / _source_index), in
// the tensor's precision T: output o blends sources i0 and i1 with weights 1 - w1 and w1.
template <class T>
struct Lerp {
  int64_t i0, i1;
  T w1;
};

template <class T>
T lerp_scale(int64_t in, int64_t out, bool align_corners, double scale_param) {
  return align_corners ? (out > 1 ? T(in - 1) / T(out - 1) : T(0)) : (scale_param > 0 ? T(scale_param) : T(in) / T(out));
}

// Equal sizes copy (o, o, 0).
template <class T>
Lerp<T> lerp_source(int64_t in, int64_t out, bool align_corners, T scale, int64_t o) {
  if (out == in) return {o, o, T(0)};
  const T real = align_corners ? scale * T(o) : std::max(scale * (T(o) + T(0.5)) - T(0.5), T(0));
  const int64_t i0 = std::min(int64_t(std::floor(real)), in - 1);
  return {i0, i0 + (i0 < in - 1 ? 1 : 0), std::min(std::max(real - T(i0), T(0)), T(1))};
}

}  // namespace sepconv
