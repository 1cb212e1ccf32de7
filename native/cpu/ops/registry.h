// The CPU backend's op table, keyed to the one op list in core/ops.h.
#pragma once
#include "core/op_call.h"

namespace sepconv::cpu {

// Every op in SEPCONV_OPS has a CPU implementation named after it in sepconv::cpu::ops
// (declared here from the list, so a missing one fails to link).
namespace ops {
#define SEPCONV_DECLARE_CPU_OP(name, on_cuda) void name(const OpCall& call);
SEPCONV_OPS(SEPCONV_DECLARE_CPU_OP)
#undef SEPCONV_DECLARE_CPU_OP
}  // namespace ops

OpFn cpu_op(Op op);

}  // namespace sepconv::cpu
