// Seeded random geometries for the windowed ops (conv2d, depthwise, max/avg pooling,
// upsampling): strides above the kernel size, dilation, uneven padding, tiny and tall planes,
// combinations the hand-picked cases may miss. Each geometry is compared with the CPU op.
#include "core/output_size.h"
#include "cuda/common.cuh"
#include "cuda/test/compare.h"
#include "cuda/test/harness.h"

namespace sepconv::cuda::test {
namespace {

int64_t pick(std::mt19937& rng, int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); }

std::string geometry(const std::vector<double>& params) {
  std::string s = " params";
  for (double p : params) s += " " + std::to_string(int64_t(p));
  return s;
}

TEST_CASE("fuzz: conv2d and depthwise geometries") {
  std::mt19937 rng(71);
  for (int round = 0; round < 40; ++round) {
    const int64_t kh = pick(rng, 1, 5), kw = pick(rng, 1, 5), sh = pick(rng, 1, 4), sw = pick(rng, 1, 4);
    const int64_t dh = pick(rng, 1, 3), dw = pick(rng, 1, 3), ph = pick(rng, 0, 3), pw = pick(rng, 0, 3);
    const int64_t h = pick(rng, 1, 20), w = pick(rng, 1, 40), n = pick(rng, 1, 3);
    const int64_t oh = output_size(h, kh, sh, ph, dh), ow = output_size(w, kw, sw, pw, dw);
    if (oh < 1 || ow < 1) continue;
    const int64_t groups = pick(rng, 1, 3), c = groups * pick(rng, 1, 3), oc = groups * pick(rng, 1, 4);
    const std::vector<double> conv = flat(Conv2dParams{sh, sw, ph, pw, dh, dw, groups});
    const std::vector<int64_t> xs{n, c, h, w}, ws{oc, c / groups, kh, kw}, ys{n, oc, oh, ow};
    const std::string label = "x" + HostTensor{DType::F32, xs, {}}.shape_str() + " w" +
                              HostTensor{DType::F32, ws, {}}.shape_str() + geometry(conv);
    compare({Op::conv2d_forward, ops::conv2d_forward, {random_tensor(rng, DType::F32, xs), random_tensor(rng, DType::F32, ws)},
             {filled_tensor(DType::F32, ys, 7)}, conv, 1e-4, 1e-4, label});
    compare({Op::conv2d_backward_input, ops::conv2d_backward_input,
             {random_tensor(rng, DType::F32, ys), random_tensor(rng, DType::F32, ws)}, {filled_tensor(DType::F32, xs, 7)},
             conv, 1e-4, 1e-4, label});
    compare({Op::conv2d_backward_weight, ops::conv2d_backward_weight,
             {random_tensor(rng, DType::F32, xs), random_tensor(rng, DType::F32, ys)}, {filled_tensor(DType::F32, ws, 7)},
             conv, 1e-4, 1e-4 * double(n * oh * ow), label});

    const int64_t m = pick(rng, 1, 3);
    const std::vector<double> dwp = flat(DepthwiseParams{sh, sw, ph, pw, dh, dw});
    const std::vector<int64_t> dws{c * m, 1, kh, kw}, dys{n, c * m, oh, ow};
    const std::string dlabel = "x" + HostTensor{DType::F32, xs, {}}.shape_str() + " w" +
                               HostTensor{DType::F32, dws, {}}.shape_str() + geometry(dwp);
    compare({Op::depthwise_conv2d_forward, ops::depthwise_conv2d_forward,
             {random_tensor(rng, DType::F32, xs), random_tensor(rng, DType::F32, dws)}, {filled_tensor(DType::F32, dys, 7)},
             dwp, 1e-4, 1e-5, dlabel});
    compare({Op::depthwise_conv2d_backward_input, ops::depthwise_conv2d_backward_input,
             {random_tensor(rng, DType::F32, dys), random_tensor(rng, DType::F32, dws)},
             {filled_tensor(DType::F32, xs, 7)}, dwp, 1e-4, 1e-5, dlabel});
    compare({Op::depthwise_conv2d_backward_weight, ops::depthwise_conv2d_backward_weight,
             {random_tensor(rng, DType::F32, xs), random_tensor(rng, DType::F32, dys)},
             {filled_tensor(DType::F32, dws, 7), filled_tensor(DType::F32, {c * m}, 7)}, dwp, 1e-4,
             1e-5 * double(n * oh * ow), dlabel});
  }
}

TEST_CASE("fuzz: pooling and upsampling geometries") {
  std::mt19937 rng(72);
  for (int round = 0; round < 40; ++round) {
    const int64_t kh = pick(rng, 1, 4), kw = pick(rng, 1, 4), sh = pick(rng, 1, 4), sw = pick(rng, 1, 4);
    const int64_t ph = pick(rng, 0, kh / 2), pw = pick(rng, 0, kw / 2), dh = pick(rng, 1, 2), dw = pick(rng, 1, 2);
    const int64_t h = pick(rng, 1, 17), w = pick(rng, 1, 23), n = pick(rng, 1, 2), c = pick(rng, 1, 3);
    const bool ceil_mode = pick(rng, 0, 1);
    const std::vector<int64_t> xs{n, c, h, w};
    auto pooled = [&](int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) { return output_size(in, k, s, p, d, ceil_mode); };
    const int64_t oh = pooled(h, kh, sh, ph, dh), ow = pooled(w, kw, sw, pw, dw);
    if (oh >= 1 && ow >= 1) {
      const std::vector<int64_t> ys{n, c, oh, ow};
      const std::vector<double> mp = flat(MaxPool2dForwardParams{kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode});
      compare({Op::max_pool2d_forward, ops::max_pool2d_forward, {random_tensor(rng, DType::F32, xs)},
               {filled_tensor(DType::F32, ys, 7), filled_tensor(DType::I32, ys, 7)}, mp, 0, 0,
               "x" + HostTensor{DType::F32, xs, {}}.shape_str() + geometry(mp)});
    }
    // Average pooling has no dilation; its windows must not be empty.
    const int64_t ah = pooled(h, kh, sh, ph, 1), aw = pooled(w, kw, sw, pw, 1);
    if (ah >= 1 && aw >= 1 && (ah - 1) * sh - ph < h && (aw - 1) * sw - pw < w) {
      const std::vector<int64_t> ys{n, c, ah, aw};
      const std::vector<double> ap =
          flat(AvgPoolParams{kh, kw, sh, sw, ph, pw, pick(rng, 0, 1) != 0, pick(rng, 0, 1) * pick(rng, 1, 9)});
      const std::string label = "x" + HostTensor{DType::F32, xs, {}}.shape_str() + geometry(ap);
      compare({Op::avg_pool2d_forward, ops::avg_pool2d_forward, {random_tensor(rng, DType::F32, xs)},
               {filled_tensor(DType::F32, ys, 7)}, ap, 1e-5, 1e-6, label});
      compare({Op::avg_pool2d_backward, ops::avg_pool2d_backward, {random_tensor(rng, DType::F32, ys)},
               {filled_tensor(DType::F32, xs, 7)}, ap, 1e-5, 1e-6, label});
    }
    const std::vector<int64_t> us{n, c, pick(rng, 1, 19), pick(rng, 1, 19)};
    const std::vector<double> up = flat(UpsampleParams{UpsampleMode(pick(rng, 0, 1)), pick(rng, 0, 1) != 0, 0, 0});
    const std::string label = "x" + HostTensor{DType::F32, xs, {}}.shape_str() + " out" +
                              HostTensor{DType::F32, us, {}}.shape_str() + geometry(up);
    compare({Op::upsample2d_forward, ops::upsample2d_forward, {random_tensor(rng, DType::F32, xs)},
             {filled_tensor(DType::F32, us, 7)}, up, 1e-5, 1e-6, label});
    compare({Op::upsample2d_backward, ops::upsample2d_backward, {random_tensor(rng, DType::F32, us)},
             {filled_tensor(DType::F32, xs, 7)}, up, 1e-5, 1e-6, label});
    compare({Op::adaptive_avg_pool2d_forward, ops::adaptive_avg_pool2d_forward, {random_tensor(rng, DType::F32, xs)},
             {filled_tensor(DType::F32, us, 7)}, {}, 1e-5, 1e-6, label});
  }
}

}  // namespace
}  // namespace sepconv::cuda::test
