// Max-pooling kernels on NCHW planes (the scatters and gathers of the backward pass and of
// max-unpooling are plain loops in the op layer: they do not vectorise).
#pragma once
#include <cstdint>

#include "core/checks/pool.h"  // Pool2dGeometry

namespace sepconv::cpu {


template <class T>
struct PoolKernels {
  // Output rows [row_begin, row_end) of one plane: the maximum of each window (NaN wins, as
  // in PyTorch) and its flat position in the input plane (the first maximum in scan order).
  // A window that covers no input element gives -inf and position -1.
  void (*max_pool2d_rows)(const Pool2dGeometry& g, const T* plane, T* out_plane, int32_t* index_plane,
                          int64_t row_begin, int64_t row_end);
};

}  // namespace sepconv::cpu
