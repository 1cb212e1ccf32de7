// The CUDA backend's op table, keyed to the one op list in core/ops.h. Implementations are
// sepconv::cuda::ops::<name> in native/cuda/ops/*.cu (declared in common.cuh);
// SEPCONV_CUDA_OPS lists those that exist, and an op missing from it is reported as
// "not supported on cuda" by name.
#pragma once
#include "cuda/common.cuh"

// Ops with a CUDA kernel (names from SEPCONV_OPS): every op today. An op added to the list
// without a CUDA kernel stays out of here and is reported as not supported on cuda.
#define SEPCONV_CUDA_OPS(X)            \
  X(fill)                              \
  X(copy)                              \
  X(fill_randn)                        \
  X(fill_uniform)                      \
  X(binary)                            \
  X(affine)                            \
  X(axpy)                              \
  X(sum_to)                            \
  X(relu_forward)                      \
  X(relu_backward)                     \
  X(max_pool2d_forward)                \
  X(max_pool2d_backward)               \
  X(max_unpool2d_forward)              \
  X(max_unpool2d_backward)             \
  X(batch_norm_forward)                \
  X(batch_norm_backward)               \
  X(softmax_forward)                   \
  X(softmax_backward)                  \
  X(cross_entropy_forward)             \
  X(cross_entropy_backward)            \
  X(sgd_step)                          \
  X(adam_step)                         \
  X(gemm)                              \
  X(conv2d_forward)                    \
  X(conv2d_backward_input)             \
  X(conv2d_backward_weight)            \
  X(depthwise_conv2d_forward)          \
  X(depthwise_conv2d_backward_input)   \
  X(depthwise_conv2d_backward_weight)  \
  X(depthwise_pointwise_forward)       \
  X(fill_bernoulli)                    \
  X(narrow_copy)                       \
  X(upsample2d_forward)                \
  X(upsample2d_backward)               \
  X(avg_pool2d_forward)                \
  X(avg_pool2d_backward)               \
  X(adaptive_avg_pool2d_forward)       \
  X(adaptive_avg_pool2d_backward)

namespace sepconv::cuda {

// The op's CUDA implementation, or nullptr when this build has none.
OpFn cuda_op(Op op);

}  // namespace sepconv::cuda
