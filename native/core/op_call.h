// How an op sees its operands: plain views of caller-allocated tensors plus numeric params.
#pragma once
#include <cstdint>

#include "core/allocator.h"
#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/ops.h"
#include "core/thread_pool.h"

namespace sepconv {

constexpr int kMaxDims = 8;
constexpr int kMaxOperands = 12;
constexpr int kMaxParams = 32;

struct TensorArg {
  void* data = nullptr;  // first element (storage base + offset)
  DType dtype = DType::F32;
  Device device = Device::CPU;
  int ndim = 0;
  int64_t shape[kMaxDims] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= shape[i];
    return n;
  }
  // Negative indices count from the end, as in Python.
  int64_t dim(int i) const { return shape[i < 0 ? ndim + i : i]; }
  template <class T>
  T* ptr() const { return static_cast<T*>(data); }
};

// Which algorithm eligible 3×3 convolutions take: Auto picks by shape; the others force one
// (a test hook, so tests can compare the paths).
enum class ConvAlgo { Auto, Im2col, Winograd };

// How much float32 rounding ops may add for speed (sc.setFloat32Precision, after PyTorch's
// set_float32_matmul_precision). Highest: every product and sum rounds as in the direct
// algorithm (3×3 convolutions take im2col + GEMM). High: the convolution gradient ops may take
// Winograd F(4×4, 3×3), whose transforms round about 10× more per op. Medium: the forward op too.
enum class Float32Precision { Highest, High, Medium };

// Per-environment execution resources an op may use.
struct Context {
  ThreadPool& pool;
  CachingAllocator& allocator;
  Isa isa;
  ConvAlgo conv_algo = ConvAlgo::Auto;
  Float32Precision float32_precision = Float32Precision::High;
};

struct OpCall {
  Op op;
  const TensorArg* inputs;
  int num_inputs;
  const TensorArg* outputs;
  int num_outputs;
  const double* params;
  int num_params;
  Context& ctx;

  const TensorArg& in(int i) const {
    SEPCONV_CHECK(i < num_inputs, op_name(op), ": expected at least ", i + 1, " inputs, got ", num_inputs);
    return inputs[i];
  }
  const TensorArg& out(int i) const {
    SEPCONV_CHECK(i < num_outputs, op_name(op), ": expected at least ", i + 1, " outputs, got ", num_outputs);
    return outputs[i];
  }
  // The op's params by name, as the generated struct P (core/ops.gen.h) that the schema gives
  // this op. Values were validated against the schema where the call entered (check_call).
  template <class P>
  P params_as() const {
    SEPCONV_CHECK(op_spec(op).param_set == P::kSet, op_name(op), ": the kernel reads params its schema does not give it");
    SEPCONV_CHECK(num_params == P::kCount, op_name(op), ": expected ", P::kCount, " params, got ", num_params);
    return P::decode(params);
  }
};

// Checks a call against its op's schema: operand counts, the param count, each param's type
// (integral ints, bools 0 or 1, enums in range). Errors name the op and the parameter.
void check_call(const OpCall& c);

using OpFn = void (*)(const OpCall&);

}  // namespace sepconv
