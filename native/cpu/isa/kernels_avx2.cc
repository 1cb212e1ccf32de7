// AVX2 + FMA kernels; this file (like every *_avx2.cc) is compiled with -mavx2 -mfma.
#include "cpu/simd/avx2.h"
#define SEPCONV_ISA_NS avx2
#define SEPCONV_ISA_ENUM ::sepconv::Isa::AVX2
#include "cpu/isa/kernels.inc"
