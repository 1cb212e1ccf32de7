// Regular (grouped, strided, padded, dilated) 2-D convolution as GEMMs over NCHW tensors,
// batched over images:
//   forward:         Y_g[img]  = W_g · col(X_g[img])            (+ bias per output channel)
//   backward input:  dX_g[img] = col2im(W_gᵀ · dY_g[img])       (+ bias per input channel)
//   backward weight: dW_g      = Σ_img dY_g[img] · col(X_g[img])ᵀ (a batch-summed GEMM)
// col() is materialised by an im2col kernel in the op's workspace, a chunk of images at a
// time; col2im is a gather (each input pixel sums its windows), so no atomics and the result
// is deterministic. 1x1 stride-1 unpadded convolutions read the tensors directly.
#include "core/conv_algorithm.h"
#include "cuda/ops/gemm.cuh"

namespace sepconv::cuda {
namespace {

// The shared shape plus the algorithm the shared choice gives this backend (no Winograd kernels).
struct ConvShape : Conv2dShape {
  ConvAlgorithm algorithm;
  bool pointwise() const { return algorithm == ConvAlgorithm::PointwiseGemm; }
};

ConvShape conv_shape(const OpCall& c, const Conv2dShape& s, ConvPass pass) {
  const bool bias = pass != ConvPass::WeightGrad && c.num_inputs > 2;
  return {s, choose_conv_algorithm({s, c.in(0).dtype, pass, bias, c.ctx.conv_algo, c.ctx.float32_precision, false, 1})};
}

// col[i][ch*taps + tap][pixel] for images img0 + i of group g (zero where the window leaves
// the padded input).
template <class T>
__global__ void im2col_kernel(const T* __restrict__ x, T* __restrict__ col, ConvShape s, int64_t img0, int64_t images,
                              int64_t g) {
  const int64_t rows = s.col_rows(), plane = s.out_plane(), total = images * rows * plane;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t p = idx % plane, r = (idx / plane) % rows, i = idx / (plane * rows);
    const int64_t ch = r / s.taps(), tap = r % s.taps();
    const int64_t iy = (p / s.out_w) * s.stride_h - s.pad_h + (tap / s.kernel_w) * s.dilation_h;
    const int64_t ix = (p % s.out_w) * s.stride_w - s.pad_w + (tap % s.kernel_w) * s.dilation_w;
    const bool inside = iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w;
    col[idx] = inside ? x[((img0 + i) * s.in_c + g * s.in_per_group() + ch) * s.in_plane() + iy * s.in_w + ix] : T(0);
  }
}

// dx[img][g's channel ch][iy][ix] = bias + the sum of col entries whose window covers it.
template <class T>
__global__ void col2im_kernel(const T* __restrict__ col, T* __restrict__ dx, const T* __restrict__ bias, ConvShape s,
                              int64_t img0, int64_t images, int64_t g) {
  const int64_t cg = s.in_per_group(), plane = s.in_plane(), total = images * cg * plane;
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < total; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ix = idx % s.in_w, iy = (idx / s.in_w) % s.in_h, ch = (idx / plane) % cg, i = idx / (plane * cg);
    const int64_t channel = g * cg + ch;
    T sum = bias ? bias[channel] : T(0);
    const T* col_ch = col + (i * s.col_rows() + ch * s.taps()) * s.out_plane();
    for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
      const int64_t ty = iy + s.pad_h - ky * s.dilation_h;
      if (ty < 0 || ty % s.stride_h != 0 || ty / s.stride_h >= s.out_h) continue;
      const int64_t oy = ty / s.stride_h;
      for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
        const int64_t tx = ix + s.pad_w - kx * s.dilation_w;
        if (tx < 0 || tx % s.stride_w != 0 || tx / s.stride_w >= s.out_w) continue;
        sum += col_ch[(ky * s.kernel_w + kx) * s.out_plane() + oy * s.out_w + tx / s.stride_w];
      }
    }
    dx[((img0 + i) * s.in_c + channel) * plane + iy * s.in_w + ix] = sum;
  }
}

constexpr int kThreads = 256;
// im2col workspace per chunk of images; the emulated tests set it small so chunking is exercised.
#ifndef SEPCONV_CUDA_COL_BUDGET_BYTES
#define SEPCONV_CUDA_COL_BUDGET_BYTES (size_t(128) << 20)
#endif
constexpr size_t kColBudgetBytes = SEPCONV_CUDA_COL_BUDGET_BYTES;

// Images per im2col chunk: as many as the budget holds, at least one.
template <class T>
int64_t chunk_images(const ConvShape& s) {
  const int64_t per_image = s.col_rows() * s.out_plane() * int64_t(sizeof(T));
  return std::max<int64_t>(1, std::min<int64_t>(s.batch, int64_t(kColBudgetBytes) / std::max<int64_t>(per_image, 1)));
}

template <class T>
void im2col(const char* op, const T* x, T* col, const ConvShape& s, int64_t img0, int64_t images, int64_t g) {
  launch(op, im2col_kernel<T>, dim3(blocks_for(images * s.col_rows() * s.out_plane(), kThreads)), dim3(kThreads), x, col,
         s, img0, images, g);
}

}  // namespace

namespace ops {

void conv2d_forward(const OpCall& c) {
  const ConvShape s = conv_shape(c, check_conv2d_forward(c), ConvPass::Forward);
  if (s.algorithm == ConvAlgorithm::DirectDepthwise)
    return run_as_depthwise(c, s, Op::depthwise_conv2d_forward, depthwise_conv2d_forward);
  const TensorArg &x = c.in(0), &w = c.in(1), &y = c.out(0);
  float_dispatch(c, "input", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const char* op = "conv2d_forward";
    const int64_t m = s.out_per_group(), k = s.col_rows(), chunk = s.pointwise() ? s.batch : chunk_images<T>(s);
    T* col = s.pointwise() ? nullptr : static_cast<T*>(workspace(size_t(chunk * k * s.out_plane()) * sizeof(T)));
    for (int64_t g = 0; g < s.groups; ++g)
      for (int64_t img0 = 0; img0 < s.batch; img0 += chunk) {
        const int64_t images = std::min(chunk, s.batch - img0);
        GemmArgs<T> a;
        a.m = m, a.n = s.out_plane(), a.k = k;
        a.a = w.ptr<T>() + g * m * k, a.lda = k;
        if (s.pointwise()) {
          a.b = x.ptr<T>() + (img0 * s.in_c + g * s.in_per_group()) * s.in_plane();
          a.ldb = s.in_plane(), a.b_batch = s.in_c * s.in_plane();
        } else {
          im2col(op, x.ptr<T>(), col, s, img0, images, g);
          a.b = col, a.ldb = s.out_plane(), a.b_batch = k * s.out_plane();
        }
        a.c = y.ptr<T>() + (img0 * s.out_c + g * m) * s.out_plane(), a.ldc = s.out_plane(), a.c_batch = s.out_c * s.out_plane();
        a.batch = images;
        if (c.num_inputs > 2) a.bias = c.in(2).ptr<T>() + g * m, a.bias_kind = 1;
        gemm_device(op, a);
      }
  });
}

void conv2d_backward_input(const OpCall& c) {
  const ConvShape s = conv_shape(c, check_conv2d_backward_input(c), ConvPass::InputGrad);
  if (s.algorithm == ConvAlgorithm::DirectDepthwise)
    return run_as_depthwise(c, s, Op::depthwise_conv2d_backward_input, depthwise_conv2d_backward_input);
  const TensorArg &dy = c.in(0), &w = c.in(1), &dx = c.out(0);
  float_dispatch(c, "grad_output", dy.dtype, [&](auto zero) {
    using T = decltype(zero);
    const char* op = "conv2d_backward_input";
    const int64_t m = s.col_rows(), k = s.out_per_group(), chunk = s.pointwise() ? s.batch : chunk_images<T>(s);
    const T* bias = c.num_inputs > 2 ? c.in(2).ptr<T>() : nullptr;
    T* col = s.pointwise() ? nullptr : static_cast<T*>(workspace(size_t(chunk * m * s.out_plane()) * sizeof(T)));
    for (int64_t g = 0; g < s.groups; ++g)
      for (int64_t img0 = 0; img0 < s.batch; img0 += chunk) {
        const int64_t images = std::min(chunk, s.batch - img0);
        GemmArgs<T> a;
        a.m = m, a.n = s.out_plane(), a.k = k;
        a.a = w.ptr<T>() + g * k * m, a.lda = m, a.trans_a = true;
        a.b = dy.ptr<T>() + (img0 * s.out_c + g * k) * s.out_plane(), a.ldb = s.out_plane();
        a.b_batch = s.out_c * s.out_plane();
        a.batch = images;
        if (s.pointwise()) {
          a.c = dx.ptr<T>() + (img0 * s.in_c + g * m) * s.in_plane(), a.ldc = s.in_plane(), a.c_batch = s.in_c * s.in_plane();
          if (bias) a.bias = bias + g * m, a.bias_kind = 1;
          gemm_device(op, a);
          continue;
        }
        a.c = col, a.ldc = s.out_plane(), a.c_batch = m * s.out_plane();
        gemm_device(op, a);
        launch(op, col2im_kernel<T>, dim3(blocks_for(images * s.in_per_group() * s.in_plane(), kThreads)), dim3(kThreads),
               col, dx.ptr<T>(), bias, s, img0, images, g);
      }
  });
}

void conv2d_backward_weight(const OpCall& c) {
  const ConvShape s = conv_shape(c, check_conv2d_backward_weight(c), ConvPass::WeightGrad);
  if (s.algorithm == ConvAlgorithm::DirectDepthwise)
    return run_as_depthwise(c, s, Op::depthwise_conv2d_backward_weight, depthwise_conv2d_backward_weight);
  const TensorArg &x = c.in(0), &dy = c.in(1), &dw = c.out(0);
  float_dispatch(c, "input", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const char* op = "conv2d_backward_weight";
    if (s.batch == 0) {  // an empty sum
      SEPCONV_CHECK(cudaMemsetAsync(dw.data, 0, size_t(dw.numel()) * sizeof(T), current_stream()) == cudaSuccess, op,
                    ": cudaMemset failed");
      return;
    }
    const int64_t m = s.out_per_group(), n = s.col_rows(), chunk = s.pointwise() ? s.batch : chunk_images<T>(s);
    // Every chunk's GEMM is one dW_g summed over its images; the first chunk's (the largest)
    // split-k scratch fits them all. One workspace: the im2col chunk, then the scratch.
    auto args = [&](int64_t g, int64_t img0, int64_t images) {
      GemmArgs<T> a;
      a.m = m, a.n = n, a.k = s.out_plane();
      a.a = dy.ptr<T>() + (img0 * s.out_c + g * m) * s.out_plane(), a.lda = s.out_plane();
      a.a_batch = s.out_c * s.out_plane();
      a.trans_b = true;
      a.c = dw.ptr<T>() + g * m * n, a.ldc = n;
      a.batch = images, a.sum_batch = true;
      a.beta = img0 == 0 ? T(0) : T(1);
      return a;
    };
    const int64_t col_elems = s.pointwise() ? 0 : (chunk * n * s.out_plane() + 3) / 4 * 4;
    const int64_t scratch_elems = gemm_scratch_elements(args(0, 0, chunk));
    T* col = static_cast<T*>(workspace(size_t(col_elems + scratch_elems) * sizeof(T)));
    for (int64_t g = 0; g < s.groups; ++g)
      for (int64_t img0 = 0; img0 < s.batch; img0 += chunk) {
        const int64_t images = std::min(chunk, s.batch - img0);
        GemmArgs<T> a = args(g, img0, images);
        if (s.pointwise()) {
          a.b = x.ptr<T>() + (img0 * s.in_c + g * n) * s.in_plane(), a.ldb = s.in_plane(), a.b_batch = s.in_c * s.in_plane();
        } else {
          im2col(op, x.ptr<T>(), col, s, img0, images, g);
          a.b = col, a.ldb = s.out_plane(), a.b_batch = n * s.out_plane();
        }
        if (scratch_elems) a.scratch = col + col_elems;
        gemm_device(op, a);
      }
  });
}

}  // namespace ops
}  // namespace sepconv::cuda
