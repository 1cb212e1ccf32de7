// GEMM over a SIMD mapping V (see gemm.h for the operand and sink model). Included inside a
// per-ISA namespace by cpu/isa/kernels.inc; do not include directly.
//
// Loop nest (BLIS): for each NC-wide block of C's columns, for each KC-deep slice of the
// reduction, pack B's KC×NC block into NR-wide micro-panels; for each MC-tall block of rows,
// pack A's MC×KC block into MR-tall micro-panels; then sweep MR×NR tiles with the micro-kernel.
// Micro-panels are stored k-major (panel[k][0..width)), zero-padded to full width, so the
// micro-kernel never branches on edges; only the store of an edge tile goes through a buffer.

// Register blocking and cache blocking per vector width. The micro-kernel keeps an MR×NR tile
// of C in MR·NV vector registers and per k loads NV vectors of B and broadcasts MR values of A.
template <class V>
struct GemmBlocking {
  static constexpr int W = V::W;
  static constexpr int MR = W >= 16 ? 12 : (W == 8 ? 6 : 4);
  static constexpr int NV = W >= 8 ? 2 : 4;
  static constexpr int NR = NV * W;
  static constexpr int64_t KC = 256;                      // B micro-panel (KC×NR) stays in L1
  static constexpr int64_t MC = (W >= 8 ? 40 : 32) * MR;  // A block (MC×KC) stays in L2
  static constexpr int64_t NC = 4096 / NR * NR;           // B block (KC×NC) in L3
};

// How a finished tile combines with C: alpha * AB + beta * C + row_bias[i] + col_bias[j].
template <class T>
struct GemmTileEpilogue {
  T alpha, beta;
  const T* row_bias;  // MR values or null
  const T* col_bias;  // NR values or null
};

template <class V, int MR, int NV>
void gemm_micro_kernel(int64_t kc, const typename V::Elem* a, const typename V::Elem* b, typename V::Elem* c,
                       int64_t ldc, const GemmTileEpilogue<typename V::Elem>& e) {
  using T = typename V::Elem;
  constexpr int W = V::W;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
  for (int64_t k = 0; k < kc; ++k) {
    V bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * W);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const V ai = V::set1(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = V::fmadd(ai, bv[v], acc[i][v]);
    }
    a += MR;
    b += NV * W;
  }
  const V alpha = V::set1(e.alpha), beta = V::set1(e.beta);
#pragma GCC unroll 16
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

// ------------------------------------------------------------------------------ line reads

template <class V>
inline void gemm_copy_run(typename V::Elem* dst, const typename V::Elem* src, int64_t n) {
  constexpr int W = V::W;
  int64_t i = 0;
  for (; i + W <= n; i += W) V::load(src + i).store(dst + i);
  if (i < n) V::load_partial(src + i, int(n - i)).store_partial(dst + i, int(n - i));
}

template <class V>
inline void gemm_zero_run(typename V::Elem* dst, int64_t n) {
  constexpr int W = V::W;
  int64_t i = 0;
  for (; i + W <= n; i += W) V::zero().store(dst + i);
  if (i < n) V::zero().store_partial(dst + i, int(n - i));
}

// Receives one line of a source as runs (copies, strided gathers, zeros) and lays it out in
// consecutive chunks of `width` elements, `chunk_stride` apart (a row of consecutive
// micro-panels); width >= the line length makes it a plain contiguous buffer.
template <class V>
struct GemmLineWriter {
  using T = typename V::Elem;
  T* chunk;
  int64_t pos, width, chunk_stride;

  template <class Emit>
  void emit(int64_t n, Emit&& run) {
    while (n > 0) {
      const int64_t len = n < width - pos ? n : width - pos;
      run(chunk + pos, len);
      n -= len;
      pos += len;
      if (pos == width) {
        chunk += chunk_stride;
        pos = 0;
      }
    }
  }
  void copy(const T* src, int64_t n) {
    emit(n, [&](T* d, int64_t len) {
      gemm_copy_run<V>(d, src, len);
      src += len;
    });
  }
  void gather(const T* src, int64_t stride, int64_t n) {
    emit(n, [&](T* d, int64_t len) {
      for (int64_t i = 0; i < len; ++i) d[i] = src[i * stride];
      src += len * stride;
    });
  }
  void zeros(int64_t n) {
    emit(n, [&](T* d, int64_t len) { gemm_zero_run<V>(d, len); });
  }
};

// Elements [lo, hi) of a run of `len` outputs t whose input index is first + t*step lie in
// [0, size): the run splits into zeros, valid inputs and zeros.
struct GemmValidSpan {
  int64_t lo, hi;
};
inline GemmValidSpan gemm_valid_span(int64_t first, int64_t step, int64_t size, int64_t len) {
  int64_t lo = first >= 0 ? 0 : (-first + step - 1) / step;
  int64_t hi = first > size - 1 ? 0 : (size - 1 - first) / step + 1;
  lo = lo < len ? lo : len;
  hi = hi < len ? hi : len;
  return {lo, hi > lo ? hi : lo};
}

// Line p of the im2col matrix, columns [q, q + n): for each output pixel (n, oy, ox) the
// input value the kernel tap p = (c, ki, kj) sees there, or 0 in the padding.
template <class V, class Writer>
void gemm_read_im2col_line(const ConvGeometry& g, const typename V::Elem* x, int64_t p, int64_t q, int64_t n,
                           Writer& out) {
  const int64_t taps = g.kernel_h * g.kernel_w;
  const int64_t c = p / taps, ki = p % taps / g.kernel_w, kj = p % g.kernel_w;
  const int64_t per_image = g.out_h * g.out_w;
  int64_t img = q / per_image, oy = q % per_image / g.out_w, ox = q % g.out_w;
  const auto* channel = x + c * g.height * g.width;
  const int64_t row_offset = ki * g.dilation_h - g.pad_h, col_offset = kj * g.dilation_w - g.pad_w;
  while (n > 0) {
    const int64_t len = n < g.out_w - ox ? n : g.out_w - ox;
    const int64_t iy = oy * g.stride_h + row_offset;
    if (iy < 0 || iy >= g.height) {
      out.zeros(len);
    } else {
      const auto* row = channel + img * g.image_stride + iy * g.width;
      const int64_t ix = ox * g.stride_w + col_offset;
      const GemmValidSpan s = gemm_valid_span(ix, g.stride_w, g.width, len);
      out.zeros(s.lo);
      if (g.stride_w == 1)
        out.copy(row + ix + s.lo, s.hi - s.lo);
      else
        out.gather(row + ix + s.lo * g.stride_w, g.stride_w, s.hi - s.lo);
      out.zeros(len - s.hi);
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

template <class V, class Writer>
void gemm_read_line(const GemmSource<typename V::Elem>& s, int64_t p, int64_t q, int64_t n, Writer& out) {
  if (s.kind == GemmSource<typename V::Elem>::Kind::Im2col) return gemm_read_im2col_line<V>(s.conv, s.data, p, q, n, out);
  int64_t plane = q / s.plane, offset = q % s.plane;
  while (n > 0) {
    const int64_t len = n < s.plane - offset ? n : s.plane - offset;
    out.copy(s.data + plane * s.plane_stride + p * s.ld + offset, len);
    n -= len;
    ++plane;
    offset = 0;
  }
}

// ------------------------------------------------------------------------------- packing

// Packs source lines [p0, p0 + np), columns [q0, q0 + nq) as panels `width` columns wide:
// panel t holds columns q0 + t*width.. as rows panel[p - p0][0..width).
template <class V>
void gemm_pack_across(const GemmSource<typename V::Elem>& s, int64_t p0, int64_t np, int64_t q0, int64_t nq, int width,
                      typename V::Elem* dst) {
  const int64_t pad = (width - nq % width) % width;
  for (int64_t p = 0; p < np; ++p) {
    GemmLineWriter<V> out{dst + p * width, 0, width, np * width};
    gemm_read_line<V>(s, p0 + p, q0, nq, out);
    out.zeros(pad);
  }
}

// Packs source lines [p0, p0 + np) as the columns of panels `width` wide: panel t holds lines
// p0 + t*width.., row k of it being column q0 + k of those lines (a transposing pack).
template <class V>
void gemm_pack_along(const GemmSource<typename V::Elem>& s, int64_t p0, int64_t np, int64_t q0, int64_t nq, int width,
                     typename V::Elem* dst) {
  using T = typename V::Elem;
  constexpr int64_t kChunk = 64;
  constexpr int kMaxWidth = GemmBlocking<V>::NR > GemmBlocking<V>::MR ? GemmBlocking<V>::NR : GemmBlocking<V>::MR;
  alignas(64) T lines[kMaxWidth * kChunk];
  for (int64_t t = 0; t * width < np; ++t) {
    T* panel = dst + t * width * nq;
    const int rows = int(np - t * width < width ? np - t * width : width);
    for (int64_t k0 = 0; k0 < nq; k0 += kChunk) {
      const int64_t len = nq - k0 < kChunk ? nq - k0 : kChunk;
      for (int r = 0; r < rows; ++r) {
        GemmLineWriter<V> out{lines + r * kChunk, 0, kChunk, 0};
        gemm_read_line<V>(s, p0 + t * width + r, q0 + k0, len, out);
      }
      for (int64_t k = 0; k < len; ++k) {
        T* row = panel + (k0 + k) * width;
        for (int r = 0; r < rows; ++r) row[r] = lines[r * kChunk + k];
        for (int r = rows; r < width; ++r) row[r] = T(0);
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
    gemm_pack_across<V>(a.source, k0, kc, i0, mc, MR, dst);
  else
    gemm_pack_along<V>(a.source, i0, mc, k0, kc, MR, dst);
}

// B (K×N) reduction [k0, k0 + kc), columns [j0, j0 + nc) -> NR-wide micro-panels.
template <class V>
void gemm_pack_b(const GemmOperand<typename V::Elem>& b, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
                 typename V::Elem* dst) {
  constexpr int NR = GemmBlocking<V>::NR;
  if (b.transposed)
    gemm_pack_along<V>(b.source, j0, nc, k0, kc, NR, dst);
  else
    gemm_pack_across<V>(b.source, k0, kc, j0, nc, NR, dst);
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

// Adds alpha * a tile of an im2col gradient into the convolution input gradient (col2im).
template <class V>
void gemm_col2im_add_tile(const GemmSink<typename V::Elem>& s, const typename V::Elem* tile, int64_t i0, int rows,
                          int64_t j0, int cols) {
  using T = typename V::Elem;
  constexpr int W = V::W, NR = GemmBlocking<V>::NR;
  const ConvGeometry& g = s.conv;
  const V valpha = V::set1(s.alpha);
  const int64_t taps = g.kernel_h * g.kernel_w, per_image = g.out_h * g.out_w;
  int64_t img = j0 / per_image, oy = j0 % per_image / g.out_w, ox = j0 % g.out_w;
  for (int jj = 0; jj < cols;) {
    const int run = int(cols - jj < g.out_w - ox ? cols - jj : g.out_w - ox);
    T* image = s.data + img * g.image_stride;
    for (int i = 0; i < rows; ++i) {
      const int64_t p = i0 + i, c = p / taps, ki = p % taps / g.kernel_w, kj = p % g.kernel_w;
      const int64_t iy = oy * g.stride_h + ki * g.dilation_h - g.pad_h;
      if (iy < 0 || iy >= g.height) continue;
      T* row = image + (c * g.height + iy) * g.width;
      const T* src = tile + i * NR + jj;
      const int64_t ix = ox * g.stride_w + kj * g.dilation_w - g.pad_w;
      const GemmValidSpan span = gemm_valid_span(ix, g.stride_w, g.width, run);
      if (g.stride_w == 1) {
        T* dst = row + ix;
        for (int64_t t = span.lo; t < span.hi; t += W) {
          const int n = int(span.hi - t < W ? span.hi - t : W);
          V::fmadd(V::load_partial(src + t, n), valpha, V::load_partial(dst + t, n)).store_partial(dst + t, n);
        }
      } else {
        for (int64_t t = span.lo; t < span.hi; ++t) row[ix + t * g.stride_w] += s.alpha * src[t];
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

template <class V>
void gemm_macro_kernel(const GemmSink<typename V::Elem>& s, const typename V::Elem* apack, const typename V::Elem* bpack,
                       int64_t ic, int64_t mc, int64_t jc, int64_t nc, int64_t kc, bool first) {
  using T = typename V::Elem;
  using B = GemmBlocking<V>;
  constexpr int MR = B::MR, NR = B::NR;
  const bool planar = s.kind == GemmSink<T>::Kind::Planar;
  const GemmTileEpilogue<T> to_buffer{T(1), T(0), nullptr, nullptr};
  alignas(64) T tile[MR * NR];
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int cols = int(nc - jr < NR ? nc - jr : NR);
    const int64_t j0 = jc + jr;
    const int64_t plane = planar ? j0 / s.plane : 0, offset = planar ? j0 % s.plane : 0;
    const bool direct_cols = planar && cols == NR && offset + NR <= s.plane;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int rows = int(mc - ir < MR ? mc - ir : MR);
      const int64_t i0 = ic + ir;
      const T* ap = apack + ir * kc;
      const T* bp = bpack + jr * kc;
      if (direct_cols && rows == MR) {
        const GemmTileEpilogue<T> e{s.alpha, first ? s.beta : T(1), first && s.row_bias ? s.row_bias + i0 : nullptr,
                                    first && s.col_bias ? s.col_bias + j0 : nullptr};
        gemm_micro_kernel<V, MR, B::NV>(kc, ap, bp, s.data + plane * s.plane_stride + i0 * s.ld + offset, s.ld, e);
        continue;
      }
      gemm_micro_kernel<V, MR, B::NV>(kc, ap, bp, tile, NR, to_buffer);
      if (planar)
        gemm_store_tile_planar<V>(s, tile, i0, rows, j0, cols, first);
      else
        gemm_col2im_add_tile<V>(s, tile, i0, rows, j0, cols);
    }
  }
}

template <class V>
void gemm_run(const GemmProblem<typename V::Elem>& p, const GemmRange& r) {
  using T = typename V::Elem;
  using B = GemmBlocking<V>;
  if (r.m0 >= r.m1 || r.n0 >= r.n1) return;
  const int64_t nc_max = r.n1 - r.n0 < B::NC ? r.n1 - r.n0 : B::NC;
  const int64_t mc_max = r.m1 - r.m0 < B::MC ? r.m1 - r.m0 : B::MC;
  const int64_t kc_max = r.k1 - r.k0 < B::KC ? r.k1 - r.k0 : B::KC;
  const int64_t nc_padded = (nc_max + B::NR - 1) / B::NR * B::NR, mc_padded = (mc_max + B::MR - 1) / B::MR * B::MR;
  T* bpack = static_cast<T*>(thread_scratch(0, size_t(nc_padded * kc_max + B::NR) * sizeof(T)));
  T* apack = static_cast<T*>(thread_scratch(1, size_t(mc_padded * kc_max + B::MR) * sizeof(T)));
  for (int64_t jc = r.n0; jc < r.n1; jc += B::NC) {
    const int64_t nc = r.n1 - jc < B::NC ? r.n1 - jc : B::NC;
    // An empty reduction still runs once: C = beta * C + bias.
    int64_t pc = r.k0;
    do {
      const int64_t kc = r.k1 - pc < B::KC ? r.k1 - pc : B::KC;
      const bool first = pc == r.k0;
      gemm_pack_b<V>(p.b, pc, kc, jc, nc, bpack);
      for (int64_t ic = r.m0; ic < r.m1; ic += B::MC) {
        const int64_t mc = r.m1 - ic < B::MC ? r.m1 - ic : B::MC;
        gemm_pack_a<V>(p.a, ic, mc, pc, kc, apack);
        gemm_macro_kernel<V>(p.c, apack, bpack, ic, mc, jc, nc, kc, first);
      }
      pc += kc;
    } while (pc < r.k1);
  }
}

template <class V>
GemmKernels<typename V::Elem> make_gemm_kernels() {
  return {GemmBlocking<V>::MR, GemmBlocking<V>::NR, gemm_run<V>};
}
