// Softmax-family kernels over a class dim. Two layouts:
//  - columns: n adjacent positions, class c of position s at x[c*stride + s] (NCHW logits,
//    softmax over a non-last dim); vectorised across positions.
//  - row: one position whose classes are contiguous (softmax over the last dim, [N, C]
//    logits); vectorised across classes.
#pragma once
#include <cstddef>

namespace sepconv::cpu {

template <class T>
struct SoftmaxKernels {
  // lse[s] = log(sum_c exp(x[c, s])), computed as max + log(sum exp(x - max)).
  void (*log_sum_exp_columns)(const T* x, size_t classes, size_t stride, size_t n, T* lse);
  T (*log_sum_exp_row)(const T* x, size_t classes);
  // out = exp(x - shift) * scale (softmax, or the cross-entropy gradient before its one-hot
  // term), or out = x - shift when `log` is set (log-softmax). A null scale means 1.
  void (*normalize_columns)(const T* x, size_t classes, size_t stride, size_t n, const T* shift, const T* scale,
                            bool log, T* out);
  void (*normalize_row)(const T* x, size_t classes, T shift, T scale, bool log, T* out);
  // Input gradient from output y and its gradient dy: softmax dx = y * (dy - sum_c dy*y);
  // log-softmax dx = dy - exp(y) * sum_c dy.
  void (*softmax_backward_columns)(const T* y, const T* dy, size_t classes, size_t stride, size_t n, bool log, T* dx);
  void (*softmax_backward_row)(const T* y, const T* dy, size_t classes, bool log, T* dx);
};

}  // namespace sepconv::cpu
