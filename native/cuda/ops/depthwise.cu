// Depthwise conv2d (groups = C, channel multiplier m) as direct kernels:
//  - forward and backward-input run one block per (image, input channel, tile of output
//    or input pixels): the block stages the tile's halo window of its source plane in
//    shared memory once and every one of the m output channels of that input channel reads it;
//  - backward-weight reduces over (image, pixel) with fixed per-thread strides and block
//    tree sums, so the result is deterministic;
//  - depthwise_pointwise_forward runs the depthwise kernel into the workspace and the
//    pointwise half as one batched GEMM.
#include "core/checks/depthwise.h"
#include "cuda/ops/gemm.cuh"

namespace sepconv::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kHaloBytes = 16 * 1024;  // shared memory for one halo window

// Destination planes are cut into tiles of tile_h x tile_w pixels, tiles_x per row of tiles.
struct Tile {
  int tile_h, tile_w, tiles_x, tiles;
};

// Source rows a destination tile of `tile` rows starting anywhere reads, at most.
__host__ __device__ int forward_span(int tile, int stride, int kernel, int dilation) { return (tile - 1) * stride + (kernel - 1) * dilation + 1; }
__host__ __device__ int backward_span(int tile, int stride, int kernel, int dilation) { return (tile - 1 + (kernel - 1) * dilation) / stride + 2; }

// The largest tile from a fixed ladder whose halo window fits the shared buffer.
template <class T>
Tile pick_tile(const char* op, int dst_h, int dst_w, int (*span)(int, int, int, int), const DepthwiseShape& s) {
  static const int ladder[][2] = {{16, 32}, {8, 32}, {4, 32}, {2, 32}, {1, 32}, {1, 16}, {1, 8}, {1, 4}, {1, 2}, {1, 1}};
  for (const auto& t : ladder) {
    const int th = std::min(t[0], dst_h), tw = std::min(t[1], dst_w);
    const int64_t window = int64_t(span(th, s.g.stride_h, s.g.kernel_h, s.g.dilation_h)) * span(tw, s.g.stride_w, s.g.kernel_w, s.g.dilation_w);
    if (window * int64_t(sizeof(T)) <= kHaloBytes) {
      const int tx = (dst_w + tw - 1) / tw, ty = (dst_h + th - 1) / th;
      SEPCONV_CHECK(int64_t(tx) * ty <= 65535, op, ": plane of ", dst_h, "x", dst_w, " exceeds the CUDA grid");
      return {th, tw, tx, tx * ty};
    }
  }
  fail(op, ": kernel ", s.g.kernel_h, "x", s.g.kernel_w, " with dilation ", s.g.dilation_h, "x", s.g.dilation_w,
       " spans more than the CUDA kernel's shared-memory window");
}

// Copies the window [y0, y0+h) x [x0, x0+w) of a plane into shared memory, zero outside it.
template <class T>
__device__ void stage_window(T* smem, const T* plane, int plane_h, int plane_w, int y0, int x0, int h, int w) {
  for (int i = threadIdx.x; i < h * w; i += blockDim.x) {
    const int yy = y0 + i / w, xx = x0 + i % w;
    smem[i] = yy >= 0 && yy < plane_h && xx >= 0 && xx < plane_w ? plane[int64_t(yy) * plane_w + xx] : T(0);
  }
  __syncthreads();
}

// Block (plane p = image*C + c, tile): out[n, c*m + k, tile] for every k.
template <class T>
__global__ void depthwise_forward_kernel(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                                         T* __restrict__ out, DepthwiseShape s, Tile t) {
  __shared__ T window[kHaloBytes / sizeof(T)];
  const int64_t p = blockIdx.x, c = p % s.channels, n = p / s.channels;
  const int oy0 = (blockIdx.y / t.tiles_x) * t.tile_h, ox0 = (blockIdx.y % t.tiles_x) * t.tile_w;
  const int win_y = oy0 * s.g.stride_h - s.g.pad_h, win_x = ox0 * s.g.stride_w - s.g.pad_w;
  const int win_h = forward_span(t.tile_h, s.g.stride_h, s.g.kernel_h, s.g.dilation_h);
  const int win_w = forward_span(t.tile_w, s.g.stride_w, s.g.kernel_w, s.g.dilation_w);
  stage_window(window, x + p * s.in_plane(), s.g.in_h, s.g.in_w, win_y, win_x, win_h, win_w);
  for (int i = threadIdx.x; i < t.tile_h * t.tile_w; i += blockDim.x) {
    const int ty = i / t.tile_w, tx = i % t.tile_w, oy = oy0 + ty, ox = ox0 + tx;
    if (oy >= s.g.out_h || ox >= s.g.out_w) continue;
    const T* src = window + ty * s.g.stride_h * win_w + tx * s.g.stride_w;
    for (int64_t k = 0; k < s.multiplier; ++k) {
      const int64_t o = c * s.multiplier + k;
      const T* wk = w + o * s.taps();
      T acc = bias ? bias[o] : T(0);
      for (int ky = 0; ky < s.g.kernel_h; ++ky)
        for (int kx = 0; kx < s.g.kernel_w; ++kx)
          acc += wk[ky * s.g.kernel_w + kx] * src[ky * s.g.dilation_h * win_w + kx * s.g.dilation_w];
      out[(n * s.out_channels + o) * s.out_plane() + int64_t(oy) * s.g.out_w + ox] = acc;
    }
  }
}

// Block (plane p = image*C + c, tile of dx): gathers from the m output-gradient planes of c,
// each staged in turn.
template <class T>
__global__ void depthwise_backward_input_kernel(const T* __restrict__ dy, const T* __restrict__ w, T* __restrict__ dx,
                                                DepthwiseShape s, Tile t) {
  __shared__ T window[kHaloBytes / sizeof(T)];
  const int64_t p = blockIdx.x, c = p % s.channels, n = p / s.channels;
  const int iy0 = (blockIdx.y / t.tiles_x) * t.tile_h, ix0 = (blockIdx.y % t.tiles_x) * t.tile_w;
  // The first output row whose window reaches row iy0 (floor division of a possibly negative value).
  const int top = iy0 + s.g.pad_h - (s.g.kernel_h - 1) * s.g.dilation_h, left = ix0 + s.g.pad_w - (s.g.kernel_w - 1) * s.g.dilation_w;
  const int win_y = top >= 0 ? top / s.g.stride_h : -((-top + s.g.stride_h - 1) / s.g.stride_h);
  const int win_x = left >= 0 ? left / s.g.stride_w : -((-left + s.g.stride_w - 1) / s.g.stride_w);
  const int win_h = backward_span(t.tile_h, s.g.stride_h, s.g.kernel_h, s.g.dilation_h);
  const int win_w = backward_span(t.tile_w, s.g.stride_w, s.g.kernel_w, s.g.dilation_w);
  const int per_thread = (t.tile_h * t.tile_w + blockDim.x - 1) / blockDim.x;
  constexpr int kMaxPerThread = 16 * 32 / kThreads;
  T acc[kMaxPerThread];
  for (int j = 0; j < kMaxPerThread; ++j) acc[j] = T(0);
  for (int64_t k = 0; k < s.multiplier; ++k) {
    const int64_t o = c * s.multiplier + k;
    const T* wk = w + o * s.taps();
    stage_window(window, dy + (n * s.out_channels + o) * s.out_plane(), s.g.out_h, s.g.out_w, win_y, win_x, win_h, win_w);
    for (int j = 0; j < per_thread; ++j) {
      const int i = threadIdx.x + j * blockDim.x;
      if (i >= t.tile_h * t.tile_w) break;
      const int iy = iy0 + i / t.tile_w, ix = ix0 + i % t.tile_w;
      for (int ky = 0; ky < s.g.kernel_h; ++ky) {
        const int ty = iy + s.g.pad_h - ky * s.g.dilation_h;
        if (ty < 0 || ty % s.g.stride_h != 0) continue;
        const int wy = ty / s.g.stride_h - win_y;
        for (int kx = 0; kx < s.g.kernel_w; ++kx) {
          const int tx = ix + s.g.pad_w - kx * s.g.dilation_w;
          if (tx < 0 || tx % s.g.stride_w != 0) continue;
          acc[j] += wk[ky * s.g.kernel_w + kx] * window[wy * win_w + tx / s.g.stride_w - win_x];
        }
      }
    }
    __syncthreads();  // the next channel's window overwrites this one
  }
  for (int j = 0; j < per_thread; ++j) {
    const int i = threadIdx.x + j * blockDim.x;
    if (i >= t.tile_h * t.tile_w) break;
    const int iy = iy0 + i / t.tile_w, ix = ix0 + i % t.tile_w;
    if (iy < s.g.in_h && ix < s.g.in_w) dx[p * s.in_plane() + int64_t(iy) * s.g.in_w + ix] = acc[j];
  }
}

constexpr int kTapsPerBlock = 8;

// Block (output channel o, group of up to kTapsPerBlock sums among the taps and the bias,
// numbered taps() for the bias): each thread sums a fixed strided set of (image, pixel)
// terms, then the block adds the threads' sums in a fixed tree.
template <class T>
__global__ void depthwise_backward_weight_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dw,
                                                 T* __restrict__ dbias, DepthwiseShape s) {
  __shared__ T scratch[32];
  const int64_t o = blockIdx.x, c = o / s.multiplier;
  const int first = blockIdx.y * kTapsPerBlock, count = min(kTapsPerBlock, s.taps() + 1 - first);
  T acc[kTapsPerBlock];
  SEPCONV_UNROLL
  for (int j = 0; j < kTapsPerBlock; ++j) acc[j] = T(0);
  const int64_t terms = s.batch * s.out_plane();
  for (int64_t i = threadIdx.x; i < terms; i += blockDim.x) {
    const int64_t n = i / s.out_plane(), q = i % s.out_plane();
    const int oy = int(q / s.g.out_w), ox = int(q % s.g.out_w);
    const T g = dy[(n * s.out_channels + o) * s.out_plane() + q];
    const T* plane = x + (n * s.channels + c) * s.in_plane();
    SEPCONV_UNROLL
    for (int j = 0; j < kTapsPerBlock; ++j) {
      const int tap = first + j;
      if (j >= count) break;
      if (tap == s.taps()) {
        acc[j] += g;
        continue;
      }
      const int iy = oy * s.g.stride_h - s.g.pad_h + (tap / s.g.kernel_w) * s.g.dilation_h;
      const int ix = ox * s.g.stride_w - s.g.pad_w + (tap % s.g.kernel_w) * s.g.dilation_w;
      if (iy >= 0 && iy < s.g.in_h && ix >= 0 && ix < s.g.in_w) acc[j] += g * plane[int64_t(iy) * s.g.in_w + ix];
    }
  }
  for (int j = 0; j < count; ++j) {
    const T total = block_sum(acc[j], scratch);
    if (threadIdx.x != 0) continue;
    const int tap = first + j;
    if (tap < s.taps())
      dw[o * s.taps() + tap] = total;
    else if (dbias)
      dbias[o] = total;
  }
}

template <class T>
void depthwise_forward(const char* op, const T* x, const T* w, const T* bias, T* out, const DepthwiseShape& s) {
  if (s.batch == 0) return;
  const Tile t = pick_tile<T>(op, s.g.out_h, s.g.out_w, forward_span, s);
  launch(op, depthwise_forward_kernel<T>, dim3(unsigned(s.batch * s.channels), unsigned(t.tiles)), dim3(kThreads), x, w,
         bias, out, s, t);
}

}  // namespace

namespace ops {

void depthwise_conv2d_forward(const OpCall& c) {
  const DepthwiseOperands checked = check_depthwise_conv2d_forward(c);
  const DepthwiseShape& s = checked.s;
  const TensorArg* bias = checked.channel_vector;
  const TensorArg &x = c.in(0), &w = c.in(1), &out = c.out(0);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    depthwise_forward<T>("depthwise_conv2d_forward", x.ptr<T>(), w.ptr<T>(), bias ? bias->ptr<T>() : nullptr,
                         out.ptr<T>(), s);
  });
}

void depthwise_conv2d_backward_input(const OpCall& c) {
  const DepthwiseShape s = check_depthwise_conv2d_backward_input(c);
  const TensorArg &dy = c.in(0), &w = c.in(1), &dx = c.out(0);
  float_dispatch(c, "dy", dy.dtype, [&](auto zero) {
    using T = decltype(zero);
    const char* op = "depthwise_conv2d_backward_input";
    if (s.batch == 0) return;
    const Tile t = pick_tile<T>(op, s.g.in_h, s.g.in_w, backward_span, s);
    launch(op, depthwise_backward_input_kernel<T>, dim3(unsigned(s.batch * s.channels), unsigned(t.tiles)),
           dim3(kThreads), dy.ptr<T>(), w.ptr<T>(), dx.ptr<T>(), s, t);
  });
}

void depthwise_conv2d_backward_weight(const OpCall& c) {
  const DepthwiseOperands checked = check_depthwise_conv2d_backward_weight(c);
  const DepthwiseShape& s = checked.s;
  const TensorArg* dbias = checked.channel_vector;
  const TensorArg &x = c.in(0), &dy = c.in(1), &dw = c.out(0);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    if (s.out_channels == 0) return;
    const unsigned groups = unsigned((s.taps() + 1 + kTapsPerBlock - 1) / kTapsPerBlock);
    launch("depthwise_conv2d_backward_weight", depthwise_backward_weight_kernel<T>,
           dim3(unsigned(s.out_channels), groups), dim3(kThreads), x.ptr<T>(), dy.ptr<T>(), dw.ptr<T>(),
           dbias ? dbias->ptr<T>() : nullptr, s);
  });
}

void depthwise_pointwise_forward(const OpCall& c) {
  const DepthwiseOperands checked = check_depthwise_pointwise_forward(c);
  const DepthwiseShape& s = checked.s;
  const TensorArg* bias = checked.channel_vector;
  const TensorArg &x = c.in(0), &w_dw = c.in(1), &w_pw = c.in(2), &y = c.out(0);
  const int64_t out_channels = w_pw.shape[0];
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const char* op = "depthwise_pointwise_forward";
    T* mid = static_cast<T*>(workspace(size_t(s.batch * s.channels * s.out_plane()) * sizeof(T)));
    depthwise_forward<T>(op, x.ptr<T>(), w_dw.ptr<T>(), nullptr, mid, s);
    GemmArgs<T> g;
    g.m = out_channels, g.n = s.out_plane(), g.k = s.channels;
    g.a = w_pw.ptr<T>(), g.lda = s.channels;
    g.b = mid, g.ldb = s.out_plane(), g.b_batch = s.channels * s.out_plane();
    g.c = y.ptr<T>(), g.ldc = s.out_plane(), g.c_batch = out_channels * s.out_plane();
    g.batch = s.batch;
    if (bias) g.bias = bias->ptr<T>(), g.bias_kind = 1;
    gemm_device(op, g);
  });
}

}  // namespace ops
}  // namespace sepconv::cuda
