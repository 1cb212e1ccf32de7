// Shared helpers for the CPU op layer: dtype dispatch and the checks every op repeats.
#pragma once
#include <cstdint>

#include "core/op_call.h"
#include "cpu/kernels.h"

namespace sepconv::cpu {

// Calls f(T{}) with T = float or double according to `dtype`; other dtypes are an error
// that names the op and the operand.
template <class F>
void float_dispatch(const OpCall& c, const char* operand, DType dtype, F&& f) {
  switch (dtype) {
    case DType::F32: f(float{}); return;
    case DType::F64: f(double{}); return;
    default: fail(op_name(c.op), ": ", operand, " must be float32 or float64, got ", dtype_name(dtype));
  }
}

inline void check_dtype(const OpCall& c, const char* operand, const TensorArg& t, DType expected) {
  SEPCONV_CHECK(t.dtype == expected, op_name(c.op), ": ", operand, " must be ", dtype_name(expected), ", got ",
                dtype_name(t.dtype));
}

inline void check_numel(const OpCall& c, const char* operand, const TensorArg& t, int64_t expected) {
  SEPCONV_CHECK(t.numel() == expected, op_name(c.op), ": ", operand, " has ", t.numel(), " elements, expected ",
                expected);
}

inline void check_ndim(const OpCall& c, const char* operand, const TensorArg& t, int expected) {
  SEPCONV_CHECK(t.ndim == expected, op_name(c.op), ": ", operand, " must have ", expected, " dims, got ", t.ndim);
}

// A small grain keeps tiny tensors on the calling thread (waking the pool costs ~1-5 us).
constexpr size_t kElementwiseGrain = 1 << 15;

}  // namespace sepconv::cpu
