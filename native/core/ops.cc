#include "core/ops.h"

namespace sepconv {

const char* op_name(Op op) {
  static const char* const names[] = {
#define SEPCONV_OP_NAME(name) #name,
      SEPCONV_OPS(SEPCONV_OP_NAME)
#undef SEPCONV_OP_NAME
  };
  static_assert(sizeof(names) / sizeof(names[0]) == kOpCount, "op name table out of step with SEPCONV_OPS");
  const int i = static_cast<int>(op);
  return i >= 0 && i < kOpCount ? names[i] : "unknown";
}

}  // namespace sepconv
