// Operand checks and window geometry of max-pooling and max-unpooling, shared by the CPU
// and CUDA ops (host-only, no CPU-only includes).
#pragma once
#include <cstdint>

#include "core/op_checks.h"
#include "core/output_size.h"

namespace sepconv {

// One pooling window configuration over an in_h x in_w plane giving out_h x out_w outputs.
struct Pool2dGeometry {
  int64_t in_h, in_w, out_h, out_w;
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
};

namespace pool_checks {

// Both tensors are [N, C, h, w] with the same N and C, and planes small enough for int32 indices.
inline void check_planes(const OpCall& c, const TensorArg& a, const char* a_name, const TensorArg& b,
                         const char* b_name) {
  check_ndim(c, a_name, a, 4);
  check_ndim(c, b_name, b, 4);
  SEPCONV_CHECK(a.shape[0] == b.shape[0] && a.shape[1] == b.shape[1], op_name(c.op), ": ", a_name, " and ", b_name,
                " must have the same batch and channel sizes");
  SEPCONV_CHECK(a.shape[2] * a.shape[3] <= INT32_MAX && b.shape[2] * b.shape[3] <= INT32_MAX, op_name(c.op),
                ": planes must have fewer than 2^31 elements (indices are int32)");
}

}  // namespace pool_checks

// max_pool2d_forward: x -> out, indices; returns the window geometry checked against out.
inline Pool2dGeometry check_max_pool2d_forward(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0), &idx = c.out(1);
  pool_checks::check_planes(c, x, "x", out, "out");
  check_same_shape(c, "indices", idx, out, "out");
  check_dtype(c, "out", out, x.dtype);
  check_dtype(c, "indices", idx, DType::I32);
  const MaxPool2dForwardParams p = c.params_as<MaxPool2dForwardParams>();
  Pool2dGeometry g{x.shape[2], x.shape[3], out.shape[2], out.shape[3], p.kernel_h,   p.kernel_w,
                   p.stride_h, p.stride_w, p.pad_h,        p.pad_w,        p.dilation_h, p.dilation_w};
  const bool ceil_mode = p.ceil_mode;
  SEPCONV_CHECK(g.kernel_h > 0 && g.kernel_w > 0 && g.stride_h > 0 && g.stride_w > 0 && g.dilation_h > 0 &&
                    g.dilation_w > 0 && g.pad_h >= 0 && g.pad_w >= 0,
                op_name(c.op), ": kernel, stride and dilation must be positive and padding non-negative");
  SEPCONV_CHECK(2 * g.pad_h <= g.kernel_h && 2 * g.pad_w <= g.kernel_w, op_name(c.op),
                ": padding must be at most half the kernel size");
  const int64_t oh = output_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h, ceil_mode);
  const int64_t ow = output_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w, ceil_mode);
  SEPCONV_CHECK(oh > 0 && ow > 0 && g.out_h == oh && g.out_w == ow, op_name(c.op), ": out is ", g.out_h, "x",
                g.out_w, " per plane, the window geometry gives ", oh, "x", ow);
  return g;
}

// The pooling backward and both unpooling directions move values by index, plane by plane:
// dst = 0 then dst[idx[k]] (+)= src[k] (scatters), or dst[k] = src[idx[k]] (gather).
enum class IndexMove { ScatterAdd, ScatterAssign, Gather };

struct IndexMoveOperands {
  IndexMove kind;
  const TensorArg &src, &idx, &dst;
  const char* public_name;  // the op's name in the bad-index message
  // The plane the indices point into.
  const TensorArg& indexed() const { return kind == IndexMove::Gather ? src : dst; }
};

// max_pool2d_backward (dy, indices -> dx), max_unpool2d_forward (x, indices -> out) and
// max_unpool2d_backward (dy, indices -> dx).
inline IndexMoveOperands check_index_move(const OpCall& c) {
  const TensorArg &src = c.in(0), &idx = c.in(1), &dst = c.out(0);
  const IndexMove kind = c.op == Op::max_pool2d_backward    ? IndexMove::ScatterAdd
                         : c.op == Op::max_unpool2d_forward ? IndexMove::ScatterAssign
                                                            : IndexMove::Gather;
  const char* src_name = kind == IndexMove::ScatterAssign ? "x" : "dy";
  const char* dst_name = kind == IndexMove::ScatterAssign ? "out" : "dx";
  pool_checks::check_planes(c, src, src_name, dst, dst_name);
  // The indices have the shape of the pooled side.
  if (kind == IndexMove::Gather)
    check_same_shape(c, "indices", idx, dst, dst_name);
  else
    check_same_shape(c, "indices", idx, src, src_name);
  check_dtype(c, "indices", idx, DType::I32);
  check_dtype(c, "out", dst, src.dtype);
  const char* public_name = kind == IndexMove::ScatterAdd      ? "maxPool2d backward"
                            : kind == IndexMove::ScatterAssign ? "maxUnpool2d"
                                                               : "maxUnpool2d backward";
  return {kind, src, idx, dst, public_name};
}

// The error for a bad index: `value` at flat element `element` of the indices.
[[noreturn]] inline void fail_bad_index(const IndexMoveOperands& m, int32_t value, int64_t element) {
  const TensorArg& plane = m.indexed();
  fail(m.public_name, ": expected values in [0, ", plane.shape[2] * plane.shape[3] - 1, "] (positions within the ",
       plane.shape[2], "x", plane.shape[3], " plane) for indices but received ", value, " at ",
       coordinates(element, m.idx));
}

}  // namespace sepconv
