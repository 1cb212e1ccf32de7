// Regular (grouped, strided, padded, dilated) 2-D convolution by im2col + GEMM, batched over
// the images of the batch so the GEMM's N is batch·H_out·W_out. The im2col matrix is never
// stored: packing reads it straight from the input. 1×1 stride-1 unpadded convolutions read
// the NCHW tensors as matrices directly (pointwise: a plain GEMM, no im2col).
//   forward:         Y_g  = W_g · col(X_g)             (+ bias per output channel)
//   backward input:  dX_g = col2im(W_gᵀ · dY_g)        (the col2im is the GEMM's sink)
//   backward weight: dW_g = dY_g · col(X_g)ᵀ           (reduction over batch·H_out·W_out)
// Float32 3×3 stride-1 convolutions with enough channels take Winograd F(4×4, 3×3) instead
// (kernels/winograd.h): 36 GEMMs per block of tiles, 2.25× fewer multiply-adds.
#include <algorithm>

#include "core/checks/conv.h"
#include "cpu/ops/gemm_plan.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

// The shared shape plus what the CPU kernels read from it.
struct ConvShape : Conv2dShape {
  // The output plane must be the input plane: a transposed conv's outputPadding makes it larger.
  bool pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0 &&
           out_h == in_h && out_w == in_w;
  }
  ConvGeometry geometry() const {
    return {in_per_group(), in_h,    in_w,       kernel_h,   kernel_w, stride_h, stride_w,
            pad_h,          pad_w,   dilation_h, dilation_w, out_h,    out_w,    in_c * in_plane()};
  }
};

// Temporary memory from the environment's caching allocator, returned at scope exit.
struct PooledBuffer {
  CachingAllocator& allocator;
  void* data;
  PooledBuffer(CachingAllocator& a, size_t bytes) : allocator(a), data(a.allocate(bytes)) {}
  ~PooledBuffer() { allocator.deallocate(data); }
  PooledBuffer(const PooledBuffer&) = delete;
  PooledBuffer& operator=(const PooledBuffer&) = delete;
};

// Each task's share of a convolution GEMM runs over every group.
template <class T>
void run_grouped(const OpCall& c, const GemmKernels<T>& kernels, const GemmSplit& split, int64_t k, int64_t groups,
                 FunctionRef<GemmProblem<T>(int64_t group)> problem) {
  c.ctx.pool.run(split.tasks(), [&](int t) {
    const GemmRange r = split.range(t, 0, k);
    for (int64_t g = 0; g < groups; ++g) kernels.run(problem(g), r);
  });
}

// ------------------------------------------------------------------- Winograd F(4×4, 3×3)

// Float32, ungrouped 3×3, stride 1, undilated, full-size output, padding at most 2 (the
// input gradient is the convolution of dy padded by 2 - pad with the flipped filters).
bool winograd_applies(const ConvShape& s, DType dtype) {
  return dtype == DType::F32 && s.groups == 1 && s.kernel_h == 3 && s.kernel_w == 3 && s.stride_h == 1 &&
         s.stride_w == 1 && s.dilation_h == 1 && s.dilation_w == 1 && s.pad_h <= 2 && s.pad_w <= 2 &&
         s.out_h == s.in_h + 2 * s.pad_h - 2 && s.out_w == s.in_w + 2 * s.pad_w - 2;
}

// Below 16 channels the 36 GEMMs are too thin to beat im2col; planes that fill their 4×4
// tiles poorly (2×2: a quarter) pay the transforms for padding.
constexpr int64_t kWinogradMinChannels = 16;

bool use_winograd(const OpCall& c, const ConvShape& s, DType dtype) {
  if (c.ctx.conv_algo == ConvAlgo::Im2col || !winograd_applies(s, dtype)) return false;
  if (c.ctx.conv_algo == ConvAlgo::Winograd) return true;
  const int64_t tiles = (s.out_h + 3) / 4 * ((s.out_w + 3) / 4);
  return s.in_c >= kWinogradMinChannels && s.out_c >= kWinogradMinChannels && 4 * s.out_plane() > tiles * 16;
}

// Memory for the weight gradient's per-thread copies of dU (36 × in_c × out_c each): beyond
// it (512×512 channels) the im2col path, which needs less, takes over.
constexpr int64_t kWinogradMaxPartials = int64_t(16) << 20;

// The geometry of the forward convolution, or (input_grad) of the one giving dx from dy.
WinogradGeometry winograd_geometry(const ConvShape& s, bool input_grad) {
  if (input_grad) return {s.batch, s.out_c, s.out_h, s.out_w, s.in_c, s.in_h, s.in_w, 2 - s.pad_h, 2 - s.pad_w};
  return {s.batch, s.in_c, s.in_h, s.in_w, s.out_c, s.out_h, s.out_w, s.pad_h, s.pad_w};
}

// Tile rows are processed in blocks of about this many tiles: each block's V and M
// (36 × tiles × channels) stay in L2 between the transforms and the GEMMs, while the GEMMs
// stay long enough to amortise packing U.
constexpr int64_t kWinogradBlockTiles = 96;

struct WinogradBlocks {
  int64_t total_rows, rows_per_block, count;
  WinogradBlocks(const WinogradGeometry& g, int64_t block_tiles)
      : total_rows(g.batch * g.tiles_h()),
        rows_per_block(std::max<int64_t>(1, block_tiles / g.tiles_w())),
        count((total_rows + rows_per_block - 1) / rows_per_block) {}
  int64_t first(int64_t b) const { return b * rows_per_block; }
  int64_t rows(int64_t b) const { return std::min(total_rows, (b + 1) * rows_per_block) - b * rows_per_block; }
};

// u = the transformed filters of w ([out_c][in_c][3][3]), in parallel over u's rows.
void winograd_transform_filters(const OpCall& c, const float* w, int64_t out_c, int64_t in_c, bool in_major, bool flip,
                                float* u) {
  const auto& k = kernels_for<float>(c.ctx.isa).winograd;
  const int64_t rows = in_major ? in_c : out_c, cols = in_major ? out_c : in_c;
  c.ctx.pool.parallel_for(size_t(rows), size_t(std::max<int64_t>(1, 4096 / cols)), [&](size_t b, size_t e) {
    k.filter_transform(w, out_c, in_c, in_major, flip, int64_t(b), int64_t(e), u);
  });
}

// y = the convolution of x by the transformed filters u, block by block: input transform,
// M[ξ] = V[ξ]·U[ξ] for the 36 points, output transform (+ bias). u is [36][g.in_c][g.out_c].
void winograd_conv(const OpCall& c, const WinogradGeometry& g, const float* x, const float* u, const float* bias,
                   float* y) {
  const Kernels<float>& k = kernels_for<float>(c.ctx.isa);
  const WinogradBlocks blocks(g, kWinogradBlockTiles);
  const int64_t filters = g.in_c * g.out_c, max_tiles = blocks.rows_per_block * g.tiles_w();
  c.ctx.pool.run(int(blocks.count), [&](int b) {
    const int64_t row0 = blocks.first(b), rows = blocks.rows(b), tiles = rows * g.tiles_w();
    float* v = static_cast<float*>(thread_scratch(2, size_t(kWinogradPoints * max_tiles * g.in_c) * sizeof(float)));
    float* m = static_cast<float*>(thread_scratch(3, size_t(kWinogradPoints * max_tiles * g.out_c) * sizeof(float)));
    k.winograd.input_transform(g, x, row0, rows, v);
    for (int p = 0; p < kWinogradPoints; ++p) {
      GemmProblem<float> prob{tiles, g.out_c, g.in_c, {dense_source(v + p * tiles * g.in_c, g.in_c), false}, {}, {}};
      prob.b = {dense_source(u + p * filters, g.out_c), false};
      prob.c = dense_sink(m + p * tiles * g.out_c, g.out_c, 1.f, 0.f);
      k.gemm.run(prob, {0, tiles, 0, g.out_c, 0, g.in_c});
    }
    k.winograd.output_transform(g, m, row0, rows, bias, y);
  });
}

void winograd_forward(const OpCall& c, const ConvShape& s, const float* x, const float* w, const float* bias, float* y) {
  const PooledBuffer u(c.ctx.allocator, size_t(kWinogradPoints * s.in_c * s.out_c) * sizeof(float));
  winograd_transform_filters(c, w, s.out_c, s.in_c, true, false, static_cast<float*>(u.data));
  winograd_conv(c, winograd_geometry(s, false), x, static_cast<float*>(u.data), bias, y);
}

void winograd_backward_input(const OpCall& c, const ConvShape& s, const float* dy, const float* w, const float* bias,
                             float* dx) {
  const PooledBuffer u(c.ctx.allocator, size_t(kWinogradPoints * s.in_c * s.out_c) * sizeof(float));
  // The input gradient's convolution reads dy's out_c channels: U is [out_c][in_c] per point.
  winograd_transform_filters(c, w, s.out_c, s.in_c, false, true, static_cast<float*>(u.data));
  winograd_conv(c, winograd_geometry(s, true), dy, static_cast<float*>(u.data), bias, dx);
}

// dU[ξ] = Σ over tiles of dM[ξ]ᵀ·V[ξ], then dw = Gᵀ dU G. Blocks are split statically into
// one contiguous run per thread, each summed into its own dU; the copies are added in run
// order, so the result depends on the thread count only.
void winograd_backward_weight(const OpCall& c, const ConvShape& s, const float* x, const float* dy, float* dw) {
  const Kernels<float>& k = kernels_for<float>(c.ctx.isa);
  const WinogradGeometry g = winograd_geometry(s, false);
  const WinogradBlocks blocks(g, kWinogradBlockTiles);
  const int64_t filters = g.in_c * g.out_c, size = kWinogradPoints * filters,
                max_tiles = blocks.rows_per_block * g.tiles_w();
  const int runs = int(std::min<int64_t>(c.ctx.pool.size(), blocks.count));
  const PooledBuffer buffer(c.ctx.allocator, size_t(size * runs) * sizeof(float));
  float* du = static_cast<float*>(buffer.data);
  c.ctx.pool.run(runs, [&](int t) {
    float* v = static_cast<float*>(thread_scratch(2, size_t(kWinogradPoints * max_tiles * g.in_c) * sizeof(float)));
    float* dm = static_cast<float*>(thread_scratch(3, size_t(kWinogradPoints * max_tiles * g.out_c) * sizeof(float)));
    const int64_t b0 = blocks.count * t / runs, b1 = blocks.count * (t + 1) / runs;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t row0 = blocks.first(b), rows = blocks.rows(b), tiles = rows * g.tiles_w();
      k.winograd.input_transform(g, x, row0, rows, v);
      k.winograd.output_adjoint(g, dy, row0, rows, dm);
      for (int p = 0; p < kWinogradPoints; ++p) {
        GemmProblem<float> prob{g.out_c, g.in_c, tiles, {dense_source(dm + p * tiles * g.out_c, g.out_c), true}, {}, {}};
        prob.b = {dense_source(v + p * tiles * g.in_c, g.in_c), false};
        prob.c = dense_sink(du + t * size + p * filters, g.in_c, 1.f, b == b0 ? 0.f : 1.f);
        k.gemm.run(prob, {0, g.out_c, 0, g.in_c, 0, tiles});
      }
    }
  });
  c.ctx.pool.parallel_for(size_t(size), kElementwiseGrain, [&](size_t b, size_t e) {
    for (int t = 1; t < runs; ++t) k.elementwise.axpy(du + t * size + b, 1.f, du + b, e - b);
  });
  c.ctx.pool.parallel_for(size_t(filters), 256, [&](size_t b, size_t e) {
    k.winograd.filter_adjoint(du, filters, int64_t(b), int64_t(e), dw);
  });
}

}  // namespace

void conv2d_forward(const OpCall& c) {
  const ConvShape s{check_conv2d_forward(c)};
  const TensorArg &x = c.in(0), &w = c.in(1), &y = c.out(0);
  if (use_winograd(c, s, x.dtype))
    return winograd_forward(c, s, x.ptr<float>(), w.ptr<float>(), c.num_inputs > 2 ? c.in(2).ptr<float>() : nullptr,
                            y.ptr<float>());
  float_dispatch(c, "input", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const GemmKernels<T>& kernels = kernels_for<T>(c.ctx.isa).gemm;
    const int64_t m = s.out_per_group(), k = s.in_per_group() * s.taps(), n = s.batch * s.out_plane();
    const T* bias = c.num_inputs > 2 ? c.in(2).ptr<T>() : nullptr;
    const GemmSplit split = plan_gemm_split(m, n, k, c.ctx.pool.size(), kernels.mr, kernels.nr);
    run_grouped<T>(c, kernels, split, k, s.groups, [&](int64_t g) {
      const T* xg = x.ptr<T>() + g * s.in_per_group() * s.in_plane();
      GemmProblem<T> p{m, n, k, {dense_source(w.ptr<T>() + g * m * k, k), false}, {}, {}};
      p.b = {s.pointwise() ? nchw_source(xg, s.in_plane(), s.in_c) : im2col_source(xg, s.geometry()), false};
      p.c = nchw_sink(y.ptr<T>() + g * m * s.out_plane(), s.out_plane(), s.out_c, bias ? bias + g * m : nullptr);
      return p;
    });
  });
}

void conv2d_backward_input(const OpCall& c) {
  const ConvShape s{check_conv2d_backward_input(c)};
  const TensorArg &dy = c.in(0), &w = c.in(1), &dx = c.out(0);
  if (use_winograd(c, s, dy.dtype))
    return winograd_backward_input(c, s, dy.ptr<float>(), w.ptr<float>(),
                                   c.num_inputs > 2 ? c.in(2).ptr<float>() : nullptr, dx.ptr<float>());
  float_dispatch(c, "grad_output", dy.dtype, [&](auto zero) {
    using T = decltype(zero);
    const GemmKernels<T>& kernels = kernels_for<T>(c.ctx.isa).gemm;
    const int64_t m = s.in_per_group() * s.taps(), k = s.out_per_group(), n = s.batch * s.out_plane();
    const T* bias = c.num_inputs > 2 ? c.in(2).ptr<T>() : nullptr;
    auto problem = [&](int64_t g) {
      GemmProblem<T> p{m, n, k, {dense_source(w.ptr<T>() + g * k * m, m), true}, {}, {}};
      p.b = {nchw_source(dy.ptr<T>() + g * k * s.out_plane(), s.out_plane(), s.out_c), false};
      T* dxg = dx.ptr<T>() + g * s.in_per_group() * s.in_plane();
      p.c = s.pointwise() ? nchw_sink(dxg, s.in_plane(), s.in_c, bias ? bias + g * s.in_per_group() : nullptr)
                          : col2im_sink(dxg, s.geometry());
      return p;
    };
    if (s.pointwise()) {
      const GemmSplit split = plan_gemm_split(m, n, k, c.ctx.pool.size(), kernels.mr, kernels.nr);
      run_grouped<T>(c, kernels, split, k, s.groups, problem);
      return;
    }
    // col2im adds overlapping windows into dx: tasks own whole images or whole channels, so
    // no two write the same element, and each first fills its part with the bias (or 0).
    const GemmSplit split = plan_gemm_split(m, n, k, c.ctx.pool.size(), s.taps(), s.out_plane());
    c.ctx.pool.run(split.tasks(), [&](int t) {
      const GemmRange r = split.range(t, 0, k);
      for (int64_t g = 0; g < s.groups; ++g) {
        for (int64_t img = r.n0 / s.out_plane(); img < r.n1 / s.out_plane(); ++img)
          for (int64_t ch = r.m0 / s.taps(); ch < r.m1 / s.taps(); ++ch) {
            const int64_t channel = g * s.in_per_group() + ch;
            T* plane = dx.ptr<T>() + (img * s.in_c + channel) * s.in_plane();
            std::fill(plane, plane + s.in_plane(), bias ? bias[channel] : T(0));
          }
        kernels.run(problem(g), r);
      }
    });
  });
}

void conv2d_backward_weight(const OpCall& c) {
  const ConvShape s{check_conv2d_backward_weight(c)};
  const TensorArg &x = c.in(0), &dy = c.in(1), &dw = c.out(0);
  if (use_winograd(c, s, x.dtype) && (c.ctx.conv_algo == ConvAlgo::Winograd ||
                                      kWinogradPoints * dw.numel() * c.ctx.pool.size() <= kWinogradMaxPartials))
    return winograd_backward_weight(c, s, x.ptr<float>(), dy.ptr<float>(), dw.ptr<float>());
  float_dispatch(c, "input", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const GemmKernels<T>& kernels = kernels_for<T>(c.ctx.isa).gemm;
    const int64_t m = s.out_per_group(), n = s.in_per_group() * s.taps(), k = s.batch * s.out_plane();
    auto problem = [&](int64_t g, T* dw_out) {
      const T* xg = x.ptr<T>() + g * s.in_per_group() * s.in_plane();
      GemmProblem<T> p{m, n, k, {nchw_source(dy.ptr<T>() + g * m * s.out_plane(), s.out_plane(), s.out_c), false}, {}, {}};
      p.b = {s.pointwise() ? nchw_source(xg, s.in_plane(), s.in_c) : im2col_source(xg, s.geometry()), true};
      p.c = dense_sink(dw_out + g * m * n, n, T(1), T(0));
      return p;
    };
    const int threads = c.ctx.pool.size();
    // The reduction (batch·H_out·W_out) is usually by far the longest side: cut it into one
    // block per thread, each in guided pieces (gemm_plan.h), every piece summed into its own
    // copy of dW; the copies are then added in piece order (the same sums whichever thread
    // computed which piece).
    constexpr int64_t kMinReductionPerPiece = 1024;
    constexpr int64_t kMaxPartialElements = int64_t(16) << 20;  // memory for the copies of dW
    const int64_t size = dw.numel();
    if (threads > 1 && k >= kMinReductionPerPiece * threads && (threads - 1) * size <= kMaxPartialElements) {
      int pieces = guided_pieces(k / threads, kMinReductionPerPiece);
      while (pieces > 1 && (threads * pieces - 1) * size > kMaxPartialElements) --pieces;
      const int chunks = threads * pieces;
      // From the caching allocator: a fresh heap block would be page-faulted in every call.
      const PooledBuffer buffer(c.ctx.allocator, size_t(size) * size_t(chunks - 1) * sizeof(T));
      T* partials = static_cast<T*>(buffer.data);
      c.ctx.pool.run(chunks, [&](int t) {
        T* out = t == 0 ? dw.ptr<T>() : partials + (t - 1) * size;
        const int block = t % threads, piece = t / threads;
        GemmRange r{0, m, 0, n, k * block / threads, k * (block + 1) / threads};
        guided_piece(r.k0, r.k1, 1, pieces, piece, &r.k0, &r.k1);
        for (int64_t g = 0; g < s.groups; ++g) kernels.run(problem(g, out), r);
      });
      const auto& ew = kernels_for<T>(c.ctx.isa).elementwise;
      c.ctx.pool.parallel_for(size_t(size), kElementwiseGrain, [&](size_t b, size_t e) {
        for (int t = 1; t < chunks; ++t) ew.axpy(partials + (t - 1) * size + b, T(1), dw.ptr<T>() + b, e - b);
      });
      return;
    }
    const GemmSplit split = plan_gemm_split(m, n, k, threads, kernels.mr, kernels.nr);
    run_grouped<T>(c, kernels, split, k, s.groups, [&](int64_t g) { return problem(g, dw.ptr<T>()); });
  });
}

}  // namespace sepconv::cpu::ops
