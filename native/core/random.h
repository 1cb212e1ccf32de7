// The counter-based random stream behind randn/rand/dropout, shared by every backend so a
// seed gives the same numbers on CPU and CUDA: element i of a fill depends only on
// (seed, counter + i), whatever the thread count or launch shape.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define SEPCONV_HOST_DEVICE __host__ __device__
#else
#define SEPCONV_HOST_DEVICE
#endif

namespace sepconv {

// splitmix64's finaliser.
SEPCONV_HOST_DEVICE inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
SEPCONV_HOST_DEVICE inline uint64_t random_bits(uint64_t seed, uint64_t counter) {
  return mix64(mix64(seed + 0x9e3779b97f4a7c15ULL) ^ (counter * 0x9e3779b97f4a7c15ULL));
}
// Uniform in (0, 1): 53 random bits, offset by half a step so log() is always finite.
SEPCONV_HOST_DEVICE inline double to_unit(uint64_t bits) {
  return (double(bits >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}
// A standard normal sample (Box-Muller from two uniforms drawn from one counter).
SEPCONV_HOST_DEVICE inline double normal_from_bits(uint64_t bits) {
  return sqrt(-2.0 * log(to_unit(bits))) * cos(6.283185307179586 * to_unit(mix64(bits)));
}
// Dropout keeps an element when its 53 random bits fall below this threshold.
inline uint64_t keep_threshold(double keep_prob) { return uint64_t(keep_prob * 9007199254740992.0); }

}  // namespace sepconv
