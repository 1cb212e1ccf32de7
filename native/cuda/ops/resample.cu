// Average pooling (fixed and adaptive windows) and nearest/bilinear upsampling. Each is
// separable: an output pixel is a weighted sum over a set of source rows times a set of
// source columns. The host builds, per axis, the list of (source index, weight) of every
// destination index with PyTorch's formulas (as the CPU op does); the backward pass uses the
// transposed lists, so both directions are one gather kernel, one thread per destination
// pixel: no atomics, deterministic.
#include <cmath>
#include <cstring>
#include <vector>

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

// ---- the axis maps, formula for formula as in the CPU op (see cpu/ops/resample_ops.cc)

template <class T>
AxisMap<T> pool_axis(const OpCall& c, int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad,
                     bool count_include_pad, bool unit_weights) {
  AxisMap<T> m;
  for (int64_t o = 0; o < out; ++o) {
    int64_t a = o * stride - pad, b = std::min(a + k, in + pad);
    const int64_t padded = b - a;
    a = std::max<int64_t>(a, 0);
    b = std::min(b, in);
    SEPCONV_CHECK(a < b, op_name(c.op), ": window ", o, " of an axis of size ", in, " is empty (output size ", out,
                  " too large)");
    const double count = double(count_include_pad ? padded : b - a);
    for (int64_t i = a; i < b; ++i) m.add(i, unit_weights ? T(1) : T(1 / count));
    m.close();
  }
  return m;
}

template <class T>
AxisMap<T> adaptive_axis(int64_t in, int64_t out) {
  AxisMap<T> m;
  for (int64_t o = 0; o < out; ++o) {
    const int64_t a = o * in / out, b = ((o + 1) * in + out - 1) / out;
    for (int64_t i = a; i < b; ++i) m.add(i, T(1 / double(b - a)));
    m.close();
  }
  return m;
}

// PyTorch's nearest_idx: exact shortcuts for equal and doubled sizes, else floor(o * scale)
// with the scale in single precision whatever the tensor's dtype.
template <class T>
AxisMap<T> nearest_axis(int64_t in, int64_t out, double scale_param) {
  const float scale = scale_param > 0 ? float(scale_param) : float(in) / float(out);
  AxisMap<T> m;
  for (int64_t o = 0; o < out; ++o) {
    m.add(out == in ? o : out == 2 * in ? o >> 1 : std::min(int64_t(std::floor(float(o) * scale)), in - 1), T(1));
    m.close();
  }
  return m;
}

// PyTorch's compute_source_index_and_lambda, in the tensor's precision.
template <class T>
AxisMap<T> bilinear_axis(int64_t in, int64_t out, bool align_corners, double scale_param) {
  const T scale = align_corners ? (out > 1 ? T(in - 1) / T(out - 1) : T(0))
                                : (scale_param > 0 ? T(scale_param) : T(in) / T(out));
  AxisMap<T> m;
  for (int64_t o = 0; o < out; ++o) {
    if (out == in) {
      m.add(o, T(1));
      m.close();
      continue;
    }
    const T real = align_corners ? scale * T(o) : std::max(scale * (T(o) + T(0.5)) - T(0.5), T(0));
    const int64_t i0 = std::min(int64_t(std::floor(real)), in - 1);
    const int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
    const T w1 = std::min(std::max(real - T(i0), T(0)), T(1));
    m.add(i0, T(1) - w1);
    m.add(i1, w1);
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

// Runs the op given maps(T) -> {rows, cols, scale} from input-side to output-side indices,
// forward (x -> out) or backward (dy -> dx, the transposed maps).
template <class Maps>
void resample(const OpCall& c, bool backward, Maps&& maps) {
  const TensorArg& in = c.in(0);
  const TensorArg& out = c.out(0);
  const Planes p = backward ? check_planes(c, out, "dx", in, "dy") : check_planes(c, in, "x", out, "out");
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
  const int64_t kernel[2] = {c.iparam(0), c.iparam(1)}, stride[2] = {c.iparam(2), c.iparam(3)},
                pad[2] = {c.iparam(4), c.iparam(5)};
  const bool count_include_pad = c.param(6) != 0;
  const int64_t divisor_override = c.iparam(7);
  for (int axis = 0; axis < 2; ++axis) {
    SEPCONV_CHECK(kernel[axis] > 0 && stride[axis] > 0, op_name(c.op), ": kernel and stride must be positive");
    SEPCONV_CHECK(pad[axis] >= 0 && 2 * pad[axis] <= kernel[axis], op_name(c.op), ": padding must be in [0, kernel / 2]");
  }
  resample(c, backward, [&](auto zero, const Planes& p) {
    using T = decltype(zero);
    const bool unit = divisor_override > 0;
    return Maps<T>{pool_axis<T>(c, p.h, p.oh, kernel[0], stride[0], pad[0], count_include_pad, unit),
                   pool_axis<T>(c, p.w, p.ow, kernel[1], stride[1], pad[1], count_include_pad, unit),
                   unit ? T(1 / double(divisor_override)) : T(1)};
  });
}

void adaptive_avg_pool(const OpCall& c, bool backward) {
  resample(c, backward, [&](auto zero, const Planes& p) {
    using T = decltype(zero);
    return Maps<T>{adaptive_axis<T>(p.h, p.oh), adaptive_axis<T>(p.w, p.ow), T(1)};
  });
}

void upsample(const OpCall& c, bool backward) {
  const int64_t mode = c.iparam(0);
  SEPCONV_CHECK(mode == 0 || mode == 1, op_name(c.op), ": unknown mode ", mode, " (0 nearest, 1 bilinear)");
  const bool align_corners = c.param(1) != 0;
  const double scale_h = c.param(2), scale_w = c.param(3);
  const TensorArg& image = backward ? c.out(0) : c.in(0);
  const TensorArg& resized = backward ? c.in(0) : c.out(0);
  const char* resized_name = backward ? "dy" : "out";
  SEPCONV_CHECK(resized.ndim != 4 || (resized.shape[2] > 0 && resized.shape[3] > 0), op_name(c.op), ": ", resized_name,
                " has an empty plane");
  SEPCONV_CHECK(image.ndim != 4 || (image.shape[2] <= INT32_MAX && image.shape[3] <= INT32_MAX), op_name(c.op), ": ",
                backward ? "dx" : "x", " is too tall or wide");
  resample(c, backward, [&](auto zero, const Planes& p) {
    using T = decltype(zero);
    if (mode == 0) return Maps<T>{nearest_axis<T>(p.h, p.oh, scale_h), nearest_axis<T>(p.w, p.ow, scale_w), T(1)};
    return Maps<T>{bilinear_axis<T>(p.h, p.oh, align_corners, scale_h),
                   bilinear_axis<T>(p.w, p.ow, align_corners, scale_w), T(1)};
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
