#include "cpu/ops/gemm_plan.h"

namespace sepconv::cpu {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Products below this many multiply-adds run on one thread.
constexpr int64_t kMinParallelWork = int64_t(1) << 17;

// Pieces stay at least this large, so that splitting does not multiply the packing of the
// operand each piece repacks (A per column block, B per row block): a piece of r rows packs
// all of B, which costs about as much as r = 30 rows of products (memory-bound copy against
// the micro-kernel's rate), so 1024-row pieces spend ~3% on it and 512-row ones ~6%.
constexpr int64_t kMinPieceColumns = 1024;
constexpr int64_t kMinPieceRows = 1024;

// Bounds of block `index` of `blocks` over [0, size) in units of `align`.
void block_bounds(int64_t size, int64_t align, int blocks, int index, int64_t* begin, int64_t* end) {
  const int64_t units = ceil_div(size, align);
  *begin = std::min(size, units * index / blocks * align);
  *end = std::min(size, units * (index + 1) / blocks * align);
}

}  // namespace

void guided_piece(int64_t begin, int64_t end, int64_t align, int pieces, int piece, int64_t* piece_begin,
                  int64_t* piece_end) {
  const int64_t units = ceil_div(end - begin, align);
  // Piece i starts where the halvings leave units >> i units (the last one ends at the end).
  auto start = [&](int i) { return i == 0 ? 0 : i >= pieces ? units : units - (units >> i); };
  *piece_begin = std::min(end, begin + start(piece) * align);
  *piece_end = std::min(end, begin + start(piece + 1) * align);
}

int guided_pieces(int64_t size, int64_t min_size) {
  int pieces = 1;
  while (pieces < kGemmMaxPieces && (size >> pieces) >= min_size) ++pieces;
  return pieces;
}

GemmRange GemmSplit::range(int task, int64_t k0, int64_t k1) const {
  GemmRange r{0, 0, 0, 0, k0, k1};
  const int block = task % (grid_m * grid_n), piece = task / (grid_m * grid_n);
  block_bounds(m, m_align, grid_m, block / grid_n, &r.m0, &r.m1);
  block_bounds(n, n_align, grid_n, block % grid_n, &r.n0, &r.n1);
  if (pieces_along_n)
    guided_piece(r.n0, r.n1, n_align, pieces, piece, &r.n0, &r.n1);
  else
    guided_piece(r.m0, r.m1, m_align, pieces, piece, &r.m0, &r.m1);
  return r;
}

GemmSplit plan_gemm_split(int64_t m, int64_t n, int64_t k, int threads, int64_t m_align, int64_t n_align) {
  m_align = std::max<int64_t>(m_align, 1);
  n_align = std::max<int64_t>(n_align, 1);
  GemmSplit best{m, n, m_align, n_align, 1, 1, 1, true};
  if (threads <= 1 || m * n * std::max<int64_t>(k, 1) < kMinParallelWork) return best;
  const int64_t m_units = ceil_div(m, m_align), n_units = ceil_div(n, n_align);
  auto work = [&](int grid_m) {
    return ceil_div(m_units, grid_m) * m_align * ceil_div(n_units, threads / grid_m) * n_align;
  };
  int64_t least_work = -1;
  for (int grid_m = 1; grid_m <= threads; ++grid_m)
    if (threads % grid_m == 0 && (least_work < 0 || work(grid_m) < least_work)) least_work = work(grid_m);
  // Among grids within 1/64 of the least work, split the longer side: each block then
  // re-packs the smaller operand (2048² on 2 threads: 1032 rows each rather than 1024
  // columns each, so A's transposing pack is not done twice; +3% measured).
  for (int grid_m = 1; grid_m <= threads; ++grid_m) {
    if (threads % grid_m != 0 || work(grid_m) * 64 > least_work * 65) continue;
    const bool better = m >= n ? grid_m > best.grid_m : threads / grid_m > best.grid_n;
    if (best.grid_m * best.grid_n == 1 || better) {
      best.grid_m = grid_m;
      best.grid_n = threads / grid_m;
    }
  }
  // Pieces along the side already split (or the longer one).
  best.pieces_along_n = best.grid_n > 1 || (best.grid_m == 1 && n >= m);
  best.pieces = best.pieces_along_n ? guided_pieces(n / best.grid_n, std::max(kMinPieceColumns, n_align))
                                    : guided_pieces(m / best.grid_m, std::max(kMinPieceRows, m_align));
  return best;
}

}  // namespace sepconv::cpu
