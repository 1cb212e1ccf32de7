// The op contract: one schema (native/core/ops.json), its generated code kept fresh, the addon
// built from it, and raw calls that bypass the TypeScript checks rejected by name.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { emuLibrary } from './helpers/cuda.js'; // before sepconv: it points the addon at the emulated CUDA library
import { native } from '../dist/native.js';
import { OP_SCHEMA, ops } from '../dist/ops.js';
import { empty, zeros } from '../dist/tensor.js';
import type { Tensor } from '../dist/tensor.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The raw addon call runKernel makes, with params given as they are. */
function rawRun(op: number, inputs: Tensor[], outputs: Tensor[], params: Float64Array | unknown): void {
  const operands = [...inputs, ...outputs];
  const meta = new Float64Array(operands.length * native.metaStride);
  operands.forEach((t, i) => {
    meta[i * native.metaStride + 1] = t.dtype === 'float32' ? 0 : t.dtype === 'float64' ? 1 : t.dtype === 'int32' ? 2 : 3;
    meta[i * native.metaStride + 2] = t.ndim;
    t.shape.forEach((d, k) => (meta[i * native.metaStride + 3 + k] = d));
  });
  native.run(op, operands.map((t) => t.storage('test').handle), meta, params as Float64Array, inputs.length);
}

describe('the op schema', () => {
  it('has generated code that is fresh (npm run gen:ops rewrites it)', () => {
    const check = spawnSync(process.execPath, ['scripts/gen-ops.mjs', '--check'], { cwd: root, encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('is the op list the addon was built from, in id order', () => {
    expect(native.opNames()).toEqual(OP_SCHEMA.map((o) => o.name));
    OP_SCHEMA.forEach((o, id) => expect(ops[o.name].id).toBe(id));
  });

  it('answers "supported on cuda" from the declared backends', () => {
    // Without a loaded CUDA library nothing is supported; with one (the emulated twin when
    // built), exactly the ops declared for cuda.
    const loaded = OP_SCHEMA.some((o) => native.cudaOpSupported(ops[o.name].id));
    if (existsSync(emuLibrary)) expect(loaded).toBe(true);
    for (const o of OP_SCHEMA) {
      const backends: readonly string[] = o.backends;
      expect(backends).toContain('cpu');
      expect(native.cudaOpSupported(ops[o.name].id)).toBe(loaded && backends.includes('cuda'));
    }
  });

  it('names every differentiated input and only ops it declares', () => {
    const names = new Set<string>(OP_SCHEMA.map((o) => o.name));
    for (const o of OP_SCHEMA) {
      if (typeof o.grad === 'string') continue;
      for (const [input, via] of Object.entries(o.grad as Record<string, readonly string[]>)) {
        expect(o.inputs.map((i) => i.name)).toContain(input);
        for (const op of via) expect(names).toContain(op);
      }
    }
  });

  it('packs named params in schema order, bools as 0/1 and enums by index', () => {
    expect(Array.from(ops.gemm.pack({ transA: true, transB: false, alpha: 2, beta: 0.5, biasKind: 'per_column' }))).toEqual([1, 0, 2, 0.5, 2]);
    expect(Array.from(ops.conv2d_forward.pack({ strideH: 1, strideW: 2, padH: 3, padW: 4, dilationH: 5, dilationW: 6, groups: 7 }))).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('a raw addon call that bypasses the TypeScript checks', () => {
  const x = zeros([1, 2, 5, 5]), w = zeros([3, 2, 3, 3]), y = empty([1, 3, 3, 3]);
  const conv = ops.conv2d_forward.id;
  const good = ops.conv2d_forward.pack({ strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 1 });

  it('runs when well formed', () => {
    expect(() => rawRun(conv, [x, w], [y], good)).not.toThrow();
  });

  it('throws naming the op and the expected params for a wrong param count', () => {
    expect(() => rawRun(conv, [x, w], [y], good.subarray(0, 3))).toThrow(
      'conv2d_forward: expected 7 params (stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups), got 3',
    );
    expect(() => rawRun(ops.relu_forward.id, [x], [empty(x.shape)], new Float64Array([1]))).toThrow('relu_forward: expected 0 params (none), got 1');
  });

  it('throws naming the op and the param for a value of the wrong type', () => {
    const fractional = Float64Array.from(good);
    fractional[6] = 1.5;
    expect(() => rawRun(conv, [x, w], [y], fractional)).toThrow("conv2d_forward: param 'groups' must be an integer, got 1.5");
    const nan = Float64Array.from(good);
    nan[0] = NaN;
    expect(() => rawRun(conv, [x, w], [y], nan)).toThrow("conv2d_forward: param 'stride_h' must be an integer, got nan");
    const a = zeros([2, 3]), b = zeros([3, 4]), out = empty([2, 4]);
    expect(() => rawRun(ops.gemm.id, [a, b], [out], new Float64Array([2, 0, 1, 0, 0]))).toThrow("gemm: param 'trans_a' must be 0 or 1 (a bool), got 2");
    expect(() => rawRun(ops.gemm.id, [a, b], [out], new Float64Array([0, 0, 1, 0, 3]))).toThrow(
      "gemm: param 'bias_kind' must be one of 0 none, 1 per_row, 2 per_column, got 3",
    );
    expect(() => rawRun(ops.binary.id, [a, a], [empty([2, 3])], ops.binary.pack({ kind: 'pow' as 'add' }))).toThrow(
      "binary: param 'kind' must be one of 0 add, 1 sub, 2 mul, 3 div, got -1",
    );
  });

  it('throws naming the op for missing operands or malformed arguments', () => {
    expect(() => rawRun(conv, [x], [y], good)).toThrow('conv2d_forward: expected 2 to 3 inputs (x, w[, bias]), got 1');
    expect(() => rawRun(ops.max_pool2d_forward.id, [x], [empty([1, 2, 2, 2])], ops.max_pool2d_forward.pack({
      kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padH: 0, padW: 0, dilationH: 1, dilationW: 1, ceilMode: false,
    }))).toThrow('max_pool2d_forward: expected 2 outputs (out, indices), got 1');
    expect(() => rawRun(conv, [x, w], [y], [1, 1, 0, 0, 1, 1, 1])).toThrow('conv2d_forward: expected a Float64Array of params for argument 3');
    expect(() => rawRun(conv, [x, w], [y], new Float32Array(7))).toThrow('conv2d_forward: expected a Float64Array of params for argument 3');
    expect(() => native.run(conv, 'x' as never, new Float64Array(0), good, 0)).toThrow('conv2d_forward: expected an array of storage handles for argument 1');
    expect(() => native.run(9999, [], new Float64Array(0), good, 0)).toThrow('run: unknown op id 9999');
    expect(() => native.run('conv' as never, [], new Float64Array(0), good, 0)).toThrow('run: expected an op id for argument 0');
  });
});
