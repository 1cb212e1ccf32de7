// SGEMM/DGEMM kernel and the gemm op (see gemm.cuh and core/ops.h for the contract).
#include "cuda/ops/gemm.cuh"

#include <algorithm>

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

  __device__ void load(const T* p, int64_t ld, bool k_contig, bool vec_ok, int64_t d0, int64_t k0, int64_t D,
                       int64_t K) {
    SEPCONV_UNROLL
    for (int i = 0; i < kPerThread; ++i) {
      const int idx = threadIdx.x + i * THREADS;
      if (kVecs % THREADS != 0 && idx >= kVecs) break;
      int d, kk;
      locate(idx, k_contig, d, kk);
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
    }
  }

  template <int LD>
  __device__ void store(T (*s)[LD], bool k_contig) const {
    SEPCONV_UNROLL
    for (int i = 0; i < kPerThread; ++i) {
      const int idx = threadIdx.x + i * THREADS;
      if (kVecs % THREADS != 0 && idx >= kVecs) break;
      int d, kk;
      locate(idx, k_contig, d, kk);
      SEPCONV_UNROLL
      for (int j = 0; j < V; ++j) {
        if (k_contig)
          s[kk + j][d] = reg[i][j];
        else
          s[kk][d + j] = reg[i][j];
      }
    }
  }
};

// One block computes a BM x BN tile of C with (BM/TM)*(BN/TN) threads, each a TM x TN
// register block. The k loop prefetches tile t+1 into registers while computing tile t
// from shared memory, then stores it into the other buffer: one barrier per tile.
template <class T, int BM, int BN, int BK, int TM, int TN>
__global__ void __launch_bounds__((BM / TM) * (BN / TN)) gemm_kernel(GemmArgs<T> g, bool vec_a, bool vec_b) {
  constexpr int kThreads = (BM / TM) * (BN / TN);
  constexpr int kPad = kVec<T>;  // keeps rows 16-byte aligned and spreads banks
  __shared__ T As[2][BK][BM + kPad];
  __shared__ T Bs[2][BK][BN + kPad];
  TileLoader<T, BK, BM, kThreads> la;
  TileLoader<T, BK, BN, kThreads> lb;

  const int tx = threadIdx.x % (BN / TN), ty = threadIdx.x / (BN / TN);
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  const int64_t first = g.sum_batch ? 0 : blockIdx.z;
  const int64_t last = g.sum_batch ? g.batch : first + 1;
  const int64_t k_tiles = (g.k + BK - 1) / BK;
  // A is contiguous along k unless transposed; B along k only when transposed.
  const bool a_kc = !g.trans_a, b_kc = g.trans_b;

  T acc[TM][TN];
  SEPCONV_UNROLL
  for (int i = 0; i < TM; ++i)
    SEPCONV_UNROLL
    for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

  for (int64_t e = first; e < last; ++e) {
    const T* a = g.a + e * g.a_batch;
    const T* b = g.b + e * g.b_batch;
    la.load(a, g.lda, a_kc, vec_a, m0, 0, g.m, g.k);
    lb.load(b, g.ldb, b_kc, vec_b, n0, 0, g.n, g.k);
    la.store(As[0], a_kc);
    lb.store(Bs[0], b_kc);
    __syncthreads();
    for (int64_t t = 0; t < k_tiles; ++t) {
      const int cur = t & 1;
      const bool more = t + 1 < k_tiles;
      if (more) {
        la.load(a, g.lda, a_kc, vec_a, m0, (t + 1) * BK, g.m, g.k);
        lb.load(b, g.ldb, b_kc, vec_b, n0, (t + 1) * BK, g.n, g.k);
      }
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
  }

  T* c = g.c + (g.sum_batch ? 0 : first * g.c_batch);
  SEPCONV_UNROLL
  for (int i = 0; i < TM; ++i) {
    const int64_t row = m0 + ty * TM + i;
    if (row >= g.m) break;
    SEPCONV_UNROLL
    for (int j = 0; j < TN; ++j) {
      const int64_t col = n0 + tx * TN + j;
      if (col >= g.n) break;
      T v = g.alpha * acc[i][j];
      if (g.beta != T(0)) v += g.beta * c[row * g.ldc + col];
      if (g.bias_kind == 1) v += g.bias[row];
      if (g.bias_kind == 2) v += g.bias[col];
      c[row * g.ldc + col] = v;
    }
  }
}

template <class T>
bool vectorizable(const T* p, int64_t ld, int64_t batch_stride) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0 && ld % kVec<T> == 0 && batch_stride % kVec<T> == 0;
}

template <class T, int BM, int BN, int BK, int TM, int TN>
void run_gemm(const char* op, const GemmArgs<T>& g) {
  const int64_t tiles_m = (g.m + BM - 1) / BM, tiles_n = (g.n + BN - 1) / BN;
  const int64_t entries = g.sum_batch ? 1 : g.batch;
  SEPCONV_CHECK(tiles_m <= 65535 && entries <= 65535, op, ": GEMM of ", g.m, " rows in ", entries,
                " batch entries exceeds the CUDA grid");
  launch(op, gemm_kernel<T, BM, BN, BK, TM, TN>, dim3(unsigned(tiles_n), unsigned(tiles_m), unsigned(entries)),
         dim3((BM / TM) * (BN / TN)), g, vectorizable(g.a, g.lda, g.a_batch), vectorizable(g.b, g.ldb, g.b_batch));
}

}  // namespace

template <class T>
void gemm_device(const char* op, const GemmArgs<T>& g) {
  if (g.m == 0 || g.n == 0) return;
  // Big tiles (8x8 per thread) when there are enough of them to fill a GPU, else 4x4.
  if (g.m >= 128 && g.n >= 128 && g.m * g.n * (g.sum_batch ? 1 : g.batch) >= (int64_t(1) << 18))
    run_gemm<T, 128, 128, 8, 8, 8>(op, g);
  else
    run_gemm<T, 64, 64, 8, 4, 4>(op, g);
}

template void gemm_device<float>(const char*, const GemmArgs<float>&);
template void gemm_device<double>(const char*, const GemmArgs<double>&);

}  // namespace sepconv::cuda

namespace sepconv::cuda::ops {
namespace {

// An operand of rank 2 (shared by the batch) or 3 (batch entries `batch` elements apart).
struct BatchedMatrix {
  int64_t batch, rows, cols;  // batch 0: a 2-D operand
};

BatchedMatrix batched_matrix(const char* name, const TensorArg& t) {
  SEPCONV_CHECK(t.ndim == 2 || t.ndim == 3, "gemm: ", name, " must have 2 or 3 dims, got ", t.ndim);
  return {t.ndim == 3 ? t.shape[0] : 0, t.dim(-2), t.dim(-1)};
}

}  // namespace

void gemm(const OpCall& c) {
  const TensorArg &a = c.in(0), &b = c.in(1), &out = c.out(0);
  const bool trans_a = c.param(0) != 0, trans_b = c.param(1) != 0;
  const int bias_kind = int(c.iparam(4));
  const BatchedMatrix ma = batched_matrix("a", a), mb = batched_matrix("b", b), mo = batched_matrix("out", out);
  const int64_t m = mo.rows, n = mo.cols, k = trans_a ? ma.rows : ma.cols;
  SEPCONV_CHECK((trans_a ? ma.cols : ma.rows) == m, "gemm: a has ", trans_a ? ma.cols : ma.rows, " rows of op(a), out has ", m);
  SEPCONV_CHECK((trans_b ? mb.cols : mb.rows) == k, "gemm: op(b) has ", trans_b ? mb.cols : mb.rows, " rows, op(a) has ", k,
                " columns");
  SEPCONV_CHECK((trans_b ? mb.rows : mb.cols) == n, "gemm: op(b) has ", trans_b ? mb.rows : mb.cols, " columns, out has ", n);
  const int64_t batch = std::max({ma.batch, mb.batch, mo.batch, int64_t(1)});
  for (const int64_t operand_batch : {ma.batch, mb.batch})
    SEPCONV_CHECK(operand_batch <= 1 || operand_batch == batch, "gemm: batch sizes ", ma.batch, ", ", mb.batch, " and ",
                  mo.batch, " do not broadcast");
  SEPCONV_CHECK(mo.batch == 0 || mo.batch == batch, "gemm: out has batch ", mo.batch, ", the operands ", batch);
  SEPCONV_CHECK(bias_kind >= 0 && bias_kind <= 2, "gemm: unknown bias kind ", bias_kind);
  const bool has_bias = bias_kind != 0;
  SEPCONV_CHECK(c.num_inputs == (has_bias ? 3 : 2), "gemm: bias_kind ", bias_kind, " with ", c.num_inputs, " inputs");
  if (has_bias) check_numel(c, "bias", c.in(2), bias_kind == 1 ? m : n);
  check_dtype(c, "b", b, a.dtype);
  check_dtype(c, "out", out, a.dtype);
  if (has_bias) check_dtype(c, "bias", c.in(2), a.dtype);
  float_dispatch(c, "a", a.dtype, [&](auto zero) {
    using T = decltype(zero);
    GemmArgs<T> g;
    g.m = m, g.n = n, g.k = k;
    g.a = a.ptr<T>(), g.lda = ma.cols, g.a_batch = ma.batch > 1 ? m * k : 0, g.trans_a = trans_a;
    g.b = b.ptr<T>(), g.ldb = mb.cols, g.b_batch = mb.batch > 1 ? k * n : 0, g.trans_b = trans_b;
    g.c = out.ptr<T>(), g.ldc = n, g.c_batch = m * n;
    g.batch = batch;
    g.sum_batch = mo.batch == 0 && batch > 1;
    g.alpha = T(c.param(2)), g.beta = T(c.param(3));
    g.bias = has_bias ? c.in(2).ptr<T>() : nullptr;
    g.bias_kind = bias_kind;
    gemm_device("gemm", g);
  });
}

}  // namespace sepconv::cuda::ops
