import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { modelProto } from '../dist/onnx/proto.js';
import { saveWeights } from '../dist/train/setup.js';
import { compileSchema, PROTO_PATH, SCHEMA_PATH } from '../scripts/onnx-schema.mjs';

// The references run sepconv's im2col convs: Winograd's float32 rounding (~1e-5 per layer)
// can flip a max pool's choice between two near-equal values, and SegNet's unpool then moves a
// whole value (seen: 2.9% off on 319 of 1536 outputs). That is a kernel-precision question,
// not the export's; the export is compared against the conv path without it.
sc._setConvAlgo('im2col');

const dir = mkdtempSync(join(tmpdir(), 'sepconv-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Non-trivial BatchNorms: random affine parameters, then running statistics taken from real
 * batches (training-mode passes), so eval mode neither is the identity nor lets a deep random
 * network's signal fade to nothing. With `heInit`, conv and linear weights are drawn with He's
 * variance-preserving gain, so that a network without BatchNorm (VGG) still depends on its
 * input at the end (PyTorch's default init shrinks the signal ~3× per layer until the biases
 * are all that is left, which would hide errors in the rest).
 */
function calibrate(model: sc.nn.AnyModule, shape: number[], heInit = false): void {
  for (const m of model.modules()) {
    if (heInit && (m instanceof sc.nn.Conv2d || m instanceof sc.nn.Linear)) sc.nn.init.kaimingUniform_(m.weight, { a: 0 });
    if (m instanceof sc.nn.BatchNorm2d)
      m.loadStateDict({ weight: sc.rand([m.numFeatures]).add(0.5), bias: sc.randn([m.numFeatures]).mul(0.2) }, { strict: false });
  }
  model.train();
  const x = sc.randn(shape);
  sc.noGrad(() => {
    for (let i = 0; i < 30; i++) model.call(x as never);
  });
  model.eval();
}

type Outputs = Record<string, { data: ArrayLike<number | bigint>; dims: readonly number[] }>;

async function runOnnx(bytes: Uint8Array, x: sc.Tensor): Promise<Outputs> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return (await session.run({ input: new ort.Tensor('float32', x.toArray() as Float32Array, x.shape) })) as unknown as Outputs;
  } finally {
    await session.release();
  }
}

/** max |onnx − sepconv| / max |sepconv|, after checking the shapes agree. */
function relativeError(got: Outputs[string], want: sc.Tensor): number {
  expect([...got.dims]).toEqual(want.shape);
  const ref = want.toArray();
  let err = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(Number(got.data[i]) - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return err / scale;
}

/** The outputs must carry signal: the batch entries differ (a dead network would match trivially). */
function expectSignal(out: sc.Tensor): void {
  const v = out.toArray();
  const per = v.length / out.shape[0]!;
  let diff = 0, scale = 0;
  for (let i = 0; i < per; i++) {
    diff = Math.max(diff, Math.abs(v[i]! - v[per + i]!));
    scale = Math.max(scale, Math.abs(v[i]!));
  }
  expect(diff).toBeGreaterThan(1e-2 * scale);
}

/** Exports at batch 1, then checks onnxruntime against sepconv's eval forward at batches 2 and 3. */
async function expectMatches(model: sc.nn.AnyModule, chw: number[], options: Partial<sc.onnx.OnnxExportOptions> = {}): Promise<sc.onnx.OnnxExportResult> {
  const result = sc.onnx.export(model, { inputShape: [1, ...chw], ...options });
  expect(result.inputs[0]!.dims).toEqual(['batch', ...chw]);
  for (const batch of [2, 3]) {
    const x = sc.randn([batch, ...chw]);
    const want = sc.noGrad(() => model.call(x as never)) as sc.Tensor;
    expectSignal(want);
    const got = await runOnnx(result.bytes, x);
    expect(relativeError(got['output']!, want)).toBeLessThan(1e-4);
  }
  return result;
}

const ZOO: [string, (conv: sc.models.ConvKind) => sc.nn.AnyModule, number[]][] = [
  ['vgg', (conv) => sc.models.vgg({ conv, inputSize: 16 }), [3, 16, 16]],
  ['segnet', (conv) => sc.models.segnet({ conv }), [3, 16, 16]],
  ['unet', (conv) => sc.models.unet({ conv, baseWidth: 8 }), [3, 16, 16]],
  ['mobilenet', (conv) => sc.models.mobilenet({ conv, widthMultiplier: 0.25 }), [3, 32, 32]],
];

describe('sc.onnx.export: the zoo in onnxruntime', () => {
  for (const [name, build, chw] of ZOO)
    for (const conv of sc.models.CONV_KINDS)
      it(`${name} ${conv}: onnxruntime equals the eval forward within 1e-4 at batches 2 and 3`, async () => {
        sc.manualSeed(1);
        const model = build(conv);
        calibrate(model, [4, ...chw], true);
        const result = await expectMatches(model, chw);
        expect(result.outputs[0]!.dims[0]).toBe('batch');
        const bns = model.modules().filter((m) => m instanceof sc.nn.BatchNorm2d).length;
        // Every BatchNorm follows a conv, except SegNet's input_bn.
        expect(result.foldedBatchNorms).toBe(name === 'segnet' ? bns - 1 : bns);
        expect(model.training).toBe(false); // calibrate left it in eval; export restores modes
      });

  it('unet with the bilinear upsample decoder (Resize, half-pixel)', async () => {
    sc.manualSeed(2);
    const model = sc.models.unet({ conv: 'dsc', baseWidth: 4, decoder: 'upsample' });
    calibrate(model, [4, 3, 32, 32]);
    await expectMatches(model, [3, 32, 32]);
  });

  it('keeps BatchNormalization nodes when asked, with the same results', async () => {
    sc.manualSeed(3);
    const model = sc.models.mobilenet({ widthMultiplier: 0.25 });
    calibrate(model, [4, 3, 32, 32]);
    const kept = await expectMatches(model, [3, 32, 32], { foldBatchNorm: false, opset: 13 });
    expect(kept.foldedBatchNorms).toBe(0);
    const folded = sc.onnx.export(model, { inputShape: [1, 3, 32, 32] });
    expect(kept.nodes - folded.nodes).toBe(27);
  });

  it('writes depthwise convs as Conv with group = C and a SeparableConv2d as its two Convs', () => {
    type Node = { op_type: string; name: string; attribute: { name: string; i?: number | { toNumber(): number } }[] };
    const nodes = (model: sc.nn.AnyModule, shape: number[]): Node[] =>
      (modelProto().decode(sc.onnx.export(model, { inputShape: shape }).bytes) as unknown as { graph: { node: Node[] } }).graph.node;
    const group = (n: Node): number => Number(n.attribute.find((a) => a.name === 'group')?.i ?? 1);
    const mobile = nodes(sc.models.mobilenet({ conv: 'dsc', widthMultiplier: 0.25 }), [1, 3, 32, 32]);
    expect(mobile.filter((n) => n.name === 'features.1.0').map((n) => [n.op_type, group(n)])).toEqual([['Conv', 8]]);
    expect(mobile.filter((n) => n.op_type === 'Conv' && group(n) > 1)).toHaveLength(13);
    const vgg = nodes(sc.models.vgg({ conv: 'dsc', inputSize: 8 }), [1, 3, 8, 8]);
    expect(vgg.filter((n) => n.name.startsWith('features.0.')).map((n) => [n.name, n.op_type, group(n)])).toEqual([
      ['features.0.depthwise', 'Conv', 3],
      ['features.0.pointwise', 'Conv', 1],
    ]);
    expect(new Set(vgg.map((n) => n.op_type))).toEqual(new Set(['Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm']));
  });

  it('writes with the schema compiled from the official onnx.proto (schema.ts is current)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(compileSchema(readFileSync(PROTO_PATH, 'utf8')));
  });

  it('restores training mode and writes the file atomically at path', () => {
    const model = sc.models.vgg({ conv: 'dsc', inputSize: 8 });
    const path = join(dir, 'vgg.onnx');
    const { bytes } = sc.onnx.export(model, { inputShape: [1, 3, 8, 8], path });
    expect(model.training).toBe(true);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });
});

/** A user module: functional glue, a residual add, a BatchNorm after the add (kept), every pooling and resampling layer. */
class UserNet extends sc.nn.Module<[sc.Tensor], Record<string, sc.Tensor>> {
  readonly stem = this.registerModule('stem', new sc.nn.SeparableConv2d(3, 8, 3, { padding: 1 }));
  readonly branch = this.registerModule('branch', new sc.nn.Sequential(new sc.nn.Conv2d(8, 8, 3, { padding: 1, bias: false }), new sc.nn.BatchNorm2d(8), new sc.nn.ReLU()));
  readonly postAdd = this.registerModule('post_add', new sc.nn.BatchNorm2d(8));
  readonly pool = this.registerModule('pool', new sc.nn.MaxPool2d(2, { returnIndices: true }));
  readonly unpool = this.registerModule('unpool', new sc.nn.MaxUnpool2d(2));
  readonly nearest = this.registerModule('nearest', new sc.nn.Upsample({ scaleFactor: 2 }));
  readonly resize = this.registerModule('resize', new sc.nn.Upsample({ size: [10, 9], mode: 'bilinear' }));
  readonly corners = this.registerModule('corners', new sc.nn.Upsample({ size: [12, 12], mode: 'bilinear', alignCorners: true }));
  readonly avg = this.registerModule('avg', new sc.nn.AvgPool2d(3, { stride: 2, padding: 1 }));
  readonly up = this.registerModule('up', new sc.nn.ConvTranspose2d(16, 4, 3, { stride: 2, padding: 1, outputPadding: 1 }));
  readonly adaptive = this.registerModule('adaptive', new sc.nn.AdaptiveAvgPool2d(2));
  readonly drop = this.registerModule('drop', new sc.nn.Dropout(0.5));
  readonly flatten = this.registerModule('flatten', new sc.nn.Flatten());
  readonly fc = this.registerModule('fc', new sc.nn.Linear(16, 5));
  readonly perPixel = this.registerModule('per_pixel', new sc.nn.Linear(12, 2));

  forward(x: sc.Tensor): Record<string, sc.Tensor> {
    const a = this.stem.call(x); // [N, 8, 12, 12]
    const b = this.postAdd.call(a.add(this.branch.call(a)));
    const { output, indices } = this.pool.call(sc.F.relu(b)); // [N, 8, 6, 6]
    // An unpool to another plane size than the pool's input: ONNX's indices need re-basing.
    const unpooled = this.unpool.call(output, indices, [13, 13]);
    const resized = this.resize.call(this.avg.call(unpooled)); // [N, 8, 10, 9]
    const joined = sc.cat([this.nearest.call(output).mul(b), this.corners.call(output).reshape([-1, 8, 144]).reshape([x.shape[0]!, 8, 12, 12])], 1);
    const up = this.up.call(joined); // [N, 4, 24, 24]
    const logits = this.fc.call(this.drop.call(this.flatten.call(this.adaptive.call(up)))); // [N, 5]
    return { logits, resized, pixels: this.perPixel.call(this.corners.call(up)), indices };
  }
}

describe('sc.onnx.export: user modules', () => {
  for (const opset of [13, 17, 21])
    it(`a module built from sc.nn layers and glue functions matches at opset ${opset}, indices in sepconv convention`, async () => {
      sc.manualSeed(4);
      const model = new UserNet();
      calibrate(model, [4, 3, 12, 12]);
      // Exported from training mode, it must still be the eval-mode network (running statistics, no dropout).
      model.train();
      const result = sc.onnx.export(model, { inputShape: [2, 3, 12, 12], opset });
      expect(model.drop.training).toBe(true);
      model.eval();
      expect(result.outputs.map((o) => [o.name, o.elemType, o.dims])).toEqual([
        ['logits', 'float32', ['batch', 5]],
        ['resized', 'float32', ['batch', 8, 10, 9]],
        ['pixels', 'float32', ['batch', 4, 12, 2]],
        ['indices', 'int32', ['batch', 8, 6, 6]],
      ]);
      expect(result.foldedBatchNorms).toBe(1); // branch's; post_add follows an Add and stays
      for (const batch of [1, 3]) {
        const x = sc.randn([batch, 3, 12, 12]);
        const want = sc.noGrad(() => model.call(x));
        const got = await runOnnx(result.bytes, x);
        for (const name of ['logits', 'resized', 'pixels']) {
          if (batch > 1) expectSignal(want[name]!);
          expect(relativeError(got[name]!, want[name]!), name).toBeLessThan(1e-4);
        }
        expect([...got['indices']!.data]).toEqual([...want['indices']!.toArray()]);
      }
    });

  it('names outputs by their keys, also the input itself, a tensor returned twice, a key equal to a layer path', async () => {
    class Outputs extends sc.nn.Module<[sc.Tensor], Record<string, sc.Tensor>> {
      readonly fc = this.registerModule('fc', new sc.nn.Linear(4, 3));
      forward(x: sc.Tensor): Record<string, sc.Tensor> {
        const y = this.fc.call(x);
        return { fc: x, logits: y, again: y };
      }
    }
    const model = new Outputs();
    const result = sc.onnx.export(model, { inputShape: [1, 4] });
    expect(result.outputs.map((o) => [o.name, o.dims])).toEqual([['fc', ['batch', 4]], ['logits', ['batch', 3]], ['again', ['batch', 3]]]);
    const x = sc.randn([2, 4]);
    const want = sc.noGrad(() => model.call(x));
    const got = await runOnnx(result.bytes, x);
    for (const key of ['fc', 'logits', 'again']) expect(relativeError(got[key]!, want[key]!), key).toBeLessThan(1e-6);
  });

  it('Resize samples as sepconv does: down and up, to size 1, non-integer scale factors', async () => {
    const layers = [
      ...[[10, 7], [1, 1], [5, 17]].map((size) => new sc.nn.Upsample({ size: size as [number, number], mode: 'bilinear' })),
      new sc.nn.Upsample({ size: [1, 3], mode: 'bilinear', alignCorners: true }),
      new sc.nn.Upsample({ size: [5, 17] }),
      ...[1.5, 0.5, 3].flatMap((scaleFactor) => [new sc.nn.Upsample({ scaleFactor }), new sc.nn.Upsample({ scaleFactor, mode: 'bilinear' })]),
    ];
    for (const layer of layers) {
      const x = sc.randn([2, 2, 13, 11]);
      const got = await runOnnx(sc.onnx.export(layer, { inputShape: [1, 2, 13, 11] }).bytes, x);
      expect(relativeError(got['output']!, sc.noGrad(() => layer.call(x))), layer.toString()).toBeLessThan(1e-5);
    }
  });

  it('an unsupported layer or op is an Error naming its path and class', () => {
    class Swish extends sc.nn.Layer {
      outputShape(input: sc.Shape): number[] {
        return input.slice();
      }
      forward(x: sc.Tensor): sc.Tensor {
        return x.mul(sc.F.softmax(x, 1));
      }
    }
    class Halve extends sc.nn.Layer {
      outputShape(input: sc.Shape): number[] {
        return input.slice();
      }
      forward(x: sc.Tensor): sc.Tensor {
        return x.mul(0.5);
      }
    }
    class Detached extends sc.nn.Layer {
      outputShape(input: sc.Shape): number[] {
        return input.slice();
      }
      forward(x: sc.Tensor): sc.Tensor {
        return x.detach();
      }
    }
    const net = (act: sc.nn.AnyModule): sc.nn.Sequential => new sc.nn.Sequential(new sc.nn.Conv2d(3, 4, 3), new sc.nn.Sequential(new sc.nn.ReLU(), act));
    expect(() => sc.onnx.export(net(new Swish()), { inputShape: [1, 3, 8, 8] })).toThrow(
      "sc.onnx.export: '1.1' (Swish) cannot be exported to ONNX: its forward calls 'softmax', which the exporter cannot express (between layers it supports cat, relu, reshape, add, sub, mul, div)",
    );
    expect(() => sc.onnx.export(net(new Halve()), { inputShape: [1, 3, 8, 8] })).toThrow(
      /^sc\.onnx\.export: '1\.1' \(Halve\) cannot be exported to ONNX: its forward calls '\w+' with a number operand \(the exporter supports tensor operands only\)$/,
    );
    expect(() => sc.onnx.export(net(new Detached()), { inputShape: [1, 3, 8, 8] })).toThrow(
      /^sc\.onnx\.export: '1\.1' \(Detached\) cannot be exported to ONNX: its output was computed by operations the exporter cannot see \(it is not one of the supported layers Conv2d, /,
    );
    const adaptive = new sc.nn.Sequential(new sc.nn.Conv2d(3, 4, 3), new sc.nn.AdaptiveAvgPool2d(4));
    expect(() => sc.onnx.export(adaptive, { inputShape: [1, 3, 9, 9] })).toThrow(/'1' \(AdaptiveAvgPool2d\) cannot be exported: output 4x4 from input \[1, 4, 7, 7\] needs uneven windows/);
  });

  it('bad options are named', () => {
    const model = sc.models.vgg({ inputSize: 8 });
    expect(() => sc.onnx.export(model, { inputShape: [1, 3, 8, 8], opset: 12 })).toThrow("sc.onnx.export: expected an integer from 13 to 21 for options.opset but received 12");
    expect(() => sc.onnx.export(model, { inputShape: [1, 3, -8] })).toThrow(/options\.inputShape/);
    expect(() => sc.onnx.export({} as never, { inputShape: [1] })).toThrow('sc.onnx.export: expected an sc.nn.Module for model but received an object');
    class Counter extends sc.nn.Module<[sc.Tensor], number> {
      forward(x: sc.Tensor): number {
        return x.numel;
      }
    }
    expect(() => sc.onnx.export(new Counter(), { inputShape: [1, 3] })).toThrow(/^sc\.onnx\.export: Counter returned .*3.*; ONNX export needs a Tensor, or an array or object of Tensors$/);
    expect(() => sc.onnx.export(model, { inputShape: [1, 3, 16, 16] })).toThrow('VGG: expected a [N, 3, 8, 8] tensor (fc takes 256 features) for input but received shape [1, 3, 16, 16]');
  });
});

const bin = fileURLToPath(new URL('../dist/cli/index.js', import.meta.url));
const sepconv = (...args: string[]): { code: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('sepconv export', () => {
  it('writes a checkpoint as ONNX that onnxruntime runs like the checkpoint', async () => {
    sc.manualSeed(5);
    const model = sc.models.segnet({ conv: 'dsc' });
    calibrate(model, [2, 3, 16, 16]);
    const checkpoint = join(dir, 'segnet-dsc.safetensors');
    saveWeights(checkpoint, model as never, { model: 'segnet', conv: 'dsc', numClasses: 3, dataset: 'pets', imageSize: 16, classes: ['pet', 'background', 'border'], epoch: 1, step: 1 });
    const out = join(dir, 'segnet-dsc.onnx');
    const r = sepconv('export', '--checkpoint', checkpoint, '--format', 'onnx', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/segnet-dsc\.onnx: segnet \(dsc\), opset 17, \d+ nodes, 20 BatchNorms folded, input \[batch, 3, 16, 16\] -> output \[batch, 3, 16, 16\]/);
    const x = sc.randn([2, 3, 16, 16]);
    const got = await runOnnx(readFileSync(out), x);
    expect(relativeError(got['output']!, sc.noGrad(() => model.call(x)))).toBeLessThan(1e-4);
    // The class names travel in metadata_props (onnxruntime-node does not expose them: decode the file).
    const proto = modelProto().decode(readFileSync(out)) as unknown as { metadata_props: { key: string; value: string }[] };
    const classes = proto.metadata_props.find((p) => p.key === 'classes');
    expect(JSON.parse(classes!.value)).toEqual(['pet', 'background', 'border']);
  });

  it('takes --model and --conv for a checkpoint without sepconv metadata (e.g. from PyTorch)', async () => {
    sc.manualSeed(6);
    const model = sc.models.vgg({ conv: 'dsc' });
    calibrate(model, [2, 3, 32, 32], true);
    const checkpoint = join(dir, 'plain.safetensors');
    sc.save(model.stateDict(), checkpoint);
    const out = join(dir, 'plain.onnx');
    expect(sepconv('export', '--checkpoint', checkpoint, '--out', out)).toMatchObject({ code: 1, stderr: expect.stringContaining('does not say which network it holds') });
    const r = sepconv('export', '--checkpoint', checkpoint, '--out', out, '--model', 'vgg', '--conv', 'dsc', '--keep-batchnorm', '--opset', '13');
    expect(r.stdout).toContain('vgg (dsc), opset 13');
    const x = sc.randn([2, 3, 32, 32]);
    const got = await runOnnx(readFileSync(out), x);
    expect(relativeError(got['output']!, sc.noGrad(() => model.call(x)))).toBeLessThan(1e-4);
  });

  it('refuses other formats, opsets and missing flags with exit code 2', () => {
    expect(sepconv('export', '--checkpoint', 'x', '--out', 'y', '--format', 'tflite')).toMatchObject({ code: 2, stderr: expect.stringContaining("--format 'tflite' is not one of: onnx") });
    expect(sepconv('export', '--checkpoint', 'x', '--out', 'y', '--opset', '11')).toMatchObject({ code: 2, stderr: expect.stringContaining('--opset 11 is not supported: give 13 to 21') });
    expect(sepconv('export', '--out', 'y')).toMatchObject({ code: 2, stderr: expect.stringContaining('--checkpoint FILE is required') });
    expect(sepconv('export', '--checkpoint', join(dir, 'missing.safetensors'), '--out', 'y')).toMatchObject({ code: 1, stderr: expect.stringContaining('does not exist') });
  });
});
