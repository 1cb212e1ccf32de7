// Batch-normalisation kernels: per-plane reductions, the normalisation and the backward
// combination.
#pragma once
#include <cstddef>

namespace sepconv::cpu {

template <class T>
struct NormKernels {
  // Sums of (x - shift) and (x - shift)^2 over n elements. Shifting by a value near the
  // mean keeps the one-pass variance E[(x-s)^2] - E[x-s]^2 free of cancellation.
  void (*centered_moments)(const T* x, size_t n, T shift, double* sum, double* sum_sq);
  // Sums of dy and dy * (x - shift) over n elements.
  void (*grad_moments)(const T* x, const T* dy, size_t n, T shift, double* sum_dy, double* sum_dy_x);
  // out = (x - shift) * scale + offset. With a shift near the mean, x - shift is exact, so
  // float32 keeps its precision when the mean is large against the spread (x*scale + c
  // would cancel).
  void (*normalize)(const T* x, T shift, T scale, T offset, T* out, size_t n);
  // out = a*dy + b*(x - shift) + c (the training-mode input gradient, per channel).
  void (*combine)(const T* dy, T a, const T* x, T shift, T b, T c, T* out, size_t n);
};

}  // namespace sepconv::cpu
