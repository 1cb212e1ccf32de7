// Operand checks and shape of the gemm op, shared by the CPU and CUDA ops (host-only, no
// CPU-only includes).
#pragma once
#include <algorithm>
#include <cstdint>

#include "core/op_checks.h"

namespace sepconv {

// An operand of rank 2 (shared by the batch) or 3 (batch entries `batch` elements apart).
struct BatchedMatrix {
  int64_t batch, rows, cols;  // batch 0: a 2-D operand
};

// out = alpha*op(a)*op(b) + beta*out + bias over `batch` entries of [m, k] x [k, n].
struct GemmShape {
  BatchedMatrix a, b, out;
  int64_t m, n, k, batch;
  bool trans_a, trans_b;
  int bias_kind;  // 0 none, 1 per row, 2 per column of out
  bool has_bias() const { return bias_kind != 0; }
};

namespace gemm_checks {

inline BatchedMatrix batched_matrix(const char* name, const TensorArg& t) {
  SEPCONV_CHECK(t.ndim == 2 || t.ndim == 3, "gemm: ", name, " must have 2 or 3 dims, got ", t.ndim);
  return {t.ndim == 3 ? t.shape[0] : 0, t.dim(-2), t.dim(-1)};
}

}  // namespace gemm_checks

// gemm: a, b[, bias] -> out ; trans_a, trans_b, alpha, beta, bias_kind.
inline GemmShape check_gemm(const OpCall& c) {
  const TensorArg &a = c.in(0), &b = c.in(1), &out = c.out(0);
  const bool trans_a = c.param(0) != 0, trans_b = c.param(1) != 0;
  const int bias_kind = int(c.iparam(4));
  const BatchedMatrix ma = gemm_checks::batched_matrix("a", a), mb = gemm_checks::batched_matrix("b", b),
                      mo = gemm_checks::batched_matrix("out", out);
  const int64_t m = mo.rows, n = mo.cols, k = trans_a ? ma.rows : ma.cols;
  SEPCONV_CHECK((trans_a ? ma.cols : ma.rows) == m, "gemm: a has ", trans_a ? ma.cols : ma.rows, " rows of op(a), out has ", m);
  SEPCONV_CHECK((trans_b ? mb.cols : mb.rows) == k, "gemm: op(b) has ", trans_b ? mb.cols : mb.rows, " rows, op(a) has ", k,
                " columns");
  SEPCONV_CHECK((trans_b ? mb.rows : mb.cols) == n, "gemm: op(b) has ", trans_b ? mb.rows : mb.cols, " columns, out has ", n);
  const int64_t batch = std::max({ma.batch, mb.batch, mo.batch, int64_t(1)});
  for (const int64_t operand_batch : {ma.batch, mb.batch})
    SEPCONV_CHECK(operand_batch <= 1 || operand_batch == batch, "gemm: batch sizes ", ma.batch, ", ", mb.batch, " and ",
                  mo.batch, " do not broadcast");
  SEPCONV_CHECK(mo.batch == 0 || mo.batch == batch, "gemm: out has batch ", mo.batch, ", the operands ", batch);
  SEPCONV_CHECK(bias_kind >= 0 && bias_kind <= 2, "gemm: unknown bias kind ", bias_kind);
  const bool has_bias = bias_kind != 0;
  SEPCONV_CHECK(c.num_inputs == (has_bias ? 3 : 2), "gemm: bias_kind ", bias_kind, " with ", c.num_inputs, " inputs");
  if (has_bias) check_numel(c, "bias", c.in(2), bias_kind == 1 ? m : n);
  check_dtype(c, "b", b, a.dtype);
  check_dtype(c, "out", out, a.dtype);
  if (has_bias) check_dtype(c, "bias", c.in(2), a.dtype);
  return {ma, mb, mo, m, n, k, batch, trans_a, trans_b, bias_kind};
}

}  // namespace sepconv
