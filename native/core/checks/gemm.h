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
  double alpha, beta;
  GemmBias bias_kind;
  bool has_bias() const { return bias_kind != GemmBias::none; }
};

namespace gemm_checks {

inline BatchedMatrix batched_matrix(const char* name, const TensorArg& t) {
  SEPCONV_CHECK(t.ndim == 2 || t.ndim == 3, "gemm: ", name, " must have 2 or 3 dims, got ", t.ndim);
  return {t.ndim == 3 ? t.shape[0] : 0, t.dim(-2), t.dim(-1)};
}

}  // namespace gemm_checks

// gemm: a, b[, bias] -> out.
inline GemmShape check_gemm(const OpCall& c) {
  const TensorArg &a = c.in(0), &b = c.in(1), &out = c.out(0);
  const GemmParams p = c.params_as<GemmParams>();
  const bool trans_a = p.trans_a, trans_b = p.trans_b;
  const GemmBias bias_kind = p.bias_kind;
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
  const bool has_bias = bias_kind != GemmBias::none;
  SEPCONV_CHECK(c.num_inputs == (has_bias ? 3 : 2), "gemm: bias_kind ", int(bias_kind), " with ", c.num_inputs, " inputs");
  if (has_bias) check_numel(c, "bias", c.in(2), bias_kind == GemmBias::per_row ? m : n);
  check_dtype(c, "b", b, a.dtype);
  check_dtype(c, "out", out, a.dtype);
  if (has_bias) check_dtype(c, "bias", c.in(2), a.dtype);
  return {ma, mb, mo, m, n, k, batch, trans_a, trans_b, p.alpha, p.beta, bias_kind};
}

}  // namespace sepconv
