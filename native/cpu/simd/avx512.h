// SIMD mapping, AVX-512 (F/BW/DQ/VL): 16 floats per vector. Included only by *_avx512.cc units.
#pragma once
// GCC 12's intrinsic headers initialise their _mm*_undefined_*() placeholders from
// themselves, which -Wuninitialized reports wherever getexp/getmant/reduce_* get inlined
// (fixed in GCC 13); the diagnostic state at the header's own lines is what counts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>

#include "cpu/simd/polynomials.h"

namespace sepconv::cpu::avx512 {

// Lanes [0, n) of a 16-lane vector (none for n <= 0, all for n >= 16).
inline __mmask16 lane_mask(int n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n > 0 ? n : 0)) - 1); }

// int32 lanes riding along float lanes (argmax positions in max-pooling).
struct IndexVec {
  __m512i v;
  static IndexVec set1(int32_t x) { return {_mm512_set1_epi32(x)}; }
  static IndexVec lanes(int32_t step) {  // {0, step, 2*step, ...}
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return {_mm512_mullo_epi32(iota, _mm512_set1_epi32(step))};
  }
  friend IndexVec operator+(IndexVec a, IndexVec b) { return {_mm512_add_epi32(a.v, b.v)}; }
  static IndexVec select(__mmask16 m, IndexVec a, IndexVec b) { return {_mm512_mask_blend_epi32(m, b.v, a.v)}; }
  void store(int32_t* p) const { _mm512_storeu_si512(p, v); }
  void store_partial(int32_t* p, int n) const { _mm512_mask_storeu_epi32(p, lane_mask(n), v); }
};

struct VecF32 {
  using Elem = float;
  using Mask = __mmask16;
  using Index = IndexVec;
  static constexpr int W = 16;
  __m512 v;

  static __mmask16 tail_mask(int n) { return lane_mask(n); }
  // Lanes [lo, hi) (either bound may lie outside [0, 16]).
  static __mmask16 range_mask(int lo, int hi) { return __mmask16(tail_mask(hi) & ~tail_mask(lo)); }
  static VecF32 load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static VecF32 load_partial(const float* p, int n) { return {_mm512_maskz_loadu_ps(tail_mask(n), p)}; }
  // base[index[l]] per lane; the _partial form reads index[0 .. n) and their elements only.
  static VecF32 gather(const float* base, const int32_t* index) {
    return {_mm512_i32gather_ps(_mm512_loadu_si512(index), base, 4)};
  }
  static VecF32 gather_partial(const float* base, const int32_t* index, int n) {
    const __mmask16 mask = tail_mask(n);
    return {_mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, _mm512_maskz_loadu_epi32(mask, index), base, 4)};
  }
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
  // exp(x) = 2^n * exp(x - n*ln2), n = round(x / ln2); scalef applies 2^n with overflow to
  // inf and gradual underflow.
  static VecF32 exp(VecF32 a) {
    const __m512 x = _mm512_min_ps(_mm512_set1_ps(89.f), _mm512_max_ps(_mm512_set1_ps(-110.f), a.v));  // NaN stays NaN
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    return {_mm512_scalef_ps(exp_remainder(VecF32{x}, VecF32{n}).v, n)};
  }
  // log(x) from x = 2^e * f, f in [sqrt(1/2), sqrt(2)). Lanes outside the positive normal
  // range (0, inf, NaN, negatives, subnormals) are rare here and go to the scalar library.
  static VecF32 log(VecF32 a) {
    const __mmask16 normal = _mm512_cmp_ps_mask(a.v, _mm512_set1_ps(1.17549435e-38f), _CMP_GE_OQ) &
                             _mm512_cmp_ps_mask(a.v, _mm512_set1_ps(__builtin_inff()), _CMP_LT_OQ);
    __m512 f = _mm512_getmant_ps(a.v, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
    __m512 e = _mm512_getexp_ps(a.v);
    const __mmask16 upper = _mm512_cmp_ps_mask(f, _mm512_set1_ps(1.41421356f), _CMP_GT_OQ);
    f = _mm512_mask_mul_ps(f, upper, f, _mm512_set1_ps(0.5f));
    e = _mm512_mask_add_ps(e, upper, e, _mm512_set1_ps(1.f));
    const VecF32 out = log_of_split(VecF32{f}, VecF32{e});
    return normal == 0xffff ? out : log_fix_lanes(a, out, normal);
  }
  // a > b, or a is NaN: the rule by which a candidate replaces a running maximum (PyTorch's).
  static Mask gt_or_nan(VecF32 a, VecF32 b) {
    return _mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ) | _mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q);
  }
  static VecF32 select(Mask m, VecF32 a, VecF32 b) { return {_mm512_mask_blend_ps(m, b.v, a.v)}; }
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
