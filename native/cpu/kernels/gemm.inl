// GEMM over a SIMD mapping V (see gemm.h for the operand and sink model). Included inside a
// per-ISA namespace by cpu/isa/kernels.inc; do not include directly.
//
// Loop nest: for each KC-deep slice of the reduction, for each MC-tall block of rows, pack
// A's MC×KC block into MR-tall micro-panels; for each NC-wide block of columns, pack B's KC×NC
// block into NR-wide micro-panels and sweep the MR×NR tiles with the micro-kernel. A is packed
// outside the column loop because its pack is the transposing one (the costlier) when A is a
// plain row-major matrix, and MC is large so that it is packed once per slice (before: once per
// NC columns; at 2048³ one thread that cost 5% and put us 8% behind OpenBLAS).
// Micro-panels are stored k-major (panel[k][0..width)), zero-padded to full width, so the
// micro-kernel never branches on edges; only the store of an edge tile goes through a buffer.

// Register blocking and cache blocking per vector width. The micro-kernel keeps an MR×NR tile
// of C in MR·NV vector registers and per k loads NV vectors of B and broadcasts MR values of A.
template <class V>
struct GemmBlocking {
  static constexpr int W = V::W;
  // 16 registers for AVX2 (6×2 accumulators), 32 for AVX-512 (12×2) and NEON (W = 4: 8×3,
  // 24 accumulators + 3 of B + 2 of A, which NEON multiplies by lane).
  static constexpr int MR = W >= 16 ? 12 : W == 8 ? 6 : W == 4 ? 8 : 4;
  static constexpr int NV = W >= 8 ? 2 : W == 4 ? 3 : 4;
  static constexpr int NR = NV * W;
  static constexpr int64_t KC = 256;             // A micro-panel (MR×KC) stays in L1
  static constexpr int64_t NC = 1024 / NR * NR;  // B block (KC×NC) stays in L2
  // A block (MC×KC, 4 MB of scratch per thread in float32): its micro-panels are used one at a
  // time and fetched ahead (gemm_macro_kernel), so it need not fit a cache.
  static constexpr int64_t MC = 4096 / MR * MR;
};

// How a finished tile combines with C: alpha * AB + beta * C + row_bias[i] + col_bias[j].
template <class T>
struct GemmTileEpilogue {
  T alpha, beta;
  const T* row_bias;  // MR values or null
  const T* col_bias;  // NR values or null
};

// Mappings with an FMA by lane (NEON's FMLA by element) declare fmadd_lane<L>(a, lanes, c).
template <class V, class = void>
constexpr bool gemm_fma_by_lane = false;
template <class V>
constexpr bool gemm_fma_by_lane<V, std::void_t<decltype(&V::template fmadd_lane<0>)>> = true;

// acc[i][v] += a[i] * b[v] for rows I...: the A values are loaded W at a time and multiplied
// by lane (two loads per k for MR = 8 instead of eight broadcasts).
template <class V, int NV, int... I>
inline void gemm_rank1_by_lane(const typename V::Elem* a, const V (&b)[NV], V (*acc)[NV],
                               std::integer_sequence<int, I...>) {
  constexpr int W = V::W;
  auto row = [&](auto i) {
    constexpr int r = decltype(i)::value;
    const V lanes = V::load(a + r / W * W);  // loaded once per W rows (the same load is merged)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = V::template fmadd_lane<r % W>(b[v], lanes, acc[r][v]);
  };
  (row(std::integral_constant<int, I>{}), ...);
}

// C[0..MR) × [0..NV·W) (= alpha · A·B + ...) for an A micro-panel whose rows are AStride
// apart per k: a full panel (MR = AStride), or the first MR rows of the last, partial one.
template <class V, int MR, int NV, int AStride>
void gemm_micro_kernel(int64_t kc, const typename V::Elem* a, const typename V::Elem* b, typename V::Elem* c,
                       int64_t ldc, const GemmTileEpilogue<typename V::Elem>& e) {
  using T = typename V::Elem;
  constexpr int W = V::W;
  V acc[MR][NV];
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
  auto step = [&] {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * W);
    if constexpr (gemm_fma_by_lane<V>) {
      static_assert(MR % W == 0 && AStride % W == 0, "A is loaded W rows at a time");
      gemm_rank1_by_lane<V, NV>(a, bv, acc, std::make_integer_sequence<int, MR>{});
    } else {
#pragma GCC unroll 32
      for (int i = 0; i < MR; ++i) {
        const V ai = V::set1(a[i]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[i][v] = V::fmadd(ai, bv[v], acc[i][v]);
      }
    }
    a += AStride;
    b += NV * W;
  };
  // C is touched only after the k loop: its lines (a row of the tile spans NV·W elements,
  // starting anywhere in a 64-byte line) are fetched one row at a time over the first half
  // of the loop, so the store does not wait on misses (C rows are often far apart and out of
  // cache) and the fetches do not crowd out the stream of B at the start.
  constexpr int kLine = 64 / int(sizeof(T));
  int64_t k = 0;
  for (int i = 0; i < MR; ++i) {
    for (const int64_t end = kc * (i + 1) / (2 * MR); k < end; ++k) step();
#pragma GCC unroll 8
    for (int offset = 0; offset < NV * W; offset += kLine) __builtin_prefetch(c + i * ldc + offset, 1);
    __builtin_prefetch(c + i * ldc + NV * W - 1, 1);
  }
#pragma GCC unroll 4
  for (; k < kc; ++k) step();
  const V alpha = V::set1(e.alpha), beta = V::set1(e.beta);
#pragma GCC unroll 32
  for (int i = 0; i < MR; ++i) {
    T* ci = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      V x = acc[i][v] * alpha;
      if (e.beta != T(0)) x = V::fmadd(V::load(ci + v * W), beta, x);
      if (e.row_bias) x = x + V::set1(e.row_bias[i]);
      if (e.col_bias) x = x + V::load(e.col_bias + v * W);
      x.store(ci + v * W);
    }
  }
}

// The last row panel of a block is often partial (M = 128 = 10 × 12 + 8): it runs the
// shortest kernel that covers its rows, in steps of gemm_edge_step rows, not a full MR.
template <class V>
constexpr int gemm_edge_step() {
  constexpr int MR = GemmBlocking<V>::MR;
  return MR % 4 == 0 ? 4 : MR;
}

// Rows the micro-kernel computes for a tile of `rows` rows.
template <class V>
constexpr int gemm_rows_computed(int rows) {
  constexpr int step = gemm_edge_step<V>();
  return (rows + step - 1) / step * step;
}

template <class V, int Rows = GemmBlocking<V>::MR>
void gemm_micro_rows(int rows, int64_t kc, const typename V::Elem* a, const typename V::Elem* b, typename V::Elem* c,
                     int64_t ldc, const GemmTileEpilogue<typename V::Elem>& e) {
  constexpr int step = gemm_edge_step<V>();
  if constexpr (Rows > step)
    if (rows <= Rows - step) return gemm_micro_rows<V, Rows - step>(rows, kc, a, b, c, ldc, e);
  gemm_micro_kernel<V, Rows, GemmBlocking<V>::NV, GemmBlocking<V>::MR>(kc, a, b, c, ldc, e);
}

// ------------------------------------------------------------------------------ line reads

// dst[t] = src[t] for t in [lo, hi) and 0 for the rest of [0, n); src is read only in
// [lo, hi) (a line crossing the zero padding of a convolution; a plain copy when lo <= 0 and
// hi >= n, zeros when hi <= lo).
template <class V>
inline void gemm_window_run(typename V::Elem* dst, const typename V::Elem* src, int64_t lo, int64_t hi, int64_t n) {
  constexpr int W = V::W;
  for (int64_t t = 0; t < n; t += W) {
    const int lanes = int(n - t < W ? n - t : W);
    const int a = int(lo - t <= 0 ? 0 : lo - t < lanes ? lo - t : lanes);
    const int b = int(hi - t <= a ? a : hi - t < lanes ? hi - t : lanes);
    const V v = a == 0 && b == W ? V::load(src + t) : b == a ? V::zero() : V::load_range(src + t, a, b);
    if (lanes == W)
      v.store(dst + t);
    else
      v.store_partial(dst + t, lanes);
  }
}

// Receives one line of a source as runs (copies, strided gathers, zeros) and lays it out in
// consecutive chunks of Width elements, `chunk_stride` apart (a row of consecutive
// micro-panels, or with Width >= the line length a plain buffer).
template <class V, int Width>
struct GemmLineWriter {
  using T = typename V::Elem;
  T* chunk;
  int64_t pos, chunk_stride;

  void advance(int64_t n) {
    pos += n;
    if (pos == Width) {
      chunk += chunk_stride;
      pos = 0;
    }
  }
  template <class Emit>
  void emit(int64_t n, Emit&& run) {
    while (n > 0) {
      const int64_t len = n < Width - pos ? n : Width - pos;
      run(chunk + pos, len);
      n -= len;
      advance(len);
    }
  }
  // `next_line` (elements from src to the same place in the line read after this one), if
  // not 0, is prefetched as this one is copied: lines a page or more apart defeat the
  // hardware prefetcher, which restarts at every page.
  void copy(const T* src, int64_t n, int64_t next_line = 0) {
    // Whole chunks (the bulk of a packed panel) with a fixed number of vector moves.
    if (pos == 0)
      for (; n >= Width; n -= Width, src += Width, chunk += chunk_stride) {
        constexpr int W = V::W;
        if (next_line != 0)
          for (int i = 0; i < Width; i += 64 / int(sizeof(T))) __builtin_prefetch(src + next_line + i);
#pragma GCC unroll 8
        for (int i = 0; i < Width / W * W; i += W) V::load(src + i).store(chunk + i);
        if constexpr (Width % W != 0) V::load_partial(src + Width / W * W, Width % W).store_partial(chunk + Width / W * W, Width % W);
      }
    window(src, 0, n, n);
  }
  // n elements, element t being src[t] for t in [lo, hi) and 0 elsewhere.
  void window(const T* src, int64_t lo, int64_t hi, int64_t n) {
    if (pos + n <= Width) {  // the common case: the run lies in one chunk
      gemm_window_run<V>(chunk + pos, src, lo, hi, n);
      advance(n);
      return;
    }
    emit(n, [&](T* d, int64_t len) {
      gemm_window_run<V>(d, src, lo, hi, len);
      src += len;
      lo -= len;
      hi -= len;
    });
  }
  void zeros(int64_t n) { window(nullptr, 0, 0, n); }
  void gather(const T* src, int64_t stride, int64_t n) {
    emit(n, [&](T* d, int64_t len) {
      for (int64_t i = 0; i < len; ++i) d[i] = src[i * stride];
      src += len * stride;
    });
  }
};

// Elements [lo, hi) of a run of `len` outputs t whose input index is first + t*step lie in
// [0, size): the run splits into zeros, valid inputs and zeros.
struct GemmValidSpan {
  int64_t lo, hi;
};
inline GemmValidSpan gemm_valid_span(int64_t first, int64_t step, int64_t size, int64_t len) {
  int64_t lo, hi;
  if (step == 1) {  // the common case, without divisions
    lo = first >= 0 ? 0 : -first;
    hi = size - first;
  } else {
    lo = first >= 0 ? 0 : (-first + step - 1) / step;
    hi = first > size - 1 ? 0 : (size - 1 - first) / step + 1;
  }
  lo = lo < len ? lo : len;
  hi = hi < len ? hi : len;
  return {lo, hi > lo ? hi : lo};
}

// Decomposing source indices costs divisions, so packing does it once per block and then
// steps along: a GemmCursor is where a run of columns q starts (planar: the plane and the
// offset in it; im2col: the output pixel), a GemmLineIter walks lines p, p + 1, ...
// (im2col: the kernel tap p = (c, ki, kj)).
struct GemmCursor {
  int64_t outer, row, col;
};

// Output pixel q (counted over the whole batch) of a convolution as (image, row, column).
inline GemmCursor gemm_pixel(const ConvGeometry& g, int64_t q) {
  const int64_t per_image = g.out_h * g.out_w;
  return {q / per_image, q % per_image / g.out_w, q % g.out_w};
}

template <class T>
GemmCursor gemm_cursor(const GemmSource<T>& s, int64_t q) {
  if (s.kind == GemmSource<T>::Kind::Planar) return {q / s.plane, 0, q % s.plane};
  return gemm_pixel(s.conv, q);
}

struct GemmTap {
  int64_t c, ki, kj;
};

inline GemmTap gemm_tap(const ConvGeometry& g, int64_t p) {
  const int64_t taps = g.kernel_h * g.kernel_w;
  return {p / taps, p % taps / g.kernel_w, p % g.kernel_w};
}

inline void gemm_next_tap(const ConvGeometry& g, GemmTap& t) {
  if (++t.kj < g.kernel_w) return;
  t.kj = 0;
  if (++t.ki < g.kernel_h) return;
  t.ki = 0;
  ++t.c;
}

template <class T>
struct GemmLineIter {
  const GemmSource<T>& s;
  int64_t p;
  GemmTap tap;

  GemmLineIter(const GemmSource<T>& source, int64_t first)
      : s(source), p(first), tap(source.kind == GemmSource<T>::Kind::Im2col ? gemm_tap(source.conv, first) : GemmTap{}) {}
  void next() {
    ++p;
    if (s.kind == GemmSource<T>::Kind::Im2col) gemm_next_tap(s.conv, tap);
  }
};

// Line `tap` of the im2col matrix, n columns from output pixel `at`: for each output pixel
// the input value the kernel tap (c, ki, kj) sees there, or 0 in the padding.
template <class V, class Writer>
void gemm_read_im2col_line(const ConvGeometry& g, const typename V::Elem* x, const GemmTap& tap, GemmCursor at,
                           int64_t n, Writer& out) {
  int64_t img = at.outer, oy = at.row, ox = at.col;
  const auto* channel = x + tap.c * g.height * g.width;
  const int64_t row_offset = tap.ki * g.dilation_h - g.pad_h, col_offset = tap.kj * g.dilation_w - g.pad_w;
  while (n > 0) {
    const int64_t len = n < g.out_w - ox ? n : g.out_w - ox;
    const int64_t iy = oy * g.stride_h + row_offset;
    if (iy < 0 || iy >= g.height) {
      out.zeros(len);
    } else {
      const auto* row = channel + img * g.image_stride + iy * g.width;
      const int64_t ix = ox * g.stride_w + col_offset;
      // Packing walks the taps of one channel before the next: fetch the next channel's row
      // ahead (once per kernel row) so that switching channels does not stall on memory.
      if (tap.kj == 0)
        for (int64_t t = 0; t < len * g.stride_w; t += 64 / int64_t(sizeof(*row)))
          __builtin_prefetch(row + g.height * g.width + ox * g.stride_w + t);
      const GemmValidSpan s = gemm_valid_span(ix, g.stride_w, g.width, len);
      if (g.stride_w == 1) {
        out.window(row + ix, s.lo, s.hi, len);
      } else {
        out.zeros(s.lo);
        out.gather(row + ix + s.lo * g.stride_w, g.stride_w, s.hi - s.lo);
        out.zeros(len - s.hi);
      }
    }
    n -= len;
    ox += len;
    if (ox == g.out_w) {
      ox = 0;
      if (++oy == g.out_h) {
        oy = 0;
        ++img;
      }
    }
  }
}

// n elements of a source line starting at column cursor `at`; `prefetch` asks for the next
// line of a planar source to be prefetched alongside (worth it for long lines only).
template <class V, class Writer>
void gemm_read_line(const GemmLineIter<typename V::Elem>& line, GemmCursor at, int64_t n, Writer& out, bool prefetch) {
  const GemmSource<typename V::Elem>& s = line.s;
  if (s.kind == GemmSource<typename V::Elem>::Kind::Im2col)
    return gemm_read_im2col_line<V>(s.conv, s.data, line.tap, at, n, out);
  int64_t plane = at.outer, offset = at.col;
  while (n > 0) {
    const int64_t len = n < s.plane - offset ? n : s.plane - offset;
    out.copy(s.data + plane * s.plane_stride + line.p * s.ld + offset, len, prefetch ? s.ld : 0);
    n -= len;
    ++plane;
    offset = 0;
  }
}

// ------------------------------------------------------------------------------- packing

// Packs source lines [p0, p0 + np), columns [q0, q0 + nq) as panels Width columns wide:
// panel t holds columns q0 + t*Width.. as rows panel[p - p0][0..Width).
template <class V, int Width>
void gemm_pack_across(const GemmSource<typename V::Elem>& s, int64_t p0, int64_t np, int64_t q0, int64_t nq,
                      typename V::Elem* dst) {
  const int64_t pad = (Width - nq % Width) % Width;
  const GemmCursor at = gemm_cursor(s, q0);
  GemmLineIter<typename V::Elem> line(s, p0);
  for (int64_t p = 0; p < np; ++p, line.next()) {
    GemmLineWriter<V, Width> out{dst + p * Width, 0, np * Width};
    gemm_read_line<V>(line, at, nq, out, true);
    out.zeros(pad);
  }
}

// gemm_pack_along for lines that are plain rows (line p starts at data + p * ld and holds the
// nq elements wanted): W×W blocks go from the rows through a register transpose straight
// into the panel. The rows of the next panel are fetched ahead, a line per row per block:
// rows a page or more apart give the hardware prefetcher runs too short to catch.
template <class V, int Width>
void gemm_pack_along_planar(const typename V::Elem* data, int64_t ld, int64_t p0, int64_t np, int64_t nq,
                            typename V::Elem* dst) {
  constexpr int W = V::W;
  for (int64_t t = 0; t * Width < np; ++t) {
    const int rows = int(np - t * Width < Width ? np - t * Width : Width);
    const auto* first = data + (p0 + t * Width) * ld;
    const int next_rows = int(np - (t + 1) * Width < Width ? np - (t + 1) * Width : Width);
    auto* panel = dst + t * Width * nq;
    for (int64_t kb = 0; kb < nq; kb += W) {
      const int cols = int(nq - kb < W ? nq - kb : W);
      for (int i = 0; i < next_rows; ++i) __builtin_prefetch(first + (Width + i) * ld + kb);
      for (int r0 = 0; r0 < Width; r0 += W) {
        const int lanes = Width - r0 < W ? Width - r0 : W;
        V block[W];
        for (int i = 0; i < W; ++i) {
          const auto* line = first + (r0 + i) * ld + kb;
          block[i] = r0 + i >= rows ? V::zero() : cols == W ? V::load(line) : V::load_partial(line, cols);
        }
        V::transpose(block);
        for (int j = 0; j < cols; ++j) block[j].store_partial(panel + (kb + j) * Width + r0, lanes);
      }
    }
  }
}

// Packs source lines [p0, p0 + np) as the columns of panels Width wide: panel t holds lines
// p0 + t*Width.., row k of it being column q0 + k of those lines (a transposing pack). Lines
// are read a chunk at a time into a buffer (the missing lines of a last, partial panel as
// zeros) and moved into the panel by in-register W×W transposes.
template <class V, int Width>
void gemm_pack_along(const GemmSource<typename V::Elem>& s, int64_t p0, int64_t np, int64_t q0, int64_t nq,
                     typename V::Elem* dst) {
  using T = typename V::Elem;
  constexpr int W = V::W, kChunk = 128, kRows = (Width + W - 1) / W * W;
  if (s.kind == GemmSource<T>::Kind::Planar && q0 % s.plane + nq <= s.plane)
    return gemm_pack_along_planar<V, Width>(s.data + q0 / s.plane * s.plane_stride + q0 % s.plane, s.ld, p0, np, nq, dst);
  alignas(64) T lines[kRows * kChunk] = {};  // rows past Width (vector padding) stay 0
  for (int64_t k0 = 0; k0 < nq; k0 += kChunk) {
    const int64_t len = nq - k0 < kChunk ? nq - k0 : kChunk;
    const GemmCursor at = gemm_cursor(s, q0 + k0);
    for (int64_t t = 0; t * Width < np; ++t) {
      const int rows = int(np - t * Width < Width ? np - t * Width : Width);
      GemmLineIter<T> line(s, p0 + t * Width);
      for (int r = 0; r < Width; ++r, line.next()) {
        GemmLineWriter<V, kChunk> out{lines + r * kChunk, 0, 0};
        if (r < rows)
          gemm_read_line<V>(line, at, len, out, false);
        else
          out.zeros(len);
      }
      T* panel = dst + t * Width * nq + k0 * Width;
      for (int r0 = 0; r0 < Width; r0 += W) {
        const int lanes = Width - r0 < W ? Width - r0 : W;
        for (int64_t kb = 0; kb < len; kb += W) {
          V block[W];
          for (int i = 0; i < W; ++i) block[i] = V::load(lines + (r0 + i) * kChunk + kb);
          V::transpose(block);
          const int64_t cols = len - kb < W ? len - kb : W;
          for (int64_t j = 0; j < cols; ++j) block[j].store_partial(panel + (kb + j) * Width + r0, lanes);
        }
      }
    }
  }
}

// A (M×K) rows [i0, i0 + mc), reduction [k0, k0 + kc) -> MR-tall micro-panels.
template <class V>
void gemm_pack_a(const GemmOperand<typename V::Elem>& a, int64_t i0, int64_t mc, int64_t k0, int64_t kc,
                 typename V::Elem* dst) {
  constexpr int MR = GemmBlocking<V>::MR;
  if (a.transposed)
    gemm_pack_across<V, MR>(a.source, k0, kc, i0, mc, dst);
  else
    gemm_pack_along<V, MR>(a.source, i0, mc, k0, kc, dst);
}

// B (K×N) reduction [k0, k0 + kc), columns [j0, j0 + nc) -> NR-wide micro-panels.
template <class V>
void gemm_pack_b(const GemmOperand<typename V::Elem>& b, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                 typename V::Elem* dst) {
  constexpr int NR = GemmBlocking<V>::NR;
  if (b.transposed)
    gemm_pack_along<V, NR>(b.source, j0, nc, k0, kc, dst);
  else
    gemm_pack_across<V, NR>(b.source, k0, kc, j0, nc, dst);
}

// --------------------------------------------------------------------------------- sinks

// Stores rows [i0, i0 + rows) × columns [j0, j0 + cols) of a tile buffer (row stride NR)
// into a planar sink, run by run (a run never crosses a plane).
template <class V>
void gemm_store_tile_planar(const GemmSink<typename V::Elem>& s, const typename V::Elem* tile, int64_t i0, int rows,
                            int64_t j0, int cols, bool first) {
  using T = typename V::Elem;
  constexpr int W = V::W, NR = GemmBlocking<V>::NR;
  const T beta = first ? s.beta : T(1);
  const T* row_bias = first ? s.row_bias : nullptr;
  const T* col_bias = first ? s.col_bias : nullptr;
  const V valpha = V::set1(s.alpha), vbeta = V::set1(beta);
  for (int jj = 0; jj < cols;) {
    const int64_t j = j0 + jj, plane = j / s.plane, offset = j % s.plane;
    const int run = int(cols - jj < s.plane - offset ? cols - jj : s.plane - offset);
    for (int i = 0; i < rows; ++i) {
      T* dst = s.data + plane * s.plane_stride + (i0 + i) * s.ld + offset;
      const T* src = tile + i * NR + jj;
      const V rb = V::set1(row_bias ? row_bias[i0 + i] : T(0));
      for (int t = 0; t < run; t += W) {
        const int n = run - t < W ? run - t : W;
        V x = V::load_partial(src + t, n) * valpha + rb;
        if (beta != T(0)) x = V::fmadd(V::load_partial(dst + t, n), vbeta, x);
        if (col_bias) x = x + V::load_partial(col_bias + j + t, n);
        x.store_partial(dst + t, n);
      }
    }
    jj += run;
  }
}

// Adds alpha * a tile of an im2col gradient into the convolution input gradient (col2im):
// tile row i is kernel tap `tap` stepped i times, column j the output pixel `at` + j.
template <class V>
void gemm_col2im_add_tile(const GemmSink<typename V::Elem>& s, const typename V::Elem* tile, const GemmTap& tap, int rows,
                          GemmCursor at, int cols) {
  using T = typename V::Elem;
  constexpr int W = V::W, NR = GemmBlocking<V>::NR;
  const ConvGeometry& g = s.conv;
  const V valpha = V::set1(s.alpha);
  int64_t img = at.outer, oy = at.row, ox = at.col;
  for (int jj = 0; jj < cols;) {
    const int run = int(cols - jj < g.out_w - ox ? cols - jj : g.out_w - ox);
    T* image = s.data + img * g.image_stride;
    GemmTap t = tap;
    for (int i = 0; i < rows; ++i, gemm_next_tap(g, t)) {
      const int64_t iy = oy * g.stride_h + t.ki * g.dilation_h - g.pad_h;
      if (iy < 0 || iy >= g.height) continue;
      T* row = image + (t.c * g.height + iy) * g.width;
      const T* src = tile + i * NR + jj;
      const int64_t ix = ox * g.stride_w + t.kj * g.dilation_w - g.pad_w;
      const GemmValidSpan span = gemm_valid_span(ix, g.stride_w, g.width, run);
      if (g.stride_w == 1) {
        T* dst = row + ix;
        for (int64_t k = span.lo; k < span.hi; k += W) {
          const int n = int(span.hi - k < W ? span.hi - k : W);
          V::fmadd(V::load_partial(src + k, n), valpha, V::load_partial(dst + k, n)).store_partial(dst + k, n);
        }
      } else {
        for (int64_t k = span.lo; k < span.hi; ++k) row[ix + k * g.stride_w] += s.alpha * src[k];
      }
    }
    jj += run;
    ox += run;
    if (ox == g.out_w) {
      ox = 0;
      if (++oy == g.out_h) {
        oy = 0;
        ++img;
      }
    }
  }
}

// ---------------------------------------------------------------------------------- driver

// Sweeps the MR×NR tiles of a packed block. Planar sinks go row panel by row panel: the A
// micro-panel stays in L1 while B's panels stream from L2 (+8% at 2048² over the other
// order). The col2im sink goes column panel by column panel, so each panel's output pixels
// are decomposed once and its scatter-adds stay within a few rows of dx.
template <class V>
void gemm_macro_kernel(const GemmSink<typename V::Elem>& s, const typename V::Elem* apack, const typename V::Elem* bpack,
                       int64_t ic, int64_t mc, int64_t jc, int64_t nc, int64_t kc, bool first) {
  using T = typename V::Elem;
  constexpr int MR = GemmBlocking<V>::MR, NR = GemmBlocking<V>::NR;
  alignas(64) T tile[MR * NR];
  const GemmTileEpilogue<T> to_buffer{T(1), T(0), nullptr, nullptr};
  if (s.kind == GemmSink<T>::Kind::Col2imAdd) {
    const GemmTap first_tap = gemm_tap(s.conv, ic);
    for (int64_t jr = 0; jr < nc; jr += NR) {
      const int cols = int(nc - jr < NR ? nc - jr : NR);
      const GemmCursor pixel = gemm_pixel(s.conv, jc + jr);
      GemmTap tap = first_tap;
      for (int64_t ir = 0; ir < mc; ir += MR) {
        const int rows = int(mc - ir < MR ? mc - ir : MR);
        gemm_micro_rows<V>(rows, kc, apack + ir * kc, bpack + jr * kc, tile, NR, to_buffer);
        gemm_col2im_add_tile<V>(s, tile, tap, rows, pixel, cols);
        for (int r = 0; r < MR; ++r) gemm_next_tap(s.conv, tap);
      }
    }
    return;
  }
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int rows = int(mc - ir < MR ? mc - ir : MR);
    const int64_t i0 = ic + ir;
    const T* ap = apack + ir * kc;
    // The next A micro-panel comes from L3 or memory (A blocks are large, see MC): fetch it
    // into L2 a few lines per tile while this row panel runs.
    const char* next_a = reinterpret_cast<const char*>(ap + MR * kc);
    const int64_t next_a_lines = ir + MR < mc ? (MR * kc * int64_t(sizeof(T)) + 63) / 64 : 0;
    const int64_t lines_per_tile = (next_a_lines * NR + nc - 1) / nc;
    int64_t next_line = 0;
    for (int64_t jr = 0; jr < nc; jr += NR) {
      for (const int64_t end = std::min(next_line + lines_per_tile, next_a_lines); next_line < end; ++next_line)
        __builtin_prefetch(next_a + next_line * 64, 0, 2);  // locality 2: L2 (prefetcht1)
      const int cols = int(nc - jr < NR ? nc - jr : NR);
      const int64_t j0 = jc + jr, plane = j0 / s.plane, offset = j0 % s.plane;
      const T* bp = bpack + jr * kc;
      if (cols == NR && offset + NR <= s.plane && gemm_rows_computed<V>(rows) == rows) {
        const GemmTileEpilogue<T> e{s.alpha, first ? s.beta : T(1), first && s.row_bias ? s.row_bias + i0 : nullptr,
                                    first && s.col_bias ? s.col_bias + j0 : nullptr};
        gemm_micro_rows<V>(rows, kc, ap, bp, s.data + plane * s.plane_stride + i0 * s.ld + offset, s.ld, e);
      } else {
        gemm_micro_rows<V>(rows, kc, ap, bp, tile, NR, to_buffer);
        gemm_store_tile_planar<V>(s, tile, i0, rows, j0, cols, first);
      }
    }
  }
}

// The block size that covers n (>= 1) in the fewest blocks of at most `max` (a multiple of
// `align`), all about equal: 576 = 3 × 192 rather than 256 + 256 + 64, whose short last
// block would pay the C tile's load and store for a third of the work.
inline int64_t gemm_balanced_block(int64_t n, int64_t max, int64_t align) {
  const int64_t blocks = (n + max - 1) / max;
  const int64_t size = (n + blocks - 1) / blocks;
  return (size + align - 1) / align * align;
}

// The depth of the reduction's slices (1 for an empty reduction, which still runs once: C =
// beta * C + bias). gemm_run and gemm_run_team must cut K alike: each element of C then gets
// the same sums in the same order, whichever runs it.
template <class V>
int64_t gemm_kc_block(const GemmRange& r) {
  return r.k1 > r.k0 ? gemm_balanced_block(r.k1 - r.k0, GemmBlocking<V>::KC, 8) : 1;
}

template <class V>
void gemm_run(const GemmProblem<typename V::Elem>& p, const GemmRange& r) {
  using T = typename V::Elem;
  using B = GemmBlocking<V>;
  if (r.m0 >= r.m1 || r.n0 >= r.n1) return;
  const int64_t nc_block = gemm_balanced_block(r.n1 - r.n0, B::NC, B::NR);
  const int64_t mc_block = gemm_balanced_block(r.m1 - r.m0, B::MC, B::MR);
  const int64_t kc_block = gemm_kc_block<V>(r);
  T* bpack = static_cast<T*>(thread_scratch(0, size_t(nc_block * kc_block) * sizeof(T)));
  T* apack = static_cast<T*>(thread_scratch(1, size_t(mc_block * kc_block) * sizeof(T)));
  // An empty reduction still runs once: C = beta * C + bias.
  int64_t pc = r.k0;
  do {
    const int64_t kc = r.k1 - pc < kc_block ? r.k1 - pc : kc_block;
    const bool first = pc == r.k0;
    for (int64_t ic = r.m0; ic < r.m1; ic += mc_block) {
      const int64_t mc = r.m1 - ic < mc_block ? r.m1 - ic : mc_block;
      gemm_pack_a<V>(p.a, ic, mc, pc, kc, apack);
      for (int64_t jc = r.n0; jc < r.n1; jc += nc_block) {
        const int64_t nc = r.n1 - jc < nc_block ? r.n1 - jc : nc_block;
        gemm_pack_b<V>(p.b, pc, kc, jc, nc, bpack);
        gemm_macro_kernel<V>(p.c, apack, bpack, ic, mc, jc, nc, kc, first);
      }
    }
    pc += kc;
  } while (pc < r.k1);
}

// ------------------------------------------------------------------------------- teams

// How gemm_run_team cuts a range: KC slices of the reduction; in each, A's slice (all rows)
// packed in parts of whole micro-panels into a buffer all members read, and C's columns cut
// into units. A member takes a unit, packs that part of B's slice into its own scratch (it
// stays in that core's L2) and sweeps all rows of C over it. A slices are double-buffered,
// so members may pack the next while others finish this one.
template <class V>
struct GemmTeamPlan {
  int64_t kc_block, unit_cols, part_rows;
  int slices, units, parts;
  size_t a_buffer;  // elements in one A buffer

  GemmTeamPlan(const GemmRange& r, int members) {
    using B = GemmBlocking<V>;
    kc_block = gemm_kc_block<V>(r);
    slices = r.k1 > r.k0 ? int((r.k1 - r.k0 + kc_block - 1) / kc_block) : 1;
    // Two units per member at least: fine enough to even out members of unequal speed;
    // at most NC wide, so that the unit's B stays in L2.
    const int64_t n = r.n1 - r.n0, target = (n + 2 * members - 1) / (2 * members);
    unit_cols = std::min<int64_t>(B::NC, (target + B::NR - 1) / B::NR * B::NR);
    units = int((n + unit_cols - 1) / unit_cols);
    const int64_t panels = (r.m1 - r.m0 + B::MR - 1) / B::MR;
    part_rows = (panels + 2 * members - 1) / (2 * members) * B::MR;
    parts = int((r.m1 - r.m0 + part_rows - 1) / part_rows);
    a_buffer = size_t(parts * part_rows * kc_block);
  }
  // Per slice: A parts taken, A parts packed, units taken, units done; then per unit the
  // slices done, which orders the updates of one block of C.
  size_t sync_words() const { return size_t(slices) * 4 + size_t(units); }
};

// Waits are short (a member finishing a unit), so they spin; past ~50 µs the member being
// waited for has probably lost its core (more threads than cores), so give it ours.
inline void gemm_wait_for(const std::atomic<int>& word, int value) {
  for (int spins = 0; word.load(std::memory_order_acquire) < value; ++spins) {
    if (spins >= 1000) {
      std::this_thread::yield();
      continue;
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
  }
}

template <class V>
GemmTeamSizes gemm_team_sizes(const GemmRange& r, int members) {
  const GemmTeamPlan<V> plan(r, members);
  return {2 * plan.a_buffer * sizeof(typename V::Elem), plan.sync_words()};
}

// Every wait below is for work already taken by a member that is running it, and that work
// only waits for work of earlier slices, so the team always finishes.
template <class V>
void gemm_run_team(const GemmProblem<typename V::Elem>& p, const GemmRange& r, const GemmTeam& team) {
  using T = typename V::Elem;
  if (r.m0 >= r.m1 || r.n0 >= r.n1) return;
  const GemmTeamPlan<V> plan(r, team.members);
  T* const a_buffers[2] = {static_cast<T*>(team.buffer), static_cast<T*>(team.buffer) + plan.a_buffer};
  T* const bpack = static_cast<T*>(thread_scratch(0, size_t(plan.unit_cols * plan.kc_block) * sizeof(T)));
  std::atomic<int>* const unit_slices = team.sync + size_t(plan.slices) * 4;
  auto word = [&](int slice, int which) -> std::atomic<int>& { return team.sync[size_t(slice) * 4 + which]; };
  int slices_complete = 0;  // slices before this one have all their units done
  for (int slice = 0; slice < plan.slices; ++slice) {
    const int64_t pc = r.k0 + slice * plan.kc_block, kc = std::min(plan.kc_block, r.k1 - pc);
    T* const apack = a_buffers[slice % 2];
    for (int part; (part = word(slice, 0).fetch_add(1, std::memory_order_relaxed)) < plan.parts;) {
      // This buffer was last read two slices ago.
      for (; slices_complete < slice - 1; ++slices_complete) gemm_wait_for(word(slices_complete, 3), plan.units);
      const int64_t i0 = r.m0 + part * plan.part_rows;
      gemm_pack_a<V>(p.a, i0, std::min(plan.part_rows, r.m1 - i0), pc, kc, apack + part * plan.part_rows * kc);
      word(slice, 1).fetch_add(1, std::memory_order_release);
    }
    gemm_wait_for(word(slice, 1), plan.parts);
    for (int unit; (unit = word(slice, 2).fetch_add(1, std::memory_order_relaxed)) < plan.units;) {
      gemm_wait_for(unit_slices[unit], slice);  // the previous slice's update of these columns of C
      const int64_t j0 = r.n0 + unit * plan.unit_cols, nc = std::min(plan.unit_cols, r.n1 - j0);
      gemm_pack_b<V>(p.b, pc, kc, j0, nc, bpack);
      gemm_macro_kernel<V>(p.c, apack, bpack, r.m0, r.m1 - r.m0, j0, nc, kc, slice == 0);
      unit_slices[unit].store(slice + 1, std::memory_order_release);
      word(slice, 3).fetch_add(1, std::memory_order_release);
    }
  }
}

template <class V>
GemmKernels<typename V::Elem> make_gemm_kernels() {
  return {GemmBlocking<V>::MR, GemmBlocking<V>::NR, gemm_run<V>, gemm_team_sizes<V>, gemm_run_team<V>};
}
