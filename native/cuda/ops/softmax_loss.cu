// Softmax / log-softmax over one dim and softmax cross-entropy with int32 targets. A tensor
// is seen as [outer, classes, inner]; a group of G threads owns a position (o, s) and walks
// its classes: G = 1 when inner > 1 (image logits [N, C, H, W]: neighbouring threads read
// neighbouring pixels), G = 32 for rows of 32 or more contiguous classes (a warp per row,
// coalesced, with shuffle reductions).
// The reductions of the loss run in one block in a fixed order (deterministic), in double
// as on the CPU. Bad targets are found on the device and reported in the CPU op's words.
#include "core/checks/loss.h"
#include "cuda/common.cuh"

namespace sepconv::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kReduceThreads = 1024;

// The position of each group of G lanes, and the grid-stride step between positions.
template <int G>
struct Groups {
  int lane;
  int64_t first, stride;
  __device__ Groups()
      : lane(threadIdx.x % G),
        first((blockIdx.x * int64_t(blockDim.x) + threadIdx.x) / G),
        stride(int64_t(gridDim.x) * blockDim.x / G) {}
};

template <int G, class T>
__device__ T group_sum(T v) {
  SEPCONV_UNROLL
  for (int offset = G / 2; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

template <int G, class T>
__device__ T group_max(T v) {
  SEPCONV_UNROLL
  for (int offset = G / 2; offset > 0; offset >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, offset));
  return v;
}

template <int G, class T>
__device__ T log_sum_exp(const T* x, int64_t classes, int64_t stride, int lane) {
  T m = T(-INFINITY);
  for (int64_t c = lane; c < classes; c += G) m = max(m, x[c * stride]);
  m = group_max<G>(m);
  T sum = T(0);
  for (int64_t c = lane; c < classes; c += G) sum += exp(x[c * stride] - m);
  return m + log(group_sum<G>(sum));
}

template <class T, int G>
__global__ void softmax_forward_kernel(const T* __restrict__ x, T* __restrict__ out, ClassLayout l, bool log_out) {
  const Groups<G> g;
  for (int64_t p = g.first; p < l.positions(); p += g.stride) {
    const int64_t b = l.base(p);
    const T lse = log_sum_exp<G>(x + b, l.classes, l.inner, g.lane);
    for (int64_t c = g.lane; c < l.classes; c += G) {
      const T d = x[b + c * l.inner] - lse;
      out[b + c * l.inner] = log_out ? d : exp(d);
    }
  }
}

template <class T, int G>
__global__ void softmax_backward_kernel(const T* __restrict__ y, const T* __restrict__ dy, T* __restrict__ dx,
                                        ClassLayout l, bool log_out) {
  const Groups<G> g;
  for (int64_t p = g.first; p < l.positions(); p += g.stride) {
    const int64_t b = l.base(p);
    T total = T(0);
    for (int64_t c = g.lane; c < l.classes; c += G)
      total += log_out ? dy[b + c * l.inner] : dy[b + c * l.inner] * y[b + c * l.inner];
    total = group_sum<G>(total);
    for (int64_t c = g.lane; c < l.classes; c += G) {
      const int64_t at = b + c * l.inner;
      dx[at] = log_out ? dy[at] - exp(y[at]) * total : y[at] * (dy[at] - total);
    }
  }
}

__device__ bool counted(int32_t target, int64_t ignore_index, int64_t classes) {
  return target != ignore_index && target >= 0 && target < classes;
}

// lse and the loss of every position (0 where ignored or bad; into `values` when reduced).
template <class T, int G>
__global__ void cross_entropy_forward_kernel(const T* __restrict__ x, const int32_t* __restrict__ targets, T* lse,
                                             T* loss, double* values, ClassLayout l, int64_t ignore_index,
                                             unsigned long long* first_bad) {
  const Groups<G> g;
  for (int64_t p = g.first; p < l.positions(); p += g.stride) {
    const int64_t b = l.base(p);
    const T z = log_sum_exp<G>(x + b, l.classes, l.inner, g.lane);
    if (g.lane != 0) continue;
    lse[p] = z;
    const int32_t t = targets[p];
    if (t != ignore_index && !counted(t, ignore_index, l.classes)) atomicMin(first_bad, (unsigned long long)p);
    const T value = counted(t, ignore_index, l.classes) ? z - x[b + t * l.inner] : T(0);
    if (values)
      values[p] = double(value);
    else
      loss[p] = value;
  }
}

// One block: the sum of `values` (if any) and the count of counted targets, in a fixed
// order; notes bad targets.
template <class T>
__global__ void cross_entropy_total_kernel(const double* values, const int32_t* __restrict__ targets, int64_t positions,
                                           int64_t ignore_index, int64_t classes, double* count_out, T* loss,
                                           Reduction reduction, unsigned long long* first_bad) {
  __shared__ double scratch[32];
  double sum = 0, count = 0;
  for (int64_t p = threadIdx.x; p < positions; p += blockDim.x) {
    const int32_t t = targets[p];
    if (values) sum += values[p];
    if (t != ignore_index && !counted(t, ignore_index, classes)) atomicMin(first_bad, (unsigned long long)p);
    count += counted(t, ignore_index, classes) ? 1.0 : 0.0;
  }
  sum = block_sum(sum, scratch);
  count = block_sum(count, scratch);
  if (threadIdx.x != 0) return;
  if (count_out) *count_out = count;
  // Mean over no counted target is 0/0 = NaN, as in PyTorch.
  if (loss) *loss = T(reduction == Reduction::mean ? sum / count : sum);
}

template <class T, int G>
__global__ void cross_entropy_backward_kernel(const T* __restrict__ x, const int32_t* __restrict__ targets,
                                              const T* __restrict__ lse, const T* __restrict__ dloss, const double* count,
                                              T* __restrict__ dx, ClassLayout l, int64_t ignore_index, Reduction reduction) {
  const Groups<G> g;
  for (int64_t p = g.first; p < l.positions(); p += g.stride) {
    const int64_t b = l.base(p);
    const int32_t t = targets[p];
    // d loss / d logits = scale * (softmax - onehot(target)); 0 for ignored positions.
    const T scale = t == ignore_index ? T(0)
                    : reduction == Reduction::none ? dloss[p]
                    : reduction == Reduction::mean ? T(double(dloss[0]) / *count)
                                         : dloss[0];
    for (int64_t c = g.lane; c < l.classes; c += G) {
      const T v = exp(x[b + c * l.inner] - lse[p]) * scale;
      dx[b + c * l.inner] = c == t ? v - scale : v;
    }
  }
}

// Launches kernel<T, 32> (a warp per row) for rows of 32 or more contiguous classes, else
// kernel<T, 1> (a thread per position).
template <class... P, class... A>
void launch_by_position(const char* op, const ClassLayout& l, void (*rows)(P...), void (*columns)(P...), A... args) {
  if (l.positions() == 0) return;
  const bool by_row = l.inner == 1 && l.classes >= 32;
  launch(op, by_row ? rows : columns, dim3(blocks_for(l.positions() * (by_row ? 32 : 1), kThreads)), dim3(kThreads),
         args...);
}

[[noreturn]] void fail_target(const TensorArg& targets, const ClassLayout& l, int64_t ignore_index, int64_t element) {
  int32_t value = 0;
  cudaStream_t stream = current_stream();
  SEPCONV_CHECK(cudaMemcpyAsync(&value, targets.ptr<int32_t>() + element, sizeof value, cudaMemcpyDeviceToHost, stream) ==
                        cudaSuccess &&
                    cudaStreamSynchronize(stream) == cudaSuccess,
                "crossEntropy: reading the bad target back failed");
  fail_bad_target(targets, l, ignore_index, value, element);
}

// Waits for the op's kernels and returns the first bad target position, or -1.
int64_t first_bad_target(const char* op, const unsigned long long* first_bad) {
  unsigned long long bad = 0;
  cudaStream_t stream = current_stream();
  SEPCONV_CHECK(cudaMemcpyAsync(&bad, first_bad, sizeof bad, cudaMemcpyDeviceToHost, stream) == cudaSuccess &&
                    cudaStreamSynchronize(stream) == cudaSuccess,
                op, ": reading the target check back failed");
  return bad == ~0ull ? -1 : int64_t(bad);
}

// Workspace of the loss ops: the first-bad-position flag, the count, then per-position values.
struct LossScratch {
  unsigned long long* first_bad;
  double* count;
  double* values;

  LossScratch(const char* op, int64_t positions) {
    auto* p = static_cast<unsigned char*>(workspace(16 + size_t(positions) * sizeof(double)));
    first_bad = reinterpret_cast<unsigned long long*>(p);
    count = reinterpret_cast<double*>(p + 8);
    values = reinterpret_cast<double*>(p + 16);
    SEPCONV_CHECK(cudaMemsetAsync(first_bad, 0xff, sizeof *first_bad, current_stream()) == cudaSuccess, op,
                  ": cudaMemset failed");
  }
};

}  // namespace

namespace ops {

void softmax_forward(const OpCall& c) {
  const SoftmaxCall sm = check_softmax_forward(c);
  const TensorArg &x = c.in(0), &out = c.out(0);
  float_dispatch(c, "x", x.dtype, [&](auto zero) {
    using T = decltype(zero);
    launch_by_position("softmax_forward", sm.l, softmax_forward_kernel<T, 32>, softmax_forward_kernel<T, 1>,
                       x.ptr<T>(), out.ptr<T>(), sm.l, sm.log);
  });
}

void softmax_backward(const OpCall& c) {
  const SoftmaxCall sm = check_softmax_backward(c);
  const TensorArg &y = c.in(0), &dy = c.in(1), &dx = c.out(0);
  float_dispatch(c, "y", y.dtype, [&](auto zero) {
    using T = decltype(zero);
    launch_by_position("softmax_backward", sm.l, softmax_backward_kernel<T, 32>, softmax_backward_kernel<T, 1>,
                       y.ptr<T>(), dy.ptr<T>(), dx.ptr<T>(), sm.l, sm.log);
  });
}

void cross_entropy_forward(const OpCall& c) {
  const CrossEntropyCall ce = check_cross_entropy_forward(c);
  const TensorArg &logits = c.in(0), &targets = c.in(1), &loss = c.out(0), &lse = c.out(1);
  float_dispatch(c, "logits", logits.dtype, [&](auto zero) {
    using T = decltype(zero);
    const char* op = "cross_entropy_forward";
    const LossScratch s(op, ce.l.positions());
    double* values = ce.reduction == Reduction::none ? nullptr : s.values;
    launch_by_position(op, ce.l, cross_entropy_forward_kernel<T, 32>, cross_entropy_forward_kernel<T, 1>,
                       logits.ptr<T>(), targets.ptr<int32_t>(), lse.ptr<T>(), loss.ptr<T>(), values, ce.l,
                       ce.ignore_index, s.first_bad);
    if (ce.reduction != Reduction::none)
      launch(op, cross_entropy_total_kernel<T>, dim3(1), dim3(kReduceThreads), static_cast<const double*>(values),
             targets.ptr<int32_t>(), ce.l.positions(), ce.ignore_index, ce.l.classes, nullptr, loss.ptr<T>(),
             ce.reduction, s.first_bad);
    const int64_t bad = first_bad_target(op, s.first_bad);
    if (bad >= 0) fail_target(targets, ce.l, ce.ignore_index, bad);
  });
}

void cross_entropy_backward(const OpCall& c) {
  const CrossEntropyCall ce = check_cross_entropy_backward(c);
  const TensorArg &logits = c.in(0), &targets = c.in(1), &lse = c.in(2), &dloss = c.in(3), &dx = c.out(0);
  float_dispatch(c, "logits", logits.dtype, [&](auto zero) {
    using T = decltype(zero);
    const char* op = "cross_entropy_backward";
    const LossScratch s(op, 0);
    // The CPU op checks every target before it writes dx.
    launch(op, cross_entropy_total_kernel<T>, dim3(1), dim3(kReduceThreads), static_cast<const double*>(nullptr),
           targets.ptr<int32_t>(), ce.l.positions(), ce.ignore_index, ce.l.classes, s.count, static_cast<T*>(nullptr),
           ce.reduction, s.first_bad);
    const int64_t bad = first_bad_target(op, s.first_bad);
    if (bad >= 0) fail_target(targets, ce.l, ce.ignore_index, bad);
    launch_by_position(op, ce.l, cross_entropy_backward_kernel<T, 32>, cross_entropy_backward_kernel<T, 1>,
                       logits.ptr<T>(), targets.ptr<int32_t>(), lse.ptr<T>(), dloss.ptr<T>(),
                       static_cast<const double*>(s.count), dx.ptr<T>(), ce.l, ce.ignore_index, ce.reduction);
  });
}

}  // namespace ops
}  // namespace sepconv::cuda
