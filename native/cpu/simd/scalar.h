// SIMD mapping, scalar path: one element per "vector". Serves as the portable fallback for
// float32 and as the float64 path that gradient checks run on.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace sepconv::cpu::scalar {

// int32 lanes riding along float lanes (argmax positions in max-pooling).
struct IndexVec {
  int32_t v;
  static IndexVec set1(int32_t x) { return {x}; }
  static IndexVec lanes(int32_t) { return {0}; }  // {0, step, 2*step, ...}
  friend IndexVec operator+(IndexVec a, IndexVec b) { return {a.v + b.v}; }
  static IndexVec select(bool m, IndexVec a, IndexVec b) { return {m ? a.v : b.v}; }
  void store(int32_t* p) const { *p = v; }
  void store_partial(int32_t* p, int n) const {
    if (n > 0) *p = v;
  }
};

template <class T>
struct Vec {
  using Elem = T;
  using Mask = bool;
  using Index = IndexVec;
  static constexpr int W = 1;
  T v;

  static Vec load(const T* p) { return {*p}; }
  static Vec load_partial(const T* p, int n) { return {n > 0 ? *p : T(0)}; }
  // base[index[l]] per lane; the _partial form reads index[0 .. n) and their elements only.
  static Vec gather(const T* base, const int32_t* index) { return {base[*index]}; }
  static Vec gather_partial(const T* base, const int32_t* index, int n) { return {n > 0 ? base[*index] : T(0)}; }
  static Vec set1(T x) { return {x}; }
  static Vec zero() { return {T(0)}; }
  void store(T* p) const { *p = v; }
  void store_partial(T* p, int n) const {
    if (n > 0) *p = v;
  }
  // The strided and masked forms of the SIMD mappings, for one lane.
  static Vec load_range(const T* p, int lo, int hi) { return {lo <= 0 && hi > 0 ? *p : T(0)}; }
  static Vec load_even(const T* p) { return {*p}; }
  static Vec load_even_range(const T* p, int lo, int hi) { return load_range(p, lo, hi); }
  void store_even_partial(T* p, int n) const { store_partial(p, n); }

  friend Vec operator+(Vec a, Vec b) { return {a.v + b.v}; }
  friend Vec operator-(Vec a, Vec b) { return {a.v - b.v}; }
  friend Vec operator*(Vec a, Vec b) { return {a.v * b.v}; }
  friend Vec operator/(Vec a, Vec b) { return {a.v / b.v}; }
  static Vec fmadd(Vec a, Vec b, Vec c) { return {a.v * b.v + c.v}; }  // a*b + c
  static Vec max(Vec a, Vec b) { return {a.v > b.v ? a.v : b.v}; }
  static Vec min(Vec a, Vec b) { return {a.v < b.v ? a.v : b.v}; }
  static Vec sqrt(Vec a) { return {std::sqrt(a.v)}; }
  static Vec exp(Vec a) { return {std::exp(a.v)}; }
  static Vec log(Vec a) { return {std::log(a.v)}; }
  // a > b, or a is NaN: the rule by which a candidate replaces a running maximum (PyTorch's).
  static Mask gt_or_nan(Vec a, Vec b) { return a.v > b.v || a.v != a.v; }
  static Vec select(Mask m, Vec a, Vec b) { return {m ? a.v : b.v}; }
  // a where cond > 0, else 0 (ReLU's gradient mask).
  static Vec select_positive(Vec cond, Vec a) { return {cond.v > T(0) ? a.v : T(0)}; }
  T reduce_add() const { return v; }
  T reduce_max() const { return v; }
  // A 1×1 block is its own transpose.
  static void transpose(Vec (&)[1]) {}
};

using VecF32 = Vec<float>;
using VecF64 = Vec<double>;

}  // namespace sepconv::cpu::scalar
