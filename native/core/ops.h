// The one op list. The CPU dispatch table (cpu/ops/registry.cc), the CUDA table and the
// TypeScript op calls (lib/native.ts looks ops up by these names at load) are all keyed to
// it: an op listed here without a CPU implementation is a link error, and a backend that
// lacks one reports "not supported" by name.
//
// Each op documents its operands as  inputs -> outputs ; params. Outputs are allocated by
// the caller (TypeScript knows every shape); params are doubles (integers exact to 2^53).
#pragma once
#include <cstdint>

#define SEPCONV_OPS(X)                                                                       \
  /* out                       ; value                         */ X(fill)                    \
  /* x -> out (any dtypes, same numel: converts)                */ X(copy)                    \
  /* out(float)                ; mean, std, seed, counter       */ X(fill_randn)              \
  /* out(float)                ; low, high, seed, counter       */ X(fill_uniform)            \
  /* a, b -> out (broadcast, shapes aligned to out's rank); kind: 0 add 1 sub 2 mul 3 div */ \
  X(binary)                                                                                  \
  /* x -> out                  ; alpha, beta: out = alpha*x + beta */ X(affine)              \
  /* x, y -> y (in place)      ; alpha: y += alpha*x            */ X(axpy)                    \
  /* x -> out (out's shape = x's with reduced dims set to 1)    */ X(sum_to)                  \
  /* x -> out                  ; out = max(x, 0)                */ X(relu_forward)            \
  /* x, dy -> dx               ; dx = dy where x > 0            */ X(relu_backward)           \
  /* Depthwise conv2d (groups = C, channel multiplier m): x[N,C,H,W], w[C*m,1,kh,kw]          \
     (, bias[C*m]) -> out[N,C*m,OH,OW]; output channel o reads input channel o/m.             \
     Params of all three: stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w. */        \
  X(depthwise_conv2d_forward)                                                                \
  /* dy[N,C*m,OH,OW], w[C*m,1,kh,kw] -> dx[N,C,H,W]                                     */ \
  X(depthwise_conv2d_backward_input)                                                         \
  /* x[N,C,H,W], dy[N,C*m,OH,OW] -> dw[C*m,1,kh,kw] (, dbias[C*m]); sums over the batch */ \
  X(depthwise_conv2d_backward_weight)

namespace sepconv {

enum class Op : int32_t {
#define SEPCONV_OP_ENUM(name) name,
  SEPCONV_OPS(SEPCONV_OP_ENUM)
#undef SEPCONV_OP_ENUM
};

constexpr int kOpCount = 0
#define SEPCONV_OP_COUNT(name) +1
    SEPCONV_OPS(SEPCONV_OP_COUNT)
#undef SEPCONV_OP_COUNT
    ;

const char* op_name(Op op);

}  // namespace sepconv
