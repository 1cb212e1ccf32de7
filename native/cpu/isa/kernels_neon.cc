// NEON kernels (AArch64 Advanced SIMD, part of every arm64 CPU: no extra flags needed).
#include "cpu/simd/neon.h"
#define SEPCONV_ISA_NS neon
#define SEPCONV_ISA_ENUM ::sepconv::Isa::NEON
#include "cpu/isa/kernels.inc"
