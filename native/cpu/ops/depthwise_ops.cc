// Depthwise conv2d ops (CPU): checks, then the direct kernels over (image, channel) planes.
#include <algorithm>
#include <vector>

#include "core/checks/depthwise.h"
#include "cpu/ops/gemm_plan.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

// Planes per task so that one task holds at least this many elements (tiny planes would
// otherwise wake the pool for microseconds of work).
constexpr size_t kPlaneGrainElements = 1 << 14;

size_t plane_grain(int64_t plane_elements) {
  return std::max<size_t>(1, kPlaneGrainElements / size_t(std::max<int64_t>(plane_elements, 1)));
}

}  // namespace

void depthwise_conv2d_forward(const OpCall& c) {
  const DepthwiseOperands checked = check_depthwise_conv2d_forward(c);
  const DepthwiseShape& s = checked.s;
  const TensorArg* bias = checked.channel_vector;
  const TensorArg &x = c.in(0), &w = c.in(1), &out = c.out(0);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).depthwise;
    const T *px = x.ptr<T>(), *pw = w.ptr<T>(), *pb = bias ? bias->ptr<T>() : nullptr;
    T* po = out.ptr<T>();
    // Planes in (image, output channel) order: the m planes that read one input plane are
    // neighbours, so that plane is still in cache for the later ones.
    c.ctx.pool.parallel_for(size_t(s.batch * s.out_channels), plane_grain(s.out_plane()), [&](size_t begin, size_t end) {
      k.forward(s.g, 0, s.g.out_h, int(end - begin), [&](int i) {
        const int64_t p = int64_t(begin) + i, n = p / s.out_channels, o = p % s.out_channels;
        return DepthwiseForwardPlane<T>{px + (n * s.channels + o / s.multiplier) * s.in_plane(), pw + o * s.taps(),
                                        pb ? pb[o] : T(0), po + p * s.out_plane()};
      });
    });
  });
}

void depthwise_conv2d_backward_input(const OpCall& c) {
  const DepthwiseShape s = check_depthwise_conv2d_backward_input(c);
  const TensorArg &dy = c.in(0), &w = c.in(1), &dx = c.out(0);
  float_dispatch(c, "dy", dy.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).depthwise;
    const T *pdy = dy.ptr<T>(), *pw = w.ptr<T>();
    T* pdx = dx.ptr<T>();
    const size_t grain = plane_grain(s.in_plane() * s.multiplier);
    c.ctx.pool.parallel_for(size_t(s.batch * s.channels), grain, [&](size_t begin, size_t end) {
      k.backward_input(s.g, int(s.multiplier), int(end - begin), [&](int i) {
        // Input plane p = (n, c) collects output planes (n, c*m + k): consecutive in memory.
        const int64_t p = int64_t(begin) + i, channel = p % s.channels;
        return DepthwiseInputGradPlane<T>{pdy + p * s.multiplier * s.out_plane(),
                                          pw + channel * s.multiplier * s.taps(), pdx + p * s.in_plane()};
      });
    });
  });
}

void depthwise_conv2d_backward_weight(const OpCall& c) {
  const DepthwiseOperands checked = check_depthwise_conv2d_backward_weight(c);
  const DepthwiseShape& s = checked.s;
  const TensorArg* dbias = checked.channel_vector;
  const TensorArg &x = c.in(0), &dy = c.in(1), &dw = c.out(0);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).depthwise;
    const int64_t out_channels = s.out_channels, kernel_size = s.taps();
    // Per output channel: kernel_size weight sums then the bias sum, in double.
    const int64_t sums_per_channel = kernel_size + 1;
    // Planes (image, output channel) in memory order, split statically into one range per
    // task; each task sums its range into its own partial sums, which are then added in task
    // order: the result depends on the thread count only, never on scheduling.
    const int64_t planes = s.batch * out_channels;
    const int tasks = int(std::min<int64_t>(c.ctx.pool.size(), planes));
    std::vector<double> partial(size_t(std::max(tasks, 1) * out_channels * sums_per_channel), 0.0);
    const T *px = x.ptr<T>(), *pdy = dy.ptr<T>();
    c.ctx.pool.run(tasks, [&](int task) {
      const int64_t begin = planes * task / tasks, end = planes * (task + 1) / tasks;
      k.backward_weight(s.g, int(end - begin), int(out_channels), [&](int i) {
        const int64_t p = begin + i, n = p / out_channels, o = p % out_channels;
        return DepthwiseWeightGradPlane<T>{px + (n * s.channels + o / s.multiplier) * s.in_plane(), pdy + p * s.out_plane(),
                                           int(o)};
      }, partial.data() + size_t(task) * out_channels * sums_per_channel);
    });
    T* pdw = dw.ptr<T>();
    T* pdb = dbias ? dbias->ptr<T>() : nullptr;
    for (int64_t o = 0; o < out_channels; ++o)
      for (int64_t i = 0; i <= kernel_size; ++i) {
        double total = 0;
        for (int t = 0; t < tasks; ++t) total += partial[size_t((t * out_channels + o) * sums_per_channel + i)];
        if (i < kernel_size) pdw[o * kernel_size + i] = T(total);
        else if (pdb) pdb[o] = T(total);
      }
  });
}

// Bytes of depthwise output a band holds: with the GEMM's packed panels it stays in L2.
constexpr size_t kFusedBandBytes = size_t(256) << 10;

void depthwise_pointwise_forward(const OpCall& c) {
  const DepthwiseOperands checked = check_depthwise_pointwise_forward(c);
  const DepthwiseShape& s = checked.s;
  const TensorArg* bias = checked.channel_vector;
  const TensorArg &x = c.in(0), &w_dw = c.in(1), &w_pw = c.in(2), &y = c.out(0);
  const int64_t out_channels = w_pw.shape[0];
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& kernels = kernels_for<T>(c.ctx.isa);
    const DepthwiseGeometry& g = s.g;
    const int rows = int(std::clamp<int64_t>(int64_t(kFusedBandBytes / sizeof(T)) / (s.channels * g.out_w), 1, g.out_h));
    const int bands = (g.out_h + rows - 1) / rows;
    const int64_t units = s.batch * bands;
    const int tasks = int(std::min<int64_t>(c.ctx.pool.size(), units));
    const T *px = x.ptr<T>(), *pdw = w_dw.ptr<T>(), *ppw = w_pw.ptr<T>(), *pb = bias ? bias->ptr<T>() : nullptr;
    T* py = y.ptr<T>();
    c.ctx.pool.run(tasks, [&](int task) {
      T* band = static_cast<T*>(thread_scratch(2, size_t(s.channels) * rows * g.out_w * sizeof(T)));
      for (int64_t u = units * task / tasks; u < units * (task + 1) / tasks; ++u) {
        const int64_t n = u / bands;
        const int row0 = int(u % bands) * rows, row1 = std::min(g.out_h, row0 + rows);
        const int64_t cols = int64_t(row1 - row0) * g.out_w;
        // Depthwise rows [row0, row1) of every channel: band = [C x cols], row-major.
        kernels.depthwise.forward(g, row0, row1, int(s.channels), [&](int ch) {
          return DepthwiseForwardPlane<T>{px + (n * s.channels + ch) * s.in_plane(), pdw + int64_t(ch) * s.taps(), T(0),
                                          band + ch * cols};
        });
        // y[n, :, rows] = w_pw [C_out x C] * band, written into the NCHW output in place.
        GemmProblem<T> p{out_channels, cols, s.channels, {dense_source(ppw, s.channels), false},
                         {dense_source<T>(band, cols), false}, {}};
        p.c = {GemmSink<T>::Kind::Planar, py + n * out_channels * s.out_plane() + int64_t(row0) * g.out_w,
               s.out_plane(), std::max<int64_t>(cols, 1), 0, {}, T(1), T(0), pb, nullptr};
        kernels.gemm.run(p, {0, out_channels, 0, cols, 0, s.channels});
      }
    });
  });
}

}  // namespace sepconv::cpu::ops
