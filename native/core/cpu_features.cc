#include "core/cpu_features.h"

#include <cstdlib>

#include "core/error.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace sepconv {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::AVX512: return "avx512";
    case Isa::AVX2: return "avx2";
    case Isa::NEON: return "neon";
    case Isa::SCALAR: return "scalar";
  }
  return "unknown";
}

bool parse_isa(const std::string& name, Isa* out) {
  for (Isa isa : kAllIsas) {
    if (name == isa_name(isa)) {
      *out = isa;
      return true;
    }
  }
  return false;
}

namespace {
CpuFeatures detect() {
  CpuFeatures f;
#if (defined(__x86_64__) || defined(_M_X64)) && defined(SEPCONV_HAVE_X86_ISAS)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27), fma = c & (1u << 12), avx = c & (1u << 28);
  if (!osxsave || !avx) return f;
  unsigned xcr0_lo, xcr0_hi;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  const bool ymm_state = (xcr0_lo & 0x6) == 0x6;
  const bool zmm_state = (xcr0_lo & 0xe6) == 0xe6;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5);
  const bool avx512f = b & (1u << 16), avx512dq = b & (1u << 17), avx512bw = b & (1u << 30),
             avx512vl = b & (1u << 31);
  f.avx2_fma = ymm_state && avx2 && fma;
  f.avx512 = f.avx2_fma && zmm_state && avx512f && avx512dq && avx512bw && avx512vl;
#elif (defined(__aarch64__) || defined(_M_ARM64)) && defined(SEPCONV_HAVE_NEON)
#if defined(__linux__)
  f.neon = (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
#else
  f.neon = true;  // Apple (and Windows) arm64 CPUs all have Advanced SIMD
#endif
#endif
  return f;
}
}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::AVX512: return cpu_features().avx512;
    case Isa::AVX2: return cpu_features().avx2_fma;
    case Isa::NEON: return cpu_features().neon;
    case Isa::SCALAR: return true;
  }
  return false;
}

namespace {
std::string isa_list(bool supported_only) {
  std::string list;
  for (Isa isa : kAllIsas)
    if (!supported_only || isa_supported(isa)) list += (list.empty() ? "" : ", ") + std::string(isa_name(isa));
  return list;
}
}  // namespace

std::string supported_isas() { return isa_list(true); }

Isa require_isa(const std::string& name, const char* who) {
  Isa isa;
  if (!parse_isa(name, &isa))
    fail(who, ": '", name, "' is not an ISA sepconv knows (", isa_list(false), "); this machine supports ",
         supported_isas());
  if (!isa_supported(isa))
    fail(who, ": '", name, "' cannot run on this CPU (or is not in this build); this machine supports ", supported_isas());
  return isa;
}

Isa default_isa() {
  if (const char* env = std::getenv("SEPCONV_ISA")) return require_isa(env, "SEPCONV_ISA");
  for (Isa isa : kAllIsas)
    if (isa_supported(isa)) return isa;
  return Isa::SCALAR;
}

}  // namespace sepconv
