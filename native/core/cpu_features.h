// What the CPU (and the OS, for register state) supports, detected once.
#pragma once
#include <string>

namespace sepconv {

// Instruction-set paths, fastest first. Names are what SEPCONV_ISA and sc.backend() use.
enum class Isa : int { AVX512 = 0, AVX2 = 1, SCALAR = 2 };

const char* isa_name(Isa isa);
bool parse_isa(const std::string& name, Isa* out);

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 + FMA3 + OS-enabled YMM state
  bool avx512 = false;    // AVX-512 F/BW/DQ/VL + OS-enabled ZMM state
};

const CpuFeatures& cpu_features();

// Whether this build contains, and this CPU can run, the given path.
bool isa_supported(Isa isa);

// The fastest supported path, unless SEPCONV_ISA names another one (throws if that one is
// unknown or unsupported here).
Isa default_isa();

}  // namespace sepconv
