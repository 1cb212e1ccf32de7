// The device GEMM shared by the gemm op and the convolutions: strided, batched,
// C = alpha*op(A)*op(B) + beta*C + bias, in shared-memory tiles with register blocking,
// 128-bit loads where the operand allows them and double-buffered tiles.
#pragma once
#include "cuda/common.cuh"

namespace sepconv::cuda {

// Row-major operands with explicit leading dimensions. Entry e of the batch reads
// a + e*a_batch, b + e*b_batch (a stride 0 shares the matrix) and writes c + e*c_batch;
// with sum_batch every entry adds into the one C (beta and bias apply once).
template <class T>
struct GemmArgs {
  int64_t m = 0, n = 0, k = 0;
  const T* a = nullptr;
  int64_t lda = 0, a_batch = 0;
  bool trans_a = false;
  const T* b = nullptr;
  int64_t ldb = 0, b_batch = 0;
  bool trans_b = false;
  T* c = nullptr;
  int64_t ldc = 0, c_batch = 0;
  int64_t batch = 1;
  bool sum_batch = false;
  T alpha = T(1), beta = T(0);
  const T* bias = nullptr;
  int bias_kind = 0;  // 0 none, 1 per row of C, 2 per column
  // Device memory of gemm_scratch_elements(args) elements, 16-byte aligned, or null: lets a
  // single output with few tiles and a long reduction be split along k (see gemm.cu).
  T* scratch = nullptr;
};

template <class T>
int64_t gemm_scratch_elements(const GemmArgs<T>& args);

template <class T>
void gemm_device(const char* op, const GemmArgs<T>& args);

}  // namespace sepconv::cuda
