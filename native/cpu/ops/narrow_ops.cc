// Copies between slices along one dim (CPU): cat writes each input into its slice of the
// output, split/narrow and cat's backward read slices back out. Any dtype (a byte copy).
#include <algorithm>
#include <cstring>

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
  const int64_t dim = c.iparam(0), src_start = c.iparam(1), dst_start = c.iparam(2), length = c.iparam(3);
  check_dtype(c, "dst", dst, src.dtype);
  SEPCONV_CHECK(src.ndim == dst.ndim, "narrow_copy: src has ", src.ndim, " dims but dst has ", dst.ndim);
  SEPCONV_CHECK(dim >= 0 && dim < src.ndim, "narrow_copy: dim ", dim, " is out of range for ", src.ndim, " dims");
  for (int d = 0; d < src.ndim; ++d)
    SEPCONV_CHECK(d == dim || src.shape[d] == dst.shape[d], "narrow_copy: src and dst differ at dim ", d, " (",
                  src.shape[d], " vs ", dst.shape[d], ")");
  SEPCONV_CHECK(length >= 0 && src_start >= 0 && dst_start >= 0 && src_start + length <= src.shape[dim] &&
                    dst_start + length <= dst.shape[dim],
                "narrow_copy: slice [", src_start, ", ", src_start + length, ") -> [", dst_start, ", ",
                dst_start + length, ") does not fit sizes ", src.shape[dim], " and ", dst.shape[dim]);
  // Per index of the dims before `dim`, the slice is one contiguous block in both tensors.
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < dim; ++d) outer *= src.shape[d];
  for (int d = int(dim) + 1; d < src.ndim; ++d) inner *= src.shape[d];
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
