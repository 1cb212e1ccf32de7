// SIMD mapping, AArch64 Advanced SIMD (NEON): 4 floats per vector, 32 vector registers.
// Included only by *_neon.cc units. NEON has no masked loads, stores or gathers: partial
// accesses go lane by lane through a small stack buffer (they occur only at row edges), so
// they never touch memory outside the lanes asked for, as the x86 masked forms guarantee.
#pragma once
#include <arm_neon.h>

#include <cstdint>

#include "cpu/simd/polynomials.h"

namespace sepconv::cpu::neon {

// All-ones in lanes [0, n) of a 4-lane vector (none for n <= 0, all for n >= 4).
inline uint32x4_t lane_mask(int n) {
  static const int32_t iota[4] = {0, 1, 2, 3};
  return vcltq_s32(vld1q_s32(iota), vdupq_n_s32(n));
}

inline int clamp_lane(int l) { return l < 0 ? 0 : (l > 4 ? 4 : l); }

// int32 lanes riding along float lanes (argmax positions in max-pooling).
struct IndexVec {
  int32x4_t v;
  static IndexVec set1(int32_t x) { return {vdupq_n_s32(x)}; }
  static IndexVec lanes(int32_t step) {  // {0, step, 2*step, ...}
    static const int32_t iota[4] = {0, 1, 2, 3};
    return {vmulq_n_s32(vld1q_s32(iota), step)};
  }
  friend IndexVec operator+(IndexVec a, IndexVec b) { return {vaddq_s32(a.v, b.v)}; }
  static IndexVec select(uint32x4_t m, IndexVec a, IndexVec b) { return {vbslq_s32(m, a.v, b.v)}; }
  void store(int32_t* p) const { vst1q_s32(p, v); }
  void store_partial(int32_t* p, int n) const {
    int32_t lanes[4];
    vst1q_s32(lanes, v);
    for (int l = 0; l < n && l < 4; ++l) p[l] = lanes[l];
  }
};

struct VecF32 {
  using Elem = float;
  using Mask = uint32x4_t;  // all-ones / all-zeros lanes
  using Index = IndexVec;
  static constexpr int W = 4;
  float32x4_t v;

  // Lanes [lo, hi) (clipped to [0, 4)) from p[lane], the others 0; reads only those elements.
  static VecF32 load_range(const float* p, int lo, int hi) {
    if (lo <= 0 && hi >= 4) return load(p);
    float lanes[4] = {0.f, 0.f, 0.f, 0.f};
    for (int l = clamp_lane(lo); l < clamp_lane(hi); ++l) lanes[l] = p[l];
    return load(lanes);
  }
  static VecF32 load(const float* p) { return {vld1q_f32(p)}; }
  static VecF32 load_partial(const float* p, int n) { return load_range(p, 0, n); }
  // base[index[l]] per lane; the _partial form reads index[0 .. n) and their elements only.
  static VecF32 gather(const float* base, const int32_t* index) {
    const float lanes[4] = {base[index[0]], base[index[1]], base[index[2]], base[index[3]]};
    return load(lanes);
  }
  static VecF32 gather_partial(const float* base, const int32_t* index, int n) {
    float lanes[4] = {0.f, 0.f, 0.f, 0.f};
    for (int l = 0; l < clamp_lane(n); ++l) lanes[l] = base[index[l]];
    return load(lanes);
  }
  static VecF32 set1(float x) { return {vdupq_n_f32(x)}; }
  static VecF32 zero() { return {vdupq_n_f32(0.f)}; }
  void store(float* p) const { vst1q_f32(p, v); }
  void store_partial(float* p, int n) const {
    if (n >= 4) return store(p);
    float lanes[4];
    store(lanes);
    for (int l = 0; l < n; ++l) p[l] = lanes[l];
  }

  // Every second element: lane l = p[2l], reading p[0 .. 2W-2] only (vld2q would read p[7]).
  static VecF32 load_even(const float* p) {
    const float32x4_t a = vld1q_f32(p), b = vld1q_f32(p + 3);  // p0..p3, p3..p6
    return {vuzp1q_f32(a, vextq_f32(b, b, 1))};                 // p0 p2 | p4 p6
  }
  // Lanes [lo, hi) of load_even (reads only their elements, others 0).
  static VecF32 load_even_range(const float* p, int lo, int hi) {
    if (lo <= 0 && hi >= 4) return load_even(p);
    float lanes[4] = {0.f, 0.f, 0.f, 0.f};
    for (int l = clamp_lane(lo); l < clamp_lane(hi); ++l) lanes[l] = p[2 * l];
    return load(lanes);
  }
  // Lanes [0, n) to p[2l]; the odd elements between them are left untouched.
  void store_even_partial(float* p, int n) const {
    float lanes[4];
    store(lanes);
    for (int l = 0; l < clamp_lane(n); ++l) p[2 * l] = lanes[l];
  }

  friend VecF32 operator+(VecF32 a, VecF32 b) { return {vaddq_f32(a.v, b.v)}; }
  friend VecF32 operator-(VecF32 a, VecF32 b) { return {vsubq_f32(a.v, b.v)}; }
  friend VecF32 operator*(VecF32 a, VecF32 b) { return {vmulq_f32(a.v, b.v)}; }
  friend VecF32 operator/(VecF32 a, VecF32 b) { return {vdivq_f32(a.v, b.v)}; }
  static VecF32 fmadd(VecF32 a, VecF32 b, VecF32 c) { return {vfmaq_f32(c.v, a.v, b.v)}; }  // a*b + c
  // c + a * lanes[L] (FMLA by element): GEMM multiplies by four A values from one load.
  template <int L>
  static VecF32 fmadd_lane(VecF32 a, VecF32 lanes, VecF32 c) {
    return {vfmaq_laneq_f32(c.v, a.v, lanes.v, L)};
  }
  // x86's max/min: the second operand when either is NaN (kernels rely on it, e.g. ReLU
  // propagates NaN as max(0, x)); NEON's FMAX/FMIN would return NaN for a NaN in either.
  static VecF32 max(VecF32 a, VecF32 b) { return {vbslq_f32(vcgtq_f32(a.v, b.v), a.v, b.v)}; }
  static VecF32 min(VecF32 a, VecF32 b) { return {vbslq_f32(vcltq_f32(a.v, b.v), a.v, b.v)}; }
  static VecF32 sqrt(VecF32 a) { return {vsqrtq_f32(a.v)}; }
  // exp(x) = 2^n * exp(x - n*ln2), n = round(x / ln2); 2^n is applied as two factors
  // 2^(n/2) so that it overflows to inf and underflows gradually instead of wrapping the
  // exponent field.
  static VecF32 exp(VecF32 a) {
    const VecF32 x = min(set1(89.f), max(set1(-110.f), a));  // NaN stays NaN
    const float32x4_t n = vrndnq_f32(vmulq_n_f32(x.v, 1.44269504088896341f));
    const int32x4_t ni = vcvtq_s32_f32(n), half = vshrq_n_s32(ni, 1), bias = vdupq_n_s32(127);
    const float32x4_t scale1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(half, bias), 23));
    const float32x4_t scale2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vsubq_s32(ni, half), bias), 23));
    return {vmulq_f32(vmulq_f32(exp_remainder(x, VecF32{n}).v, scale1), scale2)};
  }
  // log(x) from x = 2^e * f, f in [sqrt(1/2), sqrt(2)). Lanes outside the positive normal
  // range (0, inf, NaN, negatives, subnormals) are rare here and go to the scalar library.
  static VecF32 log(VecF32 a) {
    const uint32x4_t normal = vandq_u32(vcgeq_f32(a.v, vdupq_n_f32(1.17549435e-38f)),
                                        vcltq_f32(a.v, vdupq_n_f32(__builtin_inff())));
    const uint32x4_t bits = vreinterpretq_u32_f32(a.v);
    float32x4_t f = vreinterpretq_f32_u32(vorrq_u32(vandq_u32(bits, vdupq_n_u32(0x007fffff)), vdupq_n_u32(0x3f800000)));
    float32x4_t e = vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(vshrq_n_u32(bits, 23)), vdupq_n_s32(127)));
    const uint32x4_t upper = vcgtq_f32(f, vdupq_n_f32(1.41421356f));
    f = vbslq_f32(upper, vmulq_n_f32(f, 0.5f), f);
    e = vaddq_f32(e, vreinterpretq_f32_u32(vandq_u32(upper, vreinterpretq_u32_f32(vdupq_n_f32(1.f)))));
    const VecF32 out = log_of_split(VecF32{f}, VecF32{e});
    static const uint32_t lane_bits[4] = {1, 2, 4, 8};
    const unsigned normal_lanes = vaddvq_u32(vandq_u32(normal, vld1q_u32(lane_bits)));
    return normal_lanes == 0xf ? out : log_fix_lanes(a, out, normal_lanes);
  }
  // a > b, or a is NaN: the rule by which a candidate replaces a running maximum (PyTorch's).
  static Mask gt_or_nan(VecF32 a, VecF32 b) { return vorrq_u32(vcgtq_f32(a.v, b.v), vmvnq_u32(vceqq_f32(a.v, a.v))); }
  static VecF32 select(Mask m, VecF32 a, VecF32 b) { return {vbslq_f32(m, a.v, b.v)}; }
  // a where cond > 0, else 0 (ReLU's gradient mask).
  static VecF32 select_positive(VecF32 cond, VecF32 a) {
    return {vreinterpretq_f32_u32(vandq_u32(vcgtq_f32(cond.v, vdupq_n_f32(0.f)), vreinterpretq_u32_f32(a.v)))};
  }
  float reduce_add() const { return vaddvq_f32(v); }
  float reduce_max() const { return vmaxvq_f32(v); }

  // Transposes a 4×4 block held as 4 row vectors (rows[i] becomes column i).
  static void transpose(VecF32 (&rows)[4]) {
    const float32x4_t t0 = vtrn1q_f32(rows[0].v, rows[1].v), t1 = vtrn2q_f32(rows[0].v, rows[1].v);
    const float32x4_t t2 = vtrn1q_f32(rows[2].v, rows[3].v), t3 = vtrn2q_f32(rows[2].v, rows[3].v);
    auto pairs = [](float32x4_t x) { return vreinterpretq_f64_f32(x); };
    rows[0].v = vreinterpretq_f32_f64(vtrn1q_f64(pairs(t0), pairs(t2)));
    rows[1].v = vreinterpretq_f32_f64(vtrn1q_f64(pairs(t1), pairs(t3)));
    rows[2].v = vreinterpretq_f32_f64(vtrn2q_f64(pairs(t0), pairs(t2)));
    rows[3].v = vreinterpretq_f32_f64(vtrn2q_f64(pairs(t1), pairs(t3)));
  }
};

}  // namespace sepconv::cpu::neon
