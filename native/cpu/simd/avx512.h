// SIMD mapping, AVX-512 (F/BW/DQ/VL): 16 floats per vector. Included only by *_avx512.cc units.
#pragma once
#include <immintrin.h>

namespace sepconv::cpu::avx512 {

struct VecF32 {
  using Elem = float;
  static constexpr int W = 16;
  __m512 v;

  static __mmask16 tail_mask(int n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n > 0 ? n : 0)) - 1); }
  // Lanes [lo, hi) (either bound may lie outside [0, 16]).
  static __mmask16 range_mask(int lo, int hi) { return __mmask16(tail_mask(hi) & ~tail_mask(lo)); }
  static VecF32 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static VecF32 load_partial(const float* p, int n) { return {_mm512_maskz_loadu_ps(tail_mask(n), p)}; }
  static VecF32 set1(float x) { return {_mm512_set1_ps(x)}; }
  static VecF32 zero() { return {_mm512_setzero_ps()}; }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  void store_partial(float* p, int n) const { _mm512_mask_storeu_ps(p, tail_mask(n), v); }

  // Lanes [lo, hi) from p[lane], the others 0; only those elements are read (masked lanes
  // never fault, so p may point before or after the valid data).
  static VecF32 load_range(const float* p, int lo, int hi) { return {_mm512_maskz_loadu_ps(range_mask(lo, hi), p)}; }
  // Every second element: lane l = p[2l], reading p[0 .. 2W-2] only. Lanes [lo, hi) in the
  // _range form (reads only their elements, others 0).
  static VecF32 load_even(const float* p) { return load_even_range(p, 0, 16); }
  static VecF32 load_even_range(const float* p, int lo, int hi) {
    const __m512 a = _mm512_maskz_loadu_ps(range_mask(2 * lo, 2 * hi - 1), p);
    const __m512 b = _mm512_maskz_loadu_ps(range_mask(2 * lo - 16, 2 * hi - 17), p + 16);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return {_mm512_permutex2var_ps(a, even, b)};
  }
  // Lanes [0, n) to p[2l]; the odd elements between them are left untouched.
  void store_even_partial(float* p, int n) const {
    const __m512i spread_lo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i spread_hi = _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    const __mmask16 even = 0x5555;
    _mm512_mask_storeu_ps(p, even & tail_mask(2 * n - 1), _mm512_permutex2var_ps(v, spread_lo, v));
    _mm512_mask_storeu_ps(p + 16, even & tail_mask(2 * n - 17), _mm512_permutex2var_ps(v, spread_hi, v));
  }

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
};

}  // namespace sepconv::cpu::avx512
