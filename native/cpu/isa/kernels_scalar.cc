// Portable kernels (baseline flags): the float32 fallback and the float64 path.
#include "cpu/simd/scalar.h"
#define SEPCONV_ISA_NS scalar
#define SEPCONV_ISA_ENUM ::sepconv::Isa::SCALAR
#define SEPCONV_ISA_WITH_F64
#include "cpu/isa/kernels.inc"
