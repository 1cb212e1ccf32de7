// The general matrix product op (matmul, linear and their gradients).
#include "cpu/ops/gemm_plan.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

// An operand of rank 2 (shared by the batch) or 3 (batch entries `batch` elements apart).
struct BatchedMatrix {
  int64_t batch, rows, cols;  // batch 0: a 2-D operand
};

BatchedMatrix batched_matrix(const char* name, const TensorArg& t) {
  SEPCONV_CHECK(t.ndim == 2 || t.ndim == 3, "gemm: ", name, " must have 2 or 3 dims, got ", t.ndim);
  return {t.ndim == 3 ? t.shape[0] : 0, t.dim(-2), t.dim(-1)};
}

}  // namespace

void gemm(const OpCall& c) {
  const TensorArg &a = c.in(0), &b = c.in(1), &out = c.out(0);
  const bool trans_a = c.param(0) != 0, trans_b = c.param(1) != 0;
  const int bias_kind = int(c.iparam(4));
  const BatchedMatrix ma = batched_matrix("a", a), mb = batched_matrix("b", b), mo = batched_matrix("out", out);
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
  float_dispatch(c, "a", a.dtype, [&](auto zero) {
    using T = decltype(zero);
    const GemmKernels<T>& kernels = kernels_for<T>(c.ctx.isa).gemm;
    const T* bias = has_bias ? c.in(2).ptr<T>() : nullptr;
    const GemmSplit split = plan_gemm_split(m, n, k, c.ctx.pool.size(), kernels.mr, kernels.nr);
    for (int64_t e = 0; e < batch; ++e) {
      // A 2-D out sums the batch: every entry after the first accumulates.
      const bool first_into_out = mo.batch != 0 || e == 0;
      GemmProblem<T> p;
      p.m = m;
      p.n = n;
      p.k = k;
      p.a = {dense_source(a.ptr<T>() + (ma.batch > 1 ? e * m * k : 0), ma.cols), trans_a};
      p.b = {dense_source(b.ptr<T>() + (mb.batch > 1 ? e * k * n : 0), mb.cols), trans_b};
      p.c = dense_sink(out.ptr<T>() + (mo.batch != 0 ? e * m * n : 0), n, T(c.param(2)),
                       first_into_out ? T(c.param(3)) : T(1));
      if (first_into_out && bias_kind == 1) p.c.row_bias = bias;
      if (first_into_out && bias_kind == 2) p.c.col_bias = bias;
      c.ctx.pool.run(split.tasks(), [&](int t) { kernels.run(p, split.range(t, 0, k)); });
    }
  });
}

}  // namespace sepconv::cpu::ops
