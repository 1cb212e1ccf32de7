// Depthwise conv2d (groups = C, channel multiplier m) as direct kernels:
//  - forward and backward-input run one block per (image, input channel, tile of output
//    or input pixels): the block stages the tile's halo window of its source plane in
//    shared memory once and every one of the m output channels of that input channel reads it;
//  - backward-weight reduces over (image, pixel) with fixed per-thread strides and block
//    tree sums, so the result is deterministic;
//  - depthwise_pointwise_forward runs the depthwise kernel into the workspace and the
//    pointwise half as one batched GEMM.
#include "cuda/ops/gemm.cuh"

namespace sepconv::cuda {
namespace {

struct DwShape {
  int64_t batch, channels, multiplier, out_channels;
  int in_h, in_w, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, out_h, out_w;

  __host__ __device__ int64_t in_plane() const { return int64_t(in_h) * in_w; }
  __host__ __device__ int64_t out_plane() const { return int64_t(out_h) * out_w; }
  __host__ __device__ int taps() const { return kernel_h * kernel_w; }
};

DwShape depthwise_shape(const OpCall& c, const TensorArg& x, const TensorArg& w, const TensorArg& y) {
  const char* op = op_name(c.op);
  check_ndim(c, "x", x, 4);
  check_ndim(c, "w", w, 4);
  check_ndim(c, "y", y, 4);
  DwShape s;
  s.batch = x.shape[0];
  s.channels = x.shape[1];
  s.out_channels = w.shape[0];
  SEPCONV_CHECK(s.channels > 0 && s.out_channels % s.channels == 0 && w.shape[1] == 1, op, ": weight [", w.shape[0],
                ", ", w.shape[1], ", ...] does not fit a depthwise conv of ", s.channels, " channels");
  s.multiplier = s.out_channels / s.channels;
  s.in_h = int(x.shape[2]);
  s.in_w = int(x.shape[3]);
  s.kernel_h = int(w.shape[2]);
  s.kernel_w = int(w.shape[3]);
  s.stride_h = int(c.iparam(0));
  s.stride_w = int(c.iparam(1));
  s.pad_h = int(c.iparam(2));
  s.pad_w = int(c.iparam(3));
  s.dilation_h = int(c.iparam(4));
  s.dilation_w = int(c.iparam(5));
  SEPCONV_CHECK(s.stride_h >= 1 && s.stride_w >= 1 && s.dilation_h >= 1 && s.dilation_w >= 1 && s.pad_h >= 0 &&
                    s.pad_w >= 0 && s.kernel_h >= 1 && s.kernel_w >= 1,
                op, ": invalid stride/padding/dilation/kernel");
  s.out_h = (s.in_h + 2 * s.pad_h - s.dilation_h * (s.kernel_h - 1) - 1) / s.stride_h + 1;
  s.out_w = (s.in_w + 2 * s.pad_w - s.dilation_w * (s.kernel_w - 1) - 1) / s.stride_w + 1;
  SEPCONV_CHECK(s.in_h + 2 * s.pad_h >= s.dilation_h * (s.kernel_h - 1) + 1 &&
                    s.in_w + 2 * s.pad_w >= s.dilation_w * (s.kernel_w - 1) + 1,
                op, ": kernel larger than the padded input");
  SEPCONV_CHECK(y.shape[0] == s.batch && y.shape[1] == s.out_channels && y.shape[2] == s.out_h && y.shape[3] == s.out_w,
                op, ": output shape [", y.shape[0], ", ", y.shape[1], ", ", y.shape[2], ", ", y.shape[3],
                "] does not match [", s.batch, ", ", s.out_channels, ", ", s.out_h, ", ", s.out_w, "]");
  check_dtype(c, "w", w, x.dtype);
  check_dtype(c, "y", y, x.dtype);
  return s;
}

const TensorArg* channel_vector(const OpCall& c, const char* operand, const TensorArg* t, const DwShape& s, DType dtype) {
  if (t) {
    check_numel(c, operand, *t, s.out_channels);
    check_dtype(c, operand, *t, dtype);
  }
  return t;
}

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
Tile pick_tile(const char* op, int dst_h, int dst_w, int (*span)(int, int, int, int), const DwShape& s) {
  static const int ladder[][2] = {{16, 32}, {8, 32}, {4, 32}, {2, 32}, {1, 32}, {1, 16}, {1, 8}, {1, 4}, {1, 2}, {1, 1}};
  for (const auto& t : ladder) {
    const int th = std::min(t[0], dst_h), tw = std::min(t[1], dst_w);
    const int64_t window = int64_t(span(th, s.stride_h, s.kernel_h, s.dilation_h)) * span(tw, s.stride_w, s.kernel_w, s.dilation_w);
    if (window * int64_t(sizeof(T)) <= kHaloBytes) {
      const int tx = (dst_w + tw - 1) / tw, ty = (dst_h + th - 1) / th;
      SEPCONV_CHECK(int64_t(tx) * ty <= 65535, op, ": plane of ", dst_h, "x", dst_w, " exceeds the CUDA grid");
      return {th, tw, tx, tx * ty};
    }
  }
  fail(op, ": kernel ", s.kernel_h, "x", s.kernel_w, " with dilation ", s.dilation_h, "x", s.dilation_w,
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
                                         T* __restrict__ out, DwShape s, Tile t) {
  __shared__ T window[kHaloBytes / sizeof(T)];
  const int64_t p = blockIdx.x, c = p % s.channels, n = p / s.channels;
  const int oy0 = (blockIdx.y / t.tiles_x) * t.tile_h, ox0 = (blockIdx.y % t.tiles_x) * t.tile_w;
  const int win_y = oy0 * s.stride_h - s.pad_h, win_x = ox0 * s.stride_w - s.pad_w;
  const int win_h = forward_span(t.tile_h, s.stride_h, s.kernel_h, s.dilation_h);
  const int win_w = forward_span(t.tile_w, s.stride_w, s.kernel_w, s.dilation_w);
  stage_window(window, x + p * s.in_plane(), s.in_h, s.in_w, win_y, win_x, win_h, win_w);
  for (int i = threadIdx.x; i < t.tile_h * t.tile_w; i += blockDim.x) {
    const int ty = i / t.tile_w, tx = i % t.tile_w, oy = oy0 + ty, ox = ox0 + tx;
    if (oy >= s.out_h || ox >= s.out_w) continue;
    const T* src = window + ty * s.stride_h * win_w + tx * s.stride_w;
    for (int64_t k = 0; k < s.multiplier; ++k) {
      const int64_t o = c * s.multiplier + k;
      const T* wk = w + o * s.taps();
      T acc = bias ? bias[o] : T(0);
      for (int ky = 0; ky < s.kernel_h; ++ky)
        for (int kx = 0; kx < s.kernel_w; ++kx)
          acc += wk[ky * s.kernel_w + kx] * src[ky * s.dilation_h * win_w + kx * s.dilation_w];
      out[(n * s.out_channels + o) * s.out_plane() + int64_t(oy) * s.out_w + ox] = acc;
    }
  }
}

// Block (plane p = image*C + c, tile of dx): gathers from the m output-gradient planes of c,
// each staged in turn.
template <class T>
__global__ void depthwise_backward_input_kernel(const T* __restrict__ dy, const T* __restrict__ w, T* __restrict__ dx,
                                                DwShape s, Tile t) {
  __shared__ T window[kHaloBytes / sizeof(T)];
  const int64_t p = blockIdx.x, c = p % s.channels, n = p / s.channels;
  const int iy0 = (blockIdx.y / t.tiles_x) * t.tile_h, ix0 = (blockIdx.y % t.tiles_x) * t.tile_w;
  // The first output row whose window reaches row iy0 (floor division of a possibly negative value).
  const int top = iy0 + s.pad_h - (s.kernel_h - 1) * s.dilation_h, left = ix0 + s.pad_w - (s.kernel_w - 1) * s.dilation_w;
  const int win_y = top >= 0 ? top / s.stride_h : -((-top + s.stride_h - 1) / s.stride_h);
  const int win_x = left >= 0 ? left / s.stride_w : -((-left + s.stride_w - 1) / s.stride_w);
  const int win_h = backward_span(t.tile_h, s.stride_h, s.kernel_h, s.dilation_h);
  const int win_w = backward_span(t.tile_w, s.stride_w, s.kernel_w, s.dilation_w);
  const int per_thread = (t.tile_h * t.tile_w + blockDim.x - 1) / blockDim.x;
  constexpr int kMaxPerThread = 16 * 32 / kThreads;
  T acc[kMaxPerThread];
  for (int j = 0; j < kMaxPerThread; ++j) acc[j] = T(0);
  for (int64_t k = 0; k < s.multiplier; ++k) {
    const int64_t o = c * s.multiplier + k;
    const T* wk = w + o * s.taps();
    stage_window(window, dy + (n * s.out_channels + o) * s.out_plane(), s.out_h, s.out_w, win_y, win_x, win_h, win_w);
    for (int j = 0; j < per_thread; ++j) {
      const int i = threadIdx.x + j * blockDim.x;
      if (i >= t.tile_h * t.tile_w) break;
      const int iy = iy0 + i / t.tile_w, ix = ix0 + i % t.tile_w;
      for (int ky = 0; ky < s.kernel_h; ++ky) {
        const int ty = iy + s.pad_h - ky * s.dilation_h;
        if (ty < 0 || ty % s.stride_h != 0) continue;
        const int wy = ty / s.stride_h - win_y;
        for (int kx = 0; kx < s.kernel_w; ++kx) {
          const int tx = ix + s.pad_w - kx * s.dilation_w;
          if (tx < 0 || tx % s.stride_w != 0) continue;
          acc[j] += wk[ky * s.kernel_w + kx] * window[wy * win_w + tx / s.stride_w - win_x];
        }
      }
    }
    __syncthreads();  // the next channel's window overwrites this one
  }
  for (int j = 0; j < per_thread; ++j) {
    const int i = threadIdx.x + j * blockDim.x;
    if (i >= t.tile_h * t.tile_w) break;
    const int iy = iy0 + i / t.tile_w, ix = ix0 + i % t.tile_w;
    if (iy < s.in_h && ix < s.in_w) dx[p * s.in_plane() + int64_t(iy) * s.in_w + ix] = acc[j];
  }
}

constexpr int kTapsPerBlock = 8;

// Block (output channel o, group of up to kTapsPerBlock sums among the taps and the bias,
// numbered taps() for the bias): each thread sums a fixed strided set of (image, pixel)
// terms, then the block adds the threads' sums in a fixed tree.
template <class T>
__global__ void depthwise_backward_weight_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dw,
                                                 T* __restrict__ dbias, DwShape s) {
  __shared__ T scratch[32];
  const int64_t o = blockIdx.x, c = o / s.multiplier;
  const int first = blockIdx.y * kTapsPerBlock, count = min(kTapsPerBlock, s.taps() + 1 - first);
  T acc[kTapsPerBlock];
  SEPCONV_UNROLL
  for (int j = 0; j < kTapsPerBlock; ++j) acc[j] = T(0);
  const int64_t terms = s.batch * s.out_plane();
  for (int64_t i = threadIdx.x; i < terms; i += blockDim.x) {
    const int64_t n = i / s.out_plane(), q = i % s.out_plane();
    const int oy = int(q / s.out_w), ox = int(q % s.out_w);
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
      const int iy = oy * s.stride_h - s.pad_h + (tap / s.kernel_w) * s.dilation_h;
      const int ix = ox * s.stride_w - s.pad_w + (tap % s.kernel_w) * s.dilation_w;
      if (iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w) acc[j] += g * plane[int64_t(iy) * s.in_w + ix];
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
void depthwise_forward(const char* op, const T* x, const T* w, const T* bias, T* out, const DwShape& s) {
  if (s.batch == 0) return;
  const Tile t = pick_tile<T>(op, s.out_h, s.out_w, forward_span, s);
  launch(op, depthwise_forward_kernel<T>, dim3(unsigned(s.batch * s.channels), unsigned(t.tiles)), dim3(kThreads), x, w,
         bias, out, s, t);
}

}  // namespace

namespace ops {

void depthwise_conv2d_forward(const OpCall& c) {
  const TensorArg &x = c.in(0), &w = c.in(1), &out = c.out(0);
  const DwShape s = depthwise_shape(c, x, w, out);
  const TensorArg* bias = channel_vector(c, "bias", c.num_inputs > 2 ? &c.in(2) : nullptr, s, x.dtype);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    depthwise_forward<T>("depthwise_conv2d_forward", x.ptr<T>(), w.ptr<T>(), bias ? bias->ptr<T>() : nullptr,
                         out.ptr<T>(), s);
  });
}

void depthwise_conv2d_backward_input(const OpCall& c) {
  const TensorArg &dy = c.in(0), &w = c.in(1), &dx = c.out(0);
  const DwShape s = depthwise_shape(c, dx, w, dy);
  float_dispatch(c, "dy", dy.dtype, [&](auto zero) {
    using T = decltype(zero);
    const char* op = "depthwise_conv2d_backward_input";
    if (s.batch == 0) return;
    const Tile t = pick_tile<T>(op, s.in_h, s.in_w, backward_span, s);
    launch(op, depthwise_backward_input_kernel<T>, dim3(unsigned(s.batch * s.channels), unsigned(t.tiles)),
           dim3(kThreads), dy.ptr<T>(), w.ptr<T>(), dx.ptr<T>(), s, t);
  });
}

void depthwise_conv2d_backward_weight(const OpCall& c) {
  const TensorArg &x = c.in(0), &dy = c.in(1), &dw = c.out(0);
  const DwShape s = depthwise_shape(c, x, dw, dy);
  const TensorArg* dbias = channel_vector(c, "dbias", c.num_outputs > 1 ? &c.out(1) : nullptr, s, x.dtype);
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
  const TensorArg &x = c.in(0), &w_dw = c.in(1), &w_pw = c.in(2), &y = c.out(0);
  check_ndim(c, "w_pw", w_pw, 4);
  check_ndim(c, "y", y, 4);
  const int64_t out_channels = w_pw.shape[0];
  SEPCONV_CHECK(w_pw.shape[1] == x.shape[1] && w_pw.shape[2] == 1 && w_pw.shape[3] == 1, op_name(c.op),
                ": pointwise weight must be [C_out, ", x.shape[1], ", 1, 1]");
  SEPCONV_CHECK(y.shape[1] == out_channels, op_name(c.op), ": output has ", y.shape[1], " channels, expected ",
                out_channels);
  TensorArg y_dw = y;
  y_dw.shape[1] = x.shape[1];
  const DwShape s = depthwise_shape(c, x, w_dw, y_dw);
  SEPCONV_CHECK(s.multiplier == 1, op_name(c.op), ": channel multiplier must be 1");
  check_dtype(c, "w_pw", w_pw, x.dtype);
  const TensorArg* bias = c.num_inputs > 3 ? &c.in(3) : nullptr;
  if (bias) {
    check_numel(c, "bias", *bias, out_channels);
    check_dtype(c, "bias", *bias, x.dtype);
  }
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
