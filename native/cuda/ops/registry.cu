#include "cuda/ops/registry.h"

namespace sepconv::cuda {

namespace {

struct OpTable {
  OpFn fns[kOpCount] = {};
  OpTable() {
#define SEPCONV_CUDA_OP_ENTRY(name, on_cuda) SEPCONV_IF_CUDA(on_cuda, fns[int(Op::name)] = &ops::name;)
    SEPCONV_OPS(SEPCONV_CUDA_OP_ENTRY)
#undef SEPCONV_CUDA_OP_ENTRY
  }
};

}  // namespace

OpFn cuda_op(Op op) {
  static const OpTable table;
  const int i = static_cast<int>(op);
  return i >= 0 && i < kOpCount ? table.fns[i] : nullptr;
}

}  // namespace sepconv::cuda
