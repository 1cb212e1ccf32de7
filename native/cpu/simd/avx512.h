// SIMD mapping, AVX-512 (F/BW/DQ/VL): 16 floats per vector. Included only by *_avx512.cc units.
#pragma once
#include <immintrin.h>

namespace sepconv::cpu::avx512 {

struct VecF32 {
  using Elem = float;
  static constexpr int W = 16;
  __m512 v;

  static __mmask16 tail_mask(int n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n > 0 ? n : 0)) - 1); }
  static VecF32 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static VecF32 load_partial(const float* p, int n) { return {_mm512_maskz_loadu_ps(tail_mask(n), p)}; }
  // Lanes [lo, hi) from p[lo..hi), the others 0; lanes outside are not read (p + i may lie
  // outside the array there).
  static VecF32 load_window(const float* p, int lo, int hi) {
    return {_mm512_maskz_loadu_ps(__mmask16(tail_mask(hi) & ~tail_mask(lo)), p)};
  }
  static VecF32 set1(float x) { return {_mm512_set1_ps(x)}; }
  static VecF32 zero() { return {_mm512_setzero_ps()}; }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  void store_partial(float* p, int n) const { _mm512_mask_storeu_ps(p, tail_mask(n), v); }

  friend VecF32 operator+(VecF32 a, VecF32 b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend VecF32 operator-(VecF32 a, VecF32 b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend VecF32 operator*(VecF32 a, VecF32 b) { return {_mm512_mul_ps(a.v, b.v)}; }
  friend VecF32 operator/(VecF32 a, VecF32 b) { return {_mm512_div_ps(a.v, b.v)}; }
  static VecF32 fmadd(VecF32 a, VecF32 b, VecF32 c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  static VecF32 max(VecF32 a, VecF32 b) { return {_mm512_max_ps(a.v, b.v)}; }
  static VecF32 min(VecF32 a, VecF32 b) { return {_mm512_min_ps(a.v, b.v)}; }
  static VecF32 sqrt(VecF32 a) { return {_mm512_sqrt_ps(a.v)}; }
  static VecF32 select_positive(VecF32 cond, VecF32 a) {
    return {_mm512_maskz_mov_ps(_mm512_cmp_ps_mask(cond.v, _mm512_setzero_ps(), _CMP_GT_OQ), a.v)};
  }
  float reduce_add() const { return _mm512_reduce_add_ps(v); }
  float reduce_max() const { return _mm512_reduce_max_ps(v); }

  // Transposes a 16×16 block held as 16 row vectors (rows[i] becomes column i).
  static void transpose(VecF32 (&rows)[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_ps(rows[i].v, rows[i + 1].v);
      t[i + 1] = _mm512_unpackhi_ps(rows[i].v, rows[i + 1].v);
    }
    // Now u[4g + j] holds, in 128-bit lane L, column 4L + j of rows 4g..4g+3.
    for (int g = 0; g < 16; g += 4) {
      u[g] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[g]), _mm512_castps_pd(t[g + 2])));
      u[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[g]), _mm512_castps_pd(t[g + 2])));
      u[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[g + 1]), _mm512_castps_pd(t[g + 3])));
      u[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[g + 1]), _mm512_castps_pd(t[g + 3])));
    }
    // A 4×4 transpose of 128-bit lanes gathers each column's four row groups.
    for (int j = 0; j < 4; ++j) {
      const __m512 lo01 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x44), hi01 = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xEE);
      const __m512 lo23 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x44), hi23 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xEE);
      rows[j].v = _mm512_shuffle_f32x4(lo01, lo23, 0x88);
      rows[4 + j].v = _mm512_shuffle_f32x4(lo01, lo23, 0xDD);
      rows[8 + j].v = _mm512_shuffle_f32x4(hi01, hi23, 0x88);
      rows[12 + j].v = _mm512_shuffle_f32x4(hi01, hi23, 0xDD);
    }
  }
};

}  // namespace sepconv::cpu::avx512
