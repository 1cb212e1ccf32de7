// SIMD mapping, AVX2 + FMA: 8 floats per vector. Included only by *_avx2.cc units.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "cpu/simd/polynomials.h"

namespace sepconv::cpu::avx2 {

// All-ones in lanes [0, n) of an 8-lane vector (none for n <= 0, all for n >= 8).
inline __m256i lane_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// int32 lanes riding along float lanes (argmax positions in max-pooling).
struct IndexVec {
  __m256i v;
  static IndexVec set1(int32_t x) { return {_mm256_set1_epi32(x)}; }
  static IndexVec lanes(int32_t step) {  // {0, step, 2*step, ...}
    return {_mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(step))};
  }
  friend IndexVec operator+(IndexVec a, IndexVec b) { return {_mm256_add_epi32(a.v, b.v)}; }
  static IndexVec select(__m256 m, IndexVec a, IndexVec b) {
    return {_mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b.v), _mm256_castsi256_ps(a.v), m))};
  }
  void store(int32_t* p) const { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }
  void store_partial(int32_t* p, int n) const { _mm256_maskstore_epi32(p, lane_mask(n), v); }
};

struct VecF32 {
  using Elem = float;
  using Mask = __m256;  // all-ones / all-zeros lanes
  using Index = IndexVec;
  static constexpr int W = 8;
  __m256 v;

  static __m256i tail_mask(int n) { return lane_mask(n); }
  // Lanes [lo, hi) (either bound may lie outside [0, 8]).
  static __m256i range_mask(int lo, int hi) { return _mm256_andnot_si256(tail_mask(lo), tail_mask(hi)); }
  static VecF32 load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static VecF32 load_partial(const float* p, int n) { return {_mm256_maskload_ps(p, tail_mask(n))}; }
  // base[index[l]] per lane; the _partial form reads index[0 .. n) and their elements only.
  static VecF32 gather(const float* base, const int32_t* index) {
    return {_mm256_i32gather_ps(base, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(index)), 4)};
  }
  static VecF32 gather_partial(const float* base, const int32_t* index, int n) {
    const __m256i mask = tail_mask(n);
    return {_mm256_mask_i32gather_ps(_mm256_setzero_ps(), base, _mm256_maskload_epi32(index, mask),
                                     _mm256_castsi256_ps(mask), 4)};
  }
  static VecF32 set1(float x) { return {_mm256_set1_ps(x)}; }
  static VecF32 zero() { return {_mm256_setzero_ps()}; }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  void store_partial(float* p, int n) const { _mm256_maskstore_ps(p, tail_mask(n), v); }

  // Lanes [lo, hi) from p[lane], the others 0; only those elements are read (masked lanes
  // never fault, so p may point before or after the valid data).
  static VecF32 load_range(const float* p, int lo, int hi) { return {_mm256_maskload_ps(p, range_mask(lo, hi))}; }
  // Every second element: lane l = p[2l], reading p[0 .. 2W-2] only. Lanes [lo, hi) in the
  // _range form (reads only their elements, others 0).
  static VecF32 load_even(const float* p) { return load_even_range(p, 0, 8); }
  static VecF32 load_even_range(const float* p, int lo, int hi) {
    const __m256 a = _mm256_maskload_ps(p, range_mask(2 * lo, 2 * hi - 1));
    const __m256 b = _mm256_maskload_ps(p + 8, range_mask(2 * lo - 8, 2 * hi - 9));
    // [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 | b0 b2 b4 b6]
    const __m256 mixed = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    return {_mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), _MM_SHUFFLE(3, 1, 2, 0)))};
  }
  // Lanes [0, n) to p[2l]; the odd elements between them are left untouched.
  void store_even_partial(float* p, int n) const {
    const __m256i even = _mm256_setr_epi32(-1, 0, -1, 0, -1, 0, -1, 0);
    const __m256 lo = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
    const __m256 hi = _mm256_permutevar8x32_ps(v, _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7));
    _mm256_maskstore_ps(p, _mm256_and_si256(even, tail_mask(2 * n - 1)), lo);
    _mm256_maskstore_ps(p + 8, _mm256_and_si256(even, tail_mask(2 * n - 9)), hi);
  }

  friend VecF32 operator+(VecF32 a, VecF32 b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend VecF32 operator-(VecF32 a, VecF32 b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend VecF32 operator*(VecF32 a, VecF32 b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend VecF32 operator/(VecF32 a, VecF32 b) { return {_mm256_div_ps(a.v, b.v)}; }
  static VecF32 fmadd(VecF32 a, VecF32 b, VecF32 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  static VecF32 max(VecF32 a, VecF32 b) { return {_mm256_max_ps(a.v, b.v)}; }
  static VecF32 min(VecF32 a, VecF32 b) { return {_mm256_min_ps(a.v, b.v)}; }
  static VecF32 sqrt(VecF32 a) { return {_mm256_sqrt_ps(a.v)}; }
  // exp(x) = 2^n * exp(x - n*ln2), n = round(x / ln2); 2^n is applied as two factors
  // 2^(n/2) so that it overflows to inf and underflows gradually instead of wrapping the
  // exponent field.
  static VecF32 exp(VecF32 a) {
    const __m256 x = _mm256_min_ps(_mm256_set1_ps(89.f), _mm256_max_ps(_mm256_set1_ps(-110.f), a.v));  // NaN stays NaN
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256i ni = _mm256_cvtps_epi32(n), half = _mm256_srai_epi32(ni, 1), bias = _mm256_set1_epi32(127);
    const __m256 scale1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    const __m256 scale2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, half), bias), 23));
    return {_mm256_mul_ps(_mm256_mul_ps(exp_remainder(VecF32{x}, VecF32{n}).v, scale1), scale2)};
  }
  // log(x) from x = 2^e * f, f in [sqrt(1/2), sqrt(2)). Lanes outside the positive normal
  // range (0, inf, NaN, negatives, subnormals) are rare here and go to the scalar library.
  static VecF32 log(VecF32 a) {
    const __m256 normal = _mm256_and_ps(_mm256_cmp_ps(a.v, _mm256_set1_ps(1.17549435e-38f), _CMP_GE_OQ),
                                        _mm256_cmp_ps(a.v, _mm256_set1_ps(__builtin_inff()), _CMP_LT_OQ));
    const __m256i bits = _mm256_castps_si256(a.v);
    __m256 f = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                                                   _mm256_set1_epi32(0x3f800000)));
    __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127)));
    const __m256 upper = _mm256_cmp_ps(f, _mm256_set1_ps(1.41421356f), _CMP_GT_OQ);
    f = _mm256_blendv_ps(f, _mm256_mul_ps(f, _mm256_set1_ps(0.5f)), upper);
    e = _mm256_add_ps(e, _mm256_and_ps(upper, _mm256_set1_ps(1.f)));
    const VecF32 out = log_of_split(VecF32{f}, VecF32{e});
    const unsigned normal_lanes = unsigned(_mm256_movemask_ps(normal));
    return normal_lanes == 0xff ? out : log_fix_lanes(a, out, normal_lanes);
  }
  // a > b, or a is NaN: the rule by which a candidate replaces a running maximum (PyTorch's).
  static Mask gt_or_nan(VecF32 a, VecF32 b) {
    return _mm256_or_ps(_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ), _mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q));
  }
  static VecF32 select(Mask m, VecF32 a, VecF32 b) { return {_mm256_blendv_ps(b.v, a.v, m)}; }
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
