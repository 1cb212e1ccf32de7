// Batch-normalisation kernels over a SIMD mapping V. Included inside a per-ISA namespace by
// cpu/isa/kernels.inc; do not include directly.

// Sums are accumulated in V lanes over blocks of this many elements, then in double, so
// float32 reductions over a whole channel (N*H*W elements) keep float64-like accuracy.
constexpr size_t kNormBlock = 2048;

template <class V>
void norm_centered_moments(const typename V::Elem* x, size_t n, typename V::Elem shift, double* sum, double* sum_sq) {
  using T = typename V::Elem;
  constexpr int W = V::W;
  const V s = V::set1(shift);
  double total = 0, total_sq = 0;
  for (size_t start = 0; start < n; start += kNormBlock) {
    const size_t end = start + kNormBlock < n ? start + kNormBlock : n;
    V a0 = V::zero(), a1 = V::zero(), q0 = V::zero(), q1 = V::zero();
    size_t i = start;
    for (; i + 2 * W <= end; i += 2 * W) {
      const V d0 = V::load(x + i) - s, d1 = V::load(x + i + W) - s;
      a0 = a0 + d0;
      a1 = a1 + d1;
      q0 = V::fmadd(d0, d0, q0);
      q1 = V::fmadd(d1, d1, q1);
    }
    for (; i + W <= end; i += W) {
      const V d = V::load(x + i) - s;
      a0 = a0 + d;
      q0 = V::fmadd(d, d, q0);
    }
    for (; i < end; ++i) {
      const T d = x[i] - shift;
      total += double(d);
      total_sq += double(d) * double(d);
    }
    total += double((a0 + a1).reduce_add());
    total_sq += double((q0 + q1).reduce_add());
  }
  *sum = total;
  *sum_sq = total_sq;
}

template <class V>
void norm_grad_moments(const typename V::Elem* x, const typename V::Elem* dy, size_t n, typename V::Elem shift,
                       double* sum_dy, double* sum_dy_x) {
  constexpr int W = V::W;
  const V s = V::set1(shift);
  double total = 0, total_x = 0;
  for (size_t start = 0; start < n; start += kNormBlock) {
    const size_t end = start + kNormBlock < n ? start + kNormBlock : n;
    V g0 = V::zero(), g1 = V::zero(), p0 = V::zero(), p1 = V::zero();
    size_t i = start;
    for (; i + 2 * W <= end; i += 2 * W) {
      const V d0 = V::load(dy + i), d1 = V::load(dy + i + W);
      g0 = g0 + d0;
      g1 = g1 + d1;
      p0 = V::fmadd(d0, V::load(x + i) - s, p0);
      p1 = V::fmadd(d1, V::load(x + i + W) - s, p1);
    }
    for (; i + W <= end; i += W) {
      const V d = V::load(dy + i);
      g0 = g0 + d;
      p0 = V::fmadd(d, V::load(x + i) - s, p0);
    }
    for (; i < end; ++i) {
      total += double(dy[i]);
      total_x += double(dy[i]) * double(x[i] - shift);
    }
    total += double((g0 + g1).reduce_add());
    total_x += double((p0 + p1).reduce_add());
  }
  *sum_dy = total;
  *sum_dy_x = total_x;
}

template <class V>
void norm_normalize(const typename V::Elem* x, typename V::Elem shift, typename V::Elem scale, typename V::Elem offset,
                    typename V::Elem* out, size_t n) {
  constexpr int W = V::W;
  const V vm = V::set1(shift), vs = V::set1(scale), vb = V::set1(offset);
  size_t i = 0;
  for (; i + W <= n; i += W) V::fmadd(V::load(x + i) - vm, vs, vb).store(out + i);
  if (i < n) V::fmadd(V::load_partial(x + i, int(n - i)) - vm, vs, vb).store_partial(out + i, int(n - i));
}

template <class V>
void norm_combine(const typename V::Elem* dy, typename V::Elem a, const typename V::Elem* x, typename V::Elem shift,
                  typename V::Elem b, typename V::Elem c, typename V::Elem* out, size_t n) {
  constexpr int W = V::W;
  const V va = V::set1(a), vs = V::set1(shift), vb = V::set1(b), vc = V::set1(c);
  size_t i = 0;
  for (; i + W <= n; i += W) V::fmadd(V::load(dy + i), va, V::fmadd(V::load(x + i) - vs, vb, vc)).store(out + i);
  if (i < n) {
    const int r = int(n - i);
    const V centred = V::load_partial(x + i, r) - vs;
    V::fmadd(V::load_partial(dy + i, r), va, V::fmadd(centred, vb, vc)).store_partial(out + i, r);
  }
}

template <class V>
NormKernels<typename V::Elem> make_norm_kernels() {
  return {norm_centered_moments<V>, norm_grad_moments<V>, norm_normalize<V>, norm_combine<V>};
}
