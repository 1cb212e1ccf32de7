// Operand checks of the elementwise, reduction and slice-copy ops, shared by the CPU and CUDA
// ops (host-only, no CPU-only includes).
#pragma once
#include <cstdint>

#include "core/op_checks.h"

namespace sepconv {

// Strides of t's elements when t is broadcast to out's shape (same rank): 0 along broadcast dims.
inline void broadcast_strides(const TensorArg& t, const TensorArg& out, int64_t* strides) {
  int64_t s = 1;
  for (int d = out.ndim - 1; d >= 0; --d) {
    strides[d] = t.shape[d] == 1 && out.shape[d] != 1 ? 0 : s;
    s *= t.shape[d];
  }
}

// binary: returns the kind.
inline BinaryKind check_binary(const OpCall& c) {
  const TensorArg &a = c.in(0), &b = c.in(1), &out = c.out(0);
  const BinaryKind kind = c.params_as<BinaryParams>().kind;
  SEPCONV_CHECK(a.ndim == out.ndim && b.ndim == out.ndim, "binary: operands must be aligned to the output's rank");
  for (int d = 0; d < out.ndim; ++d)
    SEPCONV_CHECK((a.shape[d] == out.shape[d] || a.shape[d] == 1) && (b.shape[d] == out.shape[d] || b.shape[d] == 1),
                  "binary: shapes do not broadcast at dim ", d);
  check_dtype(c, "b", b, a.dtype);
  check_dtype(c, "out", out, a.dtype);
  return kind;
}

// Ops whose second tensor (an output, or y of axpy) matches the first in size and dtype.
inline void check_like_first(const OpCall& c, const char* operand, const TensorArg& t) {
  check_numel(c, operand, t, c.in(0).numel());
  check_dtype(c, operand, t, c.in(0).dtype);
}

inline void check_affine(const OpCall& c) { check_like_first(c, "out", c.out(0)); }
inline void check_axpy(const OpCall& c) { check_like_first(c, "y", c.in(1)); }
inline void check_relu_forward(const OpCall& c) { check_like_first(c, "out", c.out(0)); }
inline void check_relu_backward(const OpCall& c) {
  check_like_first(c, "dy", c.in(1));
  check_like_first(c, "dx", c.out(0));
}

inline void check_sum_to(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  SEPCONV_CHECK(out.ndim == x.ndim, "sum_to: out must have x's rank (", x.ndim, "), got ", out.ndim);
  for (int d = 0; d < x.ndim; ++d)
    SEPCONV_CHECK(out.shape[d] == x.shape[d] || out.shape[d] == 1, "sum_to: out dim ", d, " is ", out.shape[d],
                  ", expected 1 or ", x.shape[d]);
  check_dtype(c, "out", out, x.dtype);
}

// narrow_copy: per index of the dims before `dim` (outer), the slice is `length * inner`
// contiguous elements in both tensors.
struct NarrowSlice {
  int64_t dim, src_start, dst_start, length, outer, inner;
};

inline NarrowSlice check_narrow_copy(const OpCall& c) {
  const TensorArg &src = c.in(0), &dst = c.out(0);
  const NarrowCopyParams p = c.params_as<NarrowCopyParams>();
  const int64_t dim = p.dim, src_start = p.src_start, dst_start = p.dst_start, length = p.length;
  check_dtype(c, "dst", dst, src.dtype);
  SEPCONV_CHECK(src.ndim == dst.ndim, "narrow_copy: src has ", src.ndim, " dims but dst has ", dst.ndim);
  SEPCONV_CHECK(dim >= 0 && dim < src.ndim, "narrow_copy: dim ", dim, " is out of range for ", src.ndim, " dims");
  for (int d = 0; d < src.ndim; ++d)
    SEPCONV_CHECK(d == dim || src.shape[d] == dst.shape[d], "narrow_copy: src and dst differ at dim ", d, " (",
                  src.shape[d], " vs ", dst.shape[d], ")");
  SEPCONV_CHECK(length >= 0 && src_start >= 0 && dst_start >= 0 && src_start + length <= src.shape[dim] &&
                    dst_start + length <= dst.shape[dim],
                "narrow_copy: slice [", src_start, ", ", src_start + length, ") -> [", dst_start, ", ",
                dst_start + length, ") does not fit sizes ", src.shape[dim], " and ", dst.shape[dim]);
  NarrowSlice s{dim, src_start, dst_start, length, 1, 1};
  for (int d = 0; d < dim; ++d) s.outer *= src.shape[d];
  for (int d = int(dim) + 1; d < src.ndim; ++d) s.inner *= src.shape[d];
  return s;
}

}  // namespace sepconv
