// Element types and devices shared by every backend.
#pragma once
#include <cstddef>
#include <cstdint>

namespace sepconv {

// Codes cross the JS boundary: keep in sync with lib/dtype.ts (checked at load).
enum class DType : int32_t { F32 = 0, F64 = 1, I32 = 2, U8 = 3 };
enum class Device : int32_t { CPU = 0, CUDA = 1 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::I32: return 4;
    case DType::U8: return 1;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::F64: return "float64";
    case DType::I32: return "int32";
    case DType::U8: return "uint8";
  }
  return "unknown";
}

inline bool dtype_valid(int32_t code) { return code >= 0 && code <= 3; }
inline bool is_float(DType t) { return t == DType::F32 || t == DType::F64; }

}  // namespace sepconv
