// Average pooling (fixed and adaptive windows) and nearest/bilinear upsampling. Each is
// separable: an output pixel is a weighted sum over a set of source rows times a set of
// source columns. The host builds, per axis, the list of (source index, weight) of every
// destination index with PyTorch's formulas (as the CPU op does); the backward pass uses the
// transposed lists, so both directions are one gather kernel, one thread per destination
// pixel: no atomics, deterministic.
#include <cmath>
#include <cstring>
#include <vector>

#include "core/checks/resample.h"
#include "cuda/common.cuh"

namespace sepconv::cuda {
namespace {

// Destination index d reads entries [offset[d], offset[d+1]) of (index, weight).
template <class T>
struct AxisMap {
  std::vector<int64_t> offset{0}, index;
  std::vector<T> weight;

  void add(int64_t i, T w) { index.push_back(i), weight.push_back(w); }
  void close() { offset.push_back(int64_t(index.size())); }
  int64_t size() const { return int64_t(offset.size()) - 1; }

  // The map from sources to destinations (sources = 0..n-1), entries in destination order.
  AxisMap transposed(int64_t n) const {
    AxisMap t;
    std::vector<std::vector<std::pair<int64_t, T>>> by_source(static_cast<size_t>(n));
    for (int64_t d = 0; d < size(); ++d)
      for (int64_t e = offset[size_t(d)]; e < offset[size_t(d) + 1]; ++e)
        by_source[size_t(index[size_t(e)])].push_back({d, weight[size_t(e)]});
    for (const auto& list : by_source) {
      for (const auto& [d, w] : list) t.add(d, w);
      t.close();
    }
    return t;
  }
};

// ---- the axis maps, from the formulas the CPU op uses (core/checks/resample.h)

// One (index, weight) list per destination index from window(o) -> {start, end, count},
// every source of the window weighted `unit ? 1 : 1 / count`.
template <class T, class WindowFn>
AxisMap<T> window_axis(int64_t out, bool unit_weights, WindowFn&& window) {
  AxisMap<T> m;
  for (int64_t o = 0; o < out; ++o) {
    const Window w = window(o);
    const double count = double(w.count);
    for (int64_t i = w.start; i < w.end; ++i) m.add(i, unit_weights ? T(1) : T(1 / count));
    m.close();
  }
  return m;
}

template <class T>
AxisMap<T> nearest_axis(int64_t in, int64_t out, double scale_param) {
  const float scale = nearest_scale(in, out, scale_param);
  AxisMap<T> m;
  for (int64_t o = 0; o < out; ++o) {
    m.add(nearest_source(in, out, scale, o), T(1));
    m.close();
  }
  return m;
}

template <class T>
AxisMap<T> bilinear_axis(int64_t in, int64_t out, bool align_corners, double scale_param) {
  const T scale = lerp_scale<T>(in, out, align_corners, scale_param);
  AxisMap<T> m;
  for (int64_t o = 0; o < out; ++o) {
    const Lerp<T> l = lerp_source(in, out, align_corners, scale, o);
    if (out == in) {
      m.add(o, T(1));  // one entry, so a non-finite source is copied as is
    } else {
      m.add(l.i0, T(1) - l.w1);
      m.add(l.i1, l.w1);
    }
    m.close();
  }
  return m;
}

// ---- the device side

template <class T>
struct DeviceAxis {
  const int64_t* offset;
  const int64_t* index;
  const T* weight;
};

struct PlaneSizes {
  int64_t planes, src_h, src_w, dst_h, dst_w;
};

template <class T>
__global__ void separable_gather_kernel(const T* __restrict__ src, T* __restrict__ dst, PlaneSizes p, DeviceAxis<T> rows,
                                        DeviceAxis<T> cols, T scale) {
  const int64_t total = p.planes * p.dst_h * p.dst_w;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t x = i % p.dst_w, y = (i / p.dst_w) % p.dst_h, plane = i / (p.dst_w * p.dst_h);
    const T* s = src + plane * p.src_h * p.src_w;
    T acc = T(0);
    for (int64_t r = rows.offset[y]; r < rows.offset[y + 1]; ++r) {
      const T* row = s + rows.index[r] * p.src_w;
      T row_acc = T(0);
      for (int64_t e = cols.offset[x]; e < cols.offset[x + 1]; ++e) row_acc += cols.weight[e] * row[cols.index[e]];
      acc += rows.weight[r] * row_acc;
    }
    dst[i] = acc * scale;
  }
}

constexpr int kThreads = 256;

// Uploads the two maps into the op's workspace (one copy) and runs the gather.
template <class T>
void run_separable(const char* op, const T* src, T* dst, const PlaneSizes& p, const AxisMap<T>& rows,
                   const AxisMap<T>& cols, T scale) {
  const AxisMap<T>* maps[2] = {&rows, &cols};
  size_t bytes = 0;
  size_t at[2][3];
  for (int m = 0; m < 2; ++m) {
    at[m][0] = bytes, bytes += maps[m]->offset.size() * sizeof(int64_t);
    at[m][1] = bytes, bytes += maps[m]->index.size() * sizeof(int64_t);
    at[m][2] = bytes, bytes += (maps[m]->weight.size() * sizeof(T) + 7) / 8 * 8;
  }
  std::vector<unsigned char> host(bytes);
  for (int m = 0; m < 2; ++m) {
    std::memcpy(host.data() + at[m][0], maps[m]->offset.data(), maps[m]->offset.size() * sizeof(int64_t));
    std::memcpy(host.data() + at[m][1], maps[m]->index.data(), maps[m]->index.size() * sizeof(int64_t));
    std::memcpy(host.data() + at[m][2], maps[m]->weight.data(), maps[m]->weight.size() * sizeof(T));
  }
  auto* device = static_cast<unsigned char*>(workspace(bytes));
  // From pageable memory the copy is staged before cudaMemcpyAsync returns, so `host` may go.
  SEPCONV_CHECK(cudaMemcpyAsync(device, host.data(), bytes, cudaMemcpyHostToDevice, current_stream()) == cudaSuccess,
                op, ": uploading the resampling tables failed");
  DeviceAxis<T> axes[2];
  for (int m = 0; m < 2; ++m)
    axes[m] = {reinterpret_cast<const int64_t*>(device + at[m][0]), reinterpret_cast<const int64_t*>(device + at[m][1]),
               reinterpret_cast<const T*>(device + at[m][2])};
  const int64_t total = p.planes * p.dst_h * p.dst_w;
  if (total == 0) return;
  launch(op, separable_gather_kernel<T>, dim3(blocks_for(total, kThreads)), dim3(kThreads), src, dst, p, axes[0], axes[1],
         scale);
}

// Runs the op given maps(T) -> {rows, cols, scale} from input-side to output-side indices,
// forward (x -> out) or backward (dy -> dx, the transposed maps), over the checked planes p.
template <class Maps>
void resample(const OpCall& c, bool backward, const Planes& p, Maps&& maps) {
  const TensorArg& in = c.in(0);
  const TensorArg& out = c.out(0);
  float_dispatch(c, backward ? "dy" : "x", in.dtype, [&](auto zero) {
    using T = decltype(zero);
    auto [rows, cols, scale] = maps(T{}, p);
    if (!backward) {
      run_separable<T>(op_name(c.op), in.ptr<T>(), out.ptr<T>(), {p.count, p.h, p.w, p.oh, p.ow}, rows, cols, scale);
      return;
    }
    run_separable<T>(op_name(c.op), in.ptr<T>(), out.ptr<T>(), {p.count, p.oh, p.ow, p.h, p.w}, rows.transposed(p.h),
                     cols.transposed(p.w), scale);
  });
}

template <class T>
struct Maps {
  AxisMap<T> rows, cols;
  T scale;
};

void avg_pool(const OpCall& c, bool backward) {
  const AvgPoolAxes q = check_avg_pool_params(c);
  resample(c, backward, check_resample_planes(c, backward), [&](auto zero, const Planes& p) {
    using T = decltype(zero);
    const bool unit = q.divisor_override > 0;
    return Maps<T>{window_axis<T>(p.oh, unit, [&](int64_t o) { return pool_window(c, q, 0, p.h, p.oh, o); }),
                   window_axis<T>(p.ow, unit, [&](int64_t o) { return pool_window(c, q, 1, p.w, p.ow, o); }),
                   unit ? T(1 / double(q.divisor_override)) : T(1)};
  });
}

void adaptive_avg_pool(const OpCall& c, bool backward) {
  resample(c, backward, check_resample_planes(c, backward), [&](auto zero, const Planes& p) {
    using T = decltype(zero);
    return Maps<T>{window_axis<T>(p.oh, false, [&](int64_t o) { return adaptive_window(p.h, p.oh, o); }),
                   window_axis<T>(p.ow, false, [&](int64_t o) { return adaptive_window(p.w, p.ow, o); }), T(1)};
  });
}

void upsample(const OpCall& c, bool backward) {
  const UpsampleParams q = c.params_as<UpsampleParams>();
  resample(c, backward, check_upsample_planes(c, backward), [&](auto zero, const Planes& p) {
    using T = decltype(zero);
    if (q.mode == UpsampleMode::nearest) return Maps<T>{nearest_axis<T>(p.h, p.oh, q.scale_h), nearest_axis<T>(p.w, p.ow, q.scale_w), T(1)};
    return Maps<T>{bilinear_axis<T>(p.h, p.oh, q.align_corners, q.scale_h),
                   bilinear_axis<T>(p.w, p.ow, q.align_corners, q.scale_w), T(1)};
  });
}

}  // namespace

namespace ops {

void avg_pool2d_forward(const OpCall& c) { avg_pool(c, false); }
void avg_pool2d_backward(const OpCall& c) { avg_pool(c, true); }
void adaptive_avg_pool2d_forward(const OpCall& c) { adaptive_avg_pool(c, false); }
void adaptive_avg_pool2d_backward(const OpCall& c) { adaptive_avg_pool(c, true); }
void upsample2d_forward(const OpCall& c) { upsample(c, false); }
void upsample2d_backward(const OpCall& c) { upsample(c, true); }

}  // namespace ops
}  // namespace sepconv::cuda
