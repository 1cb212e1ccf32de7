// Which algorithm a regular convolution op runs (direct depthwise, pointwise GEMM, Winograd,
// im2col GEMM), chosen in one place for both backends from the same operand description (host-only, no CPU-only includes). A backend states what it
// has (Winograd kernels, its thread count); the predicates below are the only definitions of
// when a path is correct, so the backends cannot drift apart (a CPU copy of "pointwise" that
// lacked the same-size condition once made 1x1 transposed convolutions with an output
// padding read past the plane).
#pragma once
#include <cstdint>

#include "core/checks/conv.h"
#include "core/output_size.h"

namespace sepconv {

enum class ConvAlgorithm {
  DirectDepthwise,  // groups == channels: the depthwise op's direct kernels, no GEMM
  PointwiseGemm,  // 1x1 and the plane read in place: a plain GEMM on the NCHW tensors
  Winograd,       // F(4x4, 3x3) tiles (CPU float32)
  Im2colGemm,     // the general path
};

// The three ops of a convolution.
enum class ConvPass { Forward, InputGrad, WeightGrad };

struct ConvChoice {
  const Conv2dShape& shape;
  DType dtype;
  ConvPass pass;
  bool bias;               // the op has a bias operand
  ConvAlgo requested;      // the environment's test hook (auto, or one forced path)
  Float32Precision precision;  // the environment's policy (sc.setFloat32Precision)
  bool winograd_kernels;   // the backend has them
  int threads;             // the backend's workers (the weight gradient keeps a copy per thread)
};

// groups == channels (weight [C*m, 1, kh, kw]) with the full output size: the depthwise ops
// take the same operands, except that their input gradient has no bias (conv_transpose2d's).
inline bool conv_is_depthwise(const Conv2dShape& s, ConvPass pass, bool bias) {
  return s.groups > 1 && s.groups == s.in_c && !(pass == ConvPass::InputGrad && bias) &&
         s.out_h == output_size(s.in_h, s.kernel_h, s.stride_h, s.pad_h, s.dilation_h) &&
         s.out_w == output_size(s.in_w, s.kernel_w, s.stride_w, s.pad_w, s.dilation_w);
}

// 1x1, stride 1, unpadded, and output plane == input plane: output pixel p reads input pixel p
// (whatever the dilation), so the NCHW tensors are the GEMM's operands as they are. A
// smaller output (a transposed conv's output padding makes dx larger than dy) is not.
inline bool conv_is_pointwise(const Conv2dShape& s) {
  return s.kernel_h == 1 && s.kernel_w == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_h == 0 && s.pad_w == 0 &&
         s.out_h == s.in_h && s.out_w == s.in_w;
}

// Winograd F(4x4, 3x3) is defined for float32, ungrouped 3x3, stride 1, undilated, full-size
// output, padding at most 2 (the input gradient is the convolution of dy padded by 2 - pad
// with the flipped filters).
inline bool conv_winograd_applies(const Conv2dShape& s, DType dtype) {
  return dtype == DType::F32 && s.groups == 1 && s.kernel_h == 3 && s.kernel_w == 3 && s.stride_h == 1 &&
         s.stride_w == 1 && s.dilation_h == 1 && s.dilation_w == 1 && s.pad_h <= 2 && s.pad_w <= 2 &&
         s.out_h == s.in_h + 2 * s.pad_h - 2 && s.out_w == s.in_w + 2 * s.pad_w - 2;
}

// Below 16 channels the 36 GEMMs are too thin to beat im2col; planes that fill their 4x4 tiles
// poorly (2x2: a quarter) pay the transforms for padding.
constexpr int64_t kWinogradMinChannels = 16;
// Memory for the weight gradient's per-thread copies of dU (36 transform points x the weight's
// size): beyond it (512x512 channels) the im2col path, which needs less, takes over.
constexpr int64_t kWinogradMaxPartials = int64_t(16) << 20;

inline ConvAlgorithm choose_conv_algorithm(const ConvChoice& c) {
  const Conv2dShape& s = c.shape;
  if (conv_is_depthwise(s, c.pass, c.bias)) return ConvAlgorithm::DirectDepthwise;
  if (conv_is_pointwise(s)) return ConvAlgorithm::PointwiseGemm;
  if (!c.winograd_kernels || c.requested == ConvAlgo::Im2col || !conv_winograd_applies(s, c.dtype))
    return ConvAlgorithm::Im2colGemm;
  if (c.requested == ConvAlgo::Winograd) return ConvAlgorithm::Winograd;
  // Winograd's extra rounding is allowed from 'high' in the gradient ops, where it adds to the
  // gradients linearly, and only at 'medium' in the forward, where it flips ReLU and max-pool
  // decisions and so changes gradients by whole terms (bench/numerics.mjs: up to 1000x PyTorch
  // float32's error against float64).
  if (c.precision == Float32Precision::Highest || (c.precision == Float32Precision::High && c.pass == ConvPass::Forward))
    return ConvAlgorithm::Im2colGemm;
  const int64_t tiles = (s.out_h + 3) / 4 * ((s.out_w + 3) / 4);
  const bool worth_it = s.in_c >= kWinogradMinChannels && s.out_c >= kWinogradMinChannels && 4 * s.out_plane() > tiles * 16;
  const bool partials_fit =
      c.pass != ConvPass::WeightGrad || 36 * s.out_c * s.col_rows() * c.threads <= kWinogradMaxPartials;
  return worth_it && partials_fit ? ConvAlgorithm::Winograd : ConvAlgorithm::Im2colGemm;
}

// Runs conv op `c` (ConvAlgorithm::DirectDepthwise) as the backend's depthwise op `op`, `fn`:
// the same operands, the convolution's params without groups.
inline void run_as_depthwise(const OpCall& c, const Conv2dShape& s, Op op, OpFn fn) {
  const auto params = DepthwiseParams{s.stride_h, s.stride_w, s.pad_h, s.pad_w, s.dilation_h, s.dilation_w}.encode();
  fn(OpCall{op, c.inputs, c.num_inputs, c.outputs, c.num_outputs, params.data(), int(params.size()), c.ctx});
}

}  // namespace sepconv
