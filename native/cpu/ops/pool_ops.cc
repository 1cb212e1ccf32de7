// Max-pooling with argmax indices and max-unpooling, forward and backward (CPU).
#include <algorithm>
#include <cstdint>

#include "core/checks/pool.h"
#include "cpu/ops/index_checks.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

// Per plane: dst = 0 then dst[idx[k]] (+)= src[k] (scatters), or dst[k] = src[idx[k]]
// (gather). Index -1 (a pooling window over padding only) scatters nothing; any other
// index outside the indexed plane is noted in `bad` (by its element of idx) and skipped.
template <class T>
void move_by_index(const OpCall& c, IndexMove kind, const TensorArg& src, const TensorArg& idx, const TensorArg& dst,
                   FirstBadIndex& bad) {
  const int64_t planes = idx.shape[0] * idx.shape[1];
  const int64_t count = idx.shape[2] * idx.shape[3];
  const TensorArg& indexed = kind == IndexMove::Gather ? src : dst;
  const int64_t limit = indexed.shape[2] * indexed.shape[3];
  const int64_t src_plane = src.shape[2] * src.shape[3], dst_plane = dst.shape[2] * dst.shape[3];
  const T* ps = src.ptr<T>();
  const int32_t* pi = idx.ptr<int32_t>();
  T* pd = dst.ptr<T>();
  const size_t grain = std::max<size_t>(1, kElementwiseGrain / size_t(std::max<int64_t>(1, dst_plane + count)));
  c.ctx.pool.parallel_for(size_t(planes), grain, [&](size_t begin, size_t end) {
    for (size_t p = begin; p < end; ++p) {
      const T* s = ps + int64_t(p) * src_plane;
      const int32_t* ix = pi + int64_t(p) * count;
      T* d = pd + int64_t(p) * dst_plane;
      if (kind != IndexMove::Gather) std::fill(d, d + dst_plane, T(0));
      for (int64_t k = 0; k < count; ++k) {
        const int64_t at = ix[k];
        if (at < 0 || at >= limit) {
          if (!(at == -1 && kind == IndexMove::ScatterAdd)) bad.note(int64_t(p) * count + k);
          if (kind == IndexMove::Gather) d[k] = T(0);
          continue;
        }
        if (kind == IndexMove::Gather)
          d[k] = s[at];
        else if (kind == IndexMove::ScatterAdd)
          d[at] += s[k];
        else
          d[at] = s[k];
      }
    }
  });
}

// Runs move_by_index and reports the first bad index in the words of the public op.
void move_checked(const OpCall& c) {
  const IndexMoveOperands m = check_index_move(c);
  FirstBadIndex bad;
  float_dispatch(c, "input", m.src.dtype,
                 [&](auto zero) { move_by_index<decltype(zero)>(c, m.kind, m.src, m.idx, m.dst, bad); });
  if (bad.found()) fail_bad_index(m, m.idx.ptr<int32_t>()[bad.element()], bad.element());
}

}  // namespace

void max_pool2d_forward(const OpCall& c) {
  const Pool2dGeometry g = check_max_pool2d_forward(c);
  const TensorArg &x = c.in(0), &out = c.out(0), &idx = c.out(1);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto& k = kernels_for<T>(c.ctx.isa).pool;
    const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
    const int64_t rows = x.shape[0] * x.shape[1] * g.out_h;
    const size_t grain = std::max<size_t>(1, kElementwiseGrain / size_t(g.out_w * g.kernel_h * g.kernel_w));
    c.ctx.pool.parallel_for(size_t(rows), grain, [&](size_t begin, size_t end) {
      for (int64_t r = int64_t(begin); r < int64_t(end);) {
        const int64_t p = r / g.out_h, row = r % g.out_h;
        const int64_t stop = std::min<int64_t>(g.out_h, row + (int64_t(end) - r));
        k.max_pool2d_rows(g, x.ptr<T>() + p * in_plane, out.ptr<T>() + p * out_plane, idx.ptr<int32_t>() + p * out_plane,
                          row, stop);
        r += stop - row;
      }
    });
  });
}

void max_pool2d_backward(const OpCall& c) { move_checked(c); }

void max_unpool2d_forward(const OpCall& c) { move_checked(c); }

void max_unpool2d_backward(const OpCall& c) { move_checked(c); }

}  // namespace sepconv::cpu::ops
