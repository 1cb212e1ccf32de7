// Runs one op on the CPU (the scalar reference build) and through the emulated CUDA op on the
// same inputs, and compares every output and every input the op may update in place. Device
// buffers carry sentinel guards on both sides, so a kernel writing out of bounds fails too.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/op_call.h"

namespace sepconv::cuda::test {

struct HostTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<double> values;  // stored as double, converted to dtype for the ops

  int64_t numel() const;
  std::string shape_str() const;
};

// Uniform in [lo, hi) (rounded down for int32).
HostTensor random_tensor(std::mt19937& rng, DType dtype, std::vector<int64_t> shape, double lo = -1, double hi = 1);
HostTensor filled_tensor(DType dtype, std::vector<int64_t> shape, double value);

// A generated params struct (core/ops.gen.h) in the flat form an OpCall carries.
template <class P>
std::vector<double> flat(const P& params) {
  const auto values = params.encode();
  return {values.begin(), values.end()};
}

struct OpCase {
  Op op;
  OpFn cuda;  // the CUDA op under test
  std::vector<HostTensor> inputs;
  std::vector<HostTensor> outputs;  // initial contents (an op with beta or in-place updates reads them)
  std::vector<double> params;
  double rtol = 1e-4, atol = 1e-5;
  std::string label;  // shapes and params, printed on a mismatch
};

// Throws naming the op, the label, the operand and the first mismatching element.
void compare(const OpCase& c);

// Runs only the CUDA op (device copies of the tensors) and returns its error message, "" if
// it succeeded: for the bad-input checks.
std::string cuda_error(const OpCase& c);

std::string shapes(const std::vector<HostTensor>& ts);

}  // namespace sepconv::cuda::test
