// Depthwise conv2d (forward, backward input, backward weight with bias gradient) and the
// fused depthwise-pointwise forward against the CPU ops: multipliers, stride 2, padding 0-2,
// dilation, rectangular kernels, planes larger than one tile, batch 1, float64.
#include "core/output_size.h"
#include "cuda/common.cuh"
#include "cuda/test/compare.h"
#include "cuda/test/harness.h"

namespace sepconv::cuda::test {
namespace {

struct Dw {
  int64_t n, c, m, h, w, kh, kw, sh, sw, ph, pw, dh, dw;
};

void check_depthwise(std::mt19937& rng, const Dw& v, DType dtype) {
  const int64_t oh = output_size(v.h, v.kh, v.sh, v.ph, v.dh), ow = output_size(v.w, v.kw, v.sw, v.pw, v.dw);
  const std::vector<int64_t> xs{v.n, v.c, v.h, v.w}, ws{v.c * v.m, 1, v.kh, v.kw}, ys{v.n, v.c * v.m, oh, ow};
  const std::vector<double> params = flat(DepthwiseParams{v.sh, v.sw, v.ph, v.pw, v.dh, v.dw});
  const double rtol = dtype == DType::F64 ? 1e-12 : 1e-4, atol = dtype == DType::F64 ? 1e-12 : 1e-5;
  const std::string label = "x" + HostTensor{dtype, xs, {}}.shape_str() + " w" + HostTensor{dtype, ws, {}}.shape_str() +
                            " stride " + std::to_string(v.sh) + "," + std::to_string(v.sw) + " pad " +
                            std::to_string(v.ph) + "," + std::to_string(v.pw) + " dilation " + std::to_string(v.dh) +
                            "," + std::to_string(v.dw);
  compare({Op::depthwise_conv2d_forward, ops::depthwise_conv2d_forward,
           {random_tensor(rng, dtype, xs), random_tensor(rng, dtype, ws), random_tensor(rng, dtype, {v.c * v.m})},
           {filled_tensor(dtype, ys, 7)}, params, rtol, atol, label});
  compare({Op::depthwise_conv2d_backward_input, ops::depthwise_conv2d_backward_input,
           {random_tensor(rng, dtype, ys), random_tensor(rng, dtype, ws)}, {filled_tensor(dtype, xs, 7)}, params, rtol,
           atol, label});
  compare({Op::depthwise_conv2d_backward_weight, ops::depthwise_conv2d_backward_weight,
           {random_tensor(rng, dtype, xs), random_tensor(rng, dtype, ys)},
           {filled_tensor(dtype, ws, 7), filled_tensor(dtype, {v.c * v.m}, 7)}, params, rtol,
           atol * double(v.n * oh * ow), label});
}

TEST_CASE("depthwise: multipliers, strides, padding, dilation, large planes") {
  std::mt19937 rng(21);
  const Dw cases[] = {
      {2, 3, 1, 9, 11, 3, 3, 1, 1, 1, 1, 1, 1},    // 3x3 same
      {1, 4, 2, 10, 7, 3, 3, 2, 2, 0, 0, 1, 1},    // multiplier 2, stride 2, no padding
      {2, 2, 3, 8, 9, 5, 3, 2, 1, 2, 1, 1, 1},     // rectangular kernel, mixed strides
      {1, 3, 1, 12, 12, 3, 3, 1, 1, 2, 2, 2, 2},   // dilation 2
      {1, 2, 1, 37, 70, 3, 3, 1, 1, 1, 1, 1, 1},   // several tiles per plane, partial tiles
      {2, 1, 2, 40, 35, 5, 5, 2, 2, 2, 2, 1, 1},   // stride 2 over several tiles
      {1, 2, 1, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1},     // kernel as large as the input
      {3, 5, 1, 6, 5, 1, 1, 1, 1, 0, 0, 1, 1},     // 1x1
      {0, 3, 2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1},     // empty batch
  };
  for (const Dw& v : cases) check_depthwise(rng, v, DType::F32);
  check_depthwise(rng, cases[2], DType::F64);
  check_depthwise(rng, cases[3], DType::F64);
}

TEST_CASE("depthwise_pointwise_forward: fused DSC forward") {
  std::mt19937 rng(22);
  for (const bool bias : {false, true}) {
    OpCase c{Op::depthwise_pointwise_forward, ops::depthwise_pointwise_forward,
             {random_tensor(rng, DType::F32, {2, 5, 9, 7}), random_tensor(rng, DType::F32, {5, 1, 3, 3}),
              random_tensor(rng, DType::F32, {6, 5, 1, 1})},
             {filled_tensor(DType::F32, {2, 6, 5, 4}, 7)}, flat(DepthwiseParams{2, 2, 1, 1, 1, 1}), 1e-4, 1e-5, "x[2,5,9,7] stride 2"};
    if (bias) c.inputs.push_back(random_tensor(rng, DType::F32, {6}));
    compare(c);
  }
}

TEST_CASE("depthwise: bad input names the op and the shapes") {
  std::mt19937 rng(23);
  OpCase c{Op::depthwise_conv2d_forward, ops::depthwise_conv2d_forward,
           {random_tensor(rng, DType::F32, {1, 4, 5, 5}), random_tensor(rng, DType::F32, {6, 1, 3, 3})},
           {filled_tensor(DType::F32, {1, 6, 5, 5}, 0)}, flat(DepthwiseParams{1, 1, 1, 1, 1, 1}), 0, 0, ""};
  EXPECT(cuda_error(c) == "depthwise_conv2d_forward: weight [6, 1, ...] does not fit a depthwise conv of 4 channels",
         "got '", cuda_error(c), "'");
  c.inputs[1] = random_tensor(rng, DType::F32, {8, 1, 3, 3});
  EXPECT(cuda_error(c) == "depthwise_conv2d_forward: output shape [1, 6, 5, 5] does not match [1, 8, 5, 5]", "got '",
         cuda_error(c), "'");
}

}  // namespace
}  // namespace sepconv::cuda::test
