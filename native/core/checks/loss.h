// Operand checks and [outer, classes, inner] layout of the softmax and cross-entropy ops,
// shared by the CPU and CUDA ops (host-only, no CPU-only includes).
#pragma once
#include <cstdint>

#include "core/op_checks.h"

namespace sepconv {

// A tensor seen as [outer, classes, inner]: the class dim and the dims before and after it.
struct ClassLayout {
  int64_t outer, classes, inner;
  SEPCONV_HOST_DEVICE int64_t positions() const { return outer * inner; }
  // Offset of class 0 at position p (classes are `inner` elements apart).
  SEPCONV_HOST_DEVICE int64_t base(int64_t p) const { return (p / inner) * classes * inner + p % inner; }
};

// A checked cross-entropy op: the logits' layout (dim 1 the classes) and its params.
struct CrossEntropyCall {
  ClassLayout l;
  int64_t ignore_index;
  Reduction reduction;
};

namespace loss_checks {

inline ClassLayout class_layout(const TensorArg& t, int dim) {
  ClassLayout l{1, t.shape[dim], 1};
  for (int d = 0; d < dim; ++d) l.outer *= t.shape[d];
  for (int d = dim + 1; d < t.ndim; ++d) l.inner *= t.shape[d];
  return l;
}

// The layout of a softmax over `dim` of x; an empty class dim leaves nothing to do.
inline ClassLayout softmax_layout(const OpCall& c, const TensorArg& x, int64_t dim) {
  SEPCONV_CHECK(dim >= 0 && dim < x.ndim, op_name(c.op), ": dim ", dim, " is out of range for ", x.ndim, " dims");
  ClassLayout l = class_layout(x, int(dim));
  if (l.classes == 0) l.outer = 0;
  return l;
}

// logits [N, C, ...], targets int32 [N, ...], lse shaped as targets; then the reduction and
// the loss-side operand (loss or dloss: one value per target, or one when reduced).
inline CrossEntropyCall cross_entropy_operands(const OpCall& c, const TensorArg& logits, const TensorArg& targets,
                                               const TensorArg& lse, const char* loss_name, const TensorArg& loss) {
  SEPCONV_CHECK(logits.ndim >= 2, op_name(c.op), ": logits must have at least 2 dims [N, C, ...], got ", logits.ndim);
  check_dtype(c, "targets", targets, DType::I32);
  bool same = targets.ndim == logits.ndim - 1 && targets.shape[0] == logits.shape[0];
  for (int d = 1; same && d < targets.ndim; ++d) same = targets.shape[d] == logits.shape[d + 1];
  SEPCONV_CHECK(same, op_name(c.op), ": targets must have the logits' shape without the class dim");
  check_numel(c, "lse", lse, targets.numel());
  check_dtype(c, "lse", lse, logits.dtype);
  const CrossEntropyParams p = c.params_as<CrossEntropyParams>();
  check_numel(c, loss_name, loss, p.reduction == Reduction::none ? targets.numel() : 1);
  check_dtype(c, loss_name, loss, logits.dtype);
  return {class_layout(logits, 1), p.ignore_index, p.reduction};
}

inline void check_classes(const OpCall& c, const ClassLayout& l) {
  SEPCONV_CHECK(l.classes > 0, op_name(c.op), ": logits have no classes");
}

}  // namespace loss_checks

// A checked softmax op: the layout over its dim and whether it is the log-softmax.
struct SoftmaxCall {
  ClassLayout l;
  bool log;
};

// softmax_forward: x -> out.
inline SoftmaxCall check_softmax_forward(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  const SoftmaxParams p = c.params_as<SoftmaxParams>();
  const SoftmaxCall s{loss_checks::softmax_layout(c, x, p.dim), p.log};
  check_numel(c, "out", out, x.numel());
  check_dtype(c, "out", out, x.dtype);
  return s;
}

// softmax_backward: y (the forward's output), dy -> dx.
inline SoftmaxCall check_softmax_backward(const OpCall& c) {
  const TensorArg &y = c.in(0), &dy = c.in(1), &dx = c.out(0);
  const SoftmaxParams p = c.params_as<SoftmaxParams>();
  const SoftmaxCall s{loss_checks::softmax_layout(c, y, p.dim), p.log};
  check_numel(c, "dy", dy, y.numel());
  check_numel(c, "dx", dx, y.numel());
  check_dtype(c, "dy", dy, y.dtype);
  check_dtype(c, "dx", dx, y.dtype);
  return s;
}

// cross_entropy_forward: logits, targets -> loss, lse ; ignore_index, reduction.
inline CrossEntropyCall check_cross_entropy_forward(const OpCall& c) {
  const CrossEntropyCall ce = loss_checks::cross_entropy_operands(c, c.in(0), c.in(1), c.out(1), "loss", c.out(0));
  loss_checks::check_classes(c, ce.l);
  return ce;
}

// cross_entropy_backward: logits, targets, lse, dloss -> dlogits ; ignore_index, reduction.
inline CrossEntropyCall check_cross_entropy_backward(const OpCall& c) {
  const TensorArg &logits = c.in(0), &dx = c.out(0);
  const CrossEntropyCall ce = loss_checks::cross_entropy_operands(c, logits, c.in(1), c.in(2), "dloss", c.in(3));
  check_numel(c, "dlogits", dx, logits.numel());
  check_dtype(c, "dlogits", dx, logits.dtype);
  loss_checks::check_classes(c, ce.l);
  return ce;
}

// The error for a target outside [0, classes) that is not ignore_index: `value` at flat
// element `element` of the targets.
[[noreturn]] inline void fail_bad_target(const TensorArg& targets, const ClassLayout& l, int64_t ignore_index,
                                         int32_t value, int64_t element) {
  fail("crossEntropy: expected class indices in [0, ", l.classes - 1, "] or ignoreIndex (", ignore_index,
       ") for target but received ", value, " at ", coordinates(element, targets));
}

}  // namespace sepconv
