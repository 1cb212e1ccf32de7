// Constant and random fills, dtype conversion (CPU).
#include <cmath>
#include <cstdint>

#include "cpu/ops/op_helpers.h"
#include "core/random.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

template <class F>
void dispatch_any(DType t, F&& f) {
  switch (t) {
    case DType::F32: return f(float{});
    case DType::F64: return f(double{});
    case DType::I32: return f(int32_t{});
    case DType::U8: return f(uint8_t{});
  }
}

constexpr size_t kFillGrain = 1 << 14;

}  // namespace

void fill(const OpCall& c) {
  const TensorArg& out = c.out(0);
  const double value = c.params_as<FillParams>().value;
  dispatch_any(out.dtype, [&](auto zero) {
    using T = decltype(zero);
    T* p = out.ptr<T>();
    const T v = T(value);
    c.ctx.pool.parallel_for(size_t(out.numel()), kFillGrain, [&](size_t s, size_t e) {
      for (size_t i = s; i < e; ++i) p[i] = v;
    });
  });
}

void copy(const OpCall& c) {
  const TensorArg &x = c.in(0), &out = c.out(0);
  check_numel(c, "out", out, x.numel());
  dispatch_any(x.dtype, [&](auto zx) {
    using S = decltype(zx);
    dispatch_any(out.dtype, [&](auto zo) {
      using D = decltype(zo);
      const S* src = x.ptr<S>();
      D* dst = out.ptr<D>();
      c.ctx.pool.parallel_for(size_t(x.numel()), kFillGrain, [&](size_t s, size_t e) {
        for (size_t i = s; i < e; ++i) dst[i] = static_cast<D>(src[i]);
      });
    });
  });
}

void fill_randn(const OpCall& c) {
  const TensorArg& out = c.out(0);
  const FillRandnParams q = c.params_as<FillRandnParams>();
  const double mean = q.mean, stddev = q.std;
  const uint64_t seed = uint64_t(q.seed), counter = uint64_t(q.counter);
  float_dispatch(c, "out", out.dtype, [&](auto zero) {
    using T = decltype(zero);
    T* p = out.ptr<T>();
    c.ctx.pool.parallel_for(size_t(out.numel()), kFillGrain, [&](size_t s, size_t e) {
      for (size_t i = s; i < e; ++i) p[i] = T(mean + stddev * normal_from_bits(random_bits(seed, counter + i)));
    });
  });
}

void fill_uniform(const OpCall& c) {
  const TensorArg& out = c.out(0);
  const FillUniformParams q = c.params_as<FillUniformParams>();
  const double low = q.low, high = q.high;
  const uint64_t seed = uint64_t(q.seed), counter = uint64_t(q.counter);
  float_dispatch(c, "out", out.dtype, [&](auto zero) {
    using T = decltype(zero);
    T* p = out.ptr<T>();
    c.ctx.pool.parallel_for(size_t(out.numel()), kFillGrain, [&](size_t s, size_t e) {
      for (size_t i = s; i < e; ++i) p[i] = T(low + (high - low) * to_unit(random_bits(seed, counter + i)));
    });
  });
}

// Dropout masks: the same counter-based stream as rand(), so a mask depends only on the seed
// and the draw position, whatever the thread count. An element is kept when its 53 random
// bits fall below keep_prob * 2^53, and the value is picked from a two-entry table: with p
// near 0.5 a branch would mispredict on every other element (4x slower).
void fill_bernoulli(const OpCall& c) {
  const TensorArg& out = c.out(0);
  const FillBernoulliParams q = c.params_as<FillBernoulliParams>();
  const double keep_prob = q.keep_prob, scale = q.scale;
  const uint64_t seed = uint64_t(q.seed), counter = uint64_t(q.counter);
  SEPCONV_CHECK(keep_prob >= 0 && keep_prob <= 1, "fill_bernoulli: keep_prob must be in [0, 1], got ", keep_prob);
  const uint64_t threshold = keep_threshold(keep_prob);
  float_dispatch(c, "out", out.dtype, [&](auto zero) {
    using T = decltype(zero);
    T* p = out.ptr<T>();
    const T values[2] = {T(0), T(scale)};
    c.ctx.pool.parallel_for(size_t(out.numel()), kFillGrain, [&](size_t s, size_t e) {
      for (size_t i = s; i < e; ++i) p[i] = values[(random_bits(seed, counter + i) >> 11) < threshold];
    });
  });
}

}  // namespace sepconv::cpu::ops
