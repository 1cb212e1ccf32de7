// Softmax / log-softmax over one dim and softmax cross-entropy with integer targets (CPU).
//
// A tensor is seen as [outer, classes, inner]. With inner == 1 each position is a
// contiguous row (the row kernels); otherwise positions are processed in blocks of
// kColumnBlock adjacent ones, vectorised across positions (the column kernels). Blocks are
// a fixed partition, so per-block partial sums added in block order do not depend on the
// thread count.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "core/checks/loss.h"
#include "cpu/ops/index_checks.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

constexpr int64_t kColumnBlock = 256;

// Work units: a row per position when inner == 1, else blocks of kColumnBlock positions.
int64_t column_blocks(const ClassLayout& l) { return (l.inner + kColumnBlock - 1) / kColumnBlock; }
int64_t num_blocks(const ClassLayout& l) { return l.inner == 1 ? l.outer : l.outer * column_blocks(l); }

// Runs row(block, o) for each row (inner == 1) or columns(block, o, s0, n) for each block
// of n positions starting at s0 of outer index o, in parallel.
template <class Rows, class Columns>
void for_each_block(const OpCall& c, const ClassLayout& l, Rows&& row, Columns&& columns) {
  const int64_t block_size = l.inner == 1 ? l.classes : l.classes * std::min(kColumnBlock, l.inner);
  const size_t grain = std::max<size_t>(1, kElementwiseGrain / size_t(std::max<int64_t>(1, block_size)));
  c.ctx.pool.parallel_for(size_t(num_blocks(l)), grain, [&](size_t begin, size_t end) {
    for (int64_t b = int64_t(begin); b < int64_t(end); ++b) {
      if (l.inner == 1) {
        row(b, b);
      } else {
        const int64_t o = b / column_blocks(l), s0 = (b % column_blocks(l)) * kColumnBlock;
        columns(b, o, s0, std::min(kColumnBlock, l.inner - s0));
      }
    }
  });
}

template <class T>
void cross_entropy_forward_typed(const OpCall& c, const ClassLayout& l, int64_t ignore_index, Reduction reduction) {
  const auto& k = kernels_for<T>(c.ctx.isa).softmax;
  const TensorArg &logits = c.in(0), &targets = c.in(1);
  const T* x = logits.ptr<T>();
  const int32_t* t = targets.ptr<int32_t>();
  T* loss = c.out(0).ptr<T>();
  T* lse = c.out(1).ptr<T>();
  std::vector<double> block_sum(size_t(num_blocks(l)), 0.0);
  std::vector<int64_t> block_count(size_t(num_blocks(l)), 0);
  FirstBadIndex bad;
  // Loss of position (o, s) given its log-sum-exp; ignored positions give 0 and do not count.
  auto pick = [&](int64_t b, int64_t o, int64_t s) {
    const int64_t pos = o * l.inner + s;
    const int64_t target = t[pos];
    T value = T(0);
    if (target != ignore_index) {
      if (target < 0 || target >= l.classes) {
        bad.note(pos);
      } else {
        value = lse[pos] - x[(o * l.classes + target) * l.inner + s];
        block_sum[size_t(b)] += double(value);
        ++block_count[size_t(b)];
      }
    }
    if (reduction == Reduction::none) loss[pos] = value;
  };
  for_each_block(
      c, l,
      [&](int64_t b, int64_t o) {
        lse[o] = k.log_sum_exp_row(x + o * l.classes, size_t(l.classes));
        pick(b, o, 0);
      },
      [&](int64_t b, int64_t o, int64_t s0, int64_t n) {
        k.log_sum_exp_columns(x + o * l.classes * l.inner + s0, size_t(l.classes), size_t(l.inner), size_t(n),
                              lse + o * l.inner + s0);
        for (int64_t s = s0; s < s0 + n; ++s) pick(b, o, s);
      });
  if (bad.found()) fail_bad_target(targets, l, ignore_index, t[bad.element()], bad.element());
  if (reduction == Reduction::none) return;
  double total = 0;
  int64_t count = 0;
  for (size_t b = 0; b < block_sum.size(); ++b) {
    total += block_sum[b];
    count += block_count[b];
  }
  // Mean over no counted target is 0/0 = NaN, as in PyTorch.
  loss[0] = T(reduction == Reduction::mean ? total / double(count) : total);
}

template <class T>
void cross_entropy_backward_typed(const OpCall& c, const ClassLayout& l, int64_t ignore_index, Reduction reduction) {
  const auto& k = kernels_for<T>(c.ctx.isa).softmax;
  const TensorArg &logits = c.in(0), &targets = c.in(1);
  const T* x = logits.ptr<T>();
  const int32_t* t = targets.ptr<int32_t>();
  const T* lse = c.in(2).ptr<T>();
  const T* dloss = c.in(3).ptr<T>();
  T* dx = c.out(0).ptr<T>();
  const int64_t positions = targets.numel();
  FirstBadIndex bad;
  std::atomic<int64_t> counted{0};
  c.ctx.pool.parallel_for(size_t(positions), kElementwiseGrain, [&](size_t begin, size_t end) {
    int64_t n = 0;
    for (size_t p = begin; p < end; ++p) {
      if (t[p] == ignore_index) continue;
      if (t[p] < 0 || t[p] >= l.classes) bad.note(int64_t(p));
      ++n;
    }
    counted += n;
  });
  if (bad.found()) fail_bad_target(targets, l, ignore_index, t[bad.element()], bad.element());
  const T shared_scale = T(reduction == Reduction::mean ? double(dloss[0]) / double(counted.load()) : double(dloss[0]));
  // d loss / d logits = scale * (softmax - onehot(target)); 0 for ignored positions.
  auto scale_of = [&](int64_t pos) {
    return t[pos] == ignore_index ? T(0) : reduction == Reduction::none ? dloss[pos] : shared_scale;
  };
  for_each_block(
      c, l,
      [&](int64_t, int64_t o) {
        const T scale = scale_of(o);
        T* row = dx + o * l.classes;
        k.normalize_row(x + o * l.classes, size_t(l.classes), lse[o], scale, false, row);
        if (t[o] != ignore_index) row[t[o]] -= scale;
      },
      [&](int64_t, int64_t o, int64_t s0, int64_t n) {
        T scale[kColumnBlock];
        for (int64_t s = 0; s < n; ++s) scale[s] = scale_of(o * l.inner + s0 + s);
        const int64_t base = o * l.classes * l.inner + s0;
        k.normalize_columns(x + base, size_t(l.classes), size_t(l.inner), size_t(n), lse + o * l.inner + s0, scale,
                            false, dx + base);
        for (int64_t s = 0; s < n; ++s) {
          const int32_t target = t[o * l.inner + s0 + s];
          if (target != ignore_index) dx[base + int64_t(target) * l.inner + s] -= scale[s];
        }
      });
}

}  // namespace

void softmax_forward(const OpCall& c) {
  const SoftmaxCall sm = check_softmax_forward(c);
  const ClassLayout& l = sm.l;
  const bool log = sm.log;
  const TensorArg &x = c.in(0), &out = c.out(0);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).softmax;
    const T* px = x.ptr<T>();
    T* po = out.ptr<T>();
    for_each_block(
        c, l,
        [&](int64_t, int64_t o) {
          const T* row = px + o * l.classes;
          k.normalize_row(row, size_t(l.classes), k.log_sum_exp_row(row, size_t(l.classes)), T(1), log,
                          po + o * l.classes);
        },
        [&](int64_t, int64_t o, int64_t s0, int64_t n) {
          T lse[kColumnBlock];
          const int64_t base = o * l.classes * l.inner + s0;
          k.log_sum_exp_columns(px + base, size_t(l.classes), size_t(l.inner), size_t(n), lse);
          k.normalize_columns(px + base, size_t(l.classes), size_t(l.inner), size_t(n), lse, nullptr, log, po + base);
        });
  });
}

void softmax_backward(const OpCall& c) {
  const SoftmaxCall sm = check_softmax_backward(c);
  const ClassLayout& l = sm.l;
  const bool log = sm.log;
  const TensorArg &y = c.in(0), &dy = c.in(1), &dx = c.out(0);
  float_dispatch(c, "y", y.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).softmax;
    const T *py = y.ptr<T>(), *pdy = dy.ptr<T>();
    T* pdx = dx.ptr<T>();
    for_each_block(
        c, l,
        [&](int64_t, int64_t o) {
          const int64_t base = o * l.classes;
          k.softmax_backward_row(py + base, pdy + base, size_t(l.classes), log, pdx + base);
        },
        [&](int64_t, int64_t o, int64_t s0, int64_t n) {
          const int64_t base = o * l.classes * l.inner + s0;
          k.softmax_backward_columns(py + base, pdy + base, size_t(l.classes), size_t(l.inner), size_t(n), log,
                                     pdx + base);
        });
  });
}

void cross_entropy_forward(const OpCall& c) {
  const CrossEntropyCall ce = check_cross_entropy_forward(c);
  float_dispatch(c, "logits", c.in(0).dtype, [&](auto zero) {
    cross_entropy_forward_typed<decltype(zero)>(c, ce.l, ce.ignore_index, ce.reduction);
  });
}

void cross_entropy_backward(const OpCall& c) {
  const CrossEntropyCall ce = check_cross_entropy_backward(c);
  float_dispatch(c, "logits", c.in(0).dtype, [&](auto zero) {
    cross_entropy_backward_typed<decltype(zero)>(c, ce.l, ce.ignore_index, ce.reduction);
  });
}

}  // namespace sepconv::cpu::ops
