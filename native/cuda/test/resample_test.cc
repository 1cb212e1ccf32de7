// avg_pool2d (padding, count_include_pad, divisor_override, ceil-mode sizes), adaptive
// average pooling (down, up, global) and nearest/bilinear upsampling (align_corners,
// explicit scales, non-integer ratios), forward and backward, against the CPU ops.
#include "cuda/common.cuh"
#include "cuda/test/compare.h"
#include "cuda/test/harness.h"

namespace sepconv::cuda::test {
namespace {

void check_pair(std::mt19937& rng, Op fwd_op, OpFn fwd, Op bwd_op, OpFn bwd, DType dtype, std::vector<int64_t> xs,
                std::vector<int64_t> ys, std::vector<double> params, const std::string& what) {
  const double tol = dtype == DType::F64 ? 1e-12 : 1e-5;
  const std::string label = what + " x" + HostTensor{dtype, xs, {}}.shape_str() + " out" + HostTensor{dtype, ys, {}}.shape_str();
  compare({fwd_op, fwd, {random_tensor(rng, dtype, xs)}, {filled_tensor(dtype, ys, 7)}, params, tol, tol, label});
  compare({bwd_op, bwd, {random_tensor(rng, dtype, ys)}, {filled_tensor(dtype, xs, 7)}, params, tol, tol, label});
}

TEST_CASE("avg_pool2d: padding, count_include_pad, divisor_override, ceil-mode sizes") {
  std::mt19937 rng(61);
  auto check = [&](DType dtype, std::vector<int64_t> xs, std::vector<int64_t> ys, const AvgPoolParams& params) {
    check_pair(rng, Op::avg_pool2d_forward, ops::avg_pool2d_forward, Op::avg_pool2d_backward, ops::avg_pool2d_backward,
               dtype, xs, ys, flat(params), "avg_pool2d");
  };
  check(DType::F32, {2, 3, 8, 9}, {2, 3, 4, 4}, {2, 2, 2, 2, 0, 0, true, 0});
  check(DType::F32, {1, 2, 9, 11}, {1, 2, 5, 6}, {3, 3, 2, 2, 1, 1, true, 0});
  check(DType::F32, {1, 2, 9, 11}, {1, 2, 5, 6}, {3, 3, 2, 2, 1, 1, false, 0});
  check(DType::F32, {2, 1, 7, 7}, {2, 1, 4, 3}, {3, 2, 2, 3, 1, 1, true, 5});  // divisor override
  check(DType::F32, {1, 1, 6, 6}, {1, 1, 3, 3}, {2, 2, 2, 2, 1, 1, false, 0});  // ceil-mode output size
  check(DType::F64, {1, 2, 9, 11}, {1, 2, 5, 6}, {3, 3, 2, 2, 1, 1, false, 0});
}

TEST_CASE("adaptive_avg_pool2d: down, up and global") {
  std::mt19937 rng(62);
  auto check = [&](DType dtype, std::vector<int64_t> xs, std::vector<int64_t> ys) {
    check_pair(rng, Op::adaptive_avg_pool2d_forward, ops::adaptive_avg_pool2d_forward, Op::adaptive_avg_pool2d_backward,
               ops::adaptive_avg_pool2d_backward, dtype, xs, ys, {}, "adaptive_avg_pool2d");
  };
  check(DType::F32, {2, 3, 10, 9}, {2, 3, 3, 4});
  check(DType::F32, {1, 2, 3, 5}, {1, 2, 7, 6});
  check(DType::F32, {3, 4, 7, 5}, {3, 4, 1, 1});
  check(DType::F64, {2, 3, 10, 9}, {2, 3, 3, 4});
}

TEST_CASE("upsample2d: nearest and bilinear, align_corners, scales") {
  std::mt19937 rng(63);
  auto check = [&](DType dtype, std::vector<int64_t> xs, std::vector<int64_t> ys, const UpsampleParams& params) {
    check_pair(rng, Op::upsample2d_forward, ops::upsample2d_forward, Op::upsample2d_backward, ops::upsample2d_backward,
               dtype, xs, ys, flat(params), "upsample2d");
  };
  for (const DType dtype : {DType::F32, DType::F64}) {
    check(dtype, {2, 3, 4, 5}, {2, 3, 8, 10}, {UpsampleMode::nearest, false, 0, 0});  // nearest x2
    check(dtype, {1, 2, 4, 5}, {1, 2, 7, 13}, {UpsampleMode::nearest, false, 0, 0});  // nearest, non-integer
    check(dtype, {1, 2, 4, 5}, {1, 2, 9, 11}, {UpsampleMode::nearest, false, 0.5, 0.4});  // nearest, explicit scales
    check(dtype, {2, 3, 4, 5}, {2, 3, 8, 10}, {UpsampleMode::bilinear, false, 0, 0});  // bilinear
    check(dtype, {1, 2, 5, 3}, {1, 2, 9, 8}, {UpsampleMode::bilinear, true, 0, 0});  // bilinear, align_corners
    check(dtype, {1, 1, 6, 7}, {1, 1, 3, 4}, {UpsampleMode::bilinear, false, 0, 0});  // bilinear downsampling
    check(dtype, {1, 1, 1, 4}, {1, 1, 3, 4}, {UpsampleMode::bilinear, true, 0, 0});  // one row, equal width
  }
}

TEST_CASE("avg_pool2d: bad input names the op") {
  std::mt19937 rng(64);
  OpCase c{Op::avg_pool2d_forward, ops::avg_pool2d_forward, {random_tensor(rng, DType::F32, {1, 1, 4, 4})},
           {filled_tensor(DType::F32, {1, 1, 4, 4}, 0)}, {2, 2, 2, 2, 0, 0, true, 0}, 0, 0, ""};
  EXPECT(cuda_error(c) == "avg_pool2d_forward: window 2 of an axis of size 4 is empty (output size 4 too large)",
         "got '", cuda_error(c), "'");
}

}  // namespace
}  // namespace sepconv::cuda::test
