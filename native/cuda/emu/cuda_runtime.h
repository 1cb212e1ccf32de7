// Stand-in for <cuda_runtime.h> when the CUDA sources are compiled as host C++ (SEPCONV_CUDA_EMU).
#pragma once
#include "cuda/emu/device.h"
#include "cuda/emu/runtime.h"
