// Copies between slices along one dim (CPU): cat writes each input into its slice of the
// output, split/narrow and cat's backward read slices back out. Any dtype (a byte copy).
#include <algorithm>
#include <cstring>

#include "core/checks/elementwise.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

// Pieces of at most this many bytes are the unit of parallel work, so that one large slice
// still spreads over every thread; a task copies its consecutive pieces in one call.
constexpr size_t kCopyPieceBytes = size_t(1) << 16;
constexpr size_t kCopyGrainBytes = size_t(1) << 18;

}  // namespace

void narrow_copy(const OpCall& c) {
  const TensorArg &src = c.in(0), &dst = c.out(0);
  const NarrowSlice slice = check_narrow_copy(c);
  const int64_t dim = slice.dim, src_start = slice.src_start, dst_start = slice.dst_start, length = slice.length,
                outer = slice.outer, inner = slice.inner;
  const size_t elem = dtype_size(src.dtype);
  const size_t block = size_t(length * inner) * elem;
  if (block == 0 || outer == 0) return;
  const size_t src_rows = size_t(src.shape[dim]), dst_rows = size_t(dst.shape[dim]);
  const size_t piece = std::min(block, kCopyPieceBytes), pieces = (block + piece - 1) / piece;
  const auto* from = static_cast<const unsigned char*>(src.data);
  auto* to = static_cast<unsigned char*>(dst.data);
  c.ctx.pool.parallel_for(size_t(outer) * pieces, std::max<size_t>(1, kCopyGrainBytes / piece), [&](size_t s, size_t e) {
    // One memcpy per block this task touches: large copies let memcpy use streaming stores.
    for (size_t u = s; u < e;) {
      const size_t o = u / pieces, run_end = std::min(e, (o + 1) * pieces);
      const size_t skip = (u % pieces) * piece, bytes = std::min(block, (run_end - o * pieces) * piece) - skip;
      const size_t src_at = ((o * src_rows + size_t(src_start)) * size_t(inner)) * elem + skip;
      const size_t dst_at = ((o * dst_rows + size_t(dst_start)) * size_t(inner)) * elem + skip;
      std::memcpy(to + dst_at, from + src_at, bytes);
      u = run_end;
    }
  });
}

}  // namespace sepconv::cpu::ops
