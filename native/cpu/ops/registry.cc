#include "cpu/ops/registry.h"

namespace sepconv::cpu {

OpFn cpu_op(Op op) {
  static const OpFn table[] = {
#define SEPCONV_CPU_OP_ENTRY(name, on_cuda) &ops::name,
      SEPCONV_OPS(SEPCONV_CPU_OP_ENTRY)
#undef SEPCONV_CPU_OP_ENTRY
  };
  static_assert(sizeof(table) / sizeof(table[0]) == kOpCount, "CPU op table out of step with SEPCONV_OPS");
  const int i = static_cast<int>(op);
  SEPCONV_CHECK(i >= 0 && i < kOpCount, "unknown op id ", i);
  return table[i];
}

}  // namespace sepconv::cpu
