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
  // Lanes [lo, hi) from p[lo..hi), the others 0; lanes outside are not read (p + i may lie
  // outside the array there).
  static VecF32 load_window(const float* p, int lo, int hi) {
    return {_mm256_maskload_ps(p, _mm256_andnot_si256(tail_mask(lo), tail_mask(hi)))};
  }
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

  // Transposes an 8×8 block held as 8 row vectors (rows[i] becomes column i).
  static void transpose(VecF32 (&rows)[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(rows[i].v, rows[i + 1].v);
      t[i + 1] = _mm256_unpackhi_ps(rows[i].v, rows[i + 1].v);
    }
    for (int g = 0; g < 8; g += 4) {
      u[g] = _mm256_shuffle_ps(t[g], t[g + 2], 0x44);
      u[g + 1] = _mm256_shuffle_ps(t[g], t[g + 2], 0xEE);
      u[g + 2] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0x44);
      u[g + 3] = _mm256_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
    }
    for (int j = 0; j < 4; ++j) {
      rows[j].v = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
      rows[4 + j].v = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
    }
  }
};

}  // namespace sepconv::cpu::avx2
