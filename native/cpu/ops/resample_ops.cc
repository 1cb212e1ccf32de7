// Average pooling (fixed and adaptive windows) and nearest/bilinear upsampling of NCHW
// tensors (CPU). Index and weight tables follow PyTorch's CPU kernels formula for formula,
// including the arithmetic type of each step, so outputs pick the same source pixels.
//
// Forward splits (plane, output row) pairs across threads: every output row is written by
// one task. Backward splits planes: output rows of one plane add into overlapping input
// rows, so a plane is accumulated by one thread in a fixed order (deterministic).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

// The sizes of a plane-to-plane op: `count` = N*C planes of H x W on the input side and
// OH x OW on the output side.
struct Planes {
  int64_t count, h, w, oh, ow;
};

Planes check_planes(const OpCall& c, const TensorArg& input_side, const char* input_name, const TensorArg& output_side,
                    const char* output_name) {
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

// Runs row(plane, oh, out_row, scratch) for every output row; `cost` is the elements one row
// touches (sets the grain), `scratch` holds W elements for this thread.
template <class T, class Row>
void forward_by_row(const OpCall& c, const Planes& p, T* out, int64_t cost, Row&& row) {
  const size_t grain = std::max<size_t>(1, kElementwiseGrain / size_t(std::max<int64_t>(cost, 1)));
  c.ctx.pool.parallel_for(size_t(p.count * p.oh), grain, [&](size_t s, size_t e) {
    T* scratch = static_cast<T*>(thread_scratch(0, size_t(p.w) * sizeof(T)));
    for (size_t r = s; r < e; ++r) row(int64_t(r) / p.oh, int64_t(r) % p.oh, out + int64_t(r) * p.ow, scratch);
  });
}

// Runs plane(dy_plane, dx_plane, scratch) for every plane with dx_plane zeroed first;
// `scratch` holds W elements for this thread.
template <class T, class Plane>
void backward_by_plane(const OpCall& c, const Planes& p, const T* dy, T* dx, Plane&& plane) {
  c.ctx.pool.parallel_for(size_t(p.count), 1, [&](size_t s, size_t e) {
    T* scratch = static_cast<T*>(thread_scratch(0, size_t(p.w) * sizeof(T)));
    for (size_t i = s; i < e; ++i) {
      T* d = dx + int64_t(i) * p.h * p.w;
      std::fill(d, d + p.h * p.w, T(0));
      plane(dy + int64_t(i) * p.oh * p.ow, d, scratch);
    }
  });
}

// ------------------------------------------------------------------------------ averaging

// Window [start, end) along one axis per output index, and the window's count along that
// axis for the divisor (PyTorch's pool_size factor, or the clipped extent).
struct Windows {
  std::vector<int64_t> start, end, count;
  explicit Windows(int64_t n) : start(size_t(n)), end(size_t(n)), count(size_t(n)) {}
};

Windows pool_windows(const OpCall& c, int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad,
                     bool count_include_pad) {
  Windows w(out);
  for (int64_t o = 0; o < out; ++o) {
    int64_t a = o * stride - pad, b = std::min(a + k, in + pad);
    const int64_t padded = b - a;
    a = std::max<int64_t>(a, 0);
    b = std::min(b, in);
    SEPCONV_CHECK(a < b, op_name(c.op), ": window ", o, " of an axis of size ", in, " is empty (output size ", out,
                  " too large)");
    w.start[size_t(o)] = a;
    w.end[size_t(o)] = b;
    w.count[size_t(o)] = count_include_pad ? padded : b - a;
  }
  return w;
}

Windows adaptive_windows(int64_t in, int64_t out) {
  Windows w(out);
  for (int64_t o = 0; o < out; ++o) {
    w.start[size_t(o)] = o * in / out;
    w.end[size_t(o)] = ((o + 1) * in + out - 1) / out;
    w.count[size_t(o)] = w.end[size_t(o)] - w.start[size_t(o)];
  }
  return w;
}

// divisor[oh * OW + ow]: the override, or the product of the two axes' counts.
template <class T>
std::vector<T> divisors(const Windows& rows, const Windows& cols, int64_t divisor_override) {
  std::vector<T> d;
  d.reserve(rows.count.size() * cols.count.size());
  for (int64_t ch : rows.count)
    for (int64_t cw : cols.count) d.push_back(T(divisor_override > 0 ? divisor_override : ch * cw));
  return d;
}

// One window over each whole plane (global average pooling, MobileNet's head): the plane is
// one contiguous run, so it is summed directly instead of row by row.
bool pools_whole_planes(const Planes& p, const Windows& rows, const Windows& cols) {
  return p.oh == 1 && p.ow == 1 && rows.start[0] == 0 && rows.end[0] == p.h && cols.start[0] == 0 &&
         cols.end[0] == p.w;
}

// Average pooling forward over the windows `windows(in_size, out_size, axis)` gives per axis
// (0 rows, 1 columns); `divisor_override` > 0 replaces every window's size.
template <class WindowsFn>
void window_mean_forward(const OpCall& c, WindowsFn&& windows, int64_t divisor_override) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  const Planes p = check_planes(c, x, "x", out, "out");
  const Windows rows = windows(p.h, p.oh, 0), cols = windows(p.w, p.ow, 1);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).resample;
    const std::vector<T> divisor = divisors<T>(rows, cols, divisor_override);
    const T* px = x.ptr<T>();
    if (pools_whole_planes(p, rows, cols)) {
      const auto& ew = kernels_for<T>(c.ctx.isa).elementwise;
      const int64_t hw = p.h * p.w;
      T* po = out.ptr<T>();
      c.ctx.pool.parallel_for(size_t(p.count), std::max<size_t>(1, kElementwiseGrain / size_t(hw)), [&](size_t s, size_t e) {
        for (size_t i = s; i < e; ++i) po[i] = T(ew.sum(px + int64_t(i) * hw, size_t(hw)) / double(divisor[0]));
      });
      return;
    }
    forward_by_row(c, p, out.ptr<T>(), 2 * p.w + p.ow, [&](int64_t plane, int64_t oh, T* out_row, T* colsum) {
      const int64_t h0 = rows.start[size_t(oh)], h1 = rows.end[size_t(oh)];
      k.sum_rows(px + (plane * p.h + h0) * p.w, size_t(p.w), h1 - h0, colsum, size_t(p.w));
      k.window_mean(colsum, cols.start.data(), cols.end.data(), divisor.data() + oh * p.ow, out_row, size_t(p.ow));
    });
  });
}

template <class WindowsFn>
void window_mean_backward(const OpCall& c, WindowsFn&& windows, int64_t divisor_override) {
  const TensorArg &dy = c.in(0), &dx = c.out(0);
  const Planes p = check_planes(c, dx, "dx", dy, "dy");
  const Windows rows = windows(p.h, p.oh, 0), cols = windows(p.w, p.ow, 1);
  float_dispatch(c, "dy", dy.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa);
    const std::vector<T> divisor = divisors<T>(rows, cols, divisor_override);
    if (pools_whole_planes(p, rows, cols)) {
      const int64_t hw = p.h * p.w;
      c.ctx.pool.parallel_for(size_t(p.count), std::max<size_t>(1, kElementwiseGrain / size_t(hw)), [&](size_t s, size_t e) {
        for (size_t i = s; i < e; ++i) std::fill_n(dx.ptr<T>() + int64_t(i) * hw, hw, dy.ptr<T>()[i] / divisor[0]);
      });
      return;
    }
    backward_by_plane(c, p, dy.ptr<T>(), dx.ptr<T>(), [&](const T* g, T* d, T* rowgrad) {
      for (int64_t oh = 0; oh < p.oh; ++oh) {
        std::fill(rowgrad, rowgrad + p.w, T(0));
        k.resample.window_mean_backward(g + oh * p.ow, cols.start.data(), cols.end.data(), divisor.data() + oh * p.ow,
                                        rowgrad, size_t(p.ow));
        for (int64_t h = rows.start[size_t(oh)]; h < rows.end[size_t(oh)]; ++h)
          k.elementwise.axpy(rowgrad, T(1), d + h * p.w, size_t(p.w));
      }
    });
  });
}

struct PoolParams {
  int64_t kernel[2], stride[2], pad[2], divisor_override;
  bool count_include_pad;

  Windows windows(const OpCall& c, int64_t in, int64_t out, int axis) const {
    return pool_windows(c, in, out, kernel[axis], stride[axis], pad[axis], count_include_pad);
  }
};

PoolParams pool_params(const OpCall& c) {
  const PoolParams q{{c.iparam(0), c.iparam(1)}, {c.iparam(2), c.iparam(3)}, {c.iparam(4), c.iparam(5)},
                     c.iparam(7), c.param(6) != 0};
  for (int axis = 0; axis < 2; ++axis) {
    SEPCONV_CHECK(q.kernel[axis] > 0 && q.stride[axis] > 0, op_name(c.op), ": kernel and stride must be positive");
    SEPCONV_CHECK(q.pad[axis] >= 0 && 2 * q.pad[axis] <= q.kernel[axis], op_name(c.op),
                  ": padding must be in [0, kernel / 2]");
  }
  return q;
}

Windows adaptive_axis(int64_t in, int64_t out, int) { return adaptive_windows(in, out); }

}  // namespace

void avg_pool2d_forward(const OpCall& c) {
  const PoolParams q = pool_params(c);
  window_mean_forward(c, [&](int64_t in, int64_t out, int axis) { return q.windows(c, in, out, axis); },
                      q.divisor_override);
}

void avg_pool2d_backward(const OpCall& c) {
  const PoolParams q = pool_params(c);
  window_mean_backward(c, [&](int64_t in, int64_t out, int axis) { return q.windows(c, in, out, axis); },
                       q.divisor_override);
}

void adaptive_avg_pool2d_forward(const OpCall& c) { window_mean_forward(c, adaptive_axis, 0); }

void adaptive_avg_pool2d_backward(const OpCall& c) { window_mean_backward(c, adaptive_axis, 0); }

// ----------------------------------------------------------------------------- upsampling

namespace {

// PyTorch's nearest_idx: exact shortcuts for equal and doubled sizes, else floor(o * scale)
// with the scale in single precision whatever the tensor's dtype.
std::vector<int32_t> nearest_sources(int64_t in, int64_t out, double scale_param) {
  const float scale = scale_param > 0 ? float(scale_param) : float(in) / float(out);
  std::vector<int32_t> src(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o)
    src[size_t(o)] = int32_t(out == in       ? o
                             : out == 2 * in ? o >> 1
                                             : std::min(int64_t(std::floor(float(o) * scale)), in - 1));
  return src;
}

// PyTorch's compute_source_index_and_lambda (area_pixel_compute_scale / _source_index),
// in the tensor's precision.
template <class T>
struct LerpTable {
  std::vector<int32_t> i0, i1;
  std::vector<T> w0, w1;

  LerpTable(int64_t in, int64_t out, bool align_corners, double scale_param)
      : i0(size_t(out)), i1(size_t(out)), w0(size_t(out)), w1(size_t(out)) {
    const T scale = align_corners ? (out > 1 ? T(in - 1) / T(out - 1) : T(0))
                                  : (scale_param > 0 ? T(scale_param) : T(in) / T(out));
    for (int64_t o = 0; o < out; ++o) {
      const size_t j = size_t(o);
      if (out == in) {
        i0[j] = i1[j] = int32_t(o);
        w0[j] = T(1);
        w1[j] = T(0);
        continue;
      }
      const T real = align_corners ? scale * T(o) : std::max(scale * (T(o) + T(0.5)) - T(0.5), T(0));
      i0[j] = int32_t(std::min(int64_t(std::floor(real)), in - 1));
      i1[j] = i0[j] + (i0[j] < in - 1 ? 1 : 0);
      w1[j] = std::min(std::max(real - T(i0[j]), T(0)), T(1));
      w0[j] = T(1) - w1[j];
    }
  }
};

struct UpsampleParams {
  bool bilinear, align_corners;
  double scale_h, scale_w;
};

UpsampleParams upsample_params(const OpCall& c) {
  const int64_t mode = c.iparam(0);
  SEPCONV_CHECK(mode == 0 || mode == 1, op_name(c.op), ": unknown mode ", mode, " (0 nearest, 1 bilinear)");
  return {mode == 1, c.param(1) != 0, c.param(2), c.param(3)};
}

Planes upsample_planes(const OpCall& c, const TensorArg& image, const char* image_name, const TensorArg& resized,
                       const char* resized_name) {
  const Planes p = check_planes(c, image, image_name, resized, resized_name);
  SEPCONV_CHECK(p.oh > 0 && p.ow > 0, op_name(c.op), ": ", resized_name, " has an empty plane");
  SEPCONV_CHECK(p.h <= INT32_MAX && p.w <= INT32_MAX, op_name(c.op), ": ", image_name, " is too tall or wide");
  return p;
}

}  // namespace

void upsample2d_forward(const OpCall& c) {
  const UpsampleParams q = upsample_params(c);
  const TensorArg &x = c.in(0), &out = c.out(0);
  const Planes p = upsample_planes(c, x, "x", out, "out");
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).resample;
    const T* px = x.ptr<T>();
    if (!q.bilinear) {
      const std::vector<int32_t> sh = nearest_sources(p.h, p.oh, q.scale_h), sw = nearest_sources(p.w, p.ow, q.scale_w);
      forward_by_row(c, p, out.ptr<T>(), p.ow, [&](int64_t plane, int64_t oh, T* out_row, T*) {
        k.gather(px + (plane * p.h + sh[size_t(oh)]) * p.w, sw.data(), out_row, size_t(p.ow));
      });
      return;
    }
    const LerpTable<T> th(p.h, p.oh, q.align_corners, q.scale_h), tw(p.w, p.ow, q.align_corners, q.scale_w);
    forward_by_row(c, p, out.ptr<T>(), 2 * p.w + p.ow, [&](int64_t plane, int64_t oh, T* out_row, T* blended) {
      const T* base = px + plane * p.h * p.w;
      const size_t j = size_t(oh);
      k.blend_rows(base + th.i0[j] * p.w, base + th.i1[j] * p.w, th.w0[j], th.w1[j], blended, size_t(p.w));
      k.lerp_gather(blended, tw.i0.data(), tw.i1.data(), tw.w0.data(), tw.w1.data(), out_row, size_t(p.ow));
    });
  });
}

void upsample2d_backward(const OpCall& c) {
  const UpsampleParams q = upsample_params(c);
  const TensorArg &dy = c.in(0), &dx = c.out(0);
  const Planes p = upsample_planes(c, dx, "dx", dy, "dy");
  float_dispatch(c, "dy", dy.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa);
    if (!q.bilinear) {
      const std::vector<int32_t> sh = nearest_sources(p.h, p.oh, q.scale_h), sw = nearest_sources(p.w, p.ow, q.scale_w);
      backward_by_plane(c, p, dy.ptr<T>(), dx.ptr<T>(), [&](const T* g, T* d, T*) {
        for (int64_t oh = 0; oh < p.oh; ++oh)
          k.resample.scatter_add(g + oh * p.ow, sw.data(), d + sh[size_t(oh)] * p.w, size_t(p.ow));
      });
      return;
    }
    const LerpTable<T> th(p.h, p.oh, q.align_corners, q.scale_h), tw(p.w, p.ow, q.align_corners, q.scale_w);
    backward_by_plane(c, p, dy.ptr<T>(), dx.ptr<T>(), [&](const T* g, T* d, T* rowgrad) {
      for (int64_t oh = 0; oh < p.oh; ++oh) {
        const size_t j = size_t(oh);
        std::fill(rowgrad, rowgrad + p.w, T(0));
        k.resample.lerp_scatter(g + oh * p.ow, tw.i0.data(), tw.i1.data(), tw.w0.data(), tw.w1.data(), rowgrad,
                                size_t(p.ow));
        k.elementwise.axpy(rowgrad, th.w0[j], d + th.i0[j] * p.w, size_t(p.w));
        k.elementwise.axpy(rowgrad, th.w1[j], d + th.i1[j] * p.w, size_t(p.w));
      }
    });
  });
}

}  // namespace sepconv::cpu::ops
