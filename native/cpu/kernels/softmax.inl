// Softmax-family kernels over a SIMD mapping V. Included inside a per-ISA namespace by
// cpu/isa/kernels.inc; do not include directly.

// Builtins rather than std::log: no inline library code gets compiled with this unit's flags.
inline float softmax_scalar_log(float x) { return __builtin_logf(x); }
inline double softmax_scalar_log(double x) { return __builtin_log(x); }

// Up to V::W positions starting at `s` (r of them valid) in the columns layout.
template <class V>
void lse_column_chunk(const typename V::Elem* x, size_t classes, size_t stride, int r, typename V::Elem* lse) {
  V m = V::load_partial(x, r);
  for (size_t c = 1; c < classes; ++c) m = V::max(m, V::load_partial(x + c * stride, r));
  V sum = V::zero();
  for (size_t c = 0; c < classes; ++c) sum = sum + V::exp(V::load_partial(x + c * stride, r) - m);
  // Masked-off lanes hold exp(0 - 0) sums of 1 per class: finite, and not stored.
  (m + V::log(sum)).store_partial(lse, r);
}

template <class V>
void softmax_lse_columns(const typename V::Elem* x, size_t classes, size_t stride, size_t n, typename V::Elem* lse) {
  constexpr int W = V::W;
  for (size_t s = 0; s < n; s += W)
    lse_column_chunk<V>(x + s, classes, stride, n - s < size_t(W) ? int(n - s) : W, lse + s);
}

// The last, partial vector of a row padded with -inf (so it adds nothing to max or sum exp).
template <class V>
V load_tail_neg_inf(const typename V::Elem* x, int r) {
  typename V::Elem lanes[V::W];
  for (int l = 0; l < V::W; ++l) lanes[l] = l < r ? x[l] : typename V::Elem(-INFINITY);
  return V::load(lanes);
}

template <class V>
typename V::Elem softmax_lse_row(const typename V::Elem* x, size_t classes) {
  constexpr int W = V::W;
  const size_t full = classes / W * W;
  const int r = int(classes - full);
  V m = V::set1(x[0]);
  for (size_t c = 0; c < full; c += W) m = V::max(m, V::load(x + c));
  if (r > 0) m = V::max(m, load_tail_neg_inf<V>(x + full, r));
  const typename V::Elem max = m.reduce_max();
  const V vmax = V::set1(max);
  V sum = V::zero();
  for (size_t c = 0; c < full; c += W) sum = sum + V::exp(V::load(x + c) - vmax);
  if (r > 0) sum = sum + V::exp(load_tail_neg_inf<V>(x + full, r) - vmax);
  return max + softmax_scalar_log(sum.reduce_add());
}

template <class V>
void softmax_normalize_columns(const typename V::Elem* x, size_t classes, size_t stride, size_t n,
                               const typename V::Elem* shift, const typename V::Elem* scale, bool log,
                               typename V::Elem* out) {
  constexpr int W = V::W;
  for (size_t s = 0; s < n; s += W) {
    const int r = n - s < size_t(W) ? int(n - s) : W;
    const V sh = V::load_partial(shift + s, r);
    const V sc = log ? V::zero() : scale ? V::load_partial(scale + s, r) : V::set1(typename V::Elem(1));
    for (size_t c = 0; c < classes; ++c) {
      const size_t at = c * stride + s;
      const V d = V::load_partial(x + at, r) - sh;
      (log ? d : V::exp(d) * sc).store_partial(out + at, r);
    }
  }
}

template <class V>
void softmax_normalize_row(const typename V::Elem* x, size_t classes, typename V::Elem shift, typename V::Elem scale,
                           bool log, typename V::Elem* out) {
  constexpr int W = V::W;
  const V sh = V::set1(shift), sc = V::set1(scale);
  for (size_t c = 0; c < classes; c += W) {
    const int r = classes - c < size_t(W) ? int(classes - c) : W;
    const V d = V::load_partial(x + c, r) - sh;
    (log ? d : V::exp(d) * sc).store_partial(out + c, r);
  }
}

template <class V>
void softmax_backward_columns(const typename V::Elem* y, const typename V::Elem* dy, size_t classes, size_t stride,
                              size_t n, bool log, typename V::Elem* dx) {
  constexpr int W = V::W;
  for (size_t s = 0; s < n; s += W) {
    const int r = n - s < size_t(W) ? int(n - s) : W;
    V total = V::zero();
    for (size_t c = 0; c < classes; ++c) {
      const V g = V::load_partial(dy + c * stride + s, r);
      total = log ? total + g : V::fmadd(g, V::load_partial(y + c * stride + s, r), total);
    }
    for (size_t c = 0; c < classes; ++c) {
      const size_t at = c * stride + s;
      const V g = V::load_partial(dy + at, r), out = V::load_partial(y + at, r);
      (log ? g - V::exp(out) * total : out * (g - total)).store_partial(dx + at, r);
    }
  }
}

template <class V>
void softmax_backward_row(const typename V::Elem* y, const typename V::Elem* dy, size_t classes, bool log,
                          typename V::Elem* dx) {
  constexpr int W = V::W;
  V acc = V::zero();
  for (size_t c = 0; c < classes; c += W) {
    const int r = classes - c < size_t(W) ? int(classes - c) : W;
    const V g = V::load_partial(dy + c, r);
    acc = log ? acc + g : V::fmadd(g, V::load_partial(y + c, r), acc);
  }
  const V total = V::set1(acc.reduce_add());
  for (size_t c = 0; c < classes; c += W) {
    const int r = classes - c < size_t(W) ? int(classes - c) : W;
    const V g = V::load_partial(dy + c, r), out = V::load_partial(y + c, r);
    (log ? g - V::exp(out) * total : out * (g - total)).store_partial(dx + c, r);
  }
}

template <class V>
SoftmaxKernels<typename V::Elem> make_softmax_kernels() {
  return {softmax_lse_columns<V>,       softmax_lse_row<V>,         softmax_normalize_columns<V>,
          softmax_normalize_row<V>,     softmax_backward_columns<V>, softmax_backward_row<V>};
}
