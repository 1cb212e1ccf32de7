// softmax / log-softmax forward and backward over every dim, and cross-entropy forward and
// backward (image and row layouts, ignore_index, the three reductions) against the CPU ops.
#include "cuda/common.cuh"
#include "cuda/test/compare.h"
#include "cuda/test/harness.h"

namespace sepconv::cuda::test {
namespace {

TEST_CASE("softmax: forward and backward over each dim, softmax and log-softmax") {
  std::mt19937 rng(51);
  for (const DType dtype : {DType::F32, DType::F64}) {
    const double tol = dtype == DType::F64 ? 1e-12 : 1e-5;
    for (const std::vector<int64_t>& xs :
         {std::vector<int64_t>{3, 7, 5, 4}, std::vector<int64_t>{6, 37}, std::vector<int64_t>{2, 3, 33}})
      for (int64_t dim = 0; dim < int64_t(xs.size()); ++dim)
        for (const int log : {0, 1}) {
          const std::string label = HostTensor{dtype, xs, {}}.shape_str() + " dim " + std::to_string(dim) +
                                    (log ? " log" : "");
          compare({Op::softmax_forward, ops::softmax_forward, {random_tensor(rng, dtype, xs, -4, 4)},
                   {filled_tensor(dtype, xs, 7)}, flat(SoftmaxParams{dim, log != 0}), tol, tol, label});
          HostTensor y = random_tensor(rng, dtype, xs, 0.01, 1);
          if (log)
            for (double& v : y.values) v = std::log(v);
          compare({Op::softmax_backward, ops::softmax_backward, {y, random_tensor(rng, dtype, xs)},
                   {filled_tensor(dtype, xs, 7)}, flat(SoftmaxParams{dim, log != 0}), tol, tol, label});
        }
  }
}

HostTensor targets(std::mt19937& rng, std::vector<int64_t> shape, int64_t classes, int64_t ignore_index) {
  HostTensor t = random_tensor(rng, DType::I32, shape, 0, double(classes));
  for (size_t i = 0; i < t.values.size(); i += 5) t.values[i] = double(ignore_index);
  return t;
}

TEST_CASE("cross_entropy: image and row layouts, ignore_index, reductions") {
  std::mt19937 rng(52);
  for (const DType dtype : {DType::F32, DType::F64}) {
    const double tol = dtype == DType::F64 ? 1e-12 : 1e-5;
    for (const std::vector<int64_t>& xs :
         {std::vector<int64_t>{2, 3, 9, 11}, std::vector<int64_t>{7, 10}, std::vector<int64_t>{5, 70}}) {
      std::vector<int64_t> ts{xs[0]};
      ts.insert(ts.end(), xs.begin() + 2, xs.end());
      for (const int64_t ignore : {int64_t(-100), int64_t(1)})
        for (const int reduction : {0, 1, 2}) {
          const std::string label = HostTensor{dtype, xs, {}}.shape_str() + " ignore " + std::to_string(ignore) +
                                    " reduction " + std::to_string(reduction);
          const HostTensor logits = random_tensor(rng, dtype, xs, -3, 3), t = targets(rng, ts, xs[1], ignore);
          const std::vector<int64_t> loss_shape = reduction == 0 ? ts : std::vector<int64_t>{};
          compare({Op::cross_entropy_forward, ops::cross_entropy_forward, {logits, t},
                   {filled_tensor(dtype, loss_shape, 7), filled_tensor(dtype, ts, 7)},
                   flat(CrossEntropyParams{ignore, Reduction(reduction)}), tol, tol, label});
          compare({Op::cross_entropy_backward, ops::cross_entropy_backward,
                   {logits, t, random_tensor(rng, dtype, ts, 1, 3), random_tensor(rng, dtype, loss_shape)},
                   {filled_tensor(dtype, xs, 7)}, flat(CrossEntropyParams{ignore, Reduction(reduction)}), tol, tol, label});
        }
    }
  }
  // Every target ignored: the mean is NaN, as on the CPU and in PyTorch.
  compare({Op::cross_entropy_forward, ops::cross_entropy_forward,
           {random_tensor(rng, DType::F32, {2, 3}), filled_tensor(DType::I32, {2}, -100)},
           {filled_tensor(DType::F32, {}, 7), filled_tensor(DType::F32, {2}, 7)}, flat(CrossEntropyParams{-100, Reduction::mean}), 1e-6, 1e-6, "all ignored"});
}

TEST_CASE("cross_entropy: a bad target is reported like the CPU op") {
  std::mt19937 rng(53);
  HostTensor t = filled_tensor(DType::I32, {2, 2, 3}, 1);
  t.values[7] = 4;
  t.values[9] = -2;
  const std::string want =
      "crossEntropy: expected class indices in [0, 2] or ignoreIndex (-100) for target but received 4 at [1, 0, 1]";
  OpCase fwd{Op::cross_entropy_forward, ops::cross_entropy_forward, {random_tensor(rng, DType::F32, {2, 3, 2, 3}), t},
             {filled_tensor(DType::F32, {}, 0), filled_tensor(DType::F32, {2, 2, 3}, 0)}, flat(CrossEntropyParams{-100, Reduction::mean}), 0, 0, ""};
  EXPECT(cuda_error(fwd) == want, "got '", cuda_error(fwd), "'");
  OpCase bwd{Op::cross_entropy_backward, ops::cross_entropy_backward,
             {fwd.inputs[0], t, filled_tensor(DType::F32, {2, 2, 3}, 1), filled_tensor(DType::F32, {}, 1)},
             {filled_tensor(DType::F32, {2, 3, 2, 3}, 0)}, flat(CrossEntropyParams{-100, Reduction::mean}), 0, 0, ""};
  EXPECT(cuda_error(bwd) == want, "got '", cuda_error(bwd), "'");
}

}  // namespace
}  // namespace sepconv::cuda::test
