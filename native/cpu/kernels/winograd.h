// Winograd F(4×4, 3×3) transforms for 3×3 stride-1 convolutions (Lavin & Gray): a 6×6 input
// tile d and a 3×3 filter g give the 4×4 output tile Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, 36 products
// instead of 144. Summed over input channels, the products are 36 independent GEMMs
// M[ξ] = V[ξ]·U[ξ] (ξ the transform point) that the op layer runs on the packed GEMM.
//
// Layouts (all dense): filters U[36][in_c][out_c] or [36][out_c][in_c]; a block of
// tile rows V[36][tiles][in_c] and M[36][tiles][out_c]. Tile transforms vectorise across
// channels: rows of W channels are loaded from NCHW and turned channel-major by the
// mapping's W×W transpose (no gathers), the 6×6 arithmetic is then lane-wise.
#pragma once
#include <cstdint>

namespace sepconv::cpu {

constexpr int kWinogradPoints = 36;  // 6×6 transform points per tile

// A 3×3 stride-1 convolution of an [N, in_c, in_h, in_w] input to [N, out_c, out_h, out_w].
// Output tiles are 4×4; a tile row (image n, tile row ty) is counted over the whole batch
// as n * tiles_h() + ty, and tile (row, tx) of a block sits at (row - row0) * tiles_w() + tx.
struct WinogradGeometry {
  int64_t batch, in_c, in_h, in_w, out_c, out_h, out_w, pad_h, pad_w;
  int64_t tiles_h() const { return (out_h + 3) / 4; }
  int64_t tiles_w() const { return (out_w + 3) / 4; }
};

template <class T>
struct WinogradKernels {
  // u[ξ][a][b] = (G g Gᵀ)[ξ] for the filter g = w[o][c] of a weight [out_c][in_c][3][3], with
  // (a, b) = (c, o) when `in_major` (the forward GEMM's [in_c × out_c] operand) else (o, c);
  // rows a in [a0, a1). `flip` rotates each filter by 180° first (the input gradient's
  // convolution).
  void (*filter_transform)(const T* w, int64_t out_c, int64_t in_c, bool in_major, bool flip, int64_t a0, int64_t a1,
                           T* u);
  // dw[f] = Gᵀ du[·][f] G for f in [f0, f1): the adjoint, giving the 3×3 weight gradient.
  void (*filter_adjoint)(const T* du, int64_t filters, int64_t f0, int64_t f1, T* dw);
  // V[ξ][tile][c] = (Bᵀ d B)[ξ] of the input tiles of tile rows [row0, row0 + rows); the
  // padding reads as 0.
  void (*input_transform)(const WinogradGeometry& g, const T* x, int64_t row0, int64_t rows, T* v);
  // Output tiles of those rows: y = Aᵀ M A (+ bias[o]), clipped to the output plane.
  void (*output_transform)(const WinogradGeometry& g, const T* m, int64_t row0, int64_t rows, const T* bias, T* y);
  // The adjoint of output_transform: dM[ξ][tile][o] = (A dY Aᵀ)[ξ], dY read as 0 outside the
  // output plane (the weight gradient's side of dy).
  void (*output_adjoint)(const WinogradGeometry& g, const T* dy, int64_t row0, int64_t rows, T* dm);
};

}  // namespace sepconv::cpu
