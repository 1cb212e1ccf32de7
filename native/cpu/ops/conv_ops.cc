// Regular (grouped, strided, padded, dilated) 2-D convolution by im2col + GEMM, batched over
// the images of the batch so the GEMM's N is batch·H_out·W_out. The im2col matrix is never
// stored: packing reads it straight from the input. 1×1 stride-1 unpadded convolutions read
// the NCHW tensors as matrices directly (pointwise: a plain GEMM, no im2col).
//   forward:         Y_g  = W_g · col(X_g)             (+ bias per output channel)
//   backward input:  dX_g = col2im(W_gᵀ · dY_g)        (the col2im is the GEMM's sink)
//   backward weight: dW_g = dY_g · col(X_g)ᵀ           (reduction over batch·H_out·W_out)
#include <algorithm>

#include "core/checks/conv.h"
#include "cpu/ops/gemm_plan.h"
#include "cpu/ops/op_helpers.h"
#include "cpu/ops/registry.h"

namespace sepconv::cpu::ops {

namespace {

// The shared shape plus what the CPU kernels read from it.
struct ConvShape : Conv2dShape {
  bool pointwise() const { return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0; }
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

}  // namespace

void conv2d_forward(const OpCall& c) {
  const ConvShape s{check_conv2d_forward(c)};
  const TensorArg &x = c.in(0), &w = c.in(1), &y = c.out(0);
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
