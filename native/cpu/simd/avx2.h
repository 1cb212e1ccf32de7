// SIMD mapping, AVX2 + FMA: 8 floats per vector. Included only by *_avx2.cc units.
#pragma once
#include <immintrin.h>

namespace sepconv::cpu::avx2 {

struct VecF32 {
  using Elem = float;
  static constexpr int W = 8;
  __m256 v;

  static __m256i tail_mask(int n) {
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), iota);
  }
  static VecF32 load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static VecF32 load_partial(const float* p, int n) { return {_mm256_maskload_ps(p, tail_mask(n))}; }
  static VecF32 set1(float x) { return {_mm256_set1_ps(x)}; }
  static VecF32 zero() { return {_mm256_setzero_ps()}; }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  void store_partial(float* p, int n) const { _mm256_maskstore_ps(p, tail_mask(n), v); }

  friend VecF32 operator+(VecF32 a, VecF32 b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend VecF32 operator-(VecF32 a, VecF32 b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend VecF32 operator*(VecF32 a, VecF32 b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend VecF32 operator/(VecF32 a, VecF32 b) { return {_mm256_div_ps(a.v, b.v)}; }
  static VecF32 fmadd(VecF32 a, VecF32 b, VecF32 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  static VecF32 max(VecF32 a, VecF32 b) { return {_mm256_max_ps(a.v, b.v)}; }
  static VecF32 min(VecF32 a, VecF32 b) { return {_mm256_min_ps(a.v, b.v)}; }
  static VecF32 sqrt(VecF32 a) { return {_mm256_sqrt_ps(a.v)}; }
  static VecF32 select_positive(VecF32 cond, VecF32 a) {
    return {_mm256_and_ps(_mm256_cmp_ps(cond.v, _mm256_setzero_ps(), _CMP_GT_OQ), a.v)};
  }
  float reduce_add() const {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  float reduce_max() const {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace sepconv::cpu::avx2
