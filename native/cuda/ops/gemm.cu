// SGEMM/DGEMM kernel and the gemm op (see gemm.cuh and core/ops.h for the contract).
#include "cuda/ops/gemm.cuh"

#include <algorithm>

#include "core/checks/gemm.h"

namespace sepconv::cuda {
namespace {

// Elements per 128-bit load.
template <class T>
constexpr int kVec = 16 / sizeof(T);

template <class T>
__device__ __forceinline__ void load_vec(const T* p, T (&r)[kVec<T>]);
template <>
__device__ __forceinline__ void load_vec<float>(const float* p, float (&r)[4]) {
  const float4 v = *reinterpret_cast<const float4*>(p);
  r[0] = v.x, r[1] = v.y, r[2] = v.z, r[3] = v.w;
}
template <>
__device__ __forceinline__ void load_vec<double>(const double* p, double (&r)[2]) {
  const double2 v = *reinterpret_cast<const double2*>(p);
  r[0] = v.x, r[1] = v.y;
}

// Moves a BK x BD tile of op(X) (D = the M or N side) from global memory through registers
// into shared memory stored k-major (s[k][d]), so the compute loop reads rows of it. The
// global matrix is contiguous along k (k_contig) or along d; loads go kVec at a time along
// the contiguous side, as one 128-bit load when aligned and inside the matrix.
template <class T, int BK, int BD, int THREADS>
struct TileLoader {
  static constexpr int V = kVec<T>;
  static constexpr int kVecs = BK * BD / V;
  static constexpr int kPerThread = (kVecs + THREADS - 1) / THREADS;
  static_assert(BK % V == 0 && BD % V == 0, "tile sides must be multiples of the vector width");
  T reg[kPerThread][V];

  __device__ void locate(int idx, bool k_contig, int& d, int& kk) const {
    if (k_contig) {
      d = idx / (BK / V);
      kk = (idx % (BK / V)) * V;
    } else {
      kk = idx / (BD / V);
      d = (idx % (BD / V)) * V;
    }
  }

  // Calls f(i, d, kk) for each vector i this thread moves, at (d, kk) in the tile.
  template <class F>
  __device__ __forceinline__ void for_each_vector(bool k_contig, F&& f) const {
    SEPCONV_UNROLL
    for (int i = 0; i < kPerThread; ++i) {
      const int idx = threadIdx.x + i * THREADS;
      if (kVecs % THREADS != 0 && idx >= kVecs) break;
      int d, kk;
      locate(idx, k_contig, d, kk);
      f(i, d, kk);
    }
  }

  __device__ void load(const T* p, int64_t ld, bool k_contig, bool vec_ok, int64_t d0, int64_t k0, int64_t D,
                       int64_t K) {
    for_each_vector(k_contig, [&](int i, int d, int kk) {
      const int64_t gd = d0 + d, gk = k0 + kk;
      const T* src = k_contig ? p + gd * ld + gk : p + gk * ld + gd;
      const bool full = k_contig ? (gd < D && gk + V <= K) : (gk < K && gd + V <= D);
      if (vec_ok && full) {
        load_vec<T>(src, reg[i]);
      } else {
        SEPCONV_UNROLL
        for (int j = 0; j < V; ++j) {
          const bool in = k_contig ? (gd < D && gk + j < K) : (gk < K && gd + j < D);
          reg[i][j] = in ? src[j] : T(0);
        }
      }
    });
  }

  template <int LD>
  __device__ void store(T (*s)[LD], bool k_contig) const {
    for_each_vector(k_contig, [&](int i, int d, int kk) {
      SEPCONV_UNROLL
      for (int j = 0; j < V; ++j) {
        if (k_contig)
          s[kk + j][d] = reg[i][j];
        else
          s[kk][d + j] = reg[i][j];
      }
    });
  }
};

// One block computes a BM x BN tile of C with (BM/TM)*(BN/TN) threads, each a TM x TN
// register block. It walks k-tiles t of the flattened (batch entry, k) range [t0, t1): tile
// t+1 is prefetched into registers while tile t is computed from shared memory, then stored
// into the other buffer (one barrier per tile). Without a split, z is the batch entry (or
// the whole summed batch) and the epilogue applies alpha, beta and bias; with `splits`, z is
// a slice of the summed k range whose raw sum goes to partial[z] for split_reduce_kernel.
template <class T, int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN))
    gemm_kernel(GemmArgs<T> g, bool vec_a, bool vec_b, int splits, T* partial) {
  constexpr int kThreads = (BM / TM) * (BN / TN);
  constexpr int kPad = kVec<T>;  // keeps rows 16-byte aligned and spreads banks
  __shared__ T As[2][BK][BM + kPad];
  __shared__ T Bs[2][BK][BN + kPad];
  TileLoader<T, BK, BM, kThreads> la;
  TileLoader<T, BK, BN, kThreads> lb;

  const int tx = threadIdx.x % (BN / TN), ty = threadIdx.x / (BN / TN);
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  const int64_t k_tiles = (g.k + BK - 1) / BK;
  int64_t t0, t1;
  if (splits) {
    const int64_t total = (g.sum_batch ? g.batch : 1) * k_tiles;
    t0 = total * blockIdx.z / splits, t1 = total * (blockIdx.z + 1) / splits;
  } else {
    t0 = g.sum_batch ? 0 : blockIdx.z * k_tiles, t1 = g.sum_batch ? g.batch * k_tiles : t0 + k_tiles;
  }
  // A is contiguous along k unless transposed; B along k only when transposed.
  const bool a_kc = !g.trans_a, b_kc = g.trans_b;
  auto load = [&](int64_t t) {
    const int64_t e = t / k_tiles, k0 = (t % k_tiles) * BK;
    la.load(g.a + e * g.a_batch, g.lda, a_kc, vec_a, m0, k0, g.m, g.k);
    lb.load(g.b + e * g.b_batch, g.ldb, b_kc, vec_b, n0, k0, g.n, g.k);
  };

  T acc[TM][TN];
  SEPCONV_UNROLL
  for (int i = 0; i < TM; ++i)
    SEPCONV_UNROLL
    for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

  if (t0 < t1) {
    load(t0);
    la.store(As[0], a_kc);
    lb.store(Bs[0], b_kc);
    __syncthreads();
  }
  for (int64_t t = t0; t < t1; ++t) {
    const int cur = (t - t0) & 1;
    const bool more = t + 1 < t1;
    if (more) load(t + 1);
    SEPCONV_UNROLL
    for (int kk = 0; kk < BK; ++kk) {
      T af[TM], bf[TN];
      SEPCONV_UNROLL
      for (int i = 0; i < TM; ++i) af[i] = As[cur][kk][ty * TM + i];
      SEPCONV_UNROLL
      for (int j = 0; j < TN; ++j) bf[j] = Bs[cur][kk][tx * TN + j];
      SEPCONV_UNROLL
      for (int i = 0; i < TM; ++i)
        SEPCONV_UNROLL
        for (int j = 0; j < TN; ++j) acc[i][j] += af[i] * bf[j];
    }
    if (more) {
      la.store(As[cur ^ 1], a_kc);
      lb.store(Bs[cur ^ 1], b_kc);
    }
    __syncthreads();
  }

  T* c = splits ? partial + blockIdx.z * g.m * g.n : g.c + (g.sum_batch ? 0 : blockIdx.z * g.c_batch);
  const int64_t ldc = splits ? g.n : g.ldc;
  SEPCONV_UNROLL
  for (int i = 0; i < TM; ++i) {
    const int64_t row = m0 + ty * TM + i;
    if (row >= g.m) break;
    SEPCONV_UNROLL
    for (int j = 0; j < TN; ++j) {
      const int64_t col = n0 + tx * TN + j;
      if (col >= g.n) break;
      if (splits) {
        c[row * ldc + col] = acc[i][j];
        continue;
      }
      T v = g.alpha * acc[i][j];
      if (g.beta != T(0)) v += g.beta * c[row * ldc + col];
      if (g.bias_kind == 1) v += g.bias[row];
      if (g.bias_kind == 2) v += g.bias[col];
      c[row * ldc + col] = v;
    }
  }
}

// C = alpha * (the slices' sums, added in slice order) + beta*C + bias: deterministic.
template <class T>
__global__ void split_reduce_kernel(GemmArgs<T> g, int splits, const T* __restrict__ partial) {
  const int64_t total = g.m * g.n;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = i / g.n, col = i % g.n;
    T sum = T(0);
    for (int s = 0; s < splits; ++s) sum += partial[s * total + i];
    T v = g.alpha * sum;
    if (g.beta != T(0)) v += g.beta * g.c[row * g.ldc + col];
    if (g.bias_kind == 1) v += g.bias[row];
    if (g.bias_kind == 2) v += g.bias[col];
    g.c[row * g.ldc + col] = v;
  }
}

template <class T>
bool vectorizable(const T* p, int64_t ld, int64_t batch_stride) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0 && ld % kVec<T> == 0 && batch_stride % kVec<T> == 0;
}

// How a GEMM runs: the tile configuration and the number of k slices.
struct GemmPlan {
  bool big_tiles;
  int splits;  // 1: no split
};

// A GPU wants a few hundred blocks in flight; a single output matrix with few tiles and a
// long reduction (a weight gradient: M x N small, k = batch * pixels) is cut along k so
// its slices fill the device, each slice at least kMinSliceTiles k-tiles long.
constexpr int64_t kTargetBlocks = 256;
constexpr int64_t kMinSliceTiles = 16;
constexpr int kMaxSplits = 64;
constexpr int kBK = 8;

template <class T>
GemmPlan plan(const GemmArgs<T>& g) {
  const int64_t entries = g.sum_batch ? 1 : g.batch;
  GemmPlan p{g.m >= 128 && g.n >= 128 && g.m * g.n * entries >= (int64_t(1) << 18), 1};
  const int64_t tile = p.big_tiles ? 128 : 64;
  const int64_t blocks = ((g.m + tile - 1) / tile) * ((g.n + tile - 1) / tile) * entries;
  const int64_t k_work = (g.sum_batch ? g.batch : 1) * ((g.k + kBK - 1) / kBK);
  // blocks is 0 for an empty product (m or n is 0): nothing to split.
  if (entries == 1 && blocks > 0 && blocks < kTargetBlocks)
    p.splits = int(std::max<int64_t>(1, std::min({(kTargetBlocks + blocks - 1) / blocks, k_work / kMinSliceTiles,
                                                  int64_t(kMaxSplits)})));
  return p;
}

template <class T, int BM, int BN, int BK, int TM, int TN>
void run_gemm(const char* op, const GemmArgs<T>& g, int splits) {
  static_assert(BK == kBK, "plan() assumes the k-tile depth");
  const int64_t tiles_m = (g.m + BM - 1) / BM, tiles_n = (g.n + BN - 1) / BN;
  const int64_t z = splits > 1 ? splits : g.sum_batch ? 1 : g.batch;
  SEPCONV_CHECK(tiles_m <= 65535 && z <= 65535, op, ": GEMM of ", g.m, " rows in ", z,
                " batch entries exceeds the CUDA grid");
  const bool vec_a = vectorizable(g.a, g.lda, g.a_batch), vec_b = vectorizable(g.b, g.ldb, g.b_batch);
  const dim3 grid{unsigned(tiles_n), unsigned(tiles_m), unsigned(z)}, block{unsigned((BM / TM) * (BN / TN))};
  if (splits <= 1) {
    launch(op, gemm_kernel<T, BM, BN, BK, TM, TN>, grid, block, g, vec_a, vec_b, 0, static_cast<T*>(nullptr));
    return;
  }
  launch(op, gemm_kernel<T, BM, BN, BK, TM, TN>, grid, block, g, vec_a, vec_b, splits, g.scratch);
  launch(op, split_reduce_kernel<T>, dim3(blocks_for(g.m * g.n, 256)), dim3(256), g, splits,
         static_cast<const T*>(g.scratch));
}

}  // namespace

template <class T>
int64_t gemm_scratch_elements(const GemmArgs<T>& g) {
  const GemmPlan p = plan(g);
  return p.splits > 1 ? p.splits * g.m * g.n : 0;
}

template <class T>
void gemm_device(const char* op, const GemmArgs<T>& g) {
  if (g.m == 0 || g.n == 0) return;
  GemmPlan p = plan(g);
  if (!g.scratch) p.splits = 1;
  // Big tiles (8x8 per thread) when there are enough of them to fill a GPU, else 4x4.
  if (p.big_tiles)
    run_gemm<T, 128, 128, 8, 8, 8>(op, g, p.splits);
  else
    run_gemm<T, 64, 64, 8, 4, 4>(op, g, p.splits);
}

template int64_t gemm_scratch_elements<float>(const GemmArgs<float>&);
template int64_t gemm_scratch_elements<double>(const GemmArgs<double>&);
template void gemm_device<float>(const char*, const GemmArgs<float>&);
template void gemm_device<double>(const char*, const GemmArgs<double>&);

}  // namespace sepconv::cuda

namespace sepconv::cuda::ops {
void gemm(const OpCall& c) {
  const GemmShape s = check_gemm(c);
  const TensorArg &a = c.in(0), &b = c.in(1), &out = c.out(0);
  float_dispatch(c, "a", a.dtype, [&](auto zero) {
    using T = decltype(zero);
    GemmArgs<T> g;
    g.m = s.m, g.n = s.n, g.k = s.k;
    g.a = a.ptr<T>(), g.lda = s.a.cols, g.a_batch = s.a.batch > 1 ? s.m * s.k : 0, g.trans_a = s.trans_a;
    g.b = b.ptr<T>(), g.ldb = s.b.cols, g.b_batch = s.b.batch > 1 ? s.k * s.n : 0, g.trans_b = s.trans_b;
    g.c = out.ptr<T>(), g.ldc = s.n, g.c_batch = s.m * s.n;
    g.batch = s.batch;
    g.sum_batch = s.out.batch == 0 && s.batch > 1;
    g.alpha = T(s.alpha), g.beta = T(s.beta);
    g.bias = s.has_bias() ? c.in(2).ptr<T>() : nullptr;
    g.bias_kind = int(s.bias_kind);
    if (const int64_t scratch = gemm_scratch_elements(g)) g.scratch = static_cast<T*>(workspace(size_t(scratch) * sizeof(T)));
    gemm_device("gemm", g);
  });
}

}  // namespace sepconv::cuda::ops
