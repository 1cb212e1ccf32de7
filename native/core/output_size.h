// The output size of a sliding window (convolution, pooling) along one dim: PyTorch's formula
// floor((in + 2*pad - dilation*(kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0)) / stride) + 1,
// where in ceil mode a last window that would start in the right padding is dropped. Below 1
// when the window does not fit. The one C++ copy; lib/functional/output-size.ts mirrors it and
// test/output-size.test.ts checks that they agree (through the addon's outputSize).
#pragma once
#include <cstdint>

namespace sepconv {

inline int64_t output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation,
                           bool ceil_mode = false) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  // Floor division (span may be negative).
  int64_t out = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

}  // namespace sepconv
