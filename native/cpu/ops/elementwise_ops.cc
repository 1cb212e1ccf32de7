// Elementwise ops, broadcasting and reductions (CPU).
#include <algorithm>
#include <vector>

#include "core/checks/elementwise.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

// A tensor iteration space after merging adjacent dims that can be walked as one:
// dims[i] with per-operand strides (in elements), innermost last.
struct Layout {
  int ndim = 0;
  int64_t size[kMaxDims];
  int64_t stride[3][kMaxDims];  // up to three operands
};

// Strides of `t` (row-major) viewed at the output's shape: 0 where t broadcasts.
Layout coalesce(const TensorArg& out, int operands, int64_t strides[][kMaxDims]) {
  Layout l;
  for (int d = 0; d < out.ndim; ++d) {
    if (out.shape[d] == 1) continue;
    bool merge = l.ndim > 0;
    for (int k = 0; k < operands && merge; ++k)
      merge = strides[k][d] * out.shape[d] == l.stride[k][l.ndim - 1] ||
              (strides[k][d] == 0 && l.stride[k][l.ndim - 1] == 0);
    if (merge) {
      l.size[l.ndim - 1] *= out.shape[d];
      for (int k = 0; k < operands; ++k) l.stride[k][l.ndim - 1] = strides[k][d];
    } else {
      l.size[l.ndim] = out.shape[d];
      for (int k = 0; k < operands; ++k) l.stride[k][l.ndim] = strides[k][d];
      ++l.ndim;
    }
  }
  if (l.ndim == 0) {  // a single element
    l.ndim = 1;
    l.size[0] = 1;
    for (int k = 0; k < operands; ++k) l.stride[k][0] = 1;
  }
  return l;
}

// Walks rows [begin, end) of the outer dims (all but the innermost), calling
// row(offset0, offset1, ...) with each operand's element offset.
template <class Row>
void for_each_row(const Layout& l, int operands, int64_t begin, int64_t end, Row&& row) {
  const int outer = l.ndim - 1;
  int64_t index[kMaxDims] = {};
  int64_t rest = begin;
  for (int d = outer - 1; d >= 0; --d) {
    index[d] = rest % l.size[d];
    rest /= l.size[d];
  }
  for (int64_t r = begin; r < end; ++r) {
    int64_t off[3] = {0, 0, 0};
    for (int d = 0; d < outer; ++d)
      for (int k = 0; k < operands; ++k) off[k] += index[d] * l.stride[k][d];
    row(off);
    for (int d = outer - 1; d >= 0; --d) {
      if (++index[d] < l.size[d]) break;
      index[d] = 0;
    }
  }
}

}  // namespace

void binary(const OpCall& c) {
  const TensorArg &a = c.in(0), &b = c.in(1), &out = c.out(0);
  const BinaryKind bk = check_binary(c);
  float_dispatch(c, "a", a.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).elementwise;
    int64_t strides[3][kMaxDims];
    broadcast_strides(a, out, strides[0]);
    broadcast_strides(b, out, strides[1]);
    broadcast_strides(out, out, strides[2]);
    const Layout l = coalesce(out, 3, strides);
    const T *pa = a.ptr<T>(), *pb = b.ptr<T>();
    T* po = out.ptr<T>();
    const int64_t inner = l.size[l.ndim - 1];
    const int sa = static_cast<int>(l.stride[0][l.ndim - 1] != 0), sb = static_cast<int>(l.stride[1][l.ndim - 1] != 0);
    if (l.ndim == 1) {
      c.ctx.pool.parallel_for(size_t(inner), kElementwiseGrain, [&](size_t s, size_t e) {
        k.binary(bk, pa + (sa ? s : 0), sa, pb + (sb ? s : 0), sb, po + s, e - s);
      });
      return;
    }
    const int64_t rows = out.numel() / inner;
    const size_t grain = std::max<size_t>(1, kElementwiseGrain / size_t(inner));
    c.ctx.pool.parallel_for(size_t(rows), grain, [&](size_t s, size_t e) {
      for_each_row(l, 3, int64_t(s), int64_t(e),
                   [&](const int64_t* off) { k.binary(bk, pa + off[0], sa, pb + off[1], sb, po + off[2], size_t(inner)); });
    });
  });
}

void affine(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  check_affine(c);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).elementwise;
    const AffineParams p = c.params_as<AffineParams>();
    const T alpha = T(p.alpha), beta = T(p.beta);
    c.ctx.pool.parallel_for(size_t(x.numel()), kElementwiseGrain, [&](size_t s, size_t e) {
      k.affine(x.ptr<T>() + s, alpha, beta, out.ptr<T>() + s, e - s);
    });
  });
}

void axpy(const OpCall& c) {
  const TensorArg &x = c.in(0), &y = c.in(1);
  check_axpy(c);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).elementwise;
    const T alpha = T(c.params_as<AxpyParams>().alpha);
    c.ctx.pool.parallel_for(size_t(x.numel()), kElementwiseGrain, [&](size_t s, size_t e) {
      k.axpy(x.ptr<T>() + s, alpha, y.ptr<T>() + s, e - s);
    });
  });
}

void sum_to(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  check_sum_to(c);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).elementwise;
    const T* px = x.ptr<T>();
    T* po = out.ptr<T>();
    const int64_t n = x.numel();
    if (out.numel() == 1) {
      // Whole-tensor sum: fixed-size chunks summed in parallel, then in order, so the result
      // does not depend on the thread count.
      constexpr int64_t kChunk = 1 << 16;
      const int64_t chunks = (n + kChunk - 1) / kChunk;
      std::vector<double> partial(size_t(std::max<int64_t>(chunks, 1)), 0.0);
      c.ctx.pool.parallel_for(size_t(chunks), 1, [&](size_t s, size_t e) {
        for (size_t i = s; i < e; ++i) {
          const int64_t begin = int64_t(i) * kChunk;
          partial[i] = k.sum(px + begin, size_t(std::min(kChunk, n - begin)));
        }
      });
      double total = 0;
      for (double p : partial) total += p;
      po[0] = T(total);
      return;
    }
    // General case: x's dims as (size, x stride, out stride); out stride 0 marks a reduced dim.
    int64_t strides[2][kMaxDims];
    broadcast_strides(x, x, strides[0]);
    broadcast_strides(out, x, strides[1]);
    const Layout l = coalesce(x, 2, strides);
    std::fill(po, po + out.numel(), T(0));
    const int last = l.ndim - 1;
    const int64_t inner = l.size[last];
    const bool inner_reduced = l.stride[1][last] == 0;
    // Accumulates the rows of `part` (l, possibly narrowed along one dim) into out.
    auto accumulate = [&](const Layout& part, int64_t base_x, int64_t base_o) {
      int64_t rows = 1;
      for (int d = 0; d < last; ++d) rows *= part.size[d];
      for_each_row(part, 2, 0, rows, [&](const int64_t* off) {
        if (inner_reduced)
          po[base_o + off[1]] += T(k.sum(px + base_x + off[0], size_t(inner)));
        else
          k.axpy(px + base_x + off[0], T(1), po + base_o + off[1], size_t(inner));
      });
    };
    // Split the outermost kept outer dim across threads: each output element is then
    // written by one thread, in the same order whatever the thread count.
    int split = -1;
    for (int d = 0; d < last && split < 0; ++d)
      if (l.stride[1][d] != 0) split = d;
    if (split < 0) return accumulate(l, 0, 0);
    c.ctx.pool.parallel_for(size_t(l.size[split]), 1, [&](size_t s, size_t e) {
      Layout part = l;
      part.size[split] = int64_t(e - s);
      accumulate(part, int64_t(s) * l.stride[0][split], int64_t(s) * l.stride[1][split]);
    });
  });
}

void relu_forward(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  check_relu_forward(c);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).elementwise;
    c.ctx.pool.parallel_for(size_t(x.numel()), kElementwiseGrain,
                            [&](size_t s, size_t e) { k.relu_forward(x.ptr<T>() + s, out.ptr<T>() + s, e - s); });
  });
}

void relu_backward(const OpCall& c) {
  const TensorArg &x = c.in(0), &dy = c.in(1), &dx = c.out(0);
  check_relu_backward(c);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).elementwise;
    c.ctx.pool.parallel_for(size_t(x.numel()), kElementwiseGrain, [&](size_t s, size_t e) {
      k.relu_backward(x.ptr<T>() + s, dy.ptr<T>() + s, dx.ptr<T>() + s, e - s);
    });
  });
}

}  // namespace sepconv::cpu::ops
