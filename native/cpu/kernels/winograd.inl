// Winograd F(4×4, 3×3) transforms over a SIMD mapping V (see winograd.h). Included inside a
// per-ISA namespace by cpu/isa/kernels.inc; do not include directly.
//
//        | 4  0 -5  0  1  0 |        | 1/4     0     0 |        | 1  1  1  1  1  0 |
//        | 0 -4 -4  1  1  0 |        | -1/6 -1/6  -1/6 |   Aᵀ = | 0  1 -1  2 -2  0 |
//   Bᵀ = | 0  4 -4 -1  1  0 |   G =  | -1/6  1/6  -1/6 |        | 0  1  1  4  4  0 |
//        | 0 -2 -1  2  1  0 |        | 1/24 1/12   1/6 |        | 0  1 -1  8 -8  1 |
//        | 0  2 -1 -2  1  0 |        | 1/24 -1/12  1/6 |
//        | 0  4  0 -5  0  1 |        | 0       0     1 |

// One-dimensional transforms of a line of values (a column or a row of a tile).
template <class V>
inline void winograd_bt(const V* d, V* o) {  // 6 -> 6: Bᵀ d
  const V d12 = d[1] - d[2], s12 = d[1] + d[2], d43 = d[4] - d[3], s34 = d[3] + d[4];
  const V d31 = d[3] - d[1], d42 = d[4] - d[2];
  o[0] = V::fmadd(V::set1(4), d[0], V::fmadd(V::set1(-5), d[2], d[4]));
  o[1] = V::fmadd(V::set1(-4), s12, s34);
  o[2] = V::fmadd(V::set1(4), d12, d43);
  o[3] = V::fmadd(V::set1(2), d31, d42);
  o[4] = V::fmadd(V::set1(-2), d31, d42);
  o[5] = V::fmadd(V::set1(4), d[1], V::fmadd(V::set1(-5), d[3], d[5]));
}

template <class V>
inline void winograd_at(const V* m, V* y) {  // 6 -> 4: Aᵀ m
  const V s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
  y[0] = m[0] + s12 + s34;
  y[1] = V::fmadd(V::set1(2), d34, d12);
  y[2] = V::fmadd(V::set1(4), s34, s12);
  y[3] = V::fmadd(V::set1(8), d34, d12) + m[5];
}

template <class V>
inline void winograd_a(const V* y, V* m) {  // 4 -> 6: A y, the adjoint of winograd_at
  const V e = y[0] + y[2], o = y[1] + y[3];
  const V e4 = V::fmadd(V::set1(4), y[2], y[0]), o8 = V::fmadd(V::set1(2), y[1], V::set1(8) * y[3]);
  m[0] = y[0];
  m[1] = e + o;
  m[2] = e - o;
  m[3] = e4 + o8;
  m[4] = e4 - o8;
  m[5] = y[3];
}

template <class V>
inline void winograd_g(const V* g, V* u) {  // 3 -> 6: G g
  using T = typename V::Elem;
  const V s = g[0] + g[2], a = V::fmadd(V::set1(T(1) / 24), g[0], V::set1(T(1) / 6) * g[2]), b = V::set1(T(1) / 12) * g[1];
  u[0] = V::set1(T(0.25)) * g[0];
  u[1] = V::set1(T(-1) / 6) * (s + g[1]);
  u[2] = V::set1(T(-1) / 6) * (s - g[1]);
  u[3] = a + b;
  u[4] = a - b;
  u[5] = g[2];
}

template <class V>
inline void winograd_gt(const V* u, V* g) {  // 6 -> 3: Gᵀ u, the adjoint of winograd_g
  using T = typename V::Elem;
  const V s12 = u[1] + u[2], d21 = u[2] - u[1], s34 = u[3] + u[4], d34 = u[3] - u[4];
  g[0] = V::fmadd(V::set1(T(0.25)), u[0], V::fmadd(V::set1(T(-1) / 6), s12, V::set1(T(1) / 24) * s34));
  g[1] = V::fmadd(V::set1(T(1) / 6), d21, V::set1(T(1) / 12) * d34);
  g[2] = V::fmadd(V::set1(T(1) / 6), s34 - s12, u[5]);
}

// out = L · in · Lᵀ for a 1-D transform L (Rows -> Out) applied to the columns, then the rows,
// of a Rows×Rows tile stored row-major.
template <class V, int Rows, int Out, void (*L)(const V*, V*)>
inline void winograd_2d(const V* in, V* out) {
  V cols[Out * Rows], line[Rows], res[Out];
  for (int j = 0; j < Rows; ++j) {
    for (int i = 0; i < Rows; ++i) line[i] = in[i * Rows + j];
    L(line, res);
    for (int k = 0; k < Out; ++k) cols[k * Rows + j] = res[k];
  }
  for (int k = 0; k < Out; ++k) L(cols + k * Rows, out + k * Out);
}

template <class V>
inline V winograd_load(const typename V::Elem* p, int n) {
  return n >= V::W ? V::load(p) : V::load_partial(p, n);
}

template <class V>
inline void winograd_store(V v, typename V::Elem* p, int n) {
  if (n >= V::W)
    v.store(p);
  else
    v.store_partial(p, n);
}

// Up to W filters as nine vectors over the filters (tap t in g[t]): each filter's nine taps
// are loaded as a row and the rows turned into lanes by W×W transposes.
template <class V>
inline void winograd_load_filters(const typename V::Elem* w, int64_t stride, int filters, V* g) {
  constexpr int W = V::W;
  V block[W];
  for (int t0 = 0; t0 < 9; t0 += W) {
    const int taps = 9 - t0 < W ? 9 - t0 : W;
    for (int l = 0; l < W; ++l) block[l] = l < filters ? V::load_partial(w + l * stride + t0, taps) : V::zero();
    V::transpose(block);
    for (int j = 0; j < taps; ++j) g[t0 + j] = block[j];
  }
}

template <class V>
void winograd_filter_transform(const typename V::Elem* w, int64_t out_c, int64_t in_c, bool in_major, bool flip,
                               int64_t a0, int64_t a1, typename V::Elem* u) {
  constexpr int W = V::W;
  const int64_t cols = in_major ? out_c : in_c, filters = out_c * in_c;
  // Elements from filter (a, b) to (a + 1, b) and to (a, b + 1).
  const int64_t a_step = in_major ? 9 : 9 * in_c, b_step = in_major ? 9 * in_c : 9;
  for (int64_t a = a0; a < a1; ++a)
    for (int64_t b = 0; b < cols; b += W) {
      const int n = int(cols - b < W ? cols - b : W);
      V g[9], out[kWinogradPoints];
      winograd_load_filters<V>(w + a * a_step + b * b_step, b_step, n, g);
      if (flip)
        for (int t = 0; t < 4; ++t) std::swap(g[t], g[8 - t]);
      winograd_2d<V, 3, 6, winograd_g<V>>(g, out);
      for (int p = 0; p < kWinogradPoints; ++p) winograd_store(out[p], u + p * filters + a * cols + b, n);
    }
}

template <class V>
void winograd_filter_adjoint(const typename V::Elem* du, int64_t filters, int64_t f0, int64_t f1,
                             typename V::Elem* dw) {
  constexpr int W = V::W;
  for (int64_t f = f0; f < f1; f += W) {
    const int fn = int(f1 - f < W ? f1 - f : W);
    V in[kWinogradPoints], g[9], block[W];
    for (int p = 0; p < kWinogradPoints; ++p) in[p] = winograd_load<V>(du + p * filters + f, fn);
    winograd_2d<V, 6, 3, winograd_gt<V>>(in, g);
    for (int t0 = 0; t0 < 9; t0 += W) {
      const int taps = 9 - t0 < W ? 9 - t0 : W;
      for (int j = 0; j < W; ++j) block[j] = j < taps ? g[t0 + j] : V::zero();
      V::transpose(block);
      for (int l = 0; l < fn; ++l) block[l].store_partial(dw + (f + l) * 9 + t0, taps);
    }
  }
}

// Rows [x0, x0 + W) of `rows` planes `plane` apart (channels), columns from `col`, lanes
// [lo, hi) of each valid, as W vectors over the channels (line[x] for column x0 + x); the
// missing channels (beyond `channels`) and columns read as 0.
template <class V>
inline void winograd_load_channels(const typename V::Elem* src, int64_t plane, int channels, int64_t col, int lo,
                                   int hi, typename V::Elem* line) {
  constexpr int W = V::W;
  V block[W];
  for (int l = 0; l < W; ++l)
    block[l] = l >= channels || hi <= lo  ? V::zero()
               : lo == 0 && hi == W       ? V::load(src + l * plane + col)
                                          : V::load_range(src + l * plane + col, lo, hi);
  V::transpose(block);
  for (int x = 0; x < W; ++x) block[x].store(line + x * W);
}

template <class V>
void winograd_input_transform(const WinogradGeometry& g, const typename V::Elem* x, int64_t row0, int64_t rows,
                              typename V::Elem* v) {
  using T = typename V::Elem;
  constexpr int W = V::W;
  const int64_t tiles_h = g.tiles_h(), tiles_w = g.tiles_w(), tiles = rows * tiles_w, plane = g.in_h * g.in_w;
  // The six input rows under a tile row, channel-major: lines[(i * span + x) * W + lane].
  const int64_t span = (4 * tiles_w + 2 + W - 1) / W * W;
  T* lines = static_cast<T*>(thread_scratch(4, size_t(6 * span * W) * sizeof(T)));
  for (int64_t c0 = 0; c0 < g.in_c; c0 += W) {
    const int cn = int(g.in_c - c0 < W ? g.in_c - c0 : W);
    for (int64_t r = row0; r < row0 + rows; ++r) {
      const int64_t img = r / tiles_h, ty = r % tiles_h;
      for (int i = 0; i < 6; ++i) {
        const int64_t iy = 4 * ty - g.pad_h + i;
        T* line = lines + i * span * W;
        if (iy < 0 || iy >= g.in_h) {
          std::fill(line, line + span * W, T(0));
          continue;
        }
        const T* src = x + (img * g.in_c + c0) * plane + iy * g.in_w;
        for (int64_t x0 = 0; x0 < span; x0 += W) {
          const int64_t ix = x0 - g.pad_w;
          const int lo = int(ix >= 0 ? 0 : -ix < W ? -ix : W), hi = int(g.in_w - ix <= 0 ? 0 : g.in_w - ix < W ? g.in_w - ix : W);
          winograd_load_channels<V>(src, plane, cn, ix, lo, hi, line + x0 * W);
        }
      }
      for (int64_t tx = 0; tx < tiles_w; ++tx) {
        V d[kWinogradPoints], out[kWinogradPoints];
        for (int i = 0; i < 6; ++i)
          for (int j = 0; j < 6; ++j) d[i * 6 + j] = V::load(lines + (i * span + 4 * tx + j) * W);
        winograd_2d<V, 6, 6, winograd_bt<V>>(d, out);
        T* dst = v + ((r - row0) * tiles_w + tx) * g.in_c + c0;
        for (int p = 0; p < kWinogradPoints; ++p) winograd_store(out[p], dst + p * tiles * g.in_c, cn);
      }
    }
  }
}

template <class V>
void winograd_output_transform(const WinogradGeometry& g, const typename V::Elem* m, int64_t row0, int64_t rows,
                               const typename V::Elem* bias, typename V::Elem* y) {
  using T = typename V::Elem;
  constexpr int W = V::W;
  const int64_t tiles_h = g.tiles_h(), tiles_w = g.tiles_w(), tiles = rows * tiles_w, plane = g.out_h * g.out_w;
  const int64_t span = (4 * tiles_w + W - 1) / W * W;
  T* lines = static_cast<T*>(thread_scratch(4, size_t(4 * span * W) * sizeof(T)));
  for (int64_t o0 = 0; o0 < g.out_c; o0 += W) {
    const int on = int(g.out_c - o0 < W ? g.out_c - o0 : W);
    const V b = bias ? winograd_load<V>(bias + o0, on) : V::zero();
    for (int64_t r = row0; r < row0 + rows; ++r) {
      const int64_t img = r / tiles_h, ty = r % tiles_h;
      for (int64_t tx = 0; tx < tiles_w; ++tx) {
        V in[kWinogradPoints], out[16];
        const T* src = m + ((r - row0) * tiles_w + tx) * g.out_c + o0;
        for (int p = 0; p < kWinogradPoints; ++p) in[p] = winograd_load<V>(src + p * tiles * g.out_c, on);
        winograd_2d<V, 6, 4, winograd_at<V>>(in, out);
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) (out[i * 4 + j] + b).store(lines + (i * span + 4 * tx + j) * W);
      }
      // Back to channel rows: W×W transposes, stores clipped to the plane.
      for (int i = 0; i < 4 && 4 * ty + i < g.out_h; ++i) {
        T* dst = y + (img * g.out_c + o0) * plane + (4 * ty + i) * g.out_w;
        for (int64_t x0 = 0; x0 < g.out_w; x0 += W) {
          V block[W];
          for (int j = 0; j < W; ++j) block[j] = V::load(lines + (i * span + x0 + j) * W);
          V::transpose(block);
          const int n = int(g.out_w - x0 < W ? g.out_w - x0 : W);
          for (int l = 0; l < on; ++l) winograd_store(block[l], dst + l * plane + x0, n);
        }
      }
    }
  }
}

template <class V>
void winograd_output_adjoint(const WinogradGeometry& g, const typename V::Elem* dy, int64_t row0, int64_t rows,
                             typename V::Elem* dm) {
  using T = typename V::Elem;
  constexpr int W = V::W;
  const int64_t tiles_h = g.tiles_h(), tiles_w = g.tiles_w(), tiles = rows * tiles_w, plane = g.out_h * g.out_w;
  const int64_t span = (4 * tiles_w + W - 1) / W * W;
  T* lines = static_cast<T*>(thread_scratch(4, size_t(4 * span * W) * sizeof(T)));
  for (int64_t o0 = 0; o0 < g.out_c; o0 += W) {
    const int on = int(g.out_c - o0 < W ? g.out_c - o0 : W);
    for (int64_t r = row0; r < row0 + rows; ++r) {
      const int64_t img = r / tiles_h, ty = r % tiles_h;
      for (int i = 0; i < 4; ++i) {
        T* line = lines + i * span * W;
        if (4 * ty + i >= g.out_h) {
          std::fill(line, line + span * W, T(0));
          continue;
        }
        const T* src = dy + (img * g.out_c + o0) * plane + (4 * ty + i) * g.out_w;
        for (int64_t x0 = 0; x0 < span; x0 += W) {
          const int hi = int(g.out_w - x0 < W ? g.out_w - x0 : W);
          winograd_load_channels<V>(src, plane, on, x0, 0, hi, line + x0 * W);
        }
      }
      for (int64_t tx = 0; tx < tiles_w; ++tx) {
        V in[16], out[kWinogradPoints];
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) in[i * 4 + j] = V::load(lines + (i * span + 4 * tx + j) * W);
        winograd_2d<V, 4, 6, winograd_a<V>>(in, out);
        T* dst = dm + ((r - row0) * tiles_w + tx) * g.out_c + o0;
        for (int p = 0; p < kWinogradPoints; ++p) winograd_store(out[p], dst + p * tiles * g.out_c, on);
      }
    }
  }
}

template <class V>
WinogradKernels<typename V::Elem> make_winograd_kernels() {
  return {winograd_filter_transform<V>, winograd_filter_adjoint<V>, winograd_input_transform<V>,
          winograd_output_transform<V>, winograd_output_adjoint<V>};
}
