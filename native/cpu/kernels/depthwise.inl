// Depthwise convolution kernels over a SIMD mapping V. Included inside a per-ISA namespace
// by cpu/isa/kernels.inc; do not include directly.
//
// Everything is built from one primitive, a band of output rows y < band, each computed as
//   out[x * out_col_step] = init + sum_{r < rows, t < taps} w[r][t] * src_r[x * col_step + tap_off + t * tap_step]
// with source columns outside [0, src_len) reading as zero. Forward runs one band per run of
// output rows that see the same kernel rows. The input gradient is a transposed correlation:
// split by the stride's phase (dx columns = p mod stride), each phase is an ordinary stride-1
// correlation of dy with that phase's taps, written to every stride-th column. The weight
// gradient walks forward's bands, accumulating dy * src per tap instead of writing.
//
// A call plans its bands once (kernel choice and interior columns included) and runs them
// over all its planes. Columns go in chunks of V::W: interior chunks (every tap in bounds)
// use plain loads, only border chunks use masked loads, so padding costs no copies and no
// branches in the interior. Bands of 1-3 rows x 1-3 taps (3x3, 1x3, 3x1, the stride-2
// phases of 3x3) are compiled with weights in registers and do 4 output rows per pass (four
// independent FMA chains; with stride = dilation vertically, neighbouring rows share source
// rows and load them once), the band's last 1-3 rows as one smaller block. Other sizes use
// runtime loops. The weight gradient takes planes in memory order and keeps per-channel
// vector accumulators in scratch, folded into double sums every ~4K products per lane.

// The row/tap loops of the sized kernels must unroll completely so their accumulators and
// weights stay in registers; GCC's heuristics stop short of that for the 4-row blocks.
#if defined(__GNUC__)
#define SEPCONV_DW_UNROLL _Pragma("GCC unroll 16")
#else
#define SEPCONV_DW_UNROLL
#endif

// Keeps a loaded vector in a register. GCC otherwise folds the load into every FMA that
// uses the vector, re-reading memory for each; the ±1 taps split cache lines, so those
// repeated loads, not the FMAs, would bound the shared-row kernels.
template <class V>
inline V dw_in_register(V x) {
#if defined(__GNUC__) && defined(__x86_64__)
  if constexpr (V::W > 1) asm("" : "+v"(x.v));
#elif defined(__GNUC__) && defined(__aarch64__)
  if constexpr (V::W > 1) asm("" : "+w"(x.v));
#endif
  return x;
}

inline int dw_floor_div(int a, int b) {
  if (b == 1) return a;       // the usual strides and dilations, without an integer division
  if (b == 2) return a >> 1;  // arithmetic shift: floors negative values too
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
inline int dw_ceil_div(int a, int b) { return -dw_floor_div(-a, b); }
inline int dw_clamp(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }
inline int dw_gcd(int a, int b) { return b == 0 ? a : dw_gcd(b, a % b); }

// The shape of a band; pointers are passed separately (forward and the input gradient write
// `out`, the weight gradient reads dy there and accumulates per tap instead of reading weights).
struct DwBand {
  ptrdiff_t src_row_step;   // between the source rows of one output row (> 0)
  ptrdiff_t src_band_step;  // between the first source rows of consecutive output rows
  int rows;                 // source rows per output row
  int src_len;              // valid columns of a source row
  int col_step;             // source columns per output column (the stride)
  int tap_off, tap_step, taps;
  ptrdiff_t w_row_step, w_tap_step;  // weight of source row r, tap t: r*w_row_step + t*w_tap_step
  ptrdiff_t out_band_step;
  int out_len, out_col_step;
  int band;    // output rows
  int lo, hi;  // output columns whose every tap lies inside the source row (set by finish())

  int tap(int t) const { return tap_off + t * tap_step; }
  void finish() {
    const int min_tap = taps > 0 ? std::min(tap(0), tap(taps - 1)) : 0;
    const int max_tap = taps > 0 ? std::max(tap(0), tap(taps - 1)) : 0;
    lo = dw_clamp(dw_ceil_div(-min_tap, col_step), 0, out_len);
    hi = taps > 0 ? dw_clamp(dw_floor_div(src_len - 1 - max_tap, col_step) + 1, 0, out_len) : out_len;
  }
  // Whether output row y + 1 reads the source rows of output row y shifted by one.
  bool rows_shared() const { return band > 1 && src_band_step == src_row_step; }
};

// A planned band: its offsets within a plane (w: within the kernel) and the kernel that runs it.
template <class Fn>
struct DwStep {
  DwBand b;
  ptrdiff_t src, w, out;
  Fn fn;
};

template <bool E>
struct DwEdge {
  static constexpr bool value = E;
};

// Calls chunk(x0, n, DwEdge<masked>) over the columns [0, out_len) in steps of W; chunks not
// inside [lo, hi) need masked loads.
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

// Lanes of a chunk that read inside the source row, for a tap whose lane 0 reads column `first`.
struct DwLanes {
  int lo, hi;
};
inline DwLanes dw_valid_lanes(int first, int s, int src_len, int n) {
  return {dw_clamp(dw_ceil_div(-first, s), 0, n), dw_clamp(dw_ceil_div(src_len - first, s), 0, n)};
}

// Loads the chunk of tap `first` from a source row: plainly inside, masked at the borders.
template <class V, int S, bool Edge>
struct DwTapLoader {
  using T = typename V::Elem;
  int first, s;
  DwLanes lanes;
  DwTapLoader(int first_, int s_, int src_len, int n)
      : first(first_), s(s_), lanes(Edge ? dw_valid_lanes(first_, s_, src_len, n) : DwLanes{0, V::W}) {}
  V operator()(const T* row) const {
    if constexpr (Edge) return DwCols<V, S>::load_range(row + first, s, lanes.lo, lanes.hi);
    else return DwCols<V, S>::load(row + first, s);
  }
};

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
      SEPCONV_DW_UNROLL
      for (int r = 0; r < R; ++r)
        SEPCONV_DW_UNROLL
        for (int t = 0; t < K; ++t) v[r][t] = V::set1(w[r * row_step + t * tap_step]);
  }
  V operator()(int r, int t) const {
    if constexpr (R > 0 && K > 0) return v[r][t];
    else return V::set1(w[r * row_step + t * tap_step]);
  }
};

// out = init (or out itself when accumulating) + the band's correlation. R rows, K taps,
// source stride S and output stride OS are compile-time where nonzero; Shared: the band's
// rows share source rows (rows_shared()).
template <class V, int R, int K, int S, int OS, bool Shared>
struct DwCorrelate {
  using T = typename V::Elem;
  static constexpr bool kSized = R > 0 && K > 0;
  static constexpr int kBlock = kSized ? 4 : 1;

  template <int NB>
  static void block(const DwBand& b, const T* src, const DwWeights<V, R, K>& wv, T* out, V init, bool accumulate) {
    using Out = DwCols<V, OS>;
    const int rows = R > 0 ? R : b.rows, taps = K > 0 ? K : b.taps;
    const int s = S > 0 ? S : b.col_step, os = OS > 0 ? OS : b.out_col_step;
    dw_for_each_chunk<V::W>(b.out_len, b.lo, b.hi, [&](int x0, int n, auto edge) {
      T* o = out + ptrdiff_t(x0) * os;
      V acc[NB];
      SEPCONV_DW_UNROLL
      for (int y = 0; y < NB; ++y) acc[y] = accumulate ? Out::load_range(o + y * b.out_band_step, os, 0, n) : init;
      SEPCONV_DW_UNROLL
      for (int t = 0; t < taps; ++t) {
        const DwTapLoader<V, S, decltype(edge)::value> load(x0 * s + b.tap(t), s, b.src_len, n);
        if constexpr (Shared && kSized) {
          SEPCONV_DW_UNROLL
          for (int line = 0; line < NB + R - 1; ++line) {
            const V x = dw_in_register(load(src + line * b.src_row_step));
            SEPCONV_DW_UNROLL
            for (int y = 0; y < NB; ++y)
              if (line - y >= 0 && line - y < R) acc[y] = V::fmadd(wv(line - y, t), x, acc[y]);
          }
        } else {
          SEPCONV_DW_UNROLL
          for (int y = 0; y < NB; ++y)
            SEPCONV_DW_UNROLL
            for (int r = 0; r < rows; ++r)
              acc[y] = V::fmadd(wv(r, t), load(src + y * b.src_band_step + r * b.src_row_step), acc[y]);
        }
      }
      SEPCONV_DW_UNROLL
      for (int y = 0; y < NB; ++y) Out::store(acc[y], o + y * b.out_band_step, os, n);
    });
  }

  static void run(const DwBand& b, const T* src, const T* w, T* out, T init, bool accumulate) {
    const DwWeights<V, R, K> wv(w, b.w_row_step, b.w_tap_step);
    const V vinit = V::set1(init);
    int y = 0;
    for (; y + kBlock <= b.band; y += kBlock)
      block<kBlock>(b, src + y * b.src_band_step, wv, out + y * b.out_band_step, vinit, accumulate);
    // The last 1-3 rows as one block too: single rows are one serial FMA chain each.
    if constexpr (kBlock > 1) {
      const T* s = src + y * b.src_band_step;
      T* o = out + y * b.out_band_step;
      switch (b.band - y) {
        case 3: return block<3>(b, s, wv, o, vinit, accumulate);
        case 2: return block<2>(b, s, wv, o, vinit, accumulate);
        case 1: return block<1>(b, s, wv, o, vinit, accumulate);
        default: return;
      }
    }
  }
};

// Adds sum over the band of dy[x] * src_r[x*s + tap t] to the vector accumulator of tap
// (r, t) at acc + (r*w_row_step + t*w_tap_step)*W, and dy to the one at bias; the caller
// reduces them. Compile-time sizes keep every accumulator in a register for the band.
template <class V, int R, int K, int S, bool Shared>
struct DwWeightGrad {
  using T = typename V::Elem;
  static constexpr bool kSized = R > 0 && K > 0;
  static constexpr int W = V::W;

  static V dy_chunk(const T* d, int n, bool edge) { return edge ? V::load_range(d, 0, n) : V::load(d); }

  template <int NB>
  static void block(const DwBand& b, const T* src, const T* dy, V (&acc)[R > 0 ? R : 1][K > 0 ? K : 1], V& acc_bias) {
    constexpr int s = S;
    dw_for_each_chunk<W>(b.out_len, b.lo, b.hi, [&](int x0, int n, auto edge) {
      V d[NB];
      SEPCONV_DW_UNROLL
      for (int y = 0; y < NB; ++y) d[y] = dy_chunk(dy + y * b.out_band_step + x0, n, decltype(edge)::value);
      V dsum = d[0];
      SEPCONV_DW_UNROLL
      for (int y = 1; y < NB; ++y) dsum = dsum + d[y];
      acc_bias = acc_bias + dsum;
      SEPCONV_DW_UNROLL
      for (int t = 0; t < K; ++t) {
        const DwTapLoader<V, S, decltype(edge)::value> load(x0 * s + b.tap(t), s, b.src_len, n);
        if constexpr (Shared) {
          SEPCONV_DW_UNROLL
          for (int line = 0; line < NB + R - 1; ++line) {
            const V x = dw_in_register(load(src + line * b.src_row_step));
            SEPCONV_DW_UNROLL
            for (int y = 0; y < NB; ++y)
              if (line - y >= 0 && line - y < R) acc[line - y][t] = V::fmadd(d[y], x, acc[line - y][t]);
          }
        } else {
          SEPCONV_DW_UNROLL
          for (int y = 0; y < NB; ++y)
            SEPCONV_DW_UNROLL
            for (int r = 0; r < R; ++r)
              acc[r][t] = V::fmadd(d[y], load(src + y * b.src_band_step + r * b.src_row_step), acc[r][t]);
        }
      }
    });
  }

  static void run(const DwBand& b, const T* src, const T* dy, T* acc_mem, T* bias_mem) {
    if constexpr (kSized && S > 0) {
      V acc[R > 0 ? R : 1][K > 0 ? K : 1];
      SEPCONV_DW_UNROLL
      for (int r = 0; r < R; ++r)
        SEPCONV_DW_UNROLL
        for (int t = 0; t < K; ++t) acc[r][t] = V::load(acc_mem + (r * b.w_row_step + t * b.w_tap_step) * W);
      V acc_bias = V::load(bias_mem);
      int y = 0;
      for (; y + 4 <= b.band; y += 4) block<4>(b, src + y * b.src_band_step, dy + y * b.out_band_step, acc, acc_bias);
      const T* s = src + y * b.src_band_step;
      const T* d = dy + y * b.out_band_step;
      switch (b.band - y) {
        case 3: block<3>(b, s, d, acc, acc_bias); break;
        case 2: block<2>(b, s, d, acc, acc_bias); break;
        case 1: block<1>(b, s, d, acc, acc_bias); break;
        default: break;
      }
      SEPCONV_DW_UNROLL
      for (int r = 0; r < R; ++r)
        SEPCONV_DW_UNROLL
        for (int t = 0; t < K; ++t) acc[r][t].store(acc_mem + (r * b.w_row_step + t * b.w_tap_step) * W);
      acc_bias.store(bias_mem);
    } else {
      // Any size or stride: one tap at a time over each row (its data stays in L1).
      const int s = S > 0 ? S : b.col_step;
      for (int y = 0; y < b.band; ++y) {
        const T* src_row = src + y * b.src_band_step;
        const T* dy_row = dy + y * b.out_band_step;
        V acc_bias = V::load(bias_mem);
        dw_for_each_chunk<W>(b.out_len, b.lo, b.hi, [&](int x0, int n, auto edge) {
          acc_bias = acc_bias + dy_chunk(dy_row + x0, n, decltype(edge)::value);
        });
        acc_bias.store(bias_mem);
        for (int r = 0; r < b.rows; ++r)
          for (int t = 0; t < b.taps; ++t) {
            T* a = acc_mem + (r * b.w_row_step + t * b.w_tap_step) * W;
            V acc = V::load(a);
            dw_for_each_chunk<W>(b.out_len, b.lo, b.hi, [&](int x0, int n, auto edge) {
              const DwTapLoader<V, S, decltype(edge)::value> load(x0 * s + b.tap(t), s, b.src_len, n);
              acc = V::fmadd(dy_chunk(dy_row + x0, n, decltype(edge)::value), load(src_row + r * b.src_row_step), acc);
            });
            acc.store(a);
          }
      }
    }
  }
};

// The compiled kernel for a band of 1-3 rows x 1-3 taps (Kernel<R, K>::run), or nullptr.
template <template <int, int> class Kernel, class Fn>
Fn dw_sized(const DwBand& b) {
  static constexpr Fn table[3][3] = {
      {Kernel<1, 1>::run, Kernel<1, 2>::run, Kernel<1, 3>::run},
      {Kernel<2, 1>::run, Kernel<2, 2>::run, Kernel<2, 3>::run},
      {Kernel<3, 1>::run, Kernel<3, 2>::run, Kernel<3, 3>::run},
  };
  return b.rows >= 1 && b.rows <= 3 && b.taps >= 1 && b.taps <= 3 ? table[b.rows - 1][b.taps - 1] : nullptr;
}

template <class V>
using DwCorrelateFn = void (*)(const DwBand&, const typename V::Elem*, const typename V::Elem*, typename V::Elem*,
                               typename V::Elem, bool);
template <class V>
using DwWeightGradFn = void (*)(const DwBand&, const typename V::Elem*, const typename V::Elem*, typename V::Elem*,
                                typename V::Elem*);

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

// Calls emit(band, src offset, w offset, out offset) for each run of output rows in
// [row_begin, row_end) that see the same kernel rows: the bands of forward and of the weight
// gradient. Out offsets count from row row_begin.
template <class F>
void dw_forward_bands(const DepthwiseGeometry& g, int row_begin, int row_end, F&& emit) {
  for (int oh = row_begin; oh < row_end;) {
    const DwRowRange rows = dw_forward_rows(g, oh);
    int end = oh + 1;
    while (end < row_end && dw_forward_rows(g, end) == rows) ++end;
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
    b.finish();
    const ptrdiff_t src = b.rows > 0 ? ptrdiff_t(oh * g.stride_h - g.pad_h + rows.lo * g.dilation_h) * g.in_w : 0;
    emit(b, src, ptrdiff_t(rows.lo) * g.kernel_w, ptrdiff_t(oh - row_begin) * g.out_w);
    oh = end;
  }
}

// The kernel taps that reach input position `pos` in a transposed correlation along one
// axis: k = first + i*step (i < count) with (pos + pad - k*dilation) divisible by the
// stride, and (when out_len >= 0) the output position (pos + pad - k*dilation)/stride inside
// [0, out_len). They form an arithmetic progression: step = stride / gcd(stride, dilation).
struct DwTapRun {
  int first, step, count;
  bool operator==(const DwTapRun& o) const { return first == o.first && step == o.step && count == o.count; }
  int last() const { return first + (count - 1) * step; }
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

// Calls emit(band, src offset, w offset, out offset) for the input gradient: per run of dx
// rows reached by the same kernel rows, one band per column phase. Source rows are walked
// upwards (from the last kernel row), so rows of stride-1 bands are shared as in forward.
template <class F>
void dw_input_grad_bands(const DepthwiseGeometry& g, F&& emit) {
  for (int ih = 0; ih < g.in_h;) {
    const DwTapRun rows = dw_transposed_taps(ih, g.pad_h, g.dilation_h, g.stride_h, g.kernel_h, g.out_h);
    // With stride 1, consecutive dx rows with the same kernel rows read consecutive dy rows.
    int end = ih + 1;
    while (end < g.in_h && (g.stride_h == 1 || rows.count == 0) &&
           dw_transposed_taps(end, g.pad_h, g.dilation_h, g.stride_h, g.kernel_h, g.out_h) == rows)
      ++end;
    const int oh = rows.count > 0 ? (ih + g.pad_h - rows.last() * g.dilation_h) / g.stride_h : 0;
    for (int phase = 0; phase < std::min(g.stride_w, g.in_w); ++phase) {
      const DwTapRun cols = dw_transposed_taps(phase, g.pad_w, g.dilation_w, g.stride_w, g.kernel_w, -1);
      DwBand b;
      b.src_row_step = ptrdiff_t(rows.step * g.dilation_h / g.stride_h) * g.out_w;
      b.src_band_step = g.out_w;
      b.rows = rows.count;
      b.src_len = g.out_w;
      b.col_step = 1;
      b.tap_off = cols.count > 0 ? (phase + g.pad_w - cols.first * g.dilation_w) / g.stride_w : 0;
      b.tap_step = -(cols.step * g.dilation_w / g.stride_w);
      b.taps = cols.count;
      b.w_row_step = -ptrdiff_t(rows.step) * g.kernel_w;
      b.w_tap_step = cols.step;
      b.out_band_step = g.in_w;
      b.out_len = (g.in_w - phase + g.stride_w - 1) / g.stride_w;
      b.out_col_step = g.stride_w;
      b.band = end - ih;
      b.finish();
      const ptrdiff_t w = rows.count > 0 ? ptrdiff_t(rows.last()) * g.kernel_w + cols.first : 0;
      emit(b, ptrdiff_t(oh) * g.out_w, w, ptrdiff_t(ih) * g.in_w + phase);
    }
    ih = end;
  }
}

// The scratch of the calling thread as `count` steps (after `skip` bytes of other scratch).
template <class Fn>
DwStep<Fn>* dw_steps(size_t count, size_t skip = 0) {
  return reinterpret_cast<DwStep<Fn>*>(static_cast<char*>(thread_scratch(kDepthwiseScratchSlot, skip + count * sizeof(DwStep<Fn>))) + skip);
}

// The kernel for a band with source stride S and output stride OS (0: runtime).
template <class V, int S, int OS>
struct DwCorrelatePick {
  template <int R, int K>
  using Plain = DwCorrelate<V, R, K, S, OS, false>;
  template <int R, int K>
  using Shared = DwCorrelate<V, R, K, S, OS, true>;
  static DwCorrelateFn<V> pick(const DwBand& b) {
    DwCorrelateFn<V> fn = nullptr;
    if constexpr (S == 1 && OS == 1)
      if (b.rows_shared()) fn = dw_sized<Shared, DwCorrelateFn<V>>(b);
    if constexpr (S > 0 && OS > 0)
      if (!fn) fn = dw_sized<Plain, DwCorrelateFn<V>>(b);
    return fn ? fn : Plain<0, 0>::run;
  }
};

template <class V, int S>
struct DwWeightGradPick {
  template <int R, int K>
  using Plain = DwWeightGrad<V, R, K, S, false>;
  template <int R, int K>
  using Shared = DwWeightGrad<V, R, K, S, true>;
  static DwWeightGradFn<V> pick(const DwBand& b) {
    DwWeightGradFn<V> fn = nullptr;
    if constexpr (S > 0) {
      if (b.rows_shared()) fn = dw_sized<Shared, DwWeightGradFn<V>>(b);
      if (!fn) fn = dw_sized<Plain, DwWeightGradFn<V>>(b);
    }
    return fn ? fn : Plain<0, 0>::run;
  }
};

template <class V>
DwCorrelateFn<V> dw_pick_forward(const DwBand& b) {
  return b.col_step == 1 ? DwCorrelatePick<V, 1, 1>::pick(b)
         : b.col_step == 2 ? DwCorrelatePick<V, 2, 1>::pick(b)
                           : DwCorrelatePick<V, 0, 1>::pick(b);
}

template <class V>
DwCorrelateFn<V> dw_pick_input_grad(const DwBand& b) {
  return b.out_col_step == 1 ? DwCorrelatePick<V, 1, 1>::pick(b)
         : b.out_col_step == 2 ? DwCorrelatePick<V, 1, 2>::pick(b)
                               : DwCorrelatePick<V, 1, 0>::pick(b);
}

template <class V>
DwWeightGradFn<V> dw_pick_weight_grad(const DwBand& b) {
  return b.col_step == 1 ? DwWeightGradPick<V, 1>::pick(b)
         : b.col_step == 2 ? DwWeightGradPick<V, 2>::pick(b)
                           : DwWeightGradPick<V, 0>::pick(b);
}

// Hardware prefetchers stop at 4 KB pages, so each new plane would start cold (a 32x32
// plane is one page): start fetching the next plane's source while this one computes.
constexpr size_t kDwPrefetchBytes = 8192;
template <class T>
inline void dw_prefetch(const T* p, size_t elements) {
#if defined(__GNUC__)
  const size_t bytes = std::min(elements * sizeof(T), kDwPrefetchBytes);
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(reinterpret_cast<const char*>(p) + off, 0, 2);
#else
  (void)p;
  (void)elements;
#endif
}

// Runs body(plane(p)) for p < count, prefetching plane p + 1's sources (named by `sources`).
template <class Plane, class Sources, class Body>
void dw_each_plane(int count, FunctionRef<Plane(int)> plane, Sources&& sources, Body&& body) {
  if (count <= 0) return;
  Plane current = plane(0);
  for (int p = 0; p < count; ++p) {
    const Plane next = p + 1 < count ? plane(p + 1) : current;
    if (p + 1 < count) sources(next);
    body(current);
    current = next;
  }
}

template <class V>
void dw_forward(const DepthwiseGeometry& g, int row_begin, int row_end, int count,
                FunctionRef<DepthwiseForwardPlane<typename V::Elem>(int)> plane) {
  using Fn = DwCorrelateFn<V>;
  DwStep<Fn>* steps = dw_steps<Fn>(size_t(std::max(row_end - row_begin, 1)));
  int n = 0;
  dw_forward_bands(g, row_begin, row_end, [&](const DwBand& b, ptrdiff_t src, ptrdiff_t w, ptrdiff_t out) {
    steps[n++] = DwStep<Fn>{b, src, w, out, dw_pick_forward<V>(b)};
  });
  const size_t in_plane = size_t(g.in_h) * g.in_w;
  using Plane = DepthwiseForwardPlane<typename V::Elem>;
  dw_each_plane(count, plane, [&](const Plane& pl) { dw_prefetch(pl.in, in_plane); }, [&](const Plane& pl) {
    for (int i = 0; i < n; ++i) {
      const DwStep<Fn>& st = steps[i];
      st.fn(st.b, pl.in + st.src, pl.w + st.w, pl.out + st.out, pl.bias, false);
    }
  });
}

template <class V>
void dw_backward_input(const DepthwiseGeometry& g, int multiplier, int count,
                       FunctionRef<DepthwiseInputGradPlane<typename V::Elem>(int)> plane) {
  using Fn = DwCorrelateFn<V>;
  DwStep<Fn>* steps = dw_steps<Fn>(size_t(g.in_h) * size_t(std::min(g.stride_w, g.in_w)));
  int n = 0;
  dw_input_grad_bands(g, [&](const DwBand& b, ptrdiff_t src, ptrdiff_t w, ptrdiff_t out) {
    steps[n++] = DwStep<Fn>{b, src, w, out, dw_pick_input_grad<V>(b)};
  });
  const ptrdiff_t out_plane = ptrdiff_t(g.out_h) * g.out_w, kernel_size = ptrdiff_t(g.kernel_h) * g.kernel_w;
  using Plane = DepthwiseInputGradPlane<typename V::Elem>;
  dw_each_plane(count, plane, [&](const Plane& pl) { dw_prefetch(pl.dy, size_t(out_plane) * multiplier); }, [&](const Plane& pl) {
    for (int i = 0; i < n; ++i) {
      const DwStep<Fn>& st = steps[i];
      // The multiplier's planes add into the same band while it is in cache.
      for (int k = 0; k < multiplier; ++k)
        st.fn(st.b, pl.dy + k * out_plane + st.src, pl.w + k * kernel_size + st.w, pl.dx + st.out, 0, k > 0);
    }
  });
}

// Float partial sums are folded into the double totals after about this many products per
// lane, bounding float rounding whatever the batch size.
constexpr int kDwProductsPerFold = 1 << 12;

template <class V>
void dw_backward_weight(const DepthwiseGeometry& g, int count, int channels,
                        FunctionRef<DepthwiseWeightGradPlane<typename V::Elem>(int)> plane, double* sums) {
  using T = typename V::Elem;
  using Fn = DwWeightGradFn<V>;
  constexpr int W = V::W;
  const int kernel_size = g.kernel_h * g.kernel_w;
  const size_t per_channel = size_t(kernel_size + 1) * W;  // tap accumulators, then the bias one
  // Scratch: every channel's vector accumulators, then the plan.
  const size_t acc_bytes = (size_t(channels) * per_channel * sizeof(T) + 63) / 64 * 64;
  DwStep<Fn>* steps = dw_steps<Fn>(size_t(g.out_h), acc_bytes);
  T* acc = reinterpret_cast<T*>(reinterpret_cast<char*>(steps) - acc_bytes);
  int n = 0;
  dw_forward_bands(g, 0, g.out_h, [&](const DwBand& b, ptrdiff_t src, ptrdiff_t w, ptrdiff_t out) {
    steps[n++] = DwStep<Fn>{b, src, w, out, dw_pick_weight_grad<V>(b)};
  });
  // Enough planes per fold that each channel sees about kDwProductsPerFold products per lane
  // when planes cycle through the channels.
  const int64_t planes_per_fold =
      int64_t(std::max(1, kDwProductsPerFold * W / std::max(1, g.out_h * g.out_w))) * channels;
  const size_t in_plane = size_t(g.in_h) * g.in_w, out_plane = size_t(g.out_h) * g.out_w;
  using Plane = DepthwiseWeightGradPlane<T>;
  for (int p0 = 0; p0 < count; p0 += int(std::min<int64_t>(planes_per_fold, count - p0))) {
    const int planes = int(std::min<int64_t>(planes_per_fold, count - p0));
    std::fill(acc, acc + channels * per_channel, T(0));
    auto fold_plane = [&](int i) { return plane(p0 + i); };
    const auto prefetch = [&](const Plane& pl) {
      dw_prefetch(pl.x, in_plane);
      dw_prefetch(pl.dy, out_plane);
    };
    dw_each_plane(planes, FunctionRef<Plane(int)>(fold_plane), prefetch, [&](const Plane& pl) {
      T* a = acc + size_t(pl.channel) * per_channel;
      for (int i = 0; i < n; ++i) {
        const DwStep<Fn>& st = steps[i];
        st.fn(st.b, pl.x + st.src, pl.dy + st.out, a + st.w * W, a + kernel_size * W);
      }
    });
    for (int c = 0; c < channels; ++c)
      for (int i = 0; i <= kernel_size; ++i)
        sums[size_t(c) * (kernel_size + 1) + i] += double(V::load(acc + c * per_channel + i * W).reduce_add());
  }
}

template <class V>
DepthwiseKernels<typename V::Elem> make_depthwise_kernels() {
  return {dw_forward<V>, dw_backward_input<V>, dw_backward_weight<V>};
}
