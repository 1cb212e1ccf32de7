import { afterAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { channelSums, convBackwardInput, convBackwardWeight, convForward, convOutSize } from './helpers/conv-reference.js';
import type { ConvSpec } from './helpers/conv-reference.js';
import { expectClose, gradcheck, randomArray } from './helpers/gradcheck.js';

const isas = sc.backend().supportedIsas;
afterAll(() => sc._setIsa(isas[0]!));

type Case = Partial<ConvSpec> & Pick<ConvSpec, 'batch' | 'inC' | 'inH' | 'inW' | 'outC' | 'kH' | 'kW'> & { name: string; bias?: boolean };

const spec = (c: Case): ConvSpec => ({ stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, ...c });

// Odd sizes, batch 1, stride 2, padding 0/1/2, dilation 2, groups 2, 1x1 (the pointwise GEMM
// path), depthwise shapes, non-square kernels, and sizes past the GEMM's K block (256) and the
// weight gradient's split of the reduction across threads.
const cases: Case[] = [
  { name: '3x3 pad 1, odd plane', batch: 2, inC: 3, inH: 7, inW: 9, outC: 4, kH: 3, kW: 3, padding: [1, 1], bias: true },
  { name: 'batch 1, stride 2, pad 0', batch: 1, inC: 4, inH: 8, inW: 8, outC: 6, kH: 3, kW: 3, stride: [2, 2] },
  { name: 'non-square 5x3 kernel, pad [2, 1]', batch: 2, inC: 2, inH: 9, inW: 7, outC: 3, kH: 5, kW: 3, padding: [2, 1], bias: true },
  { name: 'dilation 2, pad 2', batch: 2, inC: 3, inH: 11, inW: 10, outC: 5, kH: 3, kW: 3, dilation: [2, 2], padding: [2, 2] },
  { name: 'groups 2', batch: 2, inC: 4, inH: 7, inW: 7, outC: 6, kH: 3, kW: 3, groups: 2, padding: [1, 1], bias: true },
  { name: '1x1 (pointwise GEMM)', batch: 3, inC: 5, inH: 6, inW: 7, outC: 4, kH: 1, kW: 1, bias: true },
  { name: '1x1 groups 2', batch: 2, inC: 4, inH: 5, inW: 5, outC: 6, kH: 1, kW: 1, groups: 2 },
  { name: '1x1 stride 2', batch: 2, inC: 5, inH: 7, inW: 7, outC: 3, kH: 1, kW: 1, stride: [2, 2] },
  { name: 'depthwise x2 multiplier, stride 2 (routed to the depthwise kernels)', batch: 2, inC: 4, inH: 9, inW: 9, outC: 8, kH: 3, kW: 3, groups: 4, stride: [2, 2], padding: [1, 1], bias: true },
  { name: 'mixed stride/pad/dilation per dim', batch: 2, inC: 3, inH: 10, inW: 9, outC: 4, kH: 3, kW: 2, stride: [2, 1], padding: [0, 2], dilation: [1, 2] },
  { name: 'reduction past one K block', batch: 1, inC: 40, inH: 9, inW: 9, outC: 20, kH: 3, kW: 3, padding: [1, 1] },
  { name: 'input gradient past one K block', batch: 1, inC: 3, inH: 5, inW: 5, outC: 300, kH: 3, kW: 3, padding: [1, 1] },
  { name: 'weight gradient split over threads', batch: 8, inC: 2, inH: 16, inW: 16, outC: 3, kH: 3, kW: 3, padding: [1, 1], bias: true },
  { name: 'kernel as large as the padded input', batch: 2, inC: 2, inH: 4, inW: 5, outC: 3, kH: 6, kW: 7, padding: [1, 1] },
];

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

describe('conv2d forward and backward against a float64 reference', () => {
  for (const c of cases) {
    it(c.name, () => {
      const s = spec(c);
      const [oh, ow] = convOutSize(s);
      const xShape = [s.batch, s.inC, s.inH, s.inW], wShape = [s.outC, s.inC / s.groups, s.kH, s.kW], yShape = [s.batch, s.outC, oh, ow];
      const x = randomArray(numel(xShape), 1), w = randomArray(numel(wShape), 2), b = c.bias ? randomArray(s.outC, 3) : null;
      const gy = randomArray(numel(yShape), 4);
      const want = {
        y: convForward(s, x, w, b),
        dx: convBackwardInput(s, gy, w),
        dw: convBackwardWeight(s, x, gy),
        db: channelSums(gy, s.batch, s.outC, oh * ow),
      };
      const runs = [...isas.map((isa) => ({ isa, dtype: 'float32' as const })), { isa: isas[0]!, dtype: 'float64' as const }];
      for (const { isa, dtype } of runs) {
        sc._setIsa(isa);
        const tol = dtype === 'float32' ? 2e-4 : 1e-11;
        const xt = sc.tensor(x, xShape, { dtype, requiresGrad: true });
        const wt = sc.tensor(w, wShape, { dtype, requiresGrad: true });
        const bt = b ? sc.tensor(b, [s.outC], { dtype, requiresGrad: true }) : null;
        const y = sc.F.conv2d(xt, wt, bt, { stride: s.stride, padding: s.padding, dilation: s.dilation, groups: s.groups });
        expect(y.shape).toEqual(yShape);
        expectClose(y.toArray(), want.y, tol, tol);
        y.backward(sc.tensor(gy, yShape, { dtype }));
        expectClose(xt.grad!.toArray(), want.dx, tol, tol);
        expectClose(wt.grad!.toArray(), want.dw, tol, tol);
        if (bt) expectClose(bt.grad!.toArray(), want.db, tol, tol);
      }
    });
  }

  it('takes an unbatched [C, H, W] input', () => {
    const x = sc.randn([3, 6, 6], { dtype: 'float64' }), w = sc.randn([2, 3, 3, 3], { dtype: 'float64' });
    const y = sc.F.conv2d(x, w, null, { padding: 1 });
    expect(y.shape).toEqual([2, 6, 6]);
    expectClose(y.toArray(), sc.F.conv2d(x.reshape([1, 3, 6, 6]), w, null, { padding: 1 }).toArray(), 0, 0);
  });
});

// The same fields, read as the transposed convolution's input/output channels and sizes.
type TransposeCase = Case & { outputPadding?: [number, number] };

const transposeCases: TransposeCase[] = [
  { name: '2x2 stride 2 upsampling', batch: 2, inC: 4, inH: 5, inW: 6, outC: 3, kH: 2, kW: 2, stride: [2, 2], bias: true },
  { name: '3x3 stride 2 pad 1 output padding 1', batch: 1, inC: 3, inH: 4, inW: 5, outC: 5, kH: 3, kW: 3, stride: [2, 2], padding: [1, 1], outputPadding: [1, 1], bias: true },
  { name: 'groups 2, stride 1, pad 1', batch: 2, inC: 4, inH: 6, inW: 5, outC: 6, kH: 3, kW: 3, padding: [1, 1], groups: 2 },
  { name: 'dilation 2 with output padding >= stride', batch: 2, inC: 2, inH: 5, inW: 4, outC: 3, kH: 3, kW: 2, dilation: [2, 2], outputPadding: [1, 1], bias: true },
  { name: '1x1 (pointwise)', batch: 2, inC: 5, inH: 3, inW: 4, outC: 4, kH: 1, kW: 1, bias: true },
  // 1x1 with an output padding: dx is larger than dy, so it is not the pointwise GEMM (this case
  // once read past the plane on the CPU: NaN in float32).
  { name: '1x1, dilation 2, output padding 1', batch: 2, inC: 3, inH: 4, inW: 5, outC: 4, kH: 1, kW: 1, dilation: [2, 2], outputPadding: [1, 1], bias: true },
  { name: '1x1, dilation 3x2, output padding 1', batch: 1, inC: 2, inH: 3, inW: 3, outC: 3, kH: 1, kW: 1, dilation: [3, 2], outputPadding: [1, 1] },
  // groups == channels on the GEMM path (conv2d itself routes that shape to the depthwise kernels)
  { name: 'depthwise-shaped groups, stride 2', batch: 2, inC: 3, inH: 4, inW: 4, outC: 6, kH: 3, kW: 3, stride: [2, 2], padding: [1, 1], groups: 3, bias: true },
  // weight [C*m, 1, kH, kW] with groups C: the adjoint convolutions are depthwise, which the
  // native conv ops run on the direct depthwise kernels (except the input gradient with a bias).
  { name: 'depthwise transposed (weight [C, 1, k, k], groups C), stride 2', batch: 2, inC: 3, inH: 4, inW: 5, outC: 3, kH: 3, kW: 3, stride: [2, 2], padding: [1, 1], groups: 3 },
  { name: 'depthwise transposed, channel multiplier 2, dilation, bias', batch: 1, inC: 6, inH: 5, inW: 4, outC: 3, kH: 3, kW: 2, dilation: [2, 1], padding: [1, 0], groups: 3, bias: true },
];

describe('convTranspose2d against a float64 reference', () => {
  for (const c of transposeCases) {
    it(c.name, () => {
      const stride = c.stride ?? [1, 1], padding = c.padding ?? [0, 0], op = c.outputPadding ?? [0, 0], dilation = c.dilation ?? [1, 1];
      const groups = c.groups ?? 1;
      const outH = (c.inH - 1) * stride[0] - 2 * padding[0] + dilation[0] * (c.kH - 1) + op[0] + 1;
      const outW = (c.inW - 1) * stride[1] - 2 * padding[1] + dilation[1] * (c.kW - 1) + op[1] + 1;
      // The transposed convolution is the adjoint of this convolution (from its output to its input).
      const adjoint: ConvSpec = { batch: c.batch, inC: c.outC, inH: outH, inW: outW, outC: c.inC, kH: c.kH, kW: c.kW, stride, padding, dilation, groups };
      const size: [number, number] = [c.inH, c.inW];
      const xShape = [c.batch, c.inC, c.inH, c.inW], wShape = [c.inC, c.outC / groups, c.kH, c.kW], yShape = [c.batch, c.outC, outH, outW];
      const x = randomArray(numel(xShape), 5), w = randomArray(numel(wShape), 6), b = c.bias ? randomArray(c.outC, 7) : null;
      const gy = randomArray(numel(yShape), 8);
      const want = {
        y: convBackwardInput(adjoint, x, w, b, size),
        dx: convForward(adjoint, gy, w, null, size),
        dw: convBackwardWeight(adjoint, gy, x, size),
        db: channelSums(gy, c.batch, c.outC, outH * outW),
      };
      for (const isa of isas) {
        sc._setIsa(isa);
        const xt = sc.tensor(Float32Array.from(x), xShape, { requiresGrad: true });
        const wt = sc.tensor(Float32Array.from(w), wShape, { requiresGrad: true });
        const bt = b ? sc.tensor(Float32Array.from(b), [c.outC], { requiresGrad: true }) : null;
        const y = sc.F.convTranspose2d(xt, wt, bt, { stride, padding, outputPadding: op, dilation, groups });
        expect(y.shape).toEqual(yShape);
        expectClose(y.toArray(), want.y, 2e-4, 2e-4);
        y.backward(sc.tensor(Float32Array.from(gy), yShape));
        expectClose(xt.grad!.toArray(), want.dx, 2e-4, 2e-4);
        expectClose(wt.grad!.toArray(), want.dw, 2e-4, 2e-4);
        if (bt) expectClose(bt.grad!.toArray(), want.db, 2e-4, 2e-4);
      }
    });
  }
});

const input = (shape: number[], seed: number) => ({ data: randomArray(numel(shape), seed), shape });

describe('conv gradients (float64 finite differences)', () => {
  it('conv2d: stride, padding, dilation, groups, bias', () => {
    gradcheck((x, w, b) => sc.F.conv2d(x!, w!, b!, { stride: [2, 1], padding: [1, 2], dilation: [1, 2], groups: 2 }),
      [input([2, 4, 6, 5], 11), input([4, 2, 3, 2], 12), input([4], 13)]);
    gradcheck((x, w) => sc.F.conv2d(x!, w!, null, {}), [input([1, 3, 4, 4], 14), input([2, 3, 1, 1], 15)]);
  });
  it('convTranspose2d: stride 2, output padding, groups, bias', () => {
    gradcheck((x, w, b) => sc.F.convTranspose2d(x!, w!, b!, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }),
      [input([2, 4, 3, 3], 16), input([4, 1, 3, 3], 17), input([2], 18)]);
  });
});

describe('conv bad input', () => {
  const x = sc.zeros([2, 4, 8, 8]);
  const w = sc.zeros([6, 2, 3, 3]);
  it('names wrong ranks', () => {
    expect(() => sc.F.conv2d(sc.zeros([4, 8]), w)).toThrow(
      'conv2d: expected a 4-D tensor [N, C, H, W] (or 3-D [C, H, W]) for input but received shape [4, 8]');
    expect(() => sc.F.conv2d(x, sc.zeros([6, 4, 3]))).toThrow(
      'conv2d: expected a 4-D tensor [out_channels, in_channels/groups, kH, kW] for weight but received shape [6, 4, 3]');
  });
  it('names mismatched channels and groups', () => {
    expect(() => sc.F.conv2d(x, w)).toThrow(
      'conv2d: expected 2 channels (given groups=1 and weight of shape [6, 2, 3, 3]) for input but received shape [2, 4, 8, 8] (4 channels)');
    expect(() => sc.F.conv2d(x, sc.zeros([6, 3, 3, 3]), null, { groups: 2 })).toThrow(
      'conv2d: expected 6 channels (given groups=2 and weight of shape [6, 3, 3, 3]) for input but received shape [2, 4, 8, 8] (4 channels)');
    expect(() => sc.F.conv2d(x, sc.zeros([5, 2, 3, 3]), null, { groups: 2 })).toThrow(
      'conv2d: expected out_channels (dim 0) divisible by groups=2 for weight but received shape [5, 2, 3, 3]');
    expect(() => sc.F.conv2d(x, w, null, { groups: 0 })).toThrow('conv2d: expected a positive integer for groups but received 0');
    expect(() => sc.F.convTranspose2d(x, sc.zeros([3, 2, 3, 3]))).toThrow(
      'convTranspose2d: expected 3 channels (given groups=1 and weight of shape [3, 2, 3, 3]) for input but received shape [2, 4, 8, 8] (4 channels)');
  });
  it('names a kernel larger than the padded input', () => {
    expect(() => sc.F.conv2d(sc.zeros([1, 2, 4, 4]), sc.zeros([3, 2, 7, 7]), null, { padding: 1 })).toThrow(
      'conv2d: expected a kernel that fits the padded input (6 x 6: input [1, 2, 4, 4] with padding [1, 1]) for weight but received shape [3, 2, 7, 7] (spanning 7 x 7 with dilation [1, 1])');
    expect(() => sc.F.conv2d(sc.zeros([1, 2, 5, 5]), sc.zeros([3, 2, 3, 3]), null, { dilation: 3 })).toThrow(
      'conv2d: expected a kernel that fits the padded input (5 x 5: input [1, 2, 5, 5] with padding [0, 0]) for weight but received shape [3, 2, 3, 3] (spanning 7 x 7 with dilation [3, 3])');
  });
  it('names a bad bias, bad options, int and disposed tensors', () => {
    expect(() => sc.F.conv2d(x, sc.zeros([6, 4, 3, 3]), sc.zeros([5]))).toThrow(
      'conv2d: expected null or a 1-D tensor [6] (one per output channel of weight [6, 4, 3, 3]) for bias but received shape [5]');
    expect(() => sc.F.conv2d(x, sc.zeros([6, 4, 3, 3]), null, { stride: 0 })).toThrow(
      'conv2d: expected an integer >= 1 or a pair [h, w] of them for stride but received 0');
    expect(() => sc.F.conv2d(sc.zeros([2, 4, 8, 8], { dtype: 'int32' }), w)).toThrow(
      'conv2d: expected a float32 or float64 tensor for input but received a int32 tensor of shape [2, 4, 8, 8]');
    expect(() => sc.F.conv2d(x, sc.zeros([6, 4, 3, 3], { dtype: 'float64' }))).toThrow(
      'conv2d: expected dtype float32 (the dtype of input) for weight but received float64');
    const gone = sc.zeros([6, 4, 3, 3]);
    gone.dispose();
    expect(() => sc.F.conv2d(x, gone)).toThrow('conv2d: expected a live Tensor for weight but received a disposed tensor of shape [6, 4, 3, 3]');
    expect(() => sc.F.convTranspose2d(x, sc.zeros([4, 2, 3, 3]), null, { stride: 2, outputPadding: 2 })).toThrow(
      'convTranspose2d: expected values smaller than stride [2, 2] or dilation [1, 1] for outputPadding but received [2, 2]');
  });
});
