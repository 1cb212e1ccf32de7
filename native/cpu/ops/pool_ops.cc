// Max-pooling with argmax indices and max-unpooling, forward and backward (CPU).
#include <algorithm>
#include <cstdint>

#include "cpu/ops/index_checks.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

// PyTorch's pooled size: floor (or ceil) of the window count; in ceil mode a last window
// that would start in the right padding is dropped.
int64_t pooled_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

void check_same_shape(const OpCall& c, const char* operand, const TensorArg& t, const TensorArg& like, const char* like_name) {
  bool same = t.ndim == like.ndim;
  for (int d = 0; same && d < t.ndim; ++d) same = t.shape[d] == like.shape[d];
  SEPCONV_CHECK(same, op_name(c.op), ": ", operand, " must have the shape of ", like_name);
}

// Both tensors are [N, C, h, w] with the same N and C, and planes small enough for int32 indices.
void check_planes(const OpCall& c, const TensorArg& a, const char* a_name, const TensorArg& b, const char* b_name) {
  check_ndim(c, a_name, a, 4);
  check_ndim(c, b_name, b, 4);
  SEPCONV_CHECK(a.shape[0] == b.shape[0] && a.shape[1] == b.shape[1], op_name(c.op), ": ", a_name, " and ", b_name,
                " must have the same batch and channel sizes");
  SEPCONV_CHECK(a.shape[2] * a.shape[3] <= INT32_MAX && b.shape[2] * b.shape[3] <= INT32_MAX, op_name(c.op),
                ": planes must have fewer than 2^31 elements (indices are int32)");
}

Pool2dGeometry pool_geometry(const OpCall& c, const TensorArg& x, const TensorArg& out) {
  Pool2dGeometry g{x.shape[2], x.shape[3], out.shape[2], out.shape[3], c.iparam(0), c.iparam(1), c.iparam(2),
                   c.iparam(3),  c.iparam(4), c.iparam(5), c.iparam(6),  c.iparam(7)};
  const bool ceil_mode = c.param(8) != 0;
  SEPCONV_CHECK(g.kernel_h > 0 && g.kernel_w > 0 && g.stride_h > 0 && g.stride_w > 0 && g.dilation_h > 0 &&
                    g.dilation_w > 0 && g.pad_h >= 0 && g.pad_w >= 0,
                op_name(c.op), ": kernel, stride and dilation must be positive and padding non-negative");
  SEPCONV_CHECK(2 * g.pad_h <= g.kernel_h && 2 * g.pad_w <= g.kernel_w, op_name(c.op),
                ": padding must be at most half the kernel size");
  const int64_t oh = pooled_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h, ceil_mode);
  const int64_t ow = pooled_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w, ceil_mode);
  SEPCONV_CHECK(oh > 0 && ow > 0 && g.out_h == oh && g.out_w == ow, op_name(c.op), ": out is ", g.out_h, "x",
                g.out_w, " per plane, the window geometry gives ", oh, "x", ow);
  return g;
}

enum class IndexMove { ScatterAdd, ScatterAssign, Gather };

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
void move_checked(const OpCall& c, IndexMove kind, const TensorArg& src, const TensorArg& idx, const TensorArg& dst,
                  const char* public_name) {
  check_dtype(c, "indices", idx, DType::I32);
  check_dtype(c, "out", dst, src.dtype);
  FirstBadIndex bad;
  float_dispatch(c, "input", src.dtype, [&](auto zero) { move_by_index<decltype(zero)>(c, kind, src, idx, dst, bad); });
  if (!bad.found()) return;
  const TensorArg& indexed = kind == IndexMove::Gather ? src : dst;
  fail(public_name, ": expected values in [0, ", indexed.shape[2] * indexed.shape[3] - 1, "] (positions within the ",
       indexed.shape[2], "x", indexed.shape[3], " plane) for indices but received ", idx.ptr<int32_t>()[bad.element()],
       " at ", coordinates(bad.element(), idx));
}

}  // namespace

void max_pool2d_forward(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0), &idx = c.out(1);
  check_planes(c, x, "x", out, "out");
  check_same_shape(c, "indices", idx, out, "out");
  check_dtype(c, "out", out, x.dtype);
  check_dtype(c, "indices", idx, DType::I32);
  const Pool2dGeometry g = pool_geometry(c, x, out);
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

void max_pool2d_backward(const OpCall& c) {
  const TensorArg &dy = c.in(0), &idx = c.in(1), &dx = c.out(0);
  check_planes(c, dy, "dy", dx, "dx");
  check_same_shape(c, "indices", idx, dy, "dy");
  move_checked(c, IndexMove::ScatterAdd, dy, idx, dx, "maxPool2d backward");
}

void max_unpool2d_forward(const OpCall& c) {
  const TensorArg &x = c.in(0), &idx = c.in(1), &out = c.out(0);
  check_planes(c, x, "x", out, "out");
  check_same_shape(c, "indices", idx, x, "x");
  move_checked(c, IndexMove::ScatterAssign, x, idx, out, "maxUnpool2d");
}

void max_unpool2d_backward(const OpCall& c) {
  const TensorArg &dy = c.in(0), &idx = c.in(1), &dx = c.out(0);
  check_planes(c, dy, "dy", dx, "dx");
  check_same_shape(c, "indices", idx, dx, "dx");
  move_checked(c, IndexMove::Gather, dy, idx, dx, "maxUnpool2d backward");
}

}  // namespace sepconv::cpu::ops
