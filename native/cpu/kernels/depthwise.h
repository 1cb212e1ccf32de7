// Direct depthwise convolution (groups == in_channels, NCHW). No im2col: each output row is
// computed from its few input rows with vectors along W, interior columns without masks,
// border columns with masked loads (padding reads as zero without being materialised).
// Each kernel plans its row bands once per call and then runs them over `count` planes,
// which the caller hands out through a callback (the op layer splits planes across threads).
#pragma once
#include <cstddef>

#include "core/checks/depthwise.h"  // DepthwiseGeometry
#include "core/function_ref.h"

namespace sepconv::cpu {

// out[out_h, out_w] = bias + correlation of in[in_h, in_w] with w[kernel_h, kernel_w].
template <class T>
struct DepthwiseForwardPlane {
  const T* in;
  const T* w;
  T bias;
  T* out;
};

// dx[in_h, in_w] = the input gradient from the `multiplier` output planes reading this input
// plane: dy + k*out_h*out_w with weights w + k*kernel_h*kernel_w.
template <class T>
struct DepthwiseInputGradPlane {
  const T* dy;
  const T* w;
  T* dx;
};

template <class T>
struct DepthwiseWeightGradPlane {
  const T* x;
  const T* dy;
  int channel;  // which sums it adds to
};

// Per-thread scratch slot (core/allocator.h) holding a call's band plan and accumulators.
constexpr int kDepthwiseScratchSlot = 3;

template <class T>
struct DepthwiseKernels {
  // Output rows [row_begin, row_end) of each plane; `out` points at row row_begin.
  void (*forward)(const DepthwiseGeometry& g, int row_begin, int row_end, int count,
                  FunctionRef<DepthwiseForwardPlane<T>(int)> plane);
  void (*backward_input)(const DepthwiseGeometry& g, int multiplier, int count,
                         FunctionRef<DepthwiseInputGradPlane<T>(int)> plane);
  // Adds each plane's weight gradient to sums[channel * (kernel_h*kernel_w + 1) + tap] and its
  // sum(dy) to sums[channel * (kernel_h*kernel_w + 1) + kernel_h*kernel_w], for channel <
  // channels. Planes may come in memory order: each channel keeps its own accumulators.
  void (*backward_weight)(const DepthwiseGeometry& g, int count, int channels,
                          FunctionRef<DepthwiseWeightGradPlane<T>(int)> plane, double* sums);
};

}  // namespace sepconv::cpu
