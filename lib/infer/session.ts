/**
 * `sc.infer`: a loaded model answering requests off the main thread. A session owns one worker
 * thread holding the model (its kernels use `threads` threads); concurrent `run` calls wait
 * at most `maxDelayMs` to be sent together, up to `maxBatch` per forward pass, and calls that
 * arrive while a batch runs go in the next one. Inputs are checked here and decoded in the
 * worker, so this thread only copies bytes: a session never blocks its event loop.
 */
import { Worker } from 'node:worker_threads';
import { isDevice } from '../dtype.js';
import type { Device } from '../dtype.js';
import { describe, invalidArg, opError, SepconvError, shapeStr } from '../errors.js';
import { loadSharp } from '../data/decode-image.js';
import type { ImageSource } from '../data/decode-image.js';
import { requireCuda, Tensor } from '../tensor.js';
import type { Task } from '../train/pictures.js';
import { modelLabel, readIdentity, taskOfIdentity } from '../train/setup.js';
import { colourMaskPng, overlayPng } from './outputs.js';
import type { ClassificationResult, InferenceResult, SegmentationResult } from './outputs.js';
import type { BatchRequest, SessionWorkerMessage, SessionWorkerSetup, WireAnswer, WireInput } from './protocol.js';

export interface SessionOptions {
  /** Where the model runs (default 'cpu'). */
  device?: Device;
  /** Kernel threads of the session's worker (default: the library default, all cores). */
  threads?: number;
  /** Most inputs per forward pass (default 8). */
  maxBatch?: number;
  /** How long the first call of a batch waits for company (default 2 ms; 0: send at once). */
  maxDelayMs?: number;
  /** Classes in a classifier's `top` (default 5). */
  topK?: number;
  /**
   * Linux: the nice value of the session's worker and kernel threads, 0–19 (default 10), so a
   * busy CPU runs this process's event loop before inference; 0 keeps the process's priority.
   * Ignored elsewhere (there a priority is the whole process's).
   */
  niceness?: number;
}

export interface RunOptions {
  /** Segmenters: add the per-pixel probabilities (at the model's input size). Classifiers always give them. */
  probabilities?: boolean;
}

/** A Tensor or `{ data, shape }` of float32 [C, S, S] or [1, C, S, S] model input, or an encoded image or its path. */
export type InferenceInput = Tensor | { data: Float32Array; shape: readonly number[] } | ImageSource;

interface Call {
  input: WireInput;
  resolve: (result: InferenceResult) => void;
  reject: (err: Error) => void;
}

interface WorkerHandle {
  worker: Worker;
  ready: Promise<void>;
}

/**
 * Why a call failed, as `error.code`: its input (not an image, undecodable, wrong shape or
 * dtype), the model (loading it, or a forward pass that threw), the worker dying, or the
 * session being closed. A service answers the first with 4xx, the others with 5xx.
 */
export type InferenceErrorCode = 'ERR_SEPCONV_INPUT' | 'ERR_SEPCONV_MODEL' | 'ERR_SEPCONV_WORKER' | 'ERR_SEPCONV_CLOSED';

function coded<E extends Error>(err: E, code: InferenceErrorCode): E & { code: InferenceErrorCode } {
  return Object.assign(err, { code });
}

function positiveInteger(argument: string, value: unknown, min: number): number {
  if (!Number.isInteger(value) || (value as number) < min) throw invalidArg('infer.load', argument, `an integer ≥ ${min}`, describe(value));
  return value as number;
}

export class InferenceSession {
  readonly task: Task;
  /** Class names by id. */
  readonly classes: readonly string[];
  /** The side of the square images are resized to. */
  readonly imageSize: number;
  readonly channels: number;
  /** Which network: a zoo name and variant, or the user module's export. */
  readonly model: string;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly setup: SessionWorkerSetup;
  private handle: WorkerHandle | null = null;
  private readonly queue: Call[] = [];
  private inFlight: { id: number; calls: Call[] } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nextId = 0;
  private closed = false;
  private readonly counts = { calls: 0, batches: 0, largestBatch: 0, workersStarted: 0 };

  /** @internal Use `sc.infer.load`. */
  constructor(
    readonly checkpoint: string,
    options: SessionOptions,
  ) {
    if (options === null || typeof options !== 'object') throw invalidArg('infer.load', 'options', '{ device, threads, maxBatch, maxDelayMs, topK }', describe(options));
    const device = options.device ?? 'cpu';
    if (!isDevice(device)) throw invalidArg('infer.load', 'options.device', "'cpu' or 'cuda'", describe(device));
    if (device === 'cuda') requireCuda('infer.load');
    this.maxBatch = positiveInteger('options.maxBatch', options.maxBatch ?? 8, 1);
    this.maxDelayMs = options.maxDelayMs ?? 2;
    if (typeof this.maxDelayMs !== 'number' || !(this.maxDelayMs >= 0)) throw invalidArg('infer.load', 'options.maxDelayMs', 'a number ≥ 0', describe(options.maxDelayMs));
    const threads = options.threads === undefined ? null : positiveInteger('options.threads', options.threads, 1);
    if (typeof checkpoint !== 'string') throw invalidArg('infer.load', 'checkpoint', 'the path of a weights file written by fit', describe(checkpoint));
    const identity = readIdentity(checkpoint);
    if (identity === null) throw opError('infer.load', `${checkpoint} does not say which network it holds (no sepconv metadata); load checkpoints written by sc.train.fit`);
    this.task = taskOfIdentity(identity);
    this.classes = identity.classes;
    this.imageSize = identity.imageSize;
    this.channels = identity.channels ?? 3;
    this.model = typeof identity.model === 'string' ? `${identity.model} (${identity.conv})` : modelLabel(identity.model);
    const niceness = options.niceness ?? 10;
    if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19) throw invalidArg('infer.load', 'options.niceness', 'an integer in [0, 19]', describe(options.niceness));
    this.setup = { checkpoint, device, threads, topK: positiveInteger('options.topK', options.topK ?? 5, 1), niceness };
  }

  /** @internal Starts the worker and waits until the model is loaded. */
  async start(): Promise<this> {
    await this.worker().ready;
    return this;
  }

  /**
   * Answers one input: for classifiers `{ probabilities, top: [{ class, name, p }] }`, for
   * segmenters `{ mask, width, height, classes, probabilities? }` with the mask at the input's
   * own size. Rejects (this call only) for an input that is no image, cannot be decoded or has
   * the wrong shape or dtype, after `close()`, and when the worker dies while running it (the
   * next call starts a new worker).
   */
  run(input: InferenceInput, options: RunOptions = {}): Promise<InferenceResult> {
    if (this.closed) return Promise.reject(coded(opError('infer', 'the session is closed'), 'ERR_SEPCONV_CLOSED'));
    let wire: WireInput;
    try {
      wire = this.wireInput(input, options.probabilities === true);
    } catch (err) {
      return Promise.reject(coded(err as Error, 'ERR_SEPCONV_INPUT'));
    }
    return new Promise<InferenceResult>((resolve, reject) => {
      this.queue.push({ input: wire, resolve, reject });
      this.schedule();
    });
  }

  /** Calls sent to the worker, the batches they went in, the largest batch, and workers started (1 unless one died). */
  stats(): { calls: number; batches: number; largestBatch: number; workersStarted: number } {
    return { ...this.counts };
  }

  /** A segmentation answer as a colour PNG (one palette colour per class, as `predict` writes). */
  async renderMask(result: SegmentationResult): Promise<Buffer> {
    this.checkSegmentation('renderMask', result);
    return colourMaskPng(result.mask, result.width, result.height);
  }

  /** The colour mask over the image it was computed from, as PNG; `opacity` of the mask (default 0.45). */
  async renderOverlay(image: ImageSource, result: SegmentationResult, options: { opacity?: number } = {}): Promise<Buffer> {
    this.checkSegmentation('renderOverlay', result);
    if (!(image instanceof Uint8Array) && typeof image !== 'string') throw invalidArg('renderOverlay', 'image', 'the encoded image or path the result came from', describe(image));
    const { width, height } = await (await loadSharp())(image).metadata();
    if (width !== result.width || height !== result.height)
      throw opError('renderOverlay', `the image is ${width}×${height} but the mask ${result.width}×${result.height}; pass the image the result came from`);
    return overlayPng(image, result.mask, result.width, result.height, options.opacity ?? 0.45);
  }

  /** Stops the worker and frees the model; calls still waiting reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const err = coded(opError('infer', 'the session was closed before this call was answered'), 'ERR_SEPCONV_CLOSED');
    for (const call of [...this.queue.splice(0), ...(this.inFlight?.calls ?? [])]) call.reject(err);
    this.inFlight = null;
    const handle = this.handle;
    this.handle = null;
    await handle?.worker.terminate();
  }

  private checkSegmentation(op: string, result: SegmentationResult): void {
    if (this.task !== 'segmentation') throw opError(op, `this session holds a classifier (${this.model}); masks come from segmenters`);
    if (!(result?.mask instanceof Uint8Array) || result.mask.length !== result.width * result.height)
      throw invalidArg(op, 'result', 'a segmentation result of this session', describe(result));
  }

  private wireInput(input: InferenceInput, probabilities: boolean): WireInput {
    if (input instanceof Uint8Array || typeof input === 'string') return { kind: 'image', source: input, probabilities };
    const expected = [this.channels, this.imageSize, this.imageSize];
    const wanted = `${shapeStr(expected)} or ${shapeStr([1, ...expected])}`;
    const checkShape = (argument: string, shape: readonly number[]): void => {
      const s = shape.length === 4 && shape[0] === 1 ? shape.slice(1) : shape;
      if (s.join() !== expected.join()) throw invalidArg('infer', argument, `${wanted} (this model's input)`, shapeStr(shape));
    };
    if (input instanceof Tensor) {
      if (input.dtype !== 'float32') throw invalidArg('infer', 'input', `a float32 tensor of ${wanted}`, `a ${input.dtype} tensor`);
      checkShape('input.shape', input.shape);
      return { kind: 'array', data: input.toArray() as Float32Array, probabilities };
    }
    if (input !== null && typeof input === 'object' && 'data' in input && 'shape' in input) {
      if (!(input.data instanceof Float32Array)) throw invalidArg('infer', 'input.data', 'a Float32Array', describe(input.data));
      if (!Array.isArray(input.shape)) throw invalidArg('infer', 'input.shape', wanted, describe(input.shape));
      checkShape('input.shape', input.shape);
      if (input.data.length !== expected[0]! * expected[1]! * expected[2]!)
        throw invalidArg('infer', 'input.data', `${expected[0]! * expected[1]! * expected[2]!} values for shape ${shapeStr(input.shape)}`, `${input.data.length} values`);
      return { kind: 'array', data: input.data, probabilities };
    }
    throw invalidArg('infer', 'input', 'a Tensor, { data: Float32Array, shape }, an encoded image (Buffer or Uint8Array) or an image path', describe(input));
  }

  /** The running worker, or a new one. */
  private worker(): WorkerHandle {
    if (this.handle) return this.handle;
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: this.setup, execArgv });
    this.counts.workersStarted++;
    let settleReady!: { resolve: () => void; reject: (err: Error) => void };
    const ready = new Promise<void>((resolve, reject) => (settleReady = { resolve, reject }));
    const handle: WorkerHandle = { worker, ready };
    ready.catch(() => undefined); // awaited by whoever sends the next batch
    worker.on('message', (message: SessionWorkerMessage) => {
      if (message.kind === 'ready') {
        settleReady.resolve();
        // An idle session does not keep the process alive (a busy one does, until it answers).
        if (!this.inFlight) worker.unref();
      }
      else if (message.kind === 'failed') settleReady.reject(coded(message.known ? new SepconvError(message.error) : opError('infer.load', message.error), 'ERR_SEPCONV_MODEL'));
      else this.answer(message.id, message.answers);
    });
    const died = (why: string): void => {
      settleReady.reject(coded(opError('infer.load', `the inference worker ${why} while loading ${this.checkpoint}`), 'ERR_SEPCONV_WORKER'));
      if (this.handle !== handle) return;
      this.handle = null;
      const calls = this.inFlight?.calls ?? [];
      this.inFlight = null;
      const err = coded(opError('infer', `the inference worker ${why} while answering this call; the session starts a new worker for the next call`), 'ERR_SEPCONV_WORKER');
      for (const call of calls) call.reject(err);
      this.schedule();
    };
    worker.on('error', (err) => died(`failed (${err.message})`));
    worker.on('exit', (code) => died(`exited with code ${code}`));
    this.handle = handle;
    return handle;
  }

  /** Sends a batch when the worker is free and the batch is full or its first call has waited maxDelayMs. */
  private schedule(): void {
    if (this.closed || this.inFlight || this.queue.length === 0) return;
    if (this.queue.length >= this.maxBatch || this.maxDelayMs === 0) return this.dispatch();
    this.timer ??= setTimeout(() => this.dispatch(), this.maxDelayMs);
  }

  private dispatch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.closed || this.inFlight || this.queue.length === 0) return;
    const batch = { id: this.nextId++, calls: this.queue.splice(0, this.maxBatch) };
    this.counts.calls += batch.calls.length;
    this.counts.batches++;
    this.counts.largestBatch = Math.max(this.counts.largestBatch, batch.calls.length);
    this.inFlight = batch;
    const handle = this.worker();
    handle.worker.ref();
    handle.ready.then(
      () => {
        if (this.inFlight === batch) handle.worker.postMessage({ id: batch.id, inputs: batch.calls.map((c) => c.input) } satisfies BatchRequest);
      },
      (err: Error) => {
        if (this.inFlight !== batch) return;
        this.inFlight = null;
        for (const call of batch.calls) call.reject(err);
        this.schedule();
      },
    );
  }

  private answer(id: number, answers: WireAnswer[]): void {
    const batch = this.inFlight;
    if (!batch || batch.id !== id) return;
    this.inFlight = null;
    this.handle?.worker.unref();
    answers.forEach((a, i) => {
      const call = batch.calls[i]!;
      if ('result' in a) call.resolve(a.result);
      else call.reject(coded(a.known ? new SepconvError(a.error) : opError('infer', a.error), a.fault === 'input' ? 'ERR_SEPCONV_INPUT' : 'ERR_SEPCONV_MODEL'));
    });
    // Calls that came while this batch ran have waited already: send them at once.
    if (this.queue.length > 0) this.dispatch();
  }
}

/**
 * Loads a checkpoint written by `sc.train.fit` into a worker thread and returns a session
 * answering `run(input)` calls (micro-batched). Close it with `session.close()`.
 *
 * @example
 * const session = await sc.infer.load('runs/segnet-dsc/best.safetensors', { maxBatch: 8, maxDelayMs: 2 });
 * const photo = readFileSync('cat.jpg');
 * const result = await session.run(photo); // { mask: class ids at the photo's size, width, height, classes }
 * writeFileSync('cat.overlay.png', await session.renderOverlay(photo, result));
 * await session.close();
 */
export async function load(checkpoint: string, options: SessionOptions = {}): Promise<InferenceSession> {
  return new InferenceSession(checkpoint, options).start();
}

export type { ClassificationResult, SegmentationResult, InferenceResult };
