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
  /* out(float) ; keep_prob, scale, seed, counter: out = scale with probability keep_prob */ \
  /*   else 0 (dropout masks; same counter-based stream as fill_uniform)                   */ \
  X(fill_bernoulli)                                                                          \
  /* src -> dst (any dtype, shapes equal except at dim) ; dim, src_start, dst_start, len  */ \
  /*   dst[.., dst_start + i, ..] = src[.., src_start + i, ..] for i < len                 */ \
  X(narrow_copy)                                                                             \
  /* x [N,C,H,W] -> out [N,C,OH,OW] ; mode (0 nearest, 1 bilinear), align_corners,         */ \
  /*   scale_h, scale_w (input/output coordinate ratio, 0 = from the sizes)                */ \
  X(upsample2d_forward)                                                                      \
  /* dy [N,C,OH,OW] -> dx [N,C,H,W] ; same params as upsample2d_forward                    */ \
  X(upsample2d_backward)                                                                     \
  /* x [N,C,H,W] -> out [N,C,OH,OW] ; kernel h, w, stride h, w, padding h, w,              */ \
  /*   count_include_pad, divisor_override (0 = none); ceil mode is implied by out's shape */ \
  X(avg_pool2d_forward)                                                                      \
  /* dy [N,C,OH,OW] -> dx [N,C,H,W] ; same params as avg_pool2d_forward                    */ \
  X(avg_pool2d_backward)                                                                     \
  /* x [N,C,H,W] -> out [N,C,OH,OW] : windows [floor(o*H/OH), ceil((o+1)*H/OH)) per axis   */ \
  X(adaptive_avg_pool2d_forward)                                                             \
  /* dy [N,C,OH,OW] -> dx [N,C,H,W]                                                        */ \
  X(adaptive_avg_pool2d_backward)

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
