// gemm against the CPU op: every transpose pair, alpha/beta, both bias kinds, shared and
// batched operands, batch-summed output, both tile configurations, aligned (128-bit loads)
// and odd leading dimensions, float32 and float64.
#include "cuda/common.cuh"
#include "cuda/test/compare.h"
#include "cuda/test/harness.h"

namespace sepconv::cuda::test {
namespace {

struct GemmShape {
  int64_t batch_a, batch_b, batch_out, m, n, k;  // batch 0: a 2-D operand
};

std::vector<int64_t> dims(int64_t batch, int64_t rows, int64_t cols) {
  return batch ? std::vector<int64_t>{batch, rows, cols} : std::vector<int64_t>{rows, cols};
}

void check_gemm(std::mt19937& rng, DType dtype, const GemmShape& s, bool ta, bool tb, double alpha, double beta,
                int bias_kind) {
  OpCase c;
  c.op = Op::gemm;
  c.cuda = ops::gemm;
  c.inputs = {random_tensor(rng, dtype, ta ? dims(s.batch_a, s.k, s.m) : dims(s.batch_a, s.m, s.k)),
              random_tensor(rng, dtype, tb ? dims(s.batch_b, s.n, s.k) : dims(s.batch_b, s.k, s.n))};
  if (bias_kind) c.inputs.push_back(random_tensor(rng, dtype, {bias_kind == 1 ? s.m : s.n}));
  c.outputs = {random_tensor(rng, dtype, dims(s.batch_out, s.m, s.n))};
  c.params = flat(GemmParams{ta, tb, alpha, beta, GemmBias(bias_kind)});
  if (dtype == DType::F64) c.rtol = 1e-12, c.atol = 1e-12;
  else c.rtol = 1e-4, c.atol = 1e-4 * double(s.k * std::max<int64_t>(1, s.batch_a));
  c.label = shapes(c.inputs) + " -> " + shapes(c.outputs) + " trans " + std::to_string(ta) + std::to_string(tb) +
            " beta " + std::to_string(beta) + " bias " + std::to_string(bias_kind);
  compare(c);
}

TEST_CASE("gemm: transposes, alpha/beta, bias, odd and aligned sizes") {
  std::mt19937 rng(1);
  const GemmShape sizes[] = {{0, 0, 0, 1, 1, 1},    {0, 0, 0, 7, 5, 3},    {0, 0, 0, 65, 67, 19},
                             {0, 0, 0, 64, 64, 16}, {0, 0, 0, 33, 128, 8}, {0, 0, 0, 5, 9, 0}};
  for (const GemmShape& s : sizes)
    for (int t = 0; t < 4; ++t) check_gemm(rng, DType::F32, s, t & 1, t & 2, 1.0, 0.0, 0);
  check_gemm(rng, DType::F32, {0, 0, 0, 37, 41, 13}, false, true, 0.5, 1.5, 1);
  check_gemm(rng, DType::F32, {0, 0, 0, 37, 41, 12}, true, false, -2.0, 0.25, 2);
  check_gemm(rng, DType::F64, {0, 0, 0, 29, 70, 17}, true, true, 0.75, -1.0, 2);
  check_gemm(rng, DType::F64, {0, 0, 0, 64, 12, 20}, false, false, 1.0, 0.0, 1);
}

TEST_CASE("gemm: the 128x128 tile path") {
  std::mt19937 rng(2);
  check_gemm(rng, DType::F32, {0, 0, 0, 130, 2051, 9}, false, false, 1.0, 0.0, 2);
  check_gemm(rng, DType::F32, {0, 0, 0, 256, 1024, 12}, true, true, 1.0, 0.5, 1);
  check_gemm(rng, DType::F64, {0, 0, 0, 129, 2048, 6}, false, true, 1.0, 0.0, 0);
}

TEST_CASE("gemm: batched, shared operands and batch-summed out") {
  std::mt19937 rng(3);
  check_gemm(rng, DType::F32, {3, 3, 3, 9, 11, 7}, false, false, 1.0, 0.0, 0);
  check_gemm(rng, DType::F32, {0, 4, 4, 9, 16, 8}, false, true, 1.0, 1.0, 1);
  check_gemm(rng, DType::F32, {2, 0, 2, 13, 5, 6}, true, false, 1.0, 0.0, 2);
  check_gemm(rng, DType::F32, {5, 5, 0, 10, 12, 7}, false, true, 1.0, 0.5, 2);   // summed over the batch
  check_gemm(rng, DType::F64, {3, 0, 0, 8, 4, 20}, true, true, 2.0, 0.0, 1);      // summed, b shared
  check_gemm(rng, DType::F32, {1, 1, 0, 6, 6, 6}, false, false, 1.0, 0.0, 0);     // batch of one into 2-D out
}

TEST_CASE("gemm: few output tiles and a long reduction are split along k") {
  std::mt19937 rng(5);
  check_gemm(rng, DType::F32, {0, 0, 0, 9, 7, 3001}, false, false, 1.0, 0.0, 0);
  check_gemm(rng, DType::F32, {0, 0, 0, 70, 33, 1500}, true, true, 0.5, 2.0, 1);
  check_gemm(rng, DType::F32, {6, 6, 0, 10, 12, 300}, false, true, 1.0, 0.5, 2);  // summed batch, split
  check_gemm(rng, DType::F64, {4, 0, 0, 8, 5, 400}, true, false, -1.0, 1.0, 1);
}

TEST_CASE("gemm: bad input names the op and the shapes") {
  std::mt19937 rng(4);
  OpCase c;
  c.op = Op::gemm;
  c.cuda = ops::gemm;
  c.inputs = {random_tensor(rng, DType::F32, {4, 5}), random_tensor(rng, DType::F32, {6, 3})};
  c.outputs = {filled_tensor(DType::F32, {4, 3}, 0)};
  c.params = flat(GemmParams{false, false, 1, 0, GemmBias::none});
  EXPECT(cuda_error(c) == "gemm: op(b) has 6 rows, op(a) has 5 columns", "got '", cuda_error(c), "'");
  c.inputs[1] = random_tensor(rng, DType::F64, {5, 3});
  EXPECT(cuda_error(c) == "gemm: b must be float32, got float64", "got '", cuda_error(c), "'");
}

}  // namespace
}  // namespace sepconv::cuda::test
