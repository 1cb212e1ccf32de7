// max_pool2d forward/backward and max_unpool2d forward/backward against the CPU ops:
// padding, stride, dilation, ceil mode, NaNs, windows over padding only, overlapping windows
// (atomic scatter-add), and the bad-index reports.
#include <algorithm>
#include <numeric>

#include "core/output_size.h"
#include "cuda/common.cuh"
#include "cuda/test/compare.h"
#include "cuda/test/harness.h"

namespace sepconv::cuda::test {
namespace {


// Indices into a plane of `limit` positions, `count` per plane: distinct when `unique`.
HostTensor indices(std::mt19937& rng, std::vector<int64_t> shape, int64_t limit, bool unique) {
  HostTensor t = filled_tensor(DType::I32, shape, 0);
  const int64_t count = shape[2] * shape[3];
  std::vector<int64_t> order(static_cast<size_t>(limit));
  for (size_t p = 0; p < t.values.size() / size_t(count); ++p) {
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t k = 0; k < count; ++k)
      t.values[p * size_t(count) + size_t(k)] = double(unique ? order[size_t(k)] : order[size_t(k % 3)]);
  }
  return t;
}

struct Pool {
  int64_t n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw;
  bool ceil_mode;
};

void check_pool(std::mt19937& rng, const Pool& v, DType dtype) {
  const int64_t oh = output_size(v.h, v.kh, v.sh, v.ph, v.dh, v.ceil_mode), ow = output_size(v.w, v.kw, v.sw, v.pw, v.dw, v.ceil_mode);
  const std::vector<int64_t> xs{v.n, v.c, v.h, v.w}, ys{v.n, v.c, oh, ow};
  const std::vector<double> params =
      flat(MaxPool2dForwardParams{v.kh, v.kw, v.sh, v.sw, v.ph, v.pw, v.dh, v.dw, v.ceil_mode});
  const std::string label = "x" + HostTensor{dtype, xs, {}}.shape_str() + " out" + HostTensor{dtype, ys, {}}.shape_str();
  HostTensor x = random_tensor(rng, dtype, xs);
  x.values[3] = std::nan("");
  compare({Op::max_pool2d_forward, ops::max_pool2d_forward, {x},
           {filled_tensor(dtype, ys, 7), filled_tensor(DType::I32, ys, 7)}, params, 0, 0, label});
  // Repeated indices: several outputs add into one input position.
  compare({Op::max_pool2d_backward, ops::max_pool2d_backward,
           {random_tensor(rng, dtype, ys), indices(rng, ys, v.h * v.w, false)}, {filled_tensor(dtype, xs, 7)}, {}, 1e-5,
           1e-6, label});
}

TEST_CASE("max_pool2d: padding, stride, dilation, ceil mode, overlapping windows") {
  std::mt19937 rng(41);
  const Pool cases[] = {
      {2, 3, 8, 9, 2, 2, 2, 2, 0, 0, 1, 1, false},   // SegNet's 2x2/2
      {1, 2, 9, 11, 3, 3, 2, 2, 1, 1, 1, 1, false},  // overlapping, padded
      {2, 2, 7, 7, 3, 2, 2, 1, 1, 1, 2, 1, true},    // dilation, ceil mode
      {1, 1, 5, 5, 2, 2, 2, 2, 1, 1, 1, 1, true},    // ceil mode with a last window in the padding
  };
  for (const Pool& v : cases) check_pool(rng, v, DType::F32);
  check_pool(rng, cases[1], DType::F64);
}

TEST_CASE("max_unpool2d: forward scatter and backward gather") {
  std::mt19937 rng(42);
  for (const DType dtype : {DType::F32, DType::F64}) {
    const std::vector<int64_t> xs{2, 3, 4, 5}, outs{2, 3, 9, 10};
    const HostTensor idx = indices(rng, xs, 90, true);
    compare({Op::max_unpool2d_forward, ops::max_unpool2d_forward, {random_tensor(rng, dtype, xs), idx},
             {filled_tensor(dtype, outs, 7)}, {}, 0, 0, "x[2,3,4,5] out[2,3,9,10]"});
    compare({Op::max_unpool2d_backward, ops::max_unpool2d_backward, {random_tensor(rng, dtype, outs), idx},
             {filled_tensor(dtype, xs, 7)}, {}, 0, 0, "dy[2,3,9,10] dx[2,3,4,5]"});
  }
}

TEST_CASE("max_unpool2d / max_pool2d backward: bad indices are reported like the CPU op") {
  std::mt19937 rng(43);
  HostTensor idx = indices(rng, {1, 2, 2, 2}, 16, true);
  idx.values[5] = 16;
  idx.values[6] = -3;
  OpCase c{Op::max_unpool2d_forward, ops::max_unpool2d_forward, {random_tensor(rng, DType::F32, {1, 2, 2, 2}), idx},
           {filled_tensor(DType::F32, {1, 2, 4, 4}, 0)}, {}, 0, 0, ""};
  const std::string want =
      "maxUnpool2d: expected values in [0, 15] (positions within the 4x4 plane) for indices but received 16 at [0, 1, 0, 1]";
  EXPECT(cuda_error(c) == want, "got '", cuda_error(c), "'");
  c.op = Op::max_pool2d_backward;
  c.cuda = ops::max_pool2d_backward;
  c.inputs[1].values[5] = -1;  // a window over padding only: skipped, not an error
  c.outputs = {filled_tensor(DType::F32, {1, 2, 4, 4}, 0)};
  EXPECT(cuda_error(c) ==
             "maxPool2d backward: expected values in [0, 15] (positions within the 4x4 plane) for indices but received "
             "-3 at [0, 1, 1, 0]",
         "got '", cuda_error(c), "'");
}

}  // namespace
}  // namespace sepconv::cuda::test
