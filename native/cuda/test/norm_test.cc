// batch_norm forward (training with the running-stat update, evaluation, with and without
// affine) and backward (every need_dx / need_dparams combination) against the CPU ops.
#include "cuda/common.cuh"
#include "cuda/test/compare.h"
#include "cuda/test/harness.h"

namespace sepconv::cuda::test {
namespace {

void check_forward(std::mt19937& rng, DType dtype, std::vector<int64_t> xs, bool training, bool affine, bool running) {
  const int64_t C = xs[1];
  OpCase c{Op::batch_norm_forward, ops::batch_norm_forward, {random_tensor(rng, dtype, xs, 2, 5)}, {}, {}, 1e-4, 1e-5,
           HostTensor{dtype, xs, {}}.shape_str()};
  if (affine) c.inputs.push_back(random_tensor(rng, dtype, {C})), c.inputs.push_back(random_tensor(rng, dtype, {C}));
  if (running)
    c.inputs.push_back(random_tensor(rng, dtype, {C})), c.inputs.push_back(random_tensor(rng, dtype, {C}, 0.5, 2));
  c.outputs = {filled_tensor(dtype, xs, 7), filled_tensor(dtype, {C}, 7), filled_tensor(dtype, {C}, 7)};
  c.params = flat(BatchNormForwardParams{training, 0.1, 1e-5, affine, running});
  if (dtype == DType::F64) c.rtol = 1e-11, c.atol = 1e-11;
  c.label += std::string(training ? " training" : " eval") + (affine ? " affine" : "") + (running ? " running" : "");
  compare(c);
}

void check_backward(std::mt19937& rng, DType dtype, std::vector<int64_t> xs, bool training, bool affine, bool need_dx,
                    bool need_dparams) {
  const int64_t C = xs[1];
  OpCase c{Op::batch_norm_backward, ops::batch_norm_backward,
           {random_tensor(rng, dtype, xs), random_tensor(rng, dtype, xs), random_tensor(rng, dtype, {C}, -0.2, 0.2),
            random_tensor(rng, dtype, {C}, 0.5, 2)},
           {}, flat(BatchNormBackwardParams{training, affine, need_dx, need_dparams}), 1e-4, 1e-4,
           HostTensor{dtype, xs, {}}.shape_str()};
  if (affine) c.inputs.push_back(random_tensor(rng, dtype, {C}));
  if (need_dx) c.outputs.push_back(filled_tensor(dtype, xs, 7));
  if (need_dparams) c.outputs.push_back(filled_tensor(dtype, {C}, 7)), c.outputs.push_back(filled_tensor(dtype, {C}, 7));
  if (dtype == DType::F64) c.rtol = 1e-11, c.atol = 1e-11;
  c.label += std::string(training ? " training" : " eval") + (affine ? " affine" : "") + (need_dx ? " dx" : "") +
             (need_dparams ? " dparams" : "");
  compare(c);
}

TEST_CASE("batch_norm: forward and backward, every flag combination") {
  std::mt19937 rng(31);
  const std::vector<std::vector<int64_t>> shapes{{3, 5, 4, 7}, {1, 3, 17, 19}, {6, 4}, {2, 70, 3, 3}};
  for (const auto& xs : shapes) {
    check_forward(rng, DType::F32, xs, true, true, true);
    check_forward(rng, DType::F32, xs, false, true, true);
    check_forward(rng, DType::F32, xs, true, false, false);
    check_backward(rng, DType::F32, xs, true, true, true, true);
    check_backward(rng, DType::F32, xs, false, true, true, true);
    check_backward(rng, DType::F32, xs, true, false, true, false);
    check_backward(rng, DType::F32, xs, true, true, false, true);
  }
  check_forward(rng, DType::F64, {2, 3, 5, 5}, true, true, true);
  check_forward(rng, DType::F64, {2, 3, 5, 5}, false, false, true);
  check_backward(rng, DType::F64, {2, 3, 5, 5}, true, true, true, true);
}

TEST_CASE("batch_norm: bad input names the op") {
  std::mt19937 rng(32);
  OpCase c{Op::batch_norm_forward, ops::batch_norm_forward, {random_tensor(rng, DType::F32, {1, 3, 1, 1})},
           {filled_tensor(DType::F32, {1, 3, 1, 1}, 0), filled_tensor(DType::F32, {3}, 0),
            filled_tensor(DType::F32, {3}, 0)},
           {1, 0.1, 1e-5, 0, 0}, 0, 0, ""};
  EXPECT(cuda_error(c) == "batch_norm_forward: training needs more than one value per channel", "got '", cuda_error(c), "'");
}

}  // namespace
}  // namespace sepconv::cuda::test
