// Kernels for ops that resample NCHW planes: average pooling (fixed and adaptive windows)
// and nearest/bilinear upsampling. Each output row is built in two passes: a vertical pass
// over whole input rows (vectorised: sum or blend of rows into a scratch row) and a
// horizontal pass that gathers from that row through per-column index tables. Backward
// runs the adjoint: scatter a gradient row, then add it into the input rows (axpy).
#pragma once
#include <cstddef>
#include <cstdint>

namespace sepconv::cpu {

template <class T>
struct ResampleKernels {
  // acc[i] = sum over r < rows of x[r * row_stride + i], for i < n (zeros when rows == 0).
  void (*sum_rows)(const T* x, size_t row_stride, int64_t rows, T* acc, size_t n);
  // acc[i] = w0 * r0[i] + w1 * r1[i].
  void (*blend_rows)(const T* r0, const T* r1, T w0, T w1, T* acc, size_t n);
  // out[o] = (sum of src[start[o] .. end[o])) / divisor[o], for o < n.
  void (*window_mean)(const T* src, const int64_t* start, const int64_t* end, const T* divisor, T* out, size_t n);
  // The adjoint of window_mean: grad[i] += dy[o] / divisor[o] for every i in window o.
  void (*window_mean_backward)(const T* dy, const int64_t* start, const int64_t* end, const T* divisor, T* grad,
                               size_t n);
  // out[o] = w0[o] * src[i0[o]] + w1[o] * src[i1[o]] (vector gathers).
  void (*lerp_gather)(const T* src, const int32_t* i0, const int32_t* i1, const T* w0, const T* w1, T* out, size_t n);
  // The adjoint of lerp_gather: grad[i0[o]] += w0[o] * dy[o]; grad[i1[o]] += w1[o] * dy[o].
  void (*lerp_scatter)(const T* dy, const int32_t* i0, const int32_t* i1, const T* w0, const T* w1, T* grad, size_t n);
  // out[o] = src[index[o]] (vector gathers).
  void (*gather)(const T* src, const int32_t* index, T* out, size_t n);
  // grad[index[o]] += dy[o].
  void (*scatter_add)(const T* dy, const int32_t* index, T* grad, size_t n);
};

}  // namespace sepconv::cpu
