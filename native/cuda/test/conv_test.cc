// conv2d forward / backward input / backward weight against the CPU ops on odd shapes:
// stride 2, padding 0/1/2, dilation, groups, 1x1 (the direct GEMM path), batch 1, a cut
// output (conv_transpose2d's output padding), bias, float32 and float64.
#include "core/output_size.h"
#include "cuda/common.cuh"
#include "cuda/test/compare.h"
#include "cuda/test/harness.h"

namespace sepconv::cuda::test {
namespace {

struct Conv {
  int64_t n, c, h, w, oc, kh, kw, sh, sw, ph, pw, dh, dw, groups;
  int64_t cut = 0;  // rows and columns taken off the full output
};

void check_conv(std::mt19937& rng, const Conv& v, DType dtype, bool bias) {
  const int64_t oh = output_size(v.h, v.kh, v.sh, v.ph, v.dh) - v.cut, ow = output_size(v.w, v.kw, v.sw, v.pw, v.dw) - v.cut;
  const std::vector<int64_t> xs{v.n, v.c, v.h, v.w}, ws{v.oc, v.c / v.groups, v.kh, v.kw}, ys{v.n, v.oc, oh, ow};
  const std::vector<double> params = flat(Conv2dParams{v.sh, v.sw, v.ph, v.pw, v.dh, v.dw, v.groups});
  const double rtol = dtype == DType::F64 ? 1e-12 : 1e-4, atol = dtype == DType::F64 ? 1e-12 : 2e-4;
  const std::string label = "x" + HostTensor{dtype, xs, {}}.shape_str() + " w" + HostTensor{dtype, ws, {}}.shape_str() +
                            " stride " + std::to_string(v.sh) + "," + std::to_string(v.sw) + " pad " +
                            std::to_string(v.ph) + "," + std::to_string(v.pw) + " dilation " + std::to_string(v.dh) +
                            "," + std::to_string(v.dw) + " groups " + std::to_string(v.groups);

  OpCase fwd{Op::conv2d_forward, ops::conv2d_forward, {random_tensor(rng, dtype, xs), random_tensor(rng, dtype, ws)},
             {filled_tensor(dtype, ys, 7)}, params, rtol, atol, label};
  if (bias) fwd.inputs.push_back(random_tensor(rng, dtype, {v.oc}));
  compare(fwd);

  OpCase bin{Op::conv2d_backward_input, ops::conv2d_backward_input,
             {random_tensor(rng, dtype, ys), random_tensor(rng, dtype, ws)}, {filled_tensor(dtype, xs, 7)}, params,
             rtol, atol, label};
  if (bias) bin.inputs.push_back(random_tensor(rng, dtype, {v.c}));
  compare(bin);

  OpCase bw{Op::conv2d_backward_weight, ops::conv2d_backward_weight,
            {random_tensor(rng, dtype, xs), random_tensor(rng, dtype, ys)}, {filled_tensor(dtype, ws, 7)}, params,
            rtol, atol * double(v.n * oh * ow), label};
  compare(bw);
}

TEST_CASE("conv2d: stride, padding, dilation, groups, 1x1, cut output") {
  std::mt19937 rng(11);
  const Conv cases[] = {
      {2, 3, 9, 11, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1},     // 3x3 same
      {1, 4, 10, 7, 6, 3, 3, 2, 2, 0, 0, 1, 1, 2},     // stride 2, no padding, groups 2
      {3, 6, 8, 9, 9, 5, 3, 2, 1, 2, 1, 1, 1, 3},      // rectangular kernel, mixed strides, groups 3
      {2, 3, 12, 12, 4, 3, 3, 1, 1, 2, 2, 2, 2, 1},    // dilation 2
      {2, 8, 5, 7, 12, 1, 1, 1, 1, 0, 0, 1, 1, 1},     // pointwise: direct GEMM
      {1, 6, 6, 5, 6, 1, 1, 1, 1, 0, 0, 1, 1, 2},      // grouped pointwise
      {2, 3, 9, 9, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},   // output cut by one row and column
      {1, 2, 3, 3, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1},      // kernel as large as the input
      {2, 5, 7, 6, 4, 2, 2, 3, 2, 1, 0, 1, 2, 1},      // even kernel, stride 3, dilation in w
      {0, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1},      // empty batch
      {2, 3, 6, 5, 4, 1, 1, 1, 1, 0, 0, 2, 2, 1, 1},   // 1x1 dilated, cut (a transposed conv's output padding)
      {2, 3, 7, 6, 6, 3, 3, 2, 1, 1, 1, 1, 1, 3},      // groups == channels: the direct depthwise kernels
      {2, 3, 7, 6, 6, 3, 3, 2, 1, 1, 1, 1, 1, 3, 1},   // the same with a cut output: im2col
  };
  for (const Conv& v : cases) check_conv(rng, v, DType::F32, true);
  check_conv(rng, cases[1], DType::F64, false);
  check_conv(rng, cases[2], DType::F64, true);
}

TEST_CASE("conv2d: a layer-sized case fills the 128x128 GEMM tiles") {
  std::mt19937 rng(12);
  check_conv(rng, {2, 16, 24, 20, 144, 3, 3, 1, 1, 1, 1, 1, 1, 1}, DType::F32, true);
}

TEST_CASE("conv2d: bad input names the op and the shapes") {
  std::mt19937 rng(13);
  OpCase c{Op::conv2d_forward, ops::conv2d_forward,
           {random_tensor(rng, DType::F32, {1, 4, 5, 5}), random_tensor(rng, DType::F32, {6, 3, 3, 3})},
           {filled_tensor(DType::F32, {1, 6, 3, 3}, 0)}, flat(Conv2dParams{1, 1, 0, 0, 1, 1, 2}), 0, 0, ""};
  EXPECT(cuda_error(c) == "conv2d_forward: weight is [6, 3, ...], expected [6, 2, ...]", "got '", cuda_error(c), "'");
  c.params = flat(Conv2dParams{1, 1, 0, 0, 1, 1, 3});
  EXPECT(cuda_error(c) == "conv2d_forward: groups=3 must divide the input channels (4) and output channels (6)",
         "got '", cuda_error(c), "'");
}

}  // namespace
}  // namespace sepconv::cuda::test
