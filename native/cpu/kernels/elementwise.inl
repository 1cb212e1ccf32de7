// Elementwise kernels over a SIMD mapping V. Included inside a per-ISA namespace by
// cpu/isa/kernels.inc; do not include directly.

template <class V, BinaryKind K>
inline V ew_apply(V a, V b) {
  if constexpr (K == BinaryKind::add) return a + b;
  if constexpr (K == BinaryKind::sub) return a - b;
  if constexpr (K == BinaryKind::mul) return a * b;
  if constexpr (K == BinaryKind::div) return a / b;
}

template <class V, BinaryKind K, int AStep, int BStep>
void ew_binary_run(const typename V::Elem* a, const typename V::Elem* b, typename V::Elem* out, size_t n) {
  constexpr int W = V::W;
  const V a0 = V::set1(a[0]), b0 = V::set1(b[0]);
  size_t i = 0;
  for (; i + W <= n; i += W) {
    V va = AStep ? V::load(a + i) : a0;
    V vb = BStep ? V::load(b + i) : b0;
    ew_apply<V, K>(va, vb).store(out + i);
  }
  if (i < n) {
    const int r = static_cast<int>(n - i);
    V va = AStep ? V::load_partial(a + i, r) : a0;
    V vb = BStep ? V::load_partial(b + i, r) : b0;
    ew_apply<V, K>(va, vb).store_partial(out + i, r);
  }
}

template <class V, BinaryKind K>
void ew_binary_kind(const typename V::Elem* a, int a_step, const typename V::Elem* b, int b_step,
                    typename V::Elem* out, size_t n) {
  if (a_step && b_step) return ew_binary_run<V, K, 1, 1>(a, b, out, n);
  if (a_step) return ew_binary_run<V, K, 1, 0>(a, b, out, n);
  if (b_step) return ew_binary_run<V, K, 0, 1>(a, b, out, n);
  return ew_binary_run<V, K, 0, 0>(a, b, out, n);
}

template <class V>
void ew_binary(BinaryKind kind, const typename V::Elem* a, int a_step, const typename V::Elem* b, int b_step,
               typename V::Elem* out, size_t n) {
  switch (kind) {
    case BinaryKind::add: return ew_binary_kind<V, BinaryKind::add>(a, a_step, b, b_step, out, n);
    case BinaryKind::sub: return ew_binary_kind<V, BinaryKind::sub>(a, a_step, b, b_step, out, n);
    case BinaryKind::mul: return ew_binary_kind<V, BinaryKind::mul>(a, a_step, b, b_step, out, n);
    case BinaryKind::div: return ew_binary_kind<V, BinaryKind::div>(a, a_step, b, b_step, out, n);
  }
}

template <class V>
void ew_affine(const typename V::Elem* x, typename V::Elem alpha, typename V::Elem beta, typename V::Elem* out,
               size_t n) {
  constexpr int W = V::W;
  const V va = V::set1(alpha), vb = V::set1(beta);
  size_t i = 0;
  for (; i + W <= n; i += W) V::fmadd(V::load(x + i), va, vb).store(out + i);
  if (i < n) V::fmadd(V::load_partial(x + i, int(n - i)), va, vb).store_partial(out + i, int(n - i));
}

template <class V>
void ew_axpy(const typename V::Elem* x, typename V::Elem alpha, typename V::Elem* y, size_t n) {
  constexpr int W = V::W;
  const V va = V::set1(alpha);
  size_t i = 0;
  for (; i + W <= n; i += W) V::fmadd(V::load(x + i), va, V::load(y + i)).store(y + i);
  if (i < n) {
    const int r = int(n - i);
    V::fmadd(V::load_partial(x + i, r), va, V::load_partial(y + i, r)).store_partial(y + i, r);
  }
}

template <class V>
double ew_sum(const typename V::Elem* x, size_t n) {
  // Four independent accumulators hide FMA latency; blocks of 4096 are summed in double so
  // long reductions keep float64-like accuracy.
  constexpr int W = V::W;
  constexpr size_t kBlock = 4096;
  double total = 0;
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t end = start + kBlock < n ? start + kBlock : n;
    V s0 = V::zero(), s1 = V::zero(), s2 = V::zero(), s3 = V::zero();
    size_t i = start;
    for (; i + 4 * W <= end; i += 4 * W) {
      s0 = s0 + V::load(x + i);
      s1 = s1 + V::load(x + i + W);
      s2 = s2 + V::load(x + i + 2 * W);
      s3 = s3 + V::load(x + i + 3 * W);
    }
    for (; i + W <= end; i += W) s0 = s0 + V::load(x + i);
    if (i < end) s1 = s1 + V::load_partial(x + i, int(end - i));
    total += static_cast<double>(((s0 + s1) + (s2 + s3)).reduce_add());
  }
  return total;
}

template <class V>
void ew_relu_forward(const typename V::Elem* x, typename V::Elem* out, size_t n) {
  constexpr int W = V::W;
  const V z = V::zero();
  size_t i = 0;
  // max(0, x) with x second: x86 max returns its second operand when either is NaN, so a
  // NaN activation propagates (as in PyTorch) instead of being clamped to 0.
  for (; i + W <= n; i += W) V::max(z, V::load(x + i)).store(out + i);
  if (i < n) V::max(z, V::load_partial(x + i, int(n - i))).store_partial(out + i, int(n - i));
}

template <class V>
void ew_relu_backward(const typename V::Elem* x, const typename V::Elem* dy, typename V::Elem* dx, size_t n) {
  constexpr int W = V::W;
  size_t i = 0;
  for (; i + W <= n; i += W) V::select_positive(V::load(x + i), V::load(dy + i)).store(dx + i);
  if (i < n) {
    const int r = int(n - i);
    V::select_positive(V::load_partial(x + i, r), V::load_partial(dy + i, r)).store_partial(dx + i, r);
  }
}

template <class V>
ElementwiseKernels<typename V::Elem> make_elementwise_kernels() {
  return {ew_binary<V>, ew_affine<V>, ew_axpy<V>, ew_sum<V>, ew_relu_forward<V>, ew_relu_backward<V>};
}
