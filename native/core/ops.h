// The op list and each op's contract, declared once in core/ops.json (operands, typed params,
// backends, how it is differentiated) and generated into core/ops.gen.h by scripts/gen-ops.mjs.
// The CPU dispatch table (cpu/ops/registry.cc), the CUDA table (cuda/ops/registry.cu) and the
// TypeScript op table (lib/ops.ts) are all keyed to it: an op without a CPU kernel is a link
// error, so is an op declared for cuda without a CUDA kernel, and an op not declared for cuda
// reports "not supported on cuda" by construction.
//
// Outputs are allocated by the caller (TypeScript knows every shape); params cross as doubles
// (integers exact to 2^53), validated against the schema at the addon boundary and read by the
// checks and kernels through the generated structs (OpCall::params_as<Conv2dParams>()).
#pragma once
#include <cstdint>

namespace sepconv {

// The schema types the generated tables fill in.
enum class ParamType : uint8_t { Int, Float, Bool, Enum };

struct ParamSpec {
  const char* name;
  ParamType type;
  int32_t enum_size;        // Enum: the values are 0 .. enum_size - 1
  const char* enum_values;  // Enum: "0 add, 1 sub, ..." (for messages)
};

// Dtype bits: 1 float32, 2 float64, 4 int32, 8 uint8; ranks -1 for "any".
struct OperandSpec {
  const char* name;
  uint8_t dtypes;
  int8_t min_rank, max_rank;
  bool optional;
};

struct OpSpec {
  const char* name;
  int32_t param_set;  // the params struct's kSet, -1 when the op has no params
  const ParamSpec* params;
  int32_t num_params;
  const OperandSpec* inputs;
  int32_t num_inputs;
  const OperandSpec* outputs;
  int32_t num_outputs;
  bool cuda;
};

}  // namespace sepconv

#include "core/ops.gen.h"

namespace sepconv {

enum class Op : int32_t {
#define SEPCONV_OP_ENUM(name, on_cuda) name,
  SEPCONV_OPS(SEPCONV_OP_ENUM)
#undef SEPCONV_OP_ENUM
};

constexpr int kOpCount = 0
#define SEPCONV_OP_COUNT(name, on_cuda) +1
    SEPCONV_OPS(SEPCONV_OP_COUNT)
#undef SEPCONV_OP_COUNT
    ;
static_assert(sizeof(schema::kOpSpecs) / sizeof(schema::kOpSpecs[0]) == kOpCount, "schema table out of step with SEPCONV_OPS");

inline const OpSpec& op_spec(Op op) { return schema::kOpSpecs[static_cast<int>(op)]; }
const char* op_name(Op op);

}  // namespace sepconv

// SEPCONV_IF_CUDA(on_cuda, code): `code` for the ops the schema declares for cuda, else nothing.
#define SEPCONV_IF_CUDA(on_cuda, ...) SEPCONV_IF_CUDA_##on_cuda(__VA_ARGS__)
#define SEPCONV_IF_CUDA_1(...) __VA_ARGS__
#define SEPCONV_IF_CUDA_0(...)
