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
  /* x, dy -> dx               ; dx = dy where x > 0            */ X(relu_backward)            \
  /* x [N,C,H,W] -> out, indices (int32, flat positions in each HxW plane) ; kernel h, w,    */ \
  /*   stride h, w, padding h, w, dilation h, w, ceil_mode (checked against out's shape)    */ \
  X(max_pool2d_forward)                                                                      \
  /* dy, indices -> dx         ; dx = 0, then dx[plane][indices] += dy                      */ \
  X(max_pool2d_backward)                                                                     \
  /* x, indices -> out         ; out = 0, then out[plane][indices] = x (indices checked)    */ \
  X(max_unpool2d_forward)                                                                    \
  /* dy, indices -> dx         ; dx = dy[plane][indices]                                    */ \
  X(max_unpool2d_backward)                                                                   \
  /* x [N,C,*], [weight, bias], [running_mean, running_var] -> y, mean, invstd ([C]: batch  */ \
  /*   stats when training, else running ones); training, momentum, eps, affine, running;   */ \
  /*   training updates the running stats in place                                          */ \
  X(batch_norm_forward)                                                                      \
  /* x, dy, mean, invstd, [weight] -> [dx], [dweight, dbias] ; training, affine, need_dx,   */ \
  /*   need_dparams (the bracketed outputs exist when their flag is set)                    */ \
  X(batch_norm_backward)                                                                     \
  /* x -> out                  ; dim, log (0 softmax, 1 log-softmax)                        */ \
  X(softmax_forward)                                                                         \
  /* y, dy -> dx (y = the forward's output) ; dim, log                                      */ \
  X(softmax_backward)                                                                        \
  /* logits [N,C,*], targets int32 [N,*] -> loss ([] or [N,*]), lse [N,*] ; ignore_index,    */ \
  /*   reduction (0 none, 1 mean over non-ignored, 2 sum); targets out of range throw        */ \
  X(cross_entropy_forward)                                                                   \
  /* logits, targets, lse, dloss -> dlogits ; ignore_index, reduction                       */ \
  X(cross_entropy_backward)                                                                  \
  /* param, grad, [momentum_buffer] (updated in place) ; lr, momentum, dampening,           */ \
  /*   weight_decay, nesterov, first_step (the buffer exists iff momentum != 0)             */ \
  X(sgd_step)                                                                                \
  /* param, grad, exp_avg, exp_avg_sq, [max_exp_avg_sq] (updated in place) ; lr, beta1,     */ \
  /*   beta2, eps, weight_decay, decoupled (AdamW), step (from 1), amsgrad                  */ \
  X(adam_step)                                                                               \
  /* a, b[, bias] -> out ; trans_a, trans_b, alpha, beta, bias_kind (0 none, 1 per row, 2 per  \
     column of out): out = alpha*op(a)*op(b) + beta*out + bias. a is [M, K] ([K, M] when       \
     trans_a) or a batch [B, ...] of them, likewise b [K, N]; out is [M, N] or [B, M, N]. A    \
     2-D operand is shared by every batch entry; a 2-D out with batched operands receives the  \
     sum over the batch (beta applies once). beta == 0 never reads out.                        \
   */                                                                                          \
  X(gemm)                                                                                      \
  /* Convolutions (NCHW; weight [C_out, C_in/groups, kh, kw]); params of all three:           \
     stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups.                         \
     x, w[, bias] -> y                                                                         \
   */                                                                                          \
  X(conv2d_forward)                                                                            \
  /* dy, w[, bias] -> dx: the input gradient (dx's shape fixes the input size, so this is also \
     conv_transpose2d's forward; bias, per channel of dx, is what that needs)                  \
   */                                                                                          \
  X(conv2d_backward_input)                                                                     \
  /* x, dy -> dw: the weight gradient (the bias gradient is a sum_to of dy)                    \
   */                                                                                          \
  X(conv2d_backward_weight)                                                                    \
  /* Depthwise conv2d (groups = C, channel multiplier m): x[N,C,H,W], w[C*m,1,kh,kw]          \
     (, bias[C*m]) -> out[N,C*m,OH,OW]; output channel o reads input channel o/m.             \
     Params of all three: stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w. */        \
  X(depthwise_conv2d_forward)                                                                \
  /* dy[N,C*m,OH,OW], w[C*m,1,kh,kw] -> dx[N,C,H,W]                                     */ \
  X(depthwise_conv2d_backward_input)                                                         \
  /* x[N,C,H,W], dy[N,C*m,OH,OW] -> dw[C*m,1,kh,kw] (, dbias[C*m]); sums over the batch */ \
  X(depthwise_conv2d_backward_weight)                                                        \
  /* Prototype, fused depthwise separable forward: x[N,C,H,W], w_dw[C,1,kh,kw],              \
     w_pw[C_out,C,1,1] (, bias[C_out]) -> y[N,C_out,OH,OW] = pointwise(depthwise(x)), the     \
     depthwise output computed a band of rows at a time and consumed from cache by the GEMM. \
     Params: the depthwise stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w. */      \
  X(depthwise_pointwise_forward)                                                             \
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
