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

#include "cpu/ops/index_checks.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

constexpr int64_t kColumnBlock = 256;

struct ClassLayout {
  int64_t outer, classes, inner;
  int64_t blocks() const { return inner == 1 ? outer : outer * column_blocks(); }
  int64_t column_blocks() const { return (inner + kColumnBlock - 1) / kColumnBlock; }
};

ClassLayout class_layout(const TensorArg& t, int dim) {
  ClassLayout l{1, t.shape[dim], 1};
  for (int d = 0; d < dim; ++d) l.outer *= t.shape[d];
  for (int d = dim + 1; d < t.ndim; ++d) l.inner *= t.shape[d];
  return l;
}

// Runs row(block, o) for each row (inner == 1) or columns(block, o, s0, n) for each block
// of n positions starting at s0 of outer index o, in parallel.
template <class Rows, class Columns>
void for_each_block(const OpCall& c, const ClassLayout& l, Rows&& row, Columns&& columns) {
  const int64_t block_size = l.inner == 1 ? l.classes : l.classes * std::min(kColumnBlock, l.inner);
  const size_t grain = std::max<size_t>(1, kElementwiseGrain / size_t(std::max<int64_t>(1, block_size)));
  c.ctx.pool.parallel_for(size_t(l.blocks()), grain, [&](size_t begin, size_t end) {
    for (int64_t b = int64_t(begin); b < int64_t(end); ++b) {
      if (l.inner == 1) {
        row(b, b);
      } else {
        const int64_t o = b / l.column_blocks(), s0 = (b % l.column_blocks()) * kColumnBlock;
        columns(b, o, s0, std::min(kColumnBlock, l.inner - s0));
      }
    }
  });
}

[[noreturn]] void fail_target(const TensorArg& targets, const ClassLayout& l, int64_t ignore_index, int64_t element) {
  fail("crossEntropy: expected class indices in [0, ", l.classes - 1, "] or ignoreIndex (", ignore_index,
       ") for target but received ", targets.ptr<int32_t>()[element], " at ", coordinates(element, targets));
}

void check_cross_entropy_operands(const OpCall& c, const TensorArg& logits, const TensorArg& targets,
                                  const TensorArg& lse) {
  SEPCONV_CHECK(logits.ndim >= 2, op_name(c.op), ": logits must have at least 2 dims [N, C, ...], got ", logits.ndim);
  check_dtype(c, "targets", targets, DType::I32);
  bool same = targets.ndim == logits.ndim - 1 && targets.shape[0] == logits.shape[0];
  for (int d = 1; same && d < targets.ndim; ++d) same = targets.shape[d] == logits.shape[d + 1];
  SEPCONV_CHECK(same, op_name(c.op), ": targets must have the logits' shape without the class dim");
  check_numel(c, "lse", lse, targets.numel());
  check_dtype(c, "lse", lse, logits.dtype);
}

enum Reduction { kNone = 0, kMean = 1, kSum = 2 };

template <class T>
void cross_entropy_forward_typed(const OpCall& c, const ClassLayout& l, int64_t ignore_index, int reduction) {
  const auto& k = kernels_for<T>(c.ctx.isa).softmax;
  const TensorArg &logits = c.in(0), &targets = c.in(1);
  const T* x = logits.ptr<T>();
  const int32_t* t = targets.ptr<int32_t>();
  T* loss = c.out(0).ptr<T>();
  T* lse = c.out(1).ptr<T>();
  std::vector<double> block_sum(size_t(l.blocks()), 0.0);
  std::vector<int64_t> block_count(size_t(l.blocks()), 0);
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
    if (reduction == kNone) loss[pos] = value;
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
  if (bad.found()) fail_target(targets, l, ignore_index, bad.element());
  if (reduction == kNone) return;
  double total = 0;
  int64_t count = 0;
  for (size_t b = 0; b < block_sum.size(); ++b) {
    total += block_sum[b];
    count += block_count[b];
  }
  // Mean over no counted target is 0/0 = NaN, as in PyTorch.
  loss[0] = T(reduction == kMean ? total / double(count) : total);
}

template <class T>
void cross_entropy_backward_typed(const OpCall& c, const ClassLayout& l, int64_t ignore_index, int reduction) {
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
  if (bad.found()) fail_target(targets, l, ignore_index, bad.element());
  const T shared_scale = T(reduction == kMean ? double(dloss[0]) / double(counted.load()) : double(dloss[0]));
  // d loss / d logits = scale * (softmax - onehot(target)); 0 for ignored positions.
  auto scale_of = [&](int64_t pos) {
    return t[pos] == ignore_index ? T(0) : reduction == kNone ? dloss[pos] : shared_scale;
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

// The layout of a softmax over dim iparam(0) of x; an empty class dim leaves nothing to do.
ClassLayout softmax_layout(const OpCall& c, const TensorArg& x) {
  const int64_t dim = c.iparam(0);
  SEPCONV_CHECK(dim >= 0 && dim < x.ndim, op_name(c.op), ": dim ", dim, " is out of range for ", x.ndim, " dims");
  ClassLayout l = class_layout(x, int(dim));
  if (l.classes == 0) l.outer = 0;
  return l;
}

}  // namespace

void softmax_forward(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  const ClassLayout l = softmax_layout(c, x);
  const bool log = c.param(1) != 0;
  check_numel(c, "out", out, x.numel());
  check_dtype(c, "out", out, x.dtype);
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
  const TensorArg &y = c.in(0), &dy = c.in(1), &dx = c.out(0);
  const ClassLayout l = softmax_layout(c, y);
  const bool log = c.param(1) != 0;
  check_numel(c, "dy", dy, y.numel());
  check_numel(c, "dx", dx, y.numel());
  check_dtype(c, "dy", dy, y.dtype);
  check_dtype(c, "dx", dx, y.dtype);
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
  const TensorArg &logits = c.in(0), &targets = c.in(1), &loss = c.out(0), &lse = c.out(1);
  check_cross_entropy_operands(c, logits, targets, lse);
  const int reduction = int(c.iparam(1));
  SEPCONV_CHECK(reduction >= kNone && reduction <= kSum, "cross_entropy_forward: unknown reduction ", reduction);
  check_numel(c, "loss", loss, reduction == kNone ? targets.numel() : 1);
  check_dtype(c, "loss", loss, logits.dtype);
  const ClassLayout l = class_layout(logits, 1);
  SEPCONV_CHECK(l.classes > 0, "cross_entropy_forward: logits have no classes");
  float_dispatch(c, "logits", logits.dtype, [&](auto zero) {
    cross_entropy_forward_typed<decltype(zero)>(c, l, c.iparam(0), reduction);
  });
}

void cross_entropy_backward(const OpCall& c) {
  const TensorArg &logits = c.in(0), &targets = c.in(1), &lse = c.in(2), &dloss = c.in(3), &dx = c.out(0);
  check_cross_entropy_operands(c, logits, targets, lse);
  const int reduction = int(c.iparam(1));
  SEPCONV_CHECK(reduction >= kNone && reduction <= kSum, "cross_entropy_backward: unknown reduction ", reduction);
  check_numel(c, "dloss", dloss, reduction == kNone ? targets.numel() : 1);
  check_dtype(c, "dloss", dloss, logits.dtype);
  check_numel(c, "dlogits", dx, logits.numel());
  check_dtype(c, "dlogits", dx, logits.dtype);
  const ClassLayout l = class_layout(logits, 1);
  SEPCONV_CHECK(l.classes > 0, "cross_entropy_backward: logits have no classes");
  float_dispatch(c, "logits", logits.dtype, [&](auto zero) {
    cross_entropy_backward_typed<decltype(zero)>(c, l, c.iparam(0), reduction);
  });
}

}  // namespace sepconv::cpu::ops
