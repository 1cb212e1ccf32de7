// The numeric kernels, one table per ISA. Every family is written once as templates over a
// SIMD mapping (cpu/simd/*.h) in cpu/kernels/<family>.inl and compiled per ISA by
// cpu/isa/kernels_<isa>.cc; the op layer (cpu/ops) picks the table once per call.
#pragma once
#include "core/cpu_features.h"
#include "cpu/kernels/depthwise.h"
#include "cpu/kernels/elementwise.h"
#include "cpu/kernels/norm.h"
#include "cpu/kernels/optim.h"
#include "cpu/kernels/pool.h"
#include "cpu/kernels/softmax.h"
#include "cpu/kernels/gemm.h"
#include "cpu/kernels/resample.h"
#include "cpu/kernels/winograd.h"

namespace sepconv::cpu {

template <class T>
struct Kernels {
  const char* isa;
  ElementwiseKernels<T> elementwise;
  PoolKernels<T> pool;
  NormKernels<T> norm;
  SoftmaxKernels<T> softmax;
  OptimKernels<T> optim;
  GemmKernels<T> gemm;
  DepthwiseKernels<T> depthwise;
  ResampleKernels<T> resample;
  WinogradKernels<T> winograd;
};

// float32 kernels of the given (supported) ISA; float64 kernels are scalar on every machine.
const Kernels<float>& kernels_f32(Isa isa);
const Kernels<double>& kernels_f64();

template <class T>
const Kernels<T>& kernels_for(Isa isa);
template <>
inline const Kernels<float>& kernels_for<float>(Isa isa) { return kernels_f32(isa); }
template <>
inline const Kernels<double>& kernels_for<double>(Isa) { return kernels_f64(); }

namespace avx512 { Kernels<float> make_kernels_f32(); }
namespace avx2 { Kernels<float> make_kernels_f32(); }
namespace neon { Kernels<float> make_kernels_f32(); }
namespace scalar {
Kernels<float> make_kernels_f32();
Kernels<double> make_kernels_f64();
}  // namespace scalar

}  // namespace sepconv::cpu
