// Depthwise convolution kernels over a SIMD mapping V. Included inside a per-ISA namespace
// by cpu/isa/kernels.inc; do not include directly.
//
// Everything is built from one primitive, a band of output rows y < band, each computed as
//   out[x * out_col_step] = init + sum_{r < rows, t < taps} w[r][t] * src_r[x * col_step + tap_off + t * tap_step]
// with source columns outside [0, src_len) reading as zero. Forward runs one band per run of
// output rows that see the same kernel rows. The input gradient is a transposed correlation:
// split by the stride's phase (dx columns ≡ p mod stride), each phase is an ordinary stride-1
// correlation of dy with the taps of that phase, written to every stride-th column. The
// weight gradient walks forward's bands, accumulating dy * src per tap instead of writing.
//
// Columns go in chunks of V::W. Interior chunks (every tap in bounds) use plain loads; only
// the chunks at the left and right borders use masked loads, so padding costs no copies and
// no branches in the interior. Bands of 1-3 rows x 1-3 taps (3x3, 1x3, 3x1, the stride-2
// phases of 3x3) are compiled with their weights in registers; other sizes use runtime loops.

inline int dw_floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int dw_ceil_div(int a, int b) { return -dw_floor_div(-a, b); }
inline int dw_clamp(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }
inline int dw_gcd(int a, int b) { return b == 0 ? a : dw_gcd(b, a % b); }

// The shape of a band (pointers are passed separately: forward and the input gradient write
// `out`, the weight gradient reads dy there and writes sums instead of reading weights).
struct DwBand {
  ptrdiff_t src_row_step;   // between the source rows of one output row (negative for dx)
  ptrdiff_t src_band_step;  // between the first source rows of consecutive output rows
  int rows;                 // source rows per output row
  int src_len;              // valid columns of a source row
  int col_step;             // source columns per output column (the stride)
  int tap_off, tap_step, taps;
  ptrdiff_t w_row_step, w_tap_step;  // weight (or weight-gradient sum) of source row r, tap t
  ptrdiff_t out_band_step;
  int out_len, out_col_step;
  int band;  // output rows

  int tap(int t) const { return tap_off + t * tap_step; }
  // Output columns [lo, hi) whose every tap lies inside the source row.
  int interior_lo() const { return taps == 0 ? 0 : dw_clamp(dw_ceil_div(-std::min(tap(0), tap(taps - 1)), col_step), 0, out_len); }
  int interior_hi() const {
    if (taps == 0) return out_len;
    return dw_clamp(dw_floor_div(src_len - 1 - std::max(tap(0), tap(taps - 1)), col_step) + 1, 0, out_len);
  }
};

template <bool E>
struct DwEdge {
  static constexpr bool value = E;
};

// Calls chunk(x0, n, DwEdge<masked>) for the columns [0, out_len) in steps of W; chunks that
// are not inside [lo, hi) need masked loads.
template <int W, class F>
inline void dw_for_each_chunk(int out_len, int lo, int hi, F&& chunk) {
  int x0 = 0;
  for (; x0 < out_len && (x0 < lo || x0 + W > hi); x0 += W) chunk(x0, std::min(W, out_len - x0), DwEdge<true>{});
  for (; x0 + W <= hi; x0 += W) chunk(x0, W, DwEdge<false>{});
  for (; x0 < out_len; x0 += W) chunk(x0, std::min(W, out_len - x0), DwEdge<true>{});
}

// Column access with stride S: 1 and 2 (de-interleaving loads, interleaving stores) are
// SIMD; 0 is any runtime stride, element by element.
template <class V, int S>
struct DwCols {
  using T = typename V::Elem;
  static V load(const T* p, int s) {
    if constexpr (S == 1) return V::load(p);
    else if constexpr (S == 2) return V::load_even(p);
    else return load_range(p, s, 0, V::W);
  }
  // Lanes [lo, hi) from p[lane * s], the others 0.
  static V load_range(const T* p, int s, int lo, int hi) {
    if constexpr (S == 1) return V::load_range(p, lo, hi);
    else if constexpr (S == 2) return V::load_even_range(p, lo, hi);
    else {
      T lanes[V::W] = {};
      for (int l = std::max(lo, 0); l < std::min(hi, V::W); ++l) lanes[l] = p[ptrdiff_t(l) * s];
      return V::load(lanes);
    }
  }
  static void store(V v, T* p, int s, int n) {
    if constexpr (S == 1) n == V::W ? v.store(p) : v.store_partial(p, n);
    else if constexpr (S == 2) v.store_even_partial(p, n);
    else {
      T lanes[V::W];
      v.store(lanes);
      for (int l = 0; l < n; ++l) p[ptrdiff_t(l) * s] = lanes[l];
    }
  }
};

// Lanes of a chunk that read inside the source row for a tap whose lane 0 reads column `first`.
struct DwLanes {
  int lo, hi;
};
inline DwLanes dw_valid_lanes(int first, int s, int src_len, int n) {
  return {dw_clamp(dw_ceil_div(-first, s), 0, n), dw_clamp(dw_ceil_div(src_len - first, s), 0, n)};
}

// Weights broadcast once per band when the band's size is known at compile time (R, K > 0);
// otherwise broadcast from memory at each use.
template <class V, int R, int K>
struct DwWeights {
  using T = typename V::Elem;
  V v[R > 0 ? R : 1][K > 0 ? K : 1];
  const T* w;
  ptrdiff_t row_step, tap_step;
  DwWeights(const T* w_, ptrdiff_t row_step_, ptrdiff_t tap_step_) : w(w_), row_step(row_step_), tap_step(tap_step_) {
    if constexpr (R > 0 && K > 0)
      for (int r = 0; r < R; ++r)
        for (int t = 0; t < K; ++t) v[r][t] = V::set1(w[r * row_step + t * tap_step]);
  }
  V operator()(int r, int t) const {
    if constexpr (R > 0 && K > 0) return v[r][t];
    else return V::set1(w[r * row_step + t * tap_step]);
  }
};

// out = init (or out itself when accumulating) + the band's correlation. R rows and K taps,
// S source stride and OS output stride are compile-time where nonzero.
template <class V, int R, int K, int S, int OS>
void dw_correlate_band(const DwBand& b, const typename V::Elem* src, const typename V::Elem* w,
                       typename V::Elem* out, typename V::Elem init, bool accumulate) {
  using T = typename V::Elem;
  using Src = DwCols<V, S>;
  using Out = DwCols<V, OS>;
  const int rows = R > 0 ? R : b.rows, taps = K > 0 ? K : b.taps;
  const int s = S > 0 ? S : b.col_step, os = OS > 0 ? OS : b.out_col_step;
  const DwWeights<V, R, K> wv(w, b.w_row_step, b.w_tap_step);
  const V vinit = V::set1(init);
  const int lo = b.interior_lo(), hi = b.interior_hi();
  for (int y = 0; y < b.band; ++y) {
    const T* src_row = src + y * b.src_band_step;
    T* out_row = out + y * b.out_band_step;
    dw_for_each_chunk<V::W>(b.out_len, lo, hi, [&](int x0, int n, auto edge) {
      T* o = out_row + ptrdiff_t(x0) * os;
      V acc = accumulate ? Out::load_range(o, os, 0, n) : vinit;
      for (int t = 0; t < taps; ++t) {
        const int first = x0 * s + b.tap(t);
        const DwLanes lanes = dw_valid_lanes(first, s, b.src_len, n);
        for (int r = 0; r < rows; ++r) {
          const T* p = src_row + r * b.src_row_step + first;
          const V x = decltype(edge)::value ? Src::load_range(p, s, lanes.lo, lanes.hi) : Src::load(p, s);
          acc = V::fmadd(wv(r, t), x, acc);
        }
      }
      Out::store(acc, o, os, n);
    });
  }
}

// Adds sum over the band of dy[x] * src_r[x*s + tap t] to sums[r*w_row_step + t*w_tap_step]
// and sum(dy) to *bias_sum. With a compile-time size every tap keeps its own vector
// accumulator across the band; otherwise each tap is summed row by row.
template <class V, int R, int K, int S>
void dw_weight_grad_band(const DwBand& b, const typename V::Elem* src, const typename V::Elem* dy, double* sums,
                         double* bias_sum) {
  using T = typename V::Elem;
  using Src = DwCols<V, S>;
  const int s = S > 0 ? S : b.col_step;
  const int lo = b.interior_lo(), hi = b.interior_hi();
  auto dy_chunk = [&](const T* d, int n, auto edge) { return decltype(edge)::value ? V::load_range(d, 0, n) : V::load(d); };
  auto src_chunk = [&](const T* row, int x0, int t, int n, auto edge) {
    const int first = x0 * s + b.tap(t);
    if constexpr (decltype(edge)::value) {
      const DwLanes lanes = dw_valid_lanes(first, s, b.src_len, n);
      return Src::load_range(row + first, s, lanes.lo, lanes.hi);
    } else {
      return Src::load(row + first, s);
    }
  };
  if constexpr (R > 0 && K > 0) {
    V acc[R][K], acc_bias = V::zero();
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < K; ++t) acc[r][t] = V::zero();
    for (int y = 0; y < b.band; ++y) {
      const T* src_row = src + y * b.src_band_step;
      const T* dy_row = dy + y * b.out_band_step;
      dw_for_each_chunk<V::W>(b.out_len, lo, hi, [&](int x0, int n, auto edge) {
        const V d = dy_chunk(dy_row + x0, n, edge);
        acc_bias = acc_bias + d;
        for (int t = 0; t < K; ++t)
          for (int r = 0; r < R; ++r)
            acc[r][t] = V::fmadd(d, src_chunk(src_row + r * b.src_row_step, x0, t, n, edge), acc[r][t]);
      });
    }
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < K; ++t) sums[r * b.w_row_step + t * b.w_tap_step] += double(acc[r][t].reduce_add());
    *bias_sum += double(acc_bias.reduce_add());
  } else {
    for (int y = 0; y < b.band; ++y) {
      const T* src_row = src + y * b.src_band_step;
      const T* dy_row = dy + y * b.out_band_step;
      V acc_bias = V::zero();
      dw_for_each_chunk<V::W>(b.out_len, lo, hi,
                              [&](int x0, int n, auto edge) { acc_bias = acc_bias + dy_chunk(dy_row + x0, n, edge); });
      *bias_sum += double(acc_bias.reduce_add());
      for (int r = 0; r < b.rows; ++r)
        for (int t = 0; t < b.taps; ++t) {
          V acc = V::zero();
          dw_for_each_chunk<V::W>(b.out_len, lo, hi, [&](int x0, int n, auto edge) {
            acc = V::fmadd(dy_chunk(dy_row + x0, n, edge), src_chunk(src_row + r * b.src_row_step, x0, t, n, edge), acc);
          });
          sums[r * b.w_row_step + t * b.w_tap_step] += double(acc.reduce_add());
        }
    }
  }
}

// Picks the compiled size for a band: 1-3 rows x 1-3 taps, else the runtime loops.
template <class V, int S, int OS>
void dw_correlate(const DwBand& b, const typename V::Elem* src, const typename V::Elem* w, typename V::Elem* out,
                  typename V::Elem init, bool accumulate) {
  using T = typename V::Elem;
  using Fn = void (*)(const DwBand&, const T*, const T*, T*, T, bool);
  static constexpr Fn sized[3][3] = {
      {dw_correlate_band<V, 1, 1, S, OS>, dw_correlate_band<V, 1, 2, S, OS>, dw_correlate_band<V, 1, 3, S, OS>},
      {dw_correlate_band<V, 2, 1, S, OS>, dw_correlate_band<V, 2, 2, S, OS>, dw_correlate_band<V, 2, 3, S, OS>},
      {dw_correlate_band<V, 3, 1, S, OS>, dw_correlate_band<V, 3, 2, S, OS>, dw_correlate_band<V, 3, 3, S, OS>},
  };
  if (b.rows >= 1 && b.rows <= 3 && b.taps >= 1 && b.taps <= 3)
    sized[b.rows - 1][b.taps - 1](b, src, w, out, init, accumulate);
  else
    dw_correlate_band<V, 0, 0, S, OS>(b, src, w, out, init, accumulate);
}

template <class V, int S>
void dw_weight_grad(const DwBand& b, const typename V::Elem* src, const typename V::Elem* dy, double* sums,
                    double* bias_sum) {
  using T = typename V::Elem;
  using Fn = void (*)(const DwBand&, const T*, const T*, double*, double*);
  static constexpr Fn sized[3][3] = {
      {dw_weight_grad_band<V, 1, 1, S>, dw_weight_grad_band<V, 1, 2, S>, dw_weight_grad_band<V, 1, 3, S>},
      {dw_weight_grad_band<V, 2, 1, S>, dw_weight_grad_band<V, 2, 2, S>, dw_weight_grad_band<V, 2, 3, S>},
      {dw_weight_grad_band<V, 3, 1, S>, dw_weight_grad_band<V, 3, 2, S>, dw_weight_grad_band<V, 3, 3, S>},
  };
  if (b.rows >= 1 && b.rows <= 3 && b.taps >= 1 && b.taps <= 3)
    sized[b.rows - 1][b.taps - 1](b, src, dy, sums, bias_sum);
  else
    dw_weight_grad_band<V, 0, 0, S>(b, src, dy, sums, bias_sum);
}

// Kernel rows [lo, hi) that land inside the input for output row oh.
struct DwRowRange {
  int lo, hi;
  bool operator==(const DwRowRange& o) const { return lo == o.lo && hi == o.hi; }
};
inline DwRowRange dw_forward_rows(const DepthwiseGeometry& g, int oh) {
  const int top = oh * g.stride_h - g.pad_h;  // input row under kernel row 0
  const int lo = std::max(0, dw_ceil_div(-top, g.dilation_h));
  const int hi = std::min(g.kernel_h, dw_floor_div(g.in_h - 1 - top, g.dilation_h) + 1);
  return {lo, std::max(lo, hi)};
}

// Calls band(b, src_offset, w_offset, first output row) for each run of output rows that see
// the same kernel rows: the bands of forward and of the weight gradient.
template <class F>
void dw_forward_bands(const DepthwiseGeometry& g, F&& band) {
  for (int oh = 0; oh < g.out_h;) {
    const DwRowRange rows = dw_forward_rows(g, oh);
    int end = oh + 1;
    while (end < g.out_h && dw_forward_rows(g, end) == rows) ++end;
    DwBand b;
    b.src_row_step = ptrdiff_t(g.dilation_h) * g.in_w;
    b.src_band_step = ptrdiff_t(g.stride_h) * g.in_w;
    b.rows = rows.hi - rows.lo;
    b.src_len = g.in_w;
    b.col_step = g.stride_w;
    b.tap_off = -g.pad_w;
    b.tap_step = g.dilation_w;
    b.taps = g.kernel_w;
    b.w_row_step = g.kernel_w;
    b.w_tap_step = 1;
    b.out_band_step = g.out_w;
    b.out_len = g.out_w;
    b.out_col_step = 1;
    b.band = end - oh;
    const ptrdiff_t src_offset = b.rows > 0 ? ptrdiff_t(oh * g.stride_h - g.pad_h + rows.lo * g.dilation_h) * g.in_w : 0;
    band(b, src_offset, ptrdiff_t(rows.lo) * g.kernel_w, oh);
    oh = end;
  }
}

template <class V>
void dw_forward_plane(const DepthwiseGeometry& g, const typename V::Elem* in, const typename V::Elem* w,
                      typename V::Elem bias, typename V::Elem* out) {
  auto correlate = g.stride_w == 1 ? dw_correlate<V, 1, 1> : g.stride_w == 2 ? dw_correlate<V, 2, 1> : dw_correlate<V, 0, 1>;
  dw_forward_bands(g, [&](const DwBand& b, ptrdiff_t src_offset, ptrdiff_t w_offset, int oh) {
    correlate(b, in + src_offset, w + w_offset, out + ptrdiff_t(oh) * g.out_w, bias, false);
  });
}

template <class V>
void dw_backward_weight_plane(const DepthwiseGeometry& g, const typename V::Elem* x, const typename V::Elem* dy,
                              double* dw_sum, double* db_sum) {
  auto weight_grad = g.stride_w == 1 ? dw_weight_grad<V, 1> : g.stride_w == 2 ? dw_weight_grad<V, 2> : dw_weight_grad<V, 0>;
  dw_forward_bands(g, [&](const DwBand& b, ptrdiff_t src_offset, ptrdiff_t w_offset, int oh) {
    weight_grad(b, x + src_offset, dy + ptrdiff_t(oh) * g.out_w, dw_sum + w_offset, db_sum);
  });
}

// The kernel taps that reach input position `pos` in a transposed correlation along one
// axis: k = first + i*step (i < count) with (pos + pad - k*dilation) divisible by the
// stride, and (when out_len >= 0) the output position (pos + pad - k*dilation)/stride inside
// [0, out_len). Those form an arithmetic progression: step = stride / gcd(stride, dilation).
struct DwTapRun {
  int first, step, count;
  bool operator==(const DwTapRun& o) const { return first == o.first && step == o.step && count == o.count; }
};
inline DwTapRun dw_transposed_taps(int pos, int pad, int dilation, int stride, int kernel, int out_len) {
  const int step = stride / dw_gcd(stride, dilation);
  auto reaches = [&](int k) {
    const int num = pos + pad - k * dilation;
    return dw_floor_div(num, stride) * stride == num && (out_len < 0 || (num >= 0 && num / stride < out_len));
  };
  int first = 0;
  while (first < kernel && !reaches(first)) ++first;
  int count = 0;
  while (first + count * step < kernel && reaches(first + count * step)) ++count;
  return {count > 0 ? first : 0, step, count};
}

template <class V, int OS>
void dw_backward_input_bands(const DepthwiseGeometry& g, const typename V::Elem* dy, ptrdiff_t dy_plane_step,
                             const typename V::Elem* w, int multiplier, typename V::Elem* dx) {
  const ptrdiff_t kernel_size = ptrdiff_t(g.kernel_h) * g.kernel_w;
  for (int ih = 0; ih < g.in_h;) {
    const DwTapRun rows = dw_transposed_taps(ih, g.pad_h, g.dilation_h, g.stride_h, g.kernel_h, g.out_h);
    // With stride 1, consecutive dx rows with the same kernel rows read consecutive dy rows.
    int end = ih + 1;
    while (end < g.in_h && (g.stride_h == 1 || rows.count == 0) &&
           dw_transposed_taps(end, g.pad_h, g.dilation_h, g.stride_h, g.kernel_h, g.out_h) == rows)
      ++end;
    const int oh = rows.count > 0 ? (ih + g.pad_h - rows.first * g.dilation_h) / g.stride_h : 0;
    for (int phase = 0; phase < std::min(g.stride_w, g.in_w); ++phase) {
      const DwTapRun cols = dw_transposed_taps(phase, g.pad_w, g.dilation_w, g.stride_w, g.kernel_w, -1);
      DwBand b;
      b.src_row_step = -ptrdiff_t(rows.step * g.dilation_h / g.stride_h) * g.out_w;
      b.src_band_step = g.out_w;
      b.rows = rows.count;
      b.src_len = g.out_w;
      b.col_step = 1;
      b.tap_off = cols.count > 0 ? (phase + g.pad_w - cols.first * g.dilation_w) / g.stride_w : 0;
      b.tap_step = -(cols.step * g.dilation_w / g.stride_w);
      b.taps = cols.count;
      b.w_row_step = ptrdiff_t(rows.step) * g.kernel_w;
      b.w_tap_step = cols.step;
      b.out_band_step = g.in_w;
      b.out_len = (g.in_w - phase + g.stride_w - 1) / g.stride_w;
      b.out_col_step = g.stride_w;
      b.band = end - ih;
      const ptrdiff_t w_offset = ptrdiff_t(rows.first) * g.kernel_w + cols.first;
      for (int k = 0; k < multiplier; ++k)
        dw_correlate<V, 1, OS>(b, dy + k * dy_plane_step + ptrdiff_t(oh) * g.out_w, w + k * kernel_size + w_offset,
                               dx + ptrdiff_t(ih) * g.in_w + phase, typename V::Elem(0), k > 0);
    }
    ih = end;
  }
}

template <class V>
void dw_backward_input_plane(const DepthwiseGeometry& g, const typename V::Elem* dy, ptrdiff_t dy_plane_step,
                             const typename V::Elem* w, int multiplier, typename V::Elem* dx) {
  if (g.stride_w == 1) return dw_backward_input_bands<V, 1>(g, dy, dy_plane_step, w, multiplier, dx);
  if (g.stride_w == 2) return dw_backward_input_bands<V, 2>(g, dy, dy_plane_step, w, multiplier, dx);
  dw_backward_input_bands<V, 0>(g, dy, dy_plane_step, w, multiplier, dx);
}

template <class V>
DepthwiseKernels<typename V::Elem> make_depthwise_kernels() {
  return {dw_forward_plane<V>, dw_backward_input_plane<V>, dw_backward_weight_plane<V>};
}
