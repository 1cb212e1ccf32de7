// Max-pooling over a SIMD mapping V. Included inside a per-ISA namespace by
// cpu/isa/kernels.inc; do not include directly.
//
// Output columns whose windows lie wholly inside the input row are computed V::W at a time
// when the horizontal stride is 1 (contiguous loads) or 2 (even-lane loads); edge columns,
// other strides and the leftover columns go one window at a time. Both paths visit a window
// in the same order with the same replacement rule, so they pick the same argmax.

// The kernel taps [begin, end) of a window starting at input position `start` that fall
// inside [0, size) (along one axis).
struct PoolTaps {
  int64_t begin, end;
};

inline PoolTaps pool_valid_taps(int64_t start, int64_t taps, int64_t dilation, int64_t size) {
  const int64_t begin = start < 0 ? (-start + dilation - 1) / dilation : 0;
  const int64_t reach = size - start <= 0 ? 0 : (size - start + dilation - 1) / dilation;
  const int64_t end = reach < taps ? reach : taps;
  return {begin, end};
}

template <class T>
void max_pool_window(const Pool2dGeometry& g, const T* plane, int64_t hstart, PoolTaps rows, int64_t ow, T* out,
                     int32_t* index) {
  const int64_t wstart = ow * g.stride_w - g.pad_w;
  const PoolTaps cols = pool_valid_taps(wstart, g.kernel_w, g.dilation_w, g.in_w);
  T best = T(-INFINITY);
  int64_t best_at = -1;
  for (int64_t i = rows.begin; i < rows.end; ++i) {
    const int64_t row = (hstart + i * g.dilation_h) * g.in_w;
    for (int64_t j = cols.begin; j < cols.end; ++j) {
      const int64_t at = row + wstart + j * g.dilation_w;
      const T v = plane[at];
      if (best_at < 0 || v > best || v != v) {
        best = v;
        best_at = at;
      }
    }
  }
  *out = best;
  *index = int32_t(best_at);
}

// `lanes` (at most V::W) adjacent output columns starting at `ow`, all windows inside the
// row; kStride is the horizontal stride (1 or 2); kPartial selects masked loads and stores.
template <class V, int kStride, bool kPartial>
void max_pool_columns(const Pool2dGeometry& g, const typename V::Elem* plane, int64_t hstart, PoolTaps rows,
                      int64_t ow, int lanes, typename V::Elem* out, int32_t* index) {
  using Index = typename V::Index;
  auto load = [lanes](const typename V::Elem* p) {
    if constexpr (kPartial) return kStride == 1 ? V::load_partial(p, lanes) : V::load_even_range(p, 0, lanes);
    return kStride == 1 ? V::load(p) : V::load_even(p);
  };
  const Index lane_offsets = Index::lanes(kStride);
  const int64_t wstart = ow * kStride - g.pad_w;
  V best = V::zero();
  Index best_at = Index::set1(0);
  for (int64_t i = rows.begin; i < rows.end; ++i) {
    const int64_t row = (hstart + i * g.dilation_h) * g.in_w + wstart;
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      const int64_t at = row + j * g.dilation_w;
      const V v = load(plane + at);
      const Index v_at = Index::set1(int32_t(at)) + lane_offsets;
      if (i == rows.begin && j == 0) {
        best = v;
        best_at = v_at;
        continue;
      }
      const typename V::Mask m = V::gt_or_nan(v, best);
      best = V::select(m, v, best);
      best_at = Index::select(m, v_at, best_at);
    }
  }
  if constexpr (kPartial) {
    best.store_partial(out, lanes);
    best_at.store_partial(index, lanes);
  } else {
    best.store(out);
    best_at.store(index);
  }
}

template <class V, int kStride>
void max_pool_inner(const Pool2dGeometry& g, const typename V::Elem* plane, int64_t hstart, PoolTaps rows,
                    int64_t begin, int64_t end, typename V::Elem* out, int32_t* index) {
  constexpr int W = V::W;
  int64_t ow = begin;
  for (; ow + W <= end; ow += W) max_pool_columns<V, kStride, false>(g, plane, hstart, rows, ow, W, out + ow, index + ow);
  if (ow < end) max_pool_columns<V, kStride, true>(g, plane, hstart, rows, ow, int(end - ow), out + ow, index + ow);
}

template <class V>
void max_pool2d_rows(const Pool2dGeometry& g, const typename V::Elem* plane, typename V::Elem* out_plane,
                     int32_t* index_plane, int64_t row_begin, int64_t row_end) {
  using T = typename V::Elem;
  // Columns whose whole window is inside the row: [inner_begin, inner_end).
  // No std::min/max here: an inline std template compiled with AVX flags could be the copy
  // the linker keeps for baseline code too.
  const int64_t first_inside = (g.pad_w + g.stride_w - 1) / g.stride_w;
  const int64_t inner_begin = first_inside < g.out_w ? first_inside : g.out_w;
  const int64_t last_start = g.in_w - 1 - (g.kernel_w - 1) * g.dilation_w + g.pad_w;
  const int64_t past_inside = last_start < 0 ? 0 : last_start / g.stride_w + 1;
  const int64_t inner_end = past_inside < inner_begin ? inner_begin : past_inside < g.out_w ? past_inside : g.out_w;
  const bool vectorised = g.stride_w == 1 || g.stride_w == 2;
  for (int64_t oh = row_begin; oh < row_end; ++oh) {
    T* out = out_plane + oh * g.out_w;
    int32_t* index = index_plane + oh * g.out_w;
    const int64_t hstart = oh * g.stride_h - g.pad_h;
    const PoolTaps rows = pool_valid_taps(hstart, g.kernel_h, g.dilation_h, g.in_h);
    int64_t ow = 0;
    if (vectorised && rows.begin < rows.end) {
      for (; ow < inner_begin; ++ow) max_pool_window(g, plane, hstart, rows, ow, out + ow, index + ow);
      if (g.stride_w == 1)
        max_pool_inner<V, 1>(g, plane, hstart, rows, inner_begin, inner_end, out, index);
      else
        max_pool_inner<V, 2>(g, plane, hstart, rows, inner_begin, inner_end, out, index);
      ow = inner_end;
    }
    for (; ow < g.out_w; ++ow) max_pool_window(g, plane, hstart, rows, ow, out + ow, index + ow);
  }
}

template <class V>
PoolKernels<typename V::Elem> make_pool_kernels() {
  return {max_pool2d_rows<V>};
}
