// Fused optimizer updates over a SIMD mapping V. Included inside a per-ISA namespace by
// cpu/isa/kernels.inc; do not include directly. Each element's update is independent, so
// the tail is the same arithmetic on a partial vector.

template <class V, bool kMomentum, bool kNesterov>
void sgd_run(typename V::Elem* param, const typename V::Elem* grad, typename V::Elem* buffer, size_t n,
             const SgdHyper<typename V::Elem>& h) {
  using T = typename V::Elem;
  constexpr int W = V::W;
  const V lr = V::set1(-h.lr), wd = V::set1(h.weight_decay), m = V::set1(h.momentum);
  // First step: buf = d exactly (buf * 0 + d * 1; the buffer starts zeroed).
  const V keep = V::set1(h.first_step ? T(0) : h.momentum);
  const V take = V::set1(h.first_step ? T(1) : T(1) - h.dampening);
  for (size_t i = 0; i < n; i += W) {
    const int r = n - i < size_t(W) ? int(n - i) : W;
    const V p = V::load_partial(param + i, r);
    V d = V::fmadd(p, wd, V::load_partial(grad + i, r));
    if constexpr (kMomentum) {
      const V b = V::fmadd(d, take, V::load_partial(buffer + i, r) * keep);
      b.store_partial(buffer + i, r);
      d = kNesterov ? V::fmadd(b, m, d) : b;
    }
    V::fmadd(d, lr, p).store_partial(param + i, r);
  }
}

template <class V>
void optim_sgd(typename V::Elem* param, const typename V::Elem* grad, typename V::Elem* buffer, size_t n,
               const SgdHyper<typename V::Elem>& h) {
  if (buffer == nullptr) return sgd_run<V, false, false>(param, grad, buffer, n, h);
  if (h.nesterov) return sgd_run<V, true, true>(param, grad, buffer, n, h);
  sgd_run<V, true, false>(param, grad, buffer, n, h);
}

template <class V, bool kAmsgrad>
void adam_run(typename V::Elem* param, const typename V::Elem* grad, typename V::Elem* exp_avg,
              typename V::Elem* exp_avg_sq, typename V::Elem* max_exp_avg_sq, size_t n,
              const AdamHyper<typename V::Elem>& h) {
  using T = typename V::Elem;
  constexpr int W = V::W;
  const T one = T(1);
  const V coupled_wd = V::set1(h.decoupled_weight_decay ? T(0) : h.weight_decay);
  const V param_scale = V::set1(h.decoupled_weight_decay ? one - h.lr * h.weight_decay : one);
  const V b1 = V::set1(h.beta1), b2 = V::set1(h.beta2), c1 = V::set1(h.one_minus_beta1), c2 = V::set1(h.one_minus_beta2);
  const V inv_bc2 = V::set1(h.inv_sqrt_bias_correction2), eps = V::set1(h.eps), step = V::set1(-h.step_size);
  for (size_t i = 0; i < n; i += W) {
    const int r = n - i < size_t(W) ? int(n - i) : W;
    V p = V::load_partial(param + i, r);
    const V g = V::fmadd(p, coupled_wd, V::load_partial(grad + i, r));
    p = p * param_scale;
    const V m = V::fmadd(V::load_partial(exp_avg + i, r), b1, g * c1);
    V v = V::fmadd(V::load_partial(exp_avg_sq + i, r), b2, g * g * c2);
    m.store_partial(exp_avg + i, r);
    v.store_partial(exp_avg_sq + i, r);
    if constexpr (kAmsgrad) {
      v = V::max(V::load_partial(max_exp_avg_sq + i, r), v);
      v.store_partial(max_exp_avg_sq + i, r);
    }
    const V denom = V::fmadd(V::sqrt(v), inv_bc2, eps);
    V::fmadd(m / denom, step, p).store_partial(param + i, r);
  }
}

template <class V>
void optim_adam(typename V::Elem* param, const typename V::Elem* grad, typename V::Elem* exp_avg,
                typename V::Elem* exp_avg_sq, typename V::Elem* max_exp_avg_sq, size_t n,
                const AdamHyper<typename V::Elem>& h) {
  if (max_exp_avg_sq != nullptr) return adam_run<V, true>(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, n, h);
  adam_run<V, false>(param, grad, exp_avg, exp_avg_sq, nullptr, n, h);
}

template <class V>
OptimKernels<typename V::Elem> make_optim_kernels() {
  return {optim_sgd<V>, optim_adam<V>};
}
