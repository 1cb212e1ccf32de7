// Resampling kernels over a SIMD mapping V (see resample.h). Included inside a per-ISA
// namespace by cpu/isa/kernels.inc; do not include directly.

template <class V>
void rs_sum_rows(const typename V::Elem* x, size_t row_stride, int64_t rows, typename V::Elem* acc, size_t n) {
  constexpr int W = V::W;
  size_t i = 0;
  // Four columns of vectors at a time keep four independent add chains in flight.
  for (; i + 4 * W <= n; i += 4 * W) {
    V s0 = V::zero(), s1 = V::zero(), s2 = V::zero(), s3 = V::zero();
    for (int64_t r = 0; r < rows; ++r) {
      const typename V::Elem* row = x + size_t(r) * row_stride + i;
      s0 = s0 + V::load(row);
      s1 = s1 + V::load(row + W);
      s2 = s2 + V::load(row + 2 * W);
      s3 = s3 + V::load(row + 3 * W);
    }
    s0.store(acc + i);
    s1.store(acc + i + W);
    s2.store(acc + i + 2 * W);
    s3.store(acc + i + 3 * W);
  }
  for (; i < n; i += W) {
    const int r = n - i < size_t(W) ? int(n - i) : W;
    V s = V::zero();
    for (int64_t k = 0; k < rows; ++k) s = s + V::load_partial(x + size_t(k) * row_stride + i, r);
    s.store_partial(acc + i, r);
  }
}

template <class V>
void rs_blend_rows(const typename V::Elem* r0, const typename V::Elem* r1, typename V::Elem w0, typename V::Elem w1,
                   typename V::Elem* acc, size_t n) {
  constexpr int W = V::W;
  const V a = V::set1(w0), b = V::set1(w1);
  size_t i = 0;
  for (; i + W <= n; i += W) V::fmadd(V::load(r1 + i), b, V::load(r0 + i) * a).store(acc + i);
  if (i < n) {
    const int r = int(n - i);
    V::fmadd(V::load_partial(r1 + i, r), b, V::load_partial(r0 + i, r) * a).store_partial(acc + i, r);
  }
}

template <class T>
void rs_window_mean(const T* src, const int64_t* start, const int64_t* end, const T* divisor, T* out, size_t n) {
  for (size_t o = 0; o < n; ++o) {
    T sum = T(0);
    for (int64_t i = start[o]; i < end[o]; ++i) sum += src[i];
    out[o] = sum / divisor[o];
  }
}

template <class T>
void rs_window_mean_backward(const T* dy, const int64_t* start, const int64_t* end, const T* divisor, T* grad,
                             size_t n) {
  for (size_t o = 0; o < n; ++o) {
    const T g = dy[o] / divisor[o];
    for (int64_t i = start[o]; i < end[o]; ++i) grad[i] += g;
  }
}

template <class V>
void rs_lerp_gather(const typename V::Elem* src, const int32_t* i0, const int32_t* i1, const typename V::Elem* w0,
                    const typename V::Elem* w1, typename V::Elem* out, size_t n) {
  constexpr int W = V::W;
  size_t o = 0;
  for (; o + W <= n; o += W)
    V::fmadd(V::gather(src, i1 + o), V::load(w1 + o), V::gather(src, i0 + o) * V::load(w0 + o)).store(out + o);
  if (o < n) {
    const int r = int(n - o);
    V::fmadd(V::gather_partial(src, i1 + o, r), V::load_partial(w1 + o, r),
             V::gather_partial(src, i0 + o, r) * V::load_partial(w0 + o, r))
        .store_partial(out + o, r);
  }
}

template <class T>
void rs_lerp_scatter(const T* dy, const int32_t* i0, const int32_t* i1, const T* w0, const T* w1, T* grad, size_t n) {
  for (size_t o = 0; o < n; ++o) {
    grad[i0[o]] += w0[o] * dy[o];
    grad[i1[o]] += w1[o] * dy[o];
  }
}

template <class V>
void rs_gather(const typename V::Elem* src, const int32_t* index, typename V::Elem* out, size_t n) {
  constexpr int W = V::W;
  size_t o = 0;
  for (; o + W <= n; o += W) V::gather(src, index + o).store(out + o);
  if (o < n) V::gather_partial(src, index + o, int(n - o)).store_partial(out + o, int(n - o));
}

template <class T>
void rs_scatter_add(const T* dy, const int32_t* index, T* grad, size_t n) {
  for (size_t o = 0; o < n; ++o) grad[index[o]] += dy[o];
}

template <class V>
ResampleKernels<typename V::Elem> make_resample_kernels() {
  using T = typename V::Elem;
  return {rs_sum_rows<V>,       rs_blend_rows<V>,      rs_window_mean<T>, rs_window_mean_backward<T>,
          rs_lerp_gather<V>,    rs_lerp_scatter<T>,    rs_gather<V>,      rs_scatter_add<T>};
}
