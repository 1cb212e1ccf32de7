/**
 * The output size of a sliding window (convolution, pooling) along one dim, PyTorch's formula:
 * floor((size + 2·padding − dilation·(kernel − 1) − 1 + (ceilMode ? stride − 1 : 0)) / stride) + 1,
 * where in ceil mode a last window that would start in the right padding is dropped. Below 1
 * when the window does not fit. The one TypeScript copy; it mirrors `output_size` in
 * native/core/output_size.h, and test/output-size.test.ts checks that they agree.
 */
export function outputSize(size: number, kernel: number, stride: number, padding: number, dilation: number, ceilMode = false): number {
  let out = Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0)) / stride) + 1;
  if (ceilMode && (out - 1) * stride >= size + padding) out--;
  return out;
}
