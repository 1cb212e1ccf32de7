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

#include "core/checks/resample.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

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

// The windows of every output index along one axis.
template <class WindowFn>
Windows windows_of(int64_t out, WindowFn&& window) {
  Windows w(out);
  for (int64_t o = 0; o < out; ++o) {
    const Window one = window(o);
    w.start[size_t(o)] = one.start;
    w.end[size_t(o)] = one.end;
    w.count[size_t(o)] = one.count;
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
  const Planes p = check_resample_planes(c, false);
  const TensorArg &x = c.in(0), &out = c.out(0);
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
  const Planes p = check_resample_planes(c, true);
  const TensorArg &dy = c.in(0), &dx = c.out(0);
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

// windows(in, out, axis) of average pooling with params q.
auto pool_axis(const OpCall& c, const AvgPoolAxes& q) {
  return [&c, &q](int64_t in, int64_t out, int axis) {
    return windows_of(out, [&](int64_t o) { return pool_window(c, q, axis, in, out, o); });
  };
}

Windows adaptive_axis(int64_t in, int64_t out, int) {
  return windows_of(out, [&](int64_t o) { return adaptive_window(in, out, o); });
}

}  // namespace

void avg_pool2d_forward(const OpCall& c) {
  const AvgPoolAxes q = check_avg_pool_params(c);
  window_mean_forward(c, pool_axis(c, q), q.divisor_override);
}

void avg_pool2d_backward(const OpCall& c) {
  const AvgPoolAxes q = check_avg_pool_params(c);
  window_mean_backward(c, pool_axis(c, q), q.divisor_override);
}

void adaptive_avg_pool2d_forward(const OpCall& c) { window_mean_forward(c, adaptive_axis, 0); }

void adaptive_avg_pool2d_backward(const OpCall& c) { window_mean_backward(c, adaptive_axis, 0); }

// ----------------------------------------------------------------------------- upsampling

namespace {

// Source row/column of every output index (nearest_source, as int32 for the kernels).
std::vector<int32_t> nearest_sources(int64_t in, int64_t out, double scale_param) {
  const float scale = nearest_scale(in, out, scale_param);
  std::vector<int32_t> src(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) src[size_t(o)] = int32_t(nearest_source(in, out, scale, o));
  return src;
}

// lerp_source of every output index, as the kernels' tables.
template <class T>
struct LerpTable {
  std::vector<int32_t> i0, i1;
  std::vector<T> w0, w1;

  LerpTable(int64_t in, int64_t out, bool align_corners, double scale_param)
      : i0(size_t(out)), i1(size_t(out)), w0(size_t(out)), w1(size_t(out)) {
    const T scale = lerp_scale<T>(in, out, align_corners, scale_param);
    for (int64_t o = 0; o < out; ++o) {
      const Lerp<T> l = lerp_source(in, out, align_corners, scale, o);
      const size_t j = size_t(o);
      i0[j] = int32_t(l.i0);
      i1[j] = int32_t(l.i1);
      w1[j] = l.w1;
      w0[j] = T(1) - l.w1;
    }
  }
};

}  // namespace

void upsample2d_forward(const OpCall& c) {
  const UpsampleParams q = c.params_as<UpsampleParams>();
  const Planes p = check_upsample_planes(c, false);
  const TensorArg &x = c.in(0), &out = c.out(0);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).resample;
    const T* px = x.ptr<T>();
    if (q.mode == UpsampleMode::nearest) {
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
  const UpsampleParams q = c.params_as<UpsampleParams>();
  const Planes p = check_upsample_planes(c, true);
  const TensorArg &dy = c.in(0), &dx = c.out(0);
  float_dispatch(c, "dy", dy.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa);
    if (q.mode == UpsampleMode::nearest) {
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
