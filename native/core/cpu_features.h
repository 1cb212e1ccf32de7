// What the CPU (and the OS, for register state) supports, detected once.
#pragma once
#include <string>

namespace sepconv {

// Instruction-set paths, fastest first. Names are what SEPCONV_ISA and sc.backend() use.
enum class Isa : int { AVX512 = 0, AVX2 = 1, NEON = 2, SCALAR = 3 };
inline constexpr Isa kAllIsas[] = {Isa::AVX512, Isa::AVX2, Isa::NEON, Isa::SCALAR};

const char* isa_name(Isa isa);
bool parse_isa(const std::string& name, Isa* out);

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 + FMA3 + OS-enabled YMM state
  bool avx512 = false;    // AVX-512 F/BW/DQ/VL + OS-enabled ZMM state
  bool neon = false;      // AArch64 Advanced SIMD (HWCAP_ASIMD; every Apple arm64 CPU)
};

const CpuFeatures& cpu_features();

// Whether this build contains, and this CPU can run, the given path.
bool isa_supported(Isa isa);

// "avx2, scalar": the paths isa_supported() accepts here, fastest first.
std::string supported_isas();

// The ISA called `name`; throws, naming `who` (SEPCONV_ISA, setIsa) and the ISAs this
// machine supports, if the name is unknown or the path cannot run here.
Isa require_isa(const std::string& name, const char* who);

// The fastest supported path, unless SEPCONV_ISA names another one (throws as require_isa).
Isa default_isa();

}  // namespace sepconv
