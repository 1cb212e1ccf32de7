// The CUDA runtime API as the backend's host code sees it: the real cuda_runtime.h under
// nvcc, the emulation layer (native/cuda/emu) when the same sources build as host C++.
#pragma once
#include "cuda/common.cuh"
#include "core/error.h"

namespace sepconv::cuda {

// Throws a sepconv::Error "<what>: <CUDA error name>: <description>" unless err is cudaSuccess.
inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) fail(what, ": ", cudaGetErrorName(err), ": ", cudaGetErrorString(err));
}

}  // namespace sepconv::cuda
