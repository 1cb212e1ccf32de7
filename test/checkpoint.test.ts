/**
 * Checkpoints: the safetensors format checked byte by byte against files built in the test
 * (and the reference implementation's own serialisation vectors), round trips, corrupt and
 * truncated files, atomic replacement, and training-state files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { checkpointTestHooks } from '../dist/io/checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'sepconv-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
const freshPath = () => join(dir, `file${fileCounter++}.safetensors`);

const u64le = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** A safetensors file from a header object and raw data, padded like the reference writer. */
function buildFile(header: object, data: Buffer, pad = true): Buffer {
  let json = JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  return Buffer.concat([u64le(Buffer.byteLength(json)), Buffer.from(json), data]);
}

function writeTemp(bytes: Buffer): string {
  const path = freshPath();
  writeFileSync(path, bytes);
  return path;
}

describe('the safetensors format', () => {
  it('loads a file built byte by byte, every dtype, entries in any header order', () => {
    const f64 = new Float64Array([1.5, -2.25]);
    const f32 = new Float32Array([0.5, 1, 2, 3, 4, 5]);
    const i32 = new Int32Array([-7, 2147483647, 0]);
    const u8 = new Uint8Array([0, 255, 9, 1]);
    const i64 = new BigInt64Array([-2147483648n, 5n]);
    // Data order deliberately differs from the header's key order.
    const data = Buffer.concat([bytesOf(i64), bytesOf(f64), bytesOf(f32), bytesOf(i32), bytesOf(u8)]);
    const header = {
      'layer.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [32, 56] },
      counts: { dtype: 'U8', shape: [2, 2], data_offsets: [68, 72] },
      __metadata__: { framework: 'pt', note: 'héllo' },
      'bn.num_batches_tracked': { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
      scalar64: { dtype: 'F64', shape: [2], data_offsets: [16, 32] },
      ids: { dtype: 'I32', shape: [3], data_offsets: [56, 68] },
    };
    const path = writeTemp(buildFile(header, data));
    const t = sc.load(path);
    expect(Object.keys(t)).toEqual(['bn.num_batches_tracked', 'scalar64', 'layer.weight', 'ids', 'counts']); // data order
    expect(t['layer.weight']!.dtype).toBe('float32');
    expect(t['layer.weight']!.toList()).toEqual([[0.5, 1, 2], [3, 4, 5]]);
    expect(Array.from(t.scalar64!.toArray())).toEqual([1.5, -2.25]);
    expect(t.ids!.dtype).toBe('int32');
    expect(Array.from(t.ids!.toArray())).toEqual([-7, 2147483647, 0]);
    expect(t.counts!.dtype).toBe('uint8');
    expect(t.counts!.toList()).toEqual([[0, 255], [9, 1]]);
    // I64 (PyTorch's BatchNorm counter) loads as int32 when the values fit.
    expect(t['bn.num_batches_tracked']!.dtype).toBe('int32');
    expect(Array.from(t['bn.num_batches_tracked']!.toArray())).toEqual([-2147483648, 5]);
    expect(sc.loadMetadata(path)).toEqual({ framework: 'pt', note: 'héllo' });
  });

  it('writes exactly the bytes of the reference implementation', () => {
    // The reference writer's own test vectors: one F32 tensor (header padded with 7 spaces),
    // an empty file, and an empty file with metadata.
    const path = freshPath();
    sc.save({ attn0: sc.tensor([0, 1, 2, 3, 4, 5], [1, 1, 2, 3]) }, path, { checksum: false });
    const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(json.length).toBe(65);
    expect(readFileSync(path)).toEqual(Buffer.concat([u64le(72), Buffer.from(json + ' '.repeat(7)), bytesOf(new Float32Array([0, 1, 2, 3, 4, 5]))]));
    sc.save({}, path, { checksum: false });
    expect(Array.from(readFileSync(path))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    sc.save({}, path, { metadata: { framework: 'pt' }, checksum: false });
    expect(readFileSync(path)).toEqual(Buffer.concat([u64le(40), Buffer.from('{"__metadata__":{"framework":"pt"}}     ')]));
  });

  it('orders tensors by descending dtype alignment, then by name (UTF-8 bytes)', () => {
    const path = freshPath();
    const tensors = {
      'b.u8': sc.tensor(new Uint8Array([1, 2, 3])),
      'z.f32': sc.tensor([1, 2]),
      'a.f32': sc.tensor([3]),
      'm.i32': sc.tensor(new Int32Array([4, 5])),
      'k.f64': sc.tensor([6], [1], { dtype: 'float64' }),
      'é.f32': sc.tensor([7]), // sorts after 'z' as UTF-8 bytes (0xC3 > 'z')
      'Z.f32': sc.tensor([8]),
    };
    sc.save(tensors, path, { metadata: { epoch: '3' }, checksum: false });
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const headerText = bytes.subarray(8, 8 + n).toString('utf8');
    expect(headerText).toMatch(/^\{"__metadata__":\{"epoch":"3"\},"k\.f64":/); // metadata first, compact JSON
    expect(headerText.trimEnd().length).toBeGreaterThan(n - 8);
    const header = JSON.parse(headerText) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(names).toEqual(['k.f64', 'Z.f32', 'a.f32', 'z.f32', 'é.f32', 'm.i32', 'b.u8']);
    let offset = 0;
    for (const name of names) {
      const { dtype, shape, data_offsets: [begin, end] } = header[name]!;
      expect(begin).toBe(offset);
      const t = tensors[name as keyof typeof tensors];
      expect(dtype).toBe({ float32: 'F32', float64: 'F64', int32: 'I32', uint8: 'U8' }[t.dtype]);
      expect(shape).toEqual(t.shape);
      expect(bytes.subarray(8 + n + begin, 8 + n + end)).toEqual(bytesOf(t.toArray()));
      offset = end;
    }
    expect(bytes.length).toBe(8 + n + offset);
  });

  it('round-trips every dtype, 0-d and empty tensors, odd names and Maps', () => {
    const path = freshPath();
    const state = new Map<string, sc.Tensor>([
      ['w', sc.randn([3, 5, 7])],
      ['d', sc.randn([2, 2], { dtype: 'float64' })],
      ['i', sc.tensor(new Int32Array([-1, 0, 1]))],
      ['u', sc.tensor(new Uint8Array([0, 128, 255]))],
      ['scalar', sc.tensor([42], [])],
      ['empty', sc.zeros([0, 3])],
      ['enc.0.conv.weight', sc.rand([4, 1, 1, 1, 1, 1, 1, 2])],
      ['__proto__', sc.tensor([9])],
      ['ünïcødé ✓', sc.tensor([1, 2])],
    ]);
    sc.save(state, path);
    const loaded = sc.load(path);
    expect(Object.keys(loaded).sort()).toEqual([...state.keys()].sort());
    for (const [name, t] of state) {
      expect(Object.hasOwn(loaded, name)).toBe(true);
      const got = loaded[name]!;
      expect([got.dtype, got.shape]).toEqual([t.dtype, t.shape]);
      expect(Array.from(got.toArray())).toEqual(Array.from(t.toArray()));
    }
    expect(Object.getPrototypeOf(loaded)).toBe(Object.prototype); // '__proto__' stayed a plain key
  });

  it('loads F16 and BF16 tensors (common in PyTorch checkpoints) widened to float32, exactly', () => {
    // Half bit patterns: 1, -2, 0.5, the smallest subnormal, the largest finite, -0, +inf, NaN.
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x0001, 0x7bff, 0x8000, 0x7c00, 0x7e00]);
    const f16Values = [1, -2, 0.5, 2 ** -24, 65504, -0, Infinity, NaN];
    // bfloat16 is the top 16 bits of a float32: values whose low 16 bits are zero load exactly.
    const bf16Values = new Float32Array([1, -3.5, 3.140625, 2 ** -100]);
    const bf16 = new Uint16Array(Array.from(new Uint32Array(bf16Values.buffer), (bits) => bits >>> 16));
    const data = Buffer.concat([bytesOf(f16), bytesOf(bf16)]);
    const path = writeTemp(buildFile({
      half: { dtype: 'F16', shape: [2, 4], data_offsets: [0, 16] },
      brain: { dtype: 'BF16', shape: [4], data_offsets: [16, 24] },
    }, data));
    const t = sc.load(path);
    expect([t.half!.dtype, t.half!.shape, t.brain!.dtype]).toEqual(['float32', [2, 4], 'float32']);
    expect(Array.from(t.half!.toArray())).toEqual(f16Values);
    expect(Object.is(t.half!.toArray()[5], -0)).toBe(true);
    expect(Array.from(t.brain!.toArray())).toEqual(Array.from(bf16Values));
  });

  it('an I64 value outside int32 is an error naming the tensor', () => {
    const path = writeTemp(buildFile({ big: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, bytesOf(new BigInt64Array([3_000_000_000n]))));
    expect(() => sc.load(path)).toThrow(
      `load: '${path}' is not a valid safetensors file: tensor 'big' (I64) holds 3000000000, outside the int32 range sepconv loads I64 tensors into`,
    );
  });
});

describe('corrupt and truncated files', () => {
  const good = () => buildFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, Buffer.alloc(12));
  const problem = (bytes: Buffer, message: string) => {
    const path = writeTemp(bytes);
    expect(() => sc.load(path)).toThrow(`load: '${path}' is not a valid safetensors file: ${message}`);
  };
  const entry = (value: object, data = Buffer.alloc(8)) => buildFile({ t: value }, data);

  it('reports a bad header length', () => {
    problem(Buffer.from([1, 0, 0]), 'the file has 3 bytes, fewer than the 8-byte header length that starts a safetensors file');
    problem(Buffer.concat([u64le(500), Buffer.from('{}')]), 'the header length 500 runs past the end of the file (10 bytes): truncated?');
    problem(Buffer.concat([u64le(2 ** 40), Buffer.from('{}')]), 'the header length 1099511627776 is over the 100 MB limit (a corrupt or non-safetensors file)');
  });

  it('reports a header that is not UTF-8 JSON describing tensors', () => {
    problem(Buffer.concat([u64le(2), Buffer.from([0xff, 0xfe])]), 'the header is not valid UTF-8');
    const badJson = writeTemp(Buffer.concat([u64le(8), Buffer.from('{"a": 1 ')]));
    expect(() => sc.load(badJson)).toThrow(new RegExp(`^load: '${badJson}' is not a valid safetensors file: the header is not valid JSON \\(.+\\)$`));
    problem(Buffer.concat([u64le(8), Buffer.from('[1, 2]  ')]), 'the header is not a JSON object');
    problem(buildFile({ __metadata__: { epoch: 3 } }, Buffer.alloc(0)), '__metadata__ must map keys to strings');
    problem(buildFile({ t: 5 }, Buffer.alloc(0)), "the header entry for tensor 't' is not an object");
  });

  it('reports bad dtypes, shapes and offsets by tensor name', () => {
    problem(entry({ dtype: 'Q9', shape: [2], data_offsets: [0, 8] }), 'tensor \'t\' has dtype "Q9"; sepconv reads F32, F64, F16, BF16, I32, U8 and I64');
    problem(entry({ dtype: 'F32', shape: [2, -1], data_offsets: [0, 8] }), "tensor 't' has shape [2,-1], not an array of sizes");
    problem(entry({ dtype: 'F32', shape: [1, 1, 1, 1, 1, 1, 1, 1, 2], data_offsets: [0, 8] }), "tensor 't' has 9 dims; sepconv supports at most 8");
    problem(entry({ dtype: 'F32', shape: [2], data_offsets: [8, 0] }), "tensor 't' has data_offsets [8,0], not a [begin, end] byte range");
    problem(entry({ dtype: 'F32', shape: [2], data_offsets: [0] }), "tensor 't' has data_offsets [0], not a [begin, end] byte range");
    problem(entry({ dtype: 'F32', shape: [3], data_offsets: [0, 8] }), "tensor 't' (F32 [3]) needs 12 bytes but its data_offsets [0, 8] hold 8");
  });

  it('reports overlapping, gapped, truncated and over-long data sections', () => {
    const two = (a: [number, number], b: [number, number], data: number) =>
      buildFile({ a: { dtype: 'F32', shape: [2], data_offsets: a }, b: { dtype: 'F32', shape: [2], data_offsets: b } }, Buffer.alloc(data));
    problem(two([0, 8], [4, 12], 12), "tensors 'a' and 'b' overlap (data_offsets [0, 8] and [4, 12])");
    problem(two([0, 8], [12, 20], 20), "4 unused bytes precede tensor 'b' (data_offsets [12, 20]); tensors must be stored back to back");
    problem(two([0, 8], [8, 16], 12), 'the tensors need 16 bytes of data but the file holds 12 after the header: truncated?');
    problem(two([0, 8], [8, 16], 20), 'the file holds 20 bytes of data after the header but the tensors cover only 16');
  });

  it('never crashes on any truncation or single corrupted byte: a SepconvError naming the file, or a load', () => {
    const bytes = good();
    const path = freshPath();
    const attempt = (b: Buffer) => {
      writeFileSync(path, b);
      try {
        sc.load(path);
      } catch (err) {
        expect(err).toBeInstanceOf(sc.SepconvError);
        expect((err as Error).message.startsWith(`load: '${path}' is not a valid safetensors file: `)).toBe(true);
      }
    };
    for (let cut = 0; cut < bytes.length; cut++) {
      writeFileSync(path, bytes.subarray(0, cut));
      expect(() => sc.load(path)).toThrow(sc.SepconvError);
    }
    for (let i = 0; i < bytes.length; i++)
      for (const v of [0x00, 0xff]) {
        const b = Buffer.from(bytes);
        b[i] = v;
        attempt(b);
      }
  });

  it('finds a flipped data byte through the checksum sepconv stores; files without one load as before', () => {
    const path = freshPath();
    sc.save({ w: sc.tensor([1, 2, 3, 4]), b: sc.tensor([5]) }, path, { metadata: { epoch: '2' } });
    const metadata = sc.loadMetadata(path);
    expect(metadata.epoch).toBe('2');
    expect(metadata['sepconv.sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(Array.from(sc.load(path).w!.toArray())).toEqual([1, 2, 3, 4]);
    const bytes = readFileSync(path);
    for (const position of [bytes.length - 1, bytes.length - 20]) {
      const flipped = Buffer.from(bytes);
      flipped[position] ^= 0x10;
      const bad = writeTemp(flipped);
      expect(() => sc.load(bad)).toThrow(
        `load: '${bad}' is not a valid safetensors file: its data does not match the SHA-256 in its metadata (sepconv.sha256): the file is corrupt (a changed or damaged byte)`,
      );
    }
    // The same flip in a file without the key (as PyTorch writes them) cannot be detected: it loads.
    const plain = freshPath();
    sc.save({ w: sc.tensor([1, 2, 3, 4]) }, plain, { checksum: false });
    expect(sc.loadMetadata(plain)).toEqual({});
    const flipped = readFileSync(plain);
    flipped[flipped.length - 1] ^= 0x10;
    writeFileSync(plain, flipped);
    expect(sc.load(plain).w!.shape).toEqual([4]);
    expect(() => sc.save({}, plain, { checksum: 'yes' as never })).toThrow(/options\.checksum/);
  });

  it('names a missing file', () => {
    const path = join(dir, 'missing.safetensors');
    expect(() => sc.load(path)).toThrow(`load: cannot read '${path}': ENOENT: no such file or directory, open '${path}'`);
  });
});

describe('atomic writes', () => {
  const tempFiles = () => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

  it('replaces the destination whole and leaves no temporary file', () => {
    const path = freshPath();
    sc.save({ w: sc.ones([3]) }, path);
    sc.save({ w: sc.full([4], 2) }, path);
    expect(Array.from(sc.load(path).w!.toArray())).toEqual([2, 2, 2, 2]);
    expect(tempFiles()).toEqual([]);
  });

  it('keeps the old file when the write fails between writing and renaming', () => {
    const path = freshPath();
    sc.save({ w: sc.ones([3]) }, path);
    const before = readFileSync(path);
    let seenTemp = '';
    checkpointTestHooks.beforeRename = (temp) => {
      seenTemp = temp;
      expect(readFileSync(temp).length).toBeGreaterThan(before.length); // the new file was complete
      throw new Error('simulated crash before rename');
    };
    try {
      expect(() => sc.save({ w: sc.ones([100]) }, path)).toThrow(`save: cannot write '${path}': simulated crash before rename`);
    } finally {
      checkpointTestHooks.beforeRename = null;
    }
    expect(seenTemp.startsWith(join(dir, '.'))).toBe(true); // same directory, so the rename is atomic
    expect(readFileSync(path)).toEqual(before);
    expect(tempFiles()).toEqual([]);
  });

  it('keeps the old file when the process dies before the rename', () => {
    const path = freshPath();
    sc.save({ w: sc.ones([3]) }, path);
    const before = readFileSync(path);
    const script = `
      import * as sc from ${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)};
      import { checkpointTestHooks } from ${JSON.stringify(new URL('../dist/io/checkpoint.js', import.meta.url).href)};
      checkpointTestHooks.beforeRename = () => process.kill(process.pid, 'SIGKILL');
      sc.save({ w: sc.zeros([1000]) }, ${JSON.stringify(path)});`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGKILL');
    expect(readFileSync(path)).toEqual(before);
    for (const f of tempFiles()) rmSync(join(dir, f)); // a killed writer leaves its temporary file
  });

  it('names the path when the directory does not exist', () => {
    const path = join(dir, 'no-such-dir', 'x.safetensors');
    expect(() => sc.save({ w: sc.ones([1]) }, path)).toThrow(new RegExp(`^save: cannot write '${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}': ENOENT`));
  });
});

describe('bad arguments to save', () => {
  it('names the offending entry', () => {
    const path = freshPath();
    expect(() => sc.save({ w: [1, 2] as never }, path)).toThrow("save: expected a Tensor for stateDict['w'] but received array of length 2");
    const t = sc.ones([2]);
    t.dispose();
    expect(() => sc.save({ w: t }, path)).toThrow("save: expected a live Tensor for stateDict['w'] but received a disposed tensor of shape [2]");
    expect(() => sc.save({ __metadata__: sc.ones([1]) }, path)).toThrow(
      "save: expected tensor names other than __metadata__ (reserved by the format) for stateDict but received '__metadata__'",
    );
    expect(() => sc.save({ w: sc.ones([1]) }, path, { metadata: { epoch: 3 as never } })).toThrow(
      "save: expected a string for options.metadata['epoch'] but received 3",
    );
    expect(() => sc.save([] as never, path)).toThrow('save: expected an object or Map of names to Tensors for stateDict but received array of length 0');
    expect(() => sc.save({}, '')).toThrow("save: expected a file path for path but received ''");
  });
});

describe('training state', () => {
  it('round-trips model and optimizer state, counters and non-finite numbers in one file', () => {
    const path = freshPath();
    const model = { 'enc.0.weight': sc.randn([4, 3]), 'enc.0.bias': sc.zeros([4]), 'bn.num_batches_tracked': sc.tensor(new Int32Array([7]), []) };
    const optimizer = {
      state: {
        0: { step: sc.tensor([10], [], { dtype: 'float64' }), exp_avg: sc.randn([4, 3]), exp_avg_sq: sc.rand([4, 3]) },
        1: { step: 10, exp_avg: sc.zeros([4]), exp_avg_sq: sc.zeros([4]) },
      },
      paramGroups: [{ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false, params: [0, 1], name: null }],
    };
    sc.saveTrainingState(path, { model, optimizer, epoch: 3, bestLoss: Infinity, worst: -Infinity, pending: NaN, skipped: undefined });
    const state = sc.loadTrainingState(path);
    expect(Object.keys(state)).toEqual(['model', 'optimizer', 'epoch', 'bestLoss', 'worst', 'pending']);
    expect([state.epoch, state.bestLoss, state.worst]).toEqual([3, Infinity, -Infinity]);
    expect(state.pending).toBeNaN();
    const m = state.model as Record<string, sc.Tensor>;
    for (const [name, t] of Object.entries(model)) expect(Array.from(m[name]!.toArray())).toEqual(Array.from(t.toArray()));
    const o = state.optimizer as typeof optimizer;
    expect(o.paramGroups).toEqual(optimizer.paramGroups);
    expect(o.state[0].step.item()).toBe(10);
    expect(o.state[1].step).toBe(10);
    expect(Array.from(o.state[0].exp_avg.toArray())).toEqual(Array.from(optimizer.state[0].exp_avg.toArray()));
    // PyTorch sees plain named tensors.
    expect(Object.keys(sc.load(path)).sort()).toEqual(
      ['model.enc.0.weight', 'model.enc.0.bias', 'model.bn.num_batches_tracked', 'optimizer.state.0.step', 'optimizer.state.0.exp_avg', 'optimizer.state.0.exp_avg_sq', 'optimizer.state.1.exp_avg', 'optimizer.state.1.exp_avg_sq'].sort(),
    );
    expect(sc.loadMetadata(path).format).toBe('sepconv.training-state');
  });

  it('resuming from the file continues the same loss curve as an uninterrupted run', () => {
    const x = sc.randn([16, 5]), target = sc.randn([16, 3]);
    const init = () => ({ w: sc.randn([3, 5], { requiresGrad: true }), b: sc.zeros([3], { requiresGrad: true }) });
    const setup = (p: { w: sc.Tensor; b: sc.Tensor }) => {
      const optimizer = new sc.optim.AdamW([p.w, p.b], { lr: 0.05, amsgrad: true });
      return { optimizer, scheduler: new sc.optim.StepLR(optimizer, { stepSize: 3, gamma: 0.5 }) };
    };
    const train = (p: { w: sc.Tensor; b: sc.Tensor }, run: ReturnType<typeof setup>, steps: number) =>
      Array.from({ length: steps }, () => {
        run.optimizer.zeroGrad();
        const err = sc.F.linear(x, p.w, p.b).sub(target);
        const loss = err.mul(err).mean();
        loss.backward();
        run.optimizer.step();
        run.scheduler.step();
        return loss.item();
      });
    sc.manualSeed(5);
    const straight = init();
    const reference = train(straight, setup(straight), 10);

    sc.manualSeed(5);
    const first = init();
    const firstRun = setup(first);
    const head = train(first, firstRun, 4);
    const path = freshPath();
    sc.saveTrainingState(path, {
      model: { weight: first.w, bias: first.b },
      optimizer: firstRun.optimizer.stateDict(),
      scheduler: firstRun.scheduler.stateDict(),
      step: 4,
    });

    const state = sc.loadTrainingState(path);
    const saved = state.model as Record<string, sc.Tensor>;
    const resumed = {
      w: sc.tensor(saved.weight!.toArray(), saved.weight!.shape, { requiresGrad: true }),
      b: sc.tensor(saved.bias!.toArray(), saved.bias!.shape, { requiresGrad: true }),
    };
    const resumedRun = setup(resumed);
    resumedRun.optimizer.loadStateDict(state.optimizer as sc.optim.OptimizerStateDict);
    resumedRun.scheduler.loadStateDict(state.scheduler as sc.optim.SchedulerStateDict);
    expect(state.step).toBe(4);
    expect([...head, ...train(resumed, resumedRun, 6)]).toEqual(reference);
  });

  it('rejects values it cannot store and files that are not training states', () => {
    const path = freshPath();
    expect(() => sc.saveTrainingState(path, { optimizer: { state: new Map() as never } })).toThrow(
      'saveTrainingState: expected a Tensor, number, string, boolean, null, array or plain object for state.optimizer.state but received a Map',
    );
    expect(() => sc.saveTrainingState(path, { a: { b: sc.ones([1]) }, 'a.b': sc.ones([1]) })).toThrow(
      "saveTrainingState: expected a unique tensor name for state.a.b but received a second tensor named 'a.b'",
    );
    expect(() => sc.saveTrainingState(path, { x: { __tensor__: 'y' } })).toThrow(
      "saveTrainingState: expected an object without the reserved key '__tensor__' for state.x but received an object with it",
    );
    sc.save({ w: sc.ones([1]) }, path);
    expect(() => sc.loadTrainingState(path)).toThrow(
      `loadTrainingState: '${path}' is not a training-state file (no "format": "sepconv.training-state" in its __metadata__; sc.load reads plain state dicts)`,
    );
    sc.save({ w: sc.ones([1]), stray: sc.ones([1]) }, path, { metadata: { format: 'sepconv.training-state', version: '1', state: '{"w":{"__tensor__":"w"}}' } });
    expect(() => sc.loadTrainingState(path)).toThrow(`loadTrainingState: '${path}' holds tensors the state does not refer to: 'stray'`);
  });
});
