// GEMM in the Goto/BLIS design: C = alpha * op(A) * op(B) + beta * C (+ bias), with A and B
// packed into micro-panels by routines that read their operands line by line, so the same
// register-blocked micro-kernel serves plain matrices, NCHW tensors seen as matrices (no
// copy) and the im2col matrix of a convolution, which is never materialised: its lines are
// produced straight into the packed panels ("implicit im2col"). The result goes to a sink:
// a (possibly per-image) matrix, or a col2im scatter-add into a convolution's input gradient.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace sepconv::cpu {

// One convolution group as im2col / col2im see it (input = the tensor the kernel slides over).
struct ConvGeometry {
  int64_t channels;       // input channels of this group
  int64_t height, width;  // input plane
  int64_t kernel_h, kernel_w;
  int64_t stride_h, stride_w;
  int64_t pad_h, pad_w;
  int64_t dilation_h, dilation_w;
  int64_t out_h, out_w;
  int64_t image_stride;  // elements from one image of the input to the next
};

// A logical P×Q matrix that packing reads one line (fixed p, a run of q) at a time.
//   Planar: element (p, q) = data[(q / plane) * plane_stride + p * ld + q % plane].
//           A row-major matrix has plane = Q; an NCHW tensor seen as [C × N·H·W] has
//           ld = plane = H·W and plane_stride = C·H·W.
//   Im2col: the im2col matrix of an NCHW input: p = (c, ki, kj), q = (n, oy, ox).
template <class T>
struct GemmSource {
  enum class Kind { Planar, Im2col };
  Kind kind;
  const T* data;
  int64_t ld, plane, plane_stride;  // Planar
  ConvGeometry conv;                // Im2col
};

// A = source (M×K) or sourceᵀ; B = source (K×N) or sourceᵀ.
template <class T>
struct GemmOperand {
  GemmSource<T> source;
  bool transposed;
};

// Where C goes.
//   Planar: C(i, j) at data[(j / plane) * plane_stride + i * ld + j % plane], written as
//           alpha * AB + beta * C + row_bias[i] + col_bias[j] (beta == 0 never reads C; the
//           biases are optional).
//   Col2imAdd: C is the gradient of an im2col matrix (i = (c, ki, kj), j = (n, oy, ox));
//           alpha * AB is added into the NCHW tensor at `data` described by `conv`.
template <class T>
struct GemmSink {
  enum class Kind { Planar, Col2imAdd };
  Kind kind;
  T* data;
  int64_t ld, plane, plane_stride;
  ConvGeometry conv;
  T alpha, beta;
  const T* row_bias;
  const T* col_bias;
};

template <class T>
struct GemmProblem {
  int64_t m, n, k;
  GemmOperand<T> a, b;
  GemmSink<T> c;
};

// The part of C (rows [m0, m1), columns [n0, n1)) and of the reduction ([k0, k1)) one call
// computes; beta and the biases apply to it once.
struct GemmRange {
  int64_t m0, m1, n0, n1, k0, k1;
};

// A range computed by a team of threads that share the packing of A: each KC-deep slice of A
// is packed once, in parts any member takes, into a buffer every member reads, and C's columns
// are handed out in units as members free up (a member packs the B of its unit itself, so it
// stays in that core's L2). A member slowed by another process on its core does not hold the
// others back, as it would with a static split, and A is not packed once per member. The op
// layer provides the buffer and the zeroed synchronisation words team_sizes() asks for; every
// member calls run_team with the same arguments. No member ever waits for work nobody has
// taken, so a pool that runs the members one after another on one thread still finishes.
struct GemmTeamSizes {
  size_t buffer_bytes;  // 64-byte aligned, shared by the members
  size_t sync_words;    // zero-initialised
};

struct GemmTeam {
  int members;
  void* buffer;
  std::atomic<int>* sync;
};

template <class T>
struct GemmKernels {
  int mr, nr;  // micro-tile; splits of M and N at multiples of these waste no work
  // Computes one range of a problem on the calling thread (the op layer splits work).
  void (*run)(const GemmProblem<T>& problem, const GemmRange& range);
  GemmTeamSizes (*team_sizes)(const GemmRange& range, int members);
  void (*run_team)(const GemmProblem<T>& problem, const GemmRange& range, const GemmTeam& team);
};

}  // namespace sepconv::cpu
