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
};

}  // namespace sepconv::cpu::avx512
