// Elementwise and reduction kernels: contiguous ranges; the op layer splits work across
// threads and handles broadcasting by calling these on contiguous runs.
#pragma once
#include <cstddef>

namespace sepconv::cpu {

template <class T>
struct ElementwiseKernels {
  // out[i] = a[i*a_step] (kind) b[i*b_step]; steps are 0 (broadcast scalar) or 1.
  void (*binary)(BinaryKind kind, const T* a, int a_step, const T* b, int b_step, T* out, size_t n);
  void (*affine)(const T* x, T alpha, T beta, T* out, size_t n);  // out = alpha*x + beta
  void (*axpy)(const T* x, T alpha, T* y, size_t n);               // y += alpha*x
  double (*sum)(const T* x, size_t n);
  void (*relu_forward)(const T* x, T* out, size_t n);
  void (*relu_backward)(const T* x, const T* dy, T* dx, size_t n);
};

}  // namespace sepconv::cpu
