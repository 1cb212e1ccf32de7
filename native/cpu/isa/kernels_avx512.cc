// AVX-512 kernels; this file (like every *_avx512.cc) is compiled with -mavx512f/bw/dq/vl.
#include "cpu/simd/avx512.h"
#define SEPCONV_ISA_NS avx512
#define SEPCONV_ISA_ENUM ::sepconv::Isa::AVX512
#include "cpu/isa/kernels.inc"
