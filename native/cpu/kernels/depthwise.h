// Direct depthwise convolution (groups == in_channels, NCHW), one plane per call: the op
// layer splits the (image, channel) planes across threads. No im2col: each output row is
// computed from its few input rows with vectors along W, interior columns without masks,
// border columns with masked loads (padding reads as zero without being materialised).
#pragma once
#include <cstddef>

namespace sepconv::cpu {

// PyTorch conv2d geometry of one plane: output (h, w) reads input
// (h*stride_h - pad_h + i*dilation_h, w*stride_w - pad_w + j*dilation_w) for kernel tap (i, j).
struct DepthwiseGeometry {
  int in_h, in_w, out_h, out_w;
  int kernel_h, kernel_w;
  int stride_h, stride_w;
  int pad_h, pad_w;
  int dilation_h, dilation_w;
};

template <class T>
struct DepthwiseKernels {
  // out[out_h, out_w] = bias + correlation of in[in_h, in_w] with w[kernel_h, kernel_w].
  void (*forward_plane)(const DepthwiseGeometry& g, const T* in, const T* w, T bias, T* out);
  // dx[in_h, in_w] = the input gradient of the `multiplier` output planes that read this
  // input plane: dy + k*dy_plane_step with weights w + k*kernel_h*kernel_w, k < multiplier.
  void (*backward_input_plane)(const DepthwiseGeometry& g, const T* dy, ptrdiff_t dy_plane_step, const T* w,
                               int multiplier, T* dx);
  // Adds this plane's weight gradient to dw_sum[kernel_h*kernel_w] and sum(dy) to *db_sum.
  void (*backward_weight_plane)(const DepthwiseGeometry& g, const T* x, const T* dy, double* dw_sum, double* db_sum);
};

}  // namespace sepconv::cpu
