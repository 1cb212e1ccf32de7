// Batch normalisation over [N, C, *] (CPU): per-channel statistics over N and the trailing
// dims, the running-stat update, and the backward pass.
//
// Work is split over (image, channel) planes so that few channels still keep every thread
// busy; per-plane partial sums are then added per channel in image order, which keeps the
// result independent of the thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/checks/norm.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

size_t plane_grain(const NormShape& s) { return std::max<size_t>(1, kElementwiseGrain / size_t(std::max<int64_t>(1, s.plane))); }

// Operand bytes of one channel below which a channel's second pass is expected to find its
// data still in the core's L2 (1-2 MB on current x86 and arm64 cores).
constexpr size_t kChannelCacheBytes = size_t(1) << 20;

// Runs reduce(p) for every (image, channel) plane p = n*C + c, then finish(c) once per
// channel, then apply(p) for every plane. When a channel's operands fit in cache, each
// channel is one task (its planes reduced, finished, applied while still cached: one trip
// to memory instead of two); otherwise these are three passes over all planes. finish sees
// the same per-plane partial sums in the same order either way, so results are the same.
template <class Reduce, class Finish, class Apply>
void channel_passes(const OpCall& c, const NormShape& s, size_t channel_bytes, Reduce&& reduce, Finish&& finish,
                    Apply&& apply) {
  const int64_t C = s.channels, planes = s.batch * C;
  if (channel_bytes <= kChannelCacheBytes) {
    const size_t grain = std::max<size_t>(1, kElementwiseGrain / size_t(std::max<int64_t>(1, s.per_channel())));
    c.ctx.pool.parallel_for(size_t(C), grain, [&](size_t begin, size_t end) {
      for (int64_t ch = int64_t(begin); ch < int64_t(end); ++ch) {
        for (int64_t n = 0; n < s.batch; ++n) reduce(size_t(n * C + ch));
        finish(ch);
        for (int64_t n = 0; n < s.batch; ++n) apply(size_t(n * C + ch));
      }
    });
    return;
  }
  c.ctx.pool.parallel_for(size_t(planes), plane_grain(s), [&](size_t begin, size_t end) {
    for (size_t p = begin; p < end; ++p) reduce(p);
  });
  for (int64_t ch = 0; ch < C; ++ch) finish(ch);
  c.ctx.pool.parallel_for(size_t(planes), plane_grain(s), [&](size_t begin, size_t end) {
    for (size_t p = begin; p < end; ++p) apply(p);
  });
}

// Sums per channel of the per-plane pairs in `partial` ([N*C] pairs), in image order.
void sum_planes(const NormShape& s, const std::vector<double>& partial, int64_t channel, double* first, double* second) {
  double a = 0, b = 0;
  for (int64_t n = 0; n < s.batch; ++n) {
    a += partial[size_t(2 * (n * s.channels + channel))];
    b += partial[size_t(2 * (n * s.channels + channel) + 1)];
  }
  *first = a;
  *second = b;
}

template <class T>
void forward(const OpCall& c, const NormShape& s) {
  const auto& k = kernels_for<T>(c.ctx.isa);
  const BatchNormForwardParams p = c.params_as<BatchNormForwardParams>();
  const bool training = p.training, affine = p.affine, running = p.running;
  const double momentum = p.momentum, eps = p.eps;
  const T* px = c.in(0).ptr<T>();
  const T* weight = affine ? c.in(1).ptr<T>() : nullptr;
  const T* bias = affine ? c.in(2).ptr<T>() : nullptr;
  T* running_mean = running ? c.in(affine ? 3 : 1).ptr<T>() : nullptr;
  T* running_var = running ? c.in(affine ? 4 : 2).ptr<T>() : nullptr;
  T* py = c.out(0).ptr<T>();
  T* mean = c.out(1).ptr<T>();
  T* invstd = c.out(2).ptr<T>();
  const int64_t C = s.channels;

  // y = (x - shift) * scale + offset per channel, with the shift an element of the channel
  // when training (exact differences; the mean enters only through the offset, in double).
  std::vector<T> shift(static_cast<size_t>(C)), scale(static_cast<size_t>(C)), offset(static_cast<size_t>(C));
  auto normalize = [&](size_t p) {
    const size_t ch = p % size_t(C);
    k.norm.normalize(px + int64_t(p) * s.plane, shift[ch], scale[ch], offset[ch], py + int64_t(p) * s.plane,
                     size_t(s.plane));
  };
  if (!training) {
    for (int64_t ch = 0; ch < C; ++ch) {
      const double is = 1 / std::sqrt(double(running_var[ch]) + eps);
      mean[ch] = shift[size_t(ch)] = running_mean[ch];
      invstd[ch] = T(is);
      scale[size_t(ch)] = T(is * (affine ? double(weight[ch]) : 1.0));
      offset[size_t(ch)] = affine ? bias[ch] : T(0);
    }
    c.ctx.pool.parallel_for(size_t(s.batch * C), plane_grain(s), [&](size_t begin, size_t end) {
      for (size_t p = begin; p < end; ++p) normalize(p);
    });
    return;
  }
  // One pass for the statistics: moments about the shift keep E[(x-s)^2] - E[x-s]^2 free
  // of cancellation.
  for (int64_t ch = 0; ch < C; ++ch) shift[size_t(ch)] = px[ch * s.plane];
  std::vector<double> partial(size_t(2 * s.batch * C));
  const double count = double(s.per_channel());
  channel_passes(
      c, s, size_t(s.per_channel()) * sizeof(T),
      [&](size_t p) {
        k.norm.centered_moments(px + int64_t(p) * s.plane, size_t(s.plane), shift[p % size_t(C)], &partial[2 * p],
                                &partial[2 * p + 1]);
      },
      [&](int64_t ch) {
        double sum, sum_sq;
        sum_planes(s, partial, ch, &sum, &sum_sq);
        const double shifted_mean = sum / count;
        const double var = std::max(0.0, sum_sq / count - shifted_mean * shifted_mean);
        const double m = double(shift[size_t(ch)]) + shifted_mean;
        const double is = 1 / std::sqrt(var + eps);
        const double sc = is * (affine ? double(weight[ch]) : 1.0);
        mean[ch] = T(m);
        invstd[ch] = T(is);
        scale[size_t(ch)] = T(sc);
        offset[size_t(ch)] = T((affine ? double(bias[ch]) : 0.0) - shifted_mean * sc);
        if (running) {
          // PyTorch updates the running variance with the unbiased estimate.
          running_mean[ch] = T((1 - momentum) * double(running_mean[ch]) + momentum * m);
          running_var[ch] = T((1 - momentum) * double(running_var[ch]) + momentum * var * count / (count - 1));
        }
      },
      normalize);
}

template <class T>
void backward(const OpCall& c, const NormShape& s) {
  const auto& k = kernels_for<T>(c.ctx.isa);
  const BatchNormBackwardParams p = c.params_as<BatchNormBackwardParams>();
  const bool training = p.training, affine = p.affine, need_dx = p.need_dx, need_dparams = p.need_dparams;
  const T* px = c.in(0).ptr<T>();
  const T* pdy = c.in(1).ptr<T>();
  const T* mean = c.in(2).ptr<T>();
  const T* invstd = c.in(3).ptr<T>();
  const T* weight = affine ? c.in(4).ptr<T>() : nullptr;
  T* pdx = need_dx ? c.out(0).ptr<T>() : nullptr;
  T* dweight = need_dparams ? c.out(need_dx ? 1 : 0).ptr<T>() : nullptr;
  T* dbias = need_dparams ? c.out(need_dx ? 2 : 1).ptr<T>() : nullptr;
  const int64_t C = s.channels;
  const double count = double(s.per_channel());

  // Sums of dy and dy*(x - mean) per channel give the parameter gradients and the two
  // projections training mode removes from the input gradient:
  // dx = a*dy + b*(x - mean) + c = w*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)).
  const bool reduce = training || need_dparams;
  std::vector<double> partial(reduce ? size_t(2 * s.batch * C) : 0);
  std::vector<T> a(static_cast<size_t>(C)), b(static_cast<size_t>(C)), cc(static_cast<size_t>(C));
  channel_passes(
      c, s, reduce && need_dx ? 2 * size_t(s.per_channel()) * sizeof(T) : SIZE_MAX,
      [&](size_t p) {
        if (!reduce) return;
        const int64_t off = int64_t(p) * s.plane;
        k.norm.grad_moments(px + off, pdy + off, size_t(s.plane), mean[p % size_t(C)], &partial[2 * p],
                            &partial[2 * p + 1]);
      },
      [&](int64_t ch) {
        double sum_dy = 0, sum_dy_xc = 0;
        if (reduce) sum_planes(s, partial, ch, &sum_dy, &sum_dy_xc);
        const double is = double(invstd[ch]);
        const double ga = (affine ? double(weight[ch]) : 1.0) * is;
        a[size_t(ch)] = T(ga);
        b[size_t(ch)] = T(training ? -ga * is * is * sum_dy_xc / count : 0.0);
        cc[size_t(ch)] = T(training ? -ga * sum_dy / count : 0.0);
        if (need_dparams) {
          dweight[ch] = T(sum_dy_xc * is);
          dbias[ch] = T(sum_dy);
        }
      },
      [&](size_t p) {
        if (!need_dx) return;
        const size_t ch = p % size_t(C);
        const int64_t off = int64_t(p) * s.plane;
        if (training)
          k.norm.combine(pdy + off, a[ch], px + off, mean[ch], b[ch], cc[ch], pdx + off, size_t(s.plane));
        else
          k.elementwise.affine(pdy + off, a[ch], T(0), pdx + off, size_t(s.plane));
      });
}

}  // namespace

void batch_norm_forward(const OpCall& c) {
  const NormShape s = check_batch_norm_forward(c);
  float_dispatch(c, "x", c.in(0).dtype, [&](auto zero) { forward<decltype(zero)>(c, s); });
}

void batch_norm_backward(const OpCall& c) {
  const NormShape s = check_batch_norm_backward(c);
  float_dispatch(c, "x", c.in(0).dtype, [&](auto zero) { backward<decltype(zero)>(c, s); });
}

}  // namespace sepconv::cpu::ops
