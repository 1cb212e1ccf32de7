#include "cpu/kernels.h"

#include "core/error.h"

namespace sepconv::cpu {

const Kernels<float>& kernels_f32(Isa isa) {
  static const Kernels<float> scalar_table = scalar::make_kernels_f32();
#ifdef SEPCONV_HAVE_X86_ISAS
  // Built lazily: constructing a table runs no ISA-specific instructions, but keeping each
  // behind its own guard keeps unsupported ones from ever being touched.
  if (isa == Isa::AVX512 && isa_supported(Isa::AVX512)) {
    static const Kernels<float> table = avx512::make_kernels_f32();
    return table;
  }
  if (isa == Isa::AVX2 && isa_supported(Isa::AVX2)) {
    static const Kernels<float> table = avx2::make_kernels_f32();
    return table;
  }
#endif
#ifdef SEPCONV_HAVE_NEON
  if (isa == Isa::NEON && isa_supported(Isa::NEON)) {
    static const Kernels<float> table = neon::make_kernels_f32();
    return table;
  }
#endif
  SEPCONV_CHECK(isa == Isa::SCALAR, "kernels: ISA '", isa_name(isa), "' is not available in this build/CPU");
  return scalar_table;
}

const Kernels<double>& kernels_f64() {
  static const Kernels<double> table = scalar::make_kernels_f64();
  return table;
}

}  // namespace sepconv::cpu
