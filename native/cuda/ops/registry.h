// The CUDA backend's op table, keyed to the one op list in core/ops.h: the ops the schema
// (core/ops.json) declares for cuda map to sepconv::cuda::ops::<name> in native/cuda/ops/*.cu,
// every other op to nullptr, which run_op reports as "not supported on cuda" by name.
#pragma once
#include "cuda/common.cuh"

namespace sepconv::cuda {

// The op's CUDA implementation, or nullptr when the schema declares none.
OpFn cuda_op(Op op);

}  // namespace sepconv::cuda
