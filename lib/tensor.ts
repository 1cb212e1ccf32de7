/**
 * Tensors: a handle to native memory plus shape, dtype and device, with autograd fields.
 *
 * Memory is released deterministically by `dispose()`. Tensors created inside `scope(fn)`
 * (every `Module` call runs in one) are disposed when it returns, except what it returns;
 * tensors the autograd graph saved stay alive until backward has used them. What escapes
 * all of these is freed by the native layer after its handle is garbage-collected, during
 * later allocations (no event-loop turn needed; see native/addon/storage_handles.h).
 */
import { arrayCtor, DEVICE_CODE, dtypeOfArray, dtypeSize, DTYPE_CODE, isDevice, isDType, isFloat } from './dtype.js';
import type { AnyTypedArray, Device, DType, TypedArrayFor } from './dtype.js';
import { describe, invalidArg, opError, shapeStr } from './errors.js';
import { native, opId } from './native.js';
import { isProfiling, recordKernel } from './profiler.js';
import type { BackendInfo, StorageHandle } from './native.js';
import type { GradNode } from './autograd/graph.js';

/** Native memory shared by a tensor and its views (reshape); freed when the last one is disposed. */
class Storage {
  private refs = 1;
  constructor(
    readonly handle: StorageHandle,
    readonly bytes: number,
    readonly device: Device,
  ) {}
  retain(): void {
    this.refs++;
  }
  release(): void {
    if (--this.refs === 0) native.free(this.handle);
  }
  /** True when exactly one tensor object refers to this memory (safe to update in place). */
  get exclusive(): boolean {
    return this.refs === 1;
  }
}

// ---------------------------------------------------------------------------------- scopes

const scopeStack: Set<Tensor>[] = [];
let untrackedDepth = 0;

function track(t: Tensor): void {
  if (scopeStack.length > 0 && untrackedDepth === 0) scopeStack[scopeStack.length - 1]!.add(t);
}

function collectTensors(value: unknown, into: Set<Tensor>, depth = 0): void {
  if (value instanceof Tensor) into.add(value);
  else if (depth < 4 && Array.isArray(value)) for (const v of value) collectTensors(v, into, depth + 1);
  else if (depth < 4 && value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collectTensors(v, into, depth + 1);
}

/**
 * Runs `fn` and disposes every tensor it created, except the tensors in its return value
 * (a tensor, or arrays/plain objects holding tensors), tensors marked with `keep()`, and
 * leaf tensors that require grad. Memory the autograd graph still needs is kept alive by
 * the graph itself. Synchronous functions only.
 *
 * @example
 * const y = sc.scope(() => sc.F.relu(x.mul(2)).sum()); // the x.mul(2) temporary is freed here
 */
export function scope<T>(fn: () => T): T {
  const created = new Set<Tensor>();
  scopeStack.push(created);
  let result: T;
  try {
    result = fn();
  } finally {
    scopeStack.pop();
  }
  if (result instanceof Promise) throw new Error('scope: the function must be synchronous (it returned a Promise)');
  const escaping = new Set<Tensor>();
  collectTensors(result, escaping);
  for (const t of created) {
    if (escaping.has(t) || (t.requiresGrad && t.gradFn === null)) track(t);
    else if (!t.kept) t.dispose();
  }
  return result;
}

/** Runs `fn` with tensor tracking off: what it creates belongs to the caller (used by autograd). */
export function untracked<T>(fn: () => T): T {
  untrackedDepth++;
  try {
    return fn();
  } finally {
    untrackedDepth--;
  }
}

// ---------------------------------------------------------------------------------- random

const rng = { seed: 0x5eed, counter: 0 };

/** Seeds the generator behind randn/rand, parameter initialisation and dropout. */
export function manualSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw invalidArg('manualSeed', 'seed', 'a non-negative integer', describe(seed));
  rng.seed = seed;
  rng.counter = 0;
}

/** The generator's position: restoring it with `setRngState` replays the same draws (for resuming runs). */
export interface RngState {
  seed: number;
  counter: number;
}

/**
 * The generator's state (seed and draws used so far).
 *
 * @example
 * const state = sc.getRngState();
 * const a = sc.randn([3]);
 * sc.setRngState(state);
 * const b = sc.randn([3]); // same values as a
 */
export function getRngState(): RngState {
  return { seed: rng.seed, counter: rng.counter };
}

/** Restores a state from `getRngState`. */
export function setRngState(state: RngState): void {
  if (!Number.isSafeInteger(state?.seed) || state.seed < 0 || !Number.isSafeInteger(state.counter) || state.counter < 0)
    throw invalidArg('setRngState', 'state', '{ seed, counter } of non-negative integers', describe(state));
  rng.seed = state.seed;
  rng.counter = state.counter;
}

/** Reserves `count` random draws: returns [seed, first counter] for a native fill. */
export function nextRandom(count: number): [number, number] {
  const start = rng.counter;
  rng.counter += count;
  return [rng.seed, start];
}

// ---------------------------------------------------------------------------------- tensor

export type Shape = readonly number[];

export function numelOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(op: string, argument: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0) || shape.length > 8)
    throw invalidArg(op, argument, 'an array of at most 8 non-negative integers', describe(shape));
  return shape.slice();
}

/** Its op methods (add, sum, backward, to, …) are attached by tensor-methods.ts. */
export class Tensor {
  /** @internal */ _storage: Storage | null;
  /** Element offset of this tensor's first element within its storage. */
  readonly offset: number;
  readonly shape: Shape;
  readonly dtype: DType;
  /** Whether gradients flow to this tensor (set it on leaves: parameters and inputs). */
  requiresGrad = false;
  /** The accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | null = null;
  /** @internal The autograd node that produced this tensor (null for leaves). */
  gradFn: GradNode | null = null;
  /** @internal Exempt from scope disposal. */
  kept = false;

  /** @internal Use sc.tensor / sc.zeros / … to create tensors. */
  constructor(storage: Storage, shape: Shape, dtype: DType, offset = 0) {
    this._storage = storage;
    this.shape = Object.freeze(shape.slice());
    this.dtype = dtype;
    this.offset = offset;
    track(this);
  }

  get device(): Device {
    return this.storage('device').device;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return numelOf(this.shape);
  }
  /** A tensor that was not produced by a differentiable op. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get isDisposed(): boolean {
    return this._storage === null;
  }

  /** @internal The live storage, or a clear error naming `op` if disposed. */
  storage(op: string): Storage {
    if (this._storage === null) throw opError(op, `the tensor of shape ${shapeStr(this.shape)} was already disposed`);
    return this._storage;
  }

  /** Frees this tensor's memory now (views share it until the last is disposed). Idempotent. */
  dispose(): void {
    if (this._storage === null) return;
    this._storage.release();
    this._storage = null;
    this.gradFn = null;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  /** Exempts this tensor from disposal by the enclosing scope(s). Returns this. */
  keep(): this {
    this.kept = true;
    return this;
  }

  /** @internal A second tensor object on the same memory (for views and saved tensors). */
  alias(shape: Shape = this.shape): Tensor {
    const s = this.storage('alias');
    s.retain();
    return new Tensor(s, shape, this.dtype, this.offset);
  }

  /** A copy of the data as a typed array (Float32Array for float32, …). */
  toArray(): TypedArrayFor<this['dtype']> {
    const s = this.storage('toArray');
    const size = dtypeSize(this.dtype);
    const buf = native.read(s.handle, this.offset * size, this.numel * size);
    return new (arrayCtor(this.dtype))(buf) as TypedArrayFor<this['dtype']>;
  }

  /** The value of a one-element tensor as a number. */
  item(): number {
    if (this.numel !== 1) throw invalidArg('item', 'tensor', 'a tensor with one element', `shape ${shapeStr(this.shape)}`);
    return this.toArray()[0]!;
  }

  /** Nested arrays, like PyTorch's tolist(). */
  toList(): unknown {
    const flat = Array.from(this.toArray() as ArrayLike<number>);
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return flat[offset];
      const stride = numelOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** @internal Moves this tensor's data to `device` in place (for Module#to: identity is kept). */
  moveTo(device: Device): void {
    const s = this.storage('to');
    if (s.device === device) return;
    // The whole storage moves, so this tensor's offset stays valid.
    const moved = new Storage(native.alloc(s.bytes, DEVICE_CODE[device]), s.bytes, device);
    native.transfer(s.handle, 0, moved.handle, 0, s.bytes);
    s.release();
    this._storage = moved;
    this.grad?.moveTo(device);
  }

  /** A new leaf tensor on the same memory, cut off from the graph. */
  detach(): Tensor {
    return this.alias();
  }

  toString(): string {
    const n = this.numel;
    const preview = this.isDisposed ? 'disposed' : Array.from(this.toArray().slice(0, 8) as ArrayLike<number>).map((v) => +v.toPrecision(5)).join(', ') + (n > 8 ? ', …' : '');
    return `Tensor(${shapeStr(this.shape)}, ${this.dtype}, ${this.isDisposed ? 'cpu' : this.device}${this.requiresGrad ? ', requiresGrad' : ''}) [${preview}]`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

// ---------------------------------------------------------------------------------- kernels

const META_STRIDE: number = native.metaStride;

/**
 * Runs a native op: inputs and outputs are tensors the caller has validated and allocated;
 * params are numbers in the order native/core/ops.h documents for that op.
 */
export function runKernel(op: string, inputs: readonly Tensor[], outputs: readonly Tensor[], params: readonly number[] = []): void {
  const operands = [...inputs, ...outputs];
  const device = operands[0]?.device;
  const stray = operands.findIndex((t) => t.device !== device);
  if (stray >= 0)
    throw opError(op, `operand 0 (shape ${shapeStr(operands[0]!.shape)}) is on ${device} but operand ${stray} (shape ${shapeStr(operands[stray]!.shape)}) is on ${operands[stray]!.device}; move them to one device with .to()`);
  const handles: StorageHandle[] = new Array(operands.length);
  const meta = new Float64Array(operands.length * META_STRIDE);
  for (let i = 0; i < operands.length; i++) {
    const t = operands[i]!;
    handles[i] = t.storage(op).handle;
    const base = i * META_STRIDE;
    meta[base] = t.offset;
    meta[base + 1] = DTYPE_CODE[t.dtype];
    meta[base + 2] = t.shape.length;
    for (let d = 0; d < t.shape.length; d++) meta[base + 3 + d] = t.shape[d]!;
  }
  if (!isProfiling()) return native.run(opId(op), handles, meta, Float64Array.from(params), inputs.length);
  const start = performance.now();
  native.run(opId(op), handles, meta, Float64Array.from(params), inputs.length);
  recordKernel(op, operands.map((t) => t.shape), performance.now() - start);
}

/** An uninitialised tensor (contents undefined until written). */
export function empty(shape: Shape, dtype: DType = 'float32', device: Device = 'cpu'): Tensor {
  const bytes = numelOf(shape) * dtypeSize(dtype);
  if (device === 'cuda') requireCuda('empty');
  return new Tensor(new Storage(native.alloc(bytes, DEVICE_CODE[device]), bytes, device), shape, dtype);
}

/** Throws an Error saying whether the CUDA build or the device is missing, unless CUDA is usable. */
export function requireCuda(op: string): void {
  cudaStatus ??= native.backend(); // fixed for the life of the process
  if (!cudaStatus.cuda) throw opError(op, `cannot use device 'cuda': ${cudaStatus.cudaUnavailable}`);
}
let cudaStatus: BackendInfo | undefined;

/** A copy of `x` on `device` (same dtype and shape); not recorded by autograd. */
export function transferCopy(x: Tensor, device: Device): Tensor {
  const out = empty(x.shape, x.dtype, device);
  const size = dtypeSize(x.dtype);
  native.transfer(x.storage('to').handle, x.offset * size, out.storage('to').handle, 0, x.numel * size);
  return out;
}

export interface TensorOptions {
  dtype?: DType;
  /** 'cpu' (default) or 'cuda'. */
  device?: Device;
  requiresGrad?: boolean;
}

function checkOptions(op: string, opts: TensorOptions | undefined, floatOnly = false): { dtype?: DType; device: Device; requiresGrad: boolean } {
  const device = opts?.device ?? 'cpu';
  if (!isDevice(device)) throw invalidArg(op, 'options.device', "'cpu' or 'cuda'", describe(device));
  const dtype = opts?.dtype;
  if (dtype !== undefined && !isDType(dtype))
    throw invalidArg(op, 'options.dtype', "'float32', 'float64', 'int32' or 'uint8'", describe(dtype));
  if (floatOnly && dtype !== undefined && !isFloat(dtype))
    throw invalidArg(op, 'options.dtype', "'float32' or 'float64'", describe(dtype));
  const requiresGrad = opts?.requiresGrad ?? false;
  if (requiresGrad && dtype !== undefined && !isFloat(dtype))
    throw invalidArg(op, 'options.requiresGrad', `false for dtype ${dtype} (only float tensors have gradients)`, 'true');
  return { dtype, device, requiresGrad };
}

function finish(t: Tensor, requiresGrad: boolean): Tensor {
  t.requiresGrad = requiresGrad;
  return t;
}

/**
 * A tensor from data (a typed array or an array of numbers) and a shape.
 * The dtype defaults to the typed array's type, float32 for plain arrays.
 *
 * @example
 * const x = sc.tensor([1, 2, 3, 4, 5, 6], [2, 3], { requiresGrad: true });
 */
export function tensor(data: ArrayLike<number>, shape?: Shape, opts?: TensorOptions): Tensor {
  const { dtype: asked, device, requiresGrad } = checkOptions('tensor', opts);
  if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number')
    throw invalidArg('tensor', 'data', 'a typed array or an array of numbers', describe(data));
  const dims = shape === undefined ? [data.length] : checkShape('tensor', 'shape', shape);
  if (numelOf(dims) !== data.length)
    throw invalidArg('tensor', 'data', `${numelOf(dims)} elements for shape ${shapeStr(dims)}`, `${data.length} elements`);
  const dtype = asked ?? dtypeOfArray(data) ?? 'float32';
  if (requiresGrad && !isFloat(dtype)) throw invalidArg('tensor', 'options.requiresGrad', `false for dtype ${dtype}`, 'true');
  const Ctor = arrayCtor(dtype);
  const typed: AnyTypedArray = dtypeOfArray(data) === dtype ? (data as AnyTypedArray) : Ctor.from(data as ArrayLike<number>);
  const t = empty(dims, dtype, device);
  native.write(t.storage('tensor').handle, 0, typed);
  return finish(t, requiresGrad);
}

/** A tensor filled with `value`. */
export function full(shape: Shape, value: number, opts?: TensorOptions): Tensor {
  const { dtype, device, requiresGrad } = checkOptions('full', opts);
  const t = empty(checkShape('full', 'shape', shape), dtype ?? 'float32', device);
  runKernel('fill', [], [t], [value]);
  return finish(t, requiresGrad);
}

export function zeros(shape: Shape, opts?: TensorOptions): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: Shape, opts?: TensorOptions): Tensor {
  return full(shape, 1, opts);
}

export function zerosLike(t: Tensor, opts?: TensorOptions): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, device: t.device, ...opts });
}

/** Standard-normal samples (mean 0, std 1), reproducible under `manualSeed`. */
export function randn(shape: Shape, opts?: TensorOptions & { mean?: number; std?: number }): Tensor {
  const { dtype, device, requiresGrad } = checkOptions('randn', opts, true);
  const t = empty(checkShape('randn', 'shape', shape), dtype ?? 'float32', device);
  runKernel('fill_randn', [], [t], [opts?.mean ?? 0, opts?.std ?? 1, ...nextRandom(t.numel)]);
  return finish(t, requiresGrad);
}

/** Uniform samples in [low, high) (default [0, 1)), reproducible under `manualSeed`. */
export function rand(shape: Shape, opts?: TensorOptions & { low?: number; high?: number }): Tensor {
  const { dtype, device, requiresGrad } = checkOptions('rand', opts, true);
  const t = empty(checkShape('rand', 'shape', shape), dtype ?? 'float32', device);
  runKernel('fill_uniform', [], [t], [opts?.low ?? 0, opts?.high ?? 1, ...nextRandom(t.numel)]);
  return finish(t, requiresGrad);
}

/** A copy converted to `dtype` on `device` (not recorded by autograd; see Tensor#to for the differentiable move). */
export function castCopy(x: Tensor, dtype: DType, device: Device = x.device): Tensor {
  if (device !== x.device) {
    const moved = transferCopy(x, device);
    if (dtype === x.dtype) return moved;
    const out = castCopy(moved, dtype);
    moved.dispose();
    return out;
  }
  const out = empty(x.shape, dtype, device);
  runKernel('copy', [x], [out]);
  return out;
}
