// Cephes' single-precision polynomials for exp and log, written once over a SIMD mapping V
// (set1, fmadd, +, -, *). The mappings do the ISA-specific parts around them: rounding,
// splitting a float into exponent and mantissa, scaling by 2^n, special values.
// (Templates on each ISA's own vector type: no code is shared between ISAs.)
#pragma once

namespace sepconv::cpu {

// exp(x) / 2^n for n = round(x / ln2): exp of the remainder r = x - n*ln2 (|r| <= ln2/2,
// taken in two parts so it is exact), by a degree-6 polynomial (about 1 ulp).
template <class V>
V exp_remainder(V x, V n) {
  V r = V::fmadd(n, V::set1(-0.693359375f), x);
  r = V::fmadd(n, V::set1(2.12194440e-4f), r);
  V p = V::set1(1.9875691500e-4f);
  p = V::fmadd(p, r, V::set1(1.3981999507e-3f));
  p = V::fmadd(p, r, V::set1(8.3334519073e-3f));
  p = V::fmadd(p, r, V::set1(4.1665795894e-2f));
  p = V::fmadd(p, r, V::set1(1.6666665459e-1f));
  p = V::fmadd(p, r, V::set1(5.0000001201e-1f));
  return V::fmadd(p, r * r, r + V::set1(1.f));
}

// log(f * 2^e) for f in [sqrt(1/2), sqrt(2)): e*ln2 (in two parts) + log(1 + m), m = f - 1,
// by a degree-9 polynomial (about 1 ulp).
template <class V>
V log_of_split(V f, V e) {
  const V m = f - V::set1(1.f), z = m * m;
  V y = V::set1(7.0376836292e-2f);
  y = V::fmadd(y, m, V::set1(-1.1514610310e-1f));
  y = V::fmadd(y, m, V::set1(1.1676998740e-1f));
  y = V::fmadd(y, m, V::set1(-1.2420140846e-1f));
  y = V::fmadd(y, m, V::set1(1.4249322787e-1f));
  y = V::fmadd(y, m, V::set1(-1.6668057665e-1f));
  y = V::fmadd(y, m, V::set1(2.0000714765e-1f));
  y = V::fmadd(y, m, V::set1(-2.4999993993e-1f));
  y = V::fmadd(y, m, V::set1(3.3333331174e-1f));
  y = y * m * z;
  y = V::fmadd(e, V::set1(-2.12194440e-4f), y);
  y = V::fmadd(z, V::set1(-0.5f), y);
  return V::fmadd(e, V::set1(0.693359375f), m + y);
}

// `computed`, with each lane whose bit in `valid` is clear replaced by the scalar library's
// log of that lane of `x` (for inputs outside the polynomial's range: 0, inf, NaN, ...).
template <class V>
V log_fix_lanes(V x, V computed, unsigned valid) {
  alignas(64) float in[V::W], out[V::W];
  x.store(in);
  computed.store(out);
  for (int l = 0; l < V::W; ++l)
    if (!((valid >> l) & 1)) out[l] = __builtin_logf(in[l]);
  return V::load(out);
}

}  // namespace sepconv::cpu
