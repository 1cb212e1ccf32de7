// The operand checks every op repeats, shared by the CPU and CUDA op layers so both backends
// reject bad input with the same message. Host-only code free of CPU-only includes, so .cu
// files include it too.
#pragma once
#include <cstdint>
#include <sstream>
#include <string>

#include "core/op_call.h"

// Marks the small accessors of the shared shape structs callable from CUDA kernels too.
#ifdef __CUDACC__
#define SEPCONV_HOST_DEVICE __host__ __device__
#else
#define SEPCONV_HOST_DEVICE
#endif

namespace sepconv {

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

inline void check_same_shape(const OpCall& c, const char* operand, const TensorArg& t, const TensorArg& like,
                             const char* like_name) {
  bool same = t.ndim == like.ndim;
  for (int d = 0; same && d < t.ndim; ++d) same = t.shape[d] == like.shape[d];
  SEPCONV_CHECK(same, op_name(c.op), ": ", operand, " must have the shape of ", like_name);
}

// "[n, c, h, w]": the coordinates of flat element `element` of `t` (for bad-index messages).
inline std::string coordinates(int64_t element, const TensorArg& t) {
  int64_t index[kMaxDims];
  for (int d = t.ndim - 1; d >= 0; --d) {
    index[d] = t.shape[d] > 0 ? element % t.shape[d] : 0;
    element = t.shape[d] > 0 ? element / t.shape[d] : 0;
  }
  std::ostringstream os;
  os << '[';
  for (int d = 0; d < t.ndim; ++d) os << (d ? ", " : "") << index[d];
  os << ']';
  return os.str();
}

}  // namespace sepconv
