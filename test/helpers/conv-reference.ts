/**
 * Naive float64 convolution (PyTorch semantics, NCHW, weight [out, in/groups, kh, kw]) and
 * its two adjoints, written as the textbook loops: the reference the kernels are tested against.
 */
export interface ConvSpec {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  kH: number;
  kW: number;
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  groups: number;
}

export function convOutSize(s: ConvSpec): [number, number] {
  const size = (n: number, k: number, d: number) => Math.floor((n + 2 * s.padding[d]! - s.dilation[d]! * (k - 1) - 1) / s.stride[d]!) + 1;
  return [size(s.inH, s.kH, 0), size(s.inW, s.kW, 1)];
}

/**
 * Calls visit(xIndex, wIndex, yIndex) for every (input, weight, output) triple the
 * convolution multiplies; forward and both adjoints are sums over these triples.
 */
function forEachTap(s: ConvSpec, outH: number, outW: number, visit: (xi: number, wi: number, yi: number) => void): void {
  const inPerGroup = s.inC / s.groups, outPerGroup = s.outC / s.groups;
  for (let n = 0; n < s.batch; n++)
    for (let co = 0; co < s.outC; co++) {
      const g = Math.floor(co / outPerGroup);
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0; ox < outW; ox++) {
          const yi = ((n * s.outC + co) * outH + oy) * outW + ox;
          for (let ci = 0; ci < inPerGroup; ci++)
            for (let ki = 0; ki < s.kH; ki++) {
              const iy = oy * s.stride[0] - s.padding[0] + ki * s.dilation[0];
              if (iy < 0 || iy >= s.inH) continue;
              for (let kj = 0; kj < s.kW; kj++) {
                const ix = ox * s.stride[1] - s.padding[1] + kj * s.dilation[1];
                if (ix < 0 || ix >= s.inW) continue;
                visit(((n * s.inC + g * inPerGroup + ci) * s.inH + iy) * s.inW + ix, ((co * inPerGroup + ci) * s.kH + ki) * s.kW + kj, yi);
              }
            }
        }
    }
}

/** y = conv(x, w) + bias; `outSize` may crop the output (conv_transpose2d's adjoint needs it). */
export function convForward(s: ConvSpec, x: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null,
  outSize = convOutSize(s)): Float64Array {
  const [oh, ow] = outSize;
  const y = new Float64Array(s.batch * s.outC * oh * ow);
  if (bias) for (let i = 0; i < y.length; i++) y[i] = bias[Math.floor(i / (oh * ow)) % s.outC]!;
  forEachTap(s, oh, ow, (xi, wi, yi) => (y[yi]! += x[xi]! * w[wi]!));
  return y;
}

/** dx = the adjoint of conv applied to dy (+ bias per input channel: conv_transpose2d's bias). */
export function convBackwardInput(s: ConvSpec, dy: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number> | null = null,
  outSize = convOutSize(s)): Float64Array {
  const dx = new Float64Array(s.batch * s.inC * s.inH * s.inW);
  if (bias) for (let i = 0; i < dx.length; i++) dx[i] = bias[Math.floor(i / (s.inH * s.inW)) % s.inC]!;
  forEachTap(s, outSize[0], outSize[1], (xi, wi, yi) => (dx[xi]! += dy[yi]! * w[wi]!));
  return dx;
}

export function convBackwardWeight(s: ConvSpec, x: ArrayLike<number>, dy: ArrayLike<number>, outSize = convOutSize(s)): Float64Array {
  const dw = new Float64Array(s.outC * (s.inC / s.groups) * s.kH * s.kW);
  forEachTap(s, outSize[0], outSize[1], (xi, wi, yi) => (dw[wi]! += x[xi]! * dy[yi]!));
  return dw;
}

/** Sum of dy per channel (the bias gradient). */
export function channelSums(dy: ArrayLike<number>, batch: number, channels: number, plane: number): Float64Array {
  const out = new Float64Array(channels);
  for (let n = 0; n < batch; n++)
    for (let c = 0; c < channels; c++) for (let i = 0; i < plane; i++) out[c]! += dy[(n * channels + c) * plane + i]!;
  return out;
}
