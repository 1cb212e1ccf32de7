// How the op layer feeds the GEMM kernels: operand/sink builders for the layouts ops use, and
// a static split of C among the pool's threads (the same split for the same thread count,
// so results are deterministic).
#pragma once
#include <algorithm>
#include <cstdint>

#include "cpu/kernels/gemm.h"

namespace sepconv::cpu {

// A row-major matrix with `cols` columns as a GEMM source.
template <class T>
GemmSource<T> dense_source(const T* data, int64_t cols) {
  return {GemmSource<T>::Kind::Planar, data, cols, std::max<int64_t>(cols, 1), 0, {}};
}

// Channels of an NCHW tensor seen as a [channels × N·H·W] matrix; `data` points at the
// first channel taken, `channels_total` is the tensor's channel count.
template <class T>
GemmSource<T> nchw_source(const T* data, int64_t plane, int64_t channels_total) {
  return {GemmSource<T>::Kind::Planar, data, plane, std::max<int64_t>(plane, 1), channels_total * plane, {}};
}

// The (never stored) im2col matrix of one convolution group; `data` points at its first channel.
template <class T>
GemmSource<T> im2col_source(const T* data, const ConvGeometry& g) {
  return {GemmSource<T>::Kind::Im2col, data, 0, 1, 0, g};
}

template <class T>
GemmSink<T> dense_sink(T* data, int64_t cols, T alpha, T beta) {
  return {GemmSink<T>::Kind::Planar, data, cols, std::max<int64_t>(cols, 1), 0, {}, alpha, beta, nullptr, nullptr};
}

template <class T>
GemmSink<T> nchw_sink(T* data, int64_t plane, int64_t channels_total, const T* channel_bias) {
  return {GemmSink<T>::Kind::Planar, data,  plane,  std::max<int64_t>(plane, 1), channels_total * plane, {},
          T(1),                      T(0),  channel_bias, nullptr};
}

template <class T>
GemmSink<T> col2im_sink(T* data, const ConvGeometry& g) {
  return {GemmSink<T>::Kind::Col2imAdd, data, 0, 1, 0, g, T(1), T(1), nullptr, nullptr};
}

// Work is split statically into one block per thread, and each block into a few "guided"
// pieces (1/2, 1/4, 1/8, ... of it, the last two equal). The pool hands tasks out as threads
// free up, biggest pieces first, so a thread slowed by another process on its core does not
// hold the others back, while the last piece, which a finished thread may wait for, is small.
// Which thread computes a piece does not change its bits: results stay deterministic.
constexpr int kGemmMaxPieces = 5;

// Piece `piece` of `pieces` of [begin, end) in that schedule, cut at multiples of `align`
// from begin.
void guided_piece(int64_t begin, int64_t end, int64_t align, int pieces, int piece, int64_t* piece_begin,
                  int64_t* piece_end);

// How many guided pieces a block of `size` takes so that the smallest keeps `min_size`.
int guided_pieces(int64_t size, int64_t min_size);

// C's rows and columns cut into a grid_m × grid_n grid of blocks (one per thread), each cut
// into `pieces` along its columns (or rows); block edges fall on multiples of the alignments
// (micro-tile sizes, or whole images / channels where a sink needs them).
struct GemmSplit {
  int64_t m, n, m_align, n_align;
  int grid_m, grid_n, pieces;
  bool pieces_along_n;

  int tasks() const { return grid_m * grid_n * pieces; }
  GemmRange range(int task, int64_t k0, int64_t k1) const;
};

// Picks the grid that gives the busiest thread the least (padded) work and the pieces that
// keep blocks large enough for packing to stay amortised; tiny problems run on the calling
// thread, where waking the pool would cost more than the product.
GemmSplit plan_gemm_split(int64_t m, int64_t n, int64_t k, int threads, int64_t m_align, int64_t n_align);

}  // namespace sepconv::cpu
