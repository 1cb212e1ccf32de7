/**
 * Tensor's op methods (`t.add(…)`, `t.sum()`, `t.backward()`, `t.to()`, …), attached to
 * Tensor.prototype here instead of being written in tensor.ts, so that tensor.ts depends on
 * neither the autograd engine nor the functional ops, which both depend on it (sharp's
 * index.mjs pattern). Each entry point imports this module once: lib/index.ts, the training
 * worker (lib/train/worker.ts) and the CLI (lib/cli/index.ts).
 */
import { runBackward } from './autograd/graph.js';
import type { Device } from './dtype.js';
import * as ew from './functional/elementwise.js';
import { Tensor } from './tensor.js';

declare module './tensor.js' {
  interface Tensor {
    /**
     * Computes gradients of this tensor with respect to every leaf that requires grad and
     * accumulates them into their `.grad`. `grad` defaults to 1 for a one-element tensor.
     * The graph's saved tensors are freed afterwards.
     */
    backward(grad?: Tensor): void;
    /**
     * This tensor on `device` ('cpu' or 'cuda'): the tensor itself when it is already there,
     * else a copy that gradients flow back through.
     *
     * @example
     * const x = sc.randn([8, 3, 32, 32]).to('cuda'); // needs sc.backend().cuda
     */
    to(device: Device): Tensor;
    add(other: Tensor | number): Tensor;
    sub(other: Tensor | number): Tensor;
    mul(other: Tensor | number): Tensor;
    div(other: Tensor | number): Tensor;
    neg(): Tensor;
    relu(): Tensor;
    /** Sum over `dim` (all dims when omitted). */
    sum(dim?: number | readonly number[], keepDim?: boolean): Tensor;
    /** Mean over `dim` (all dims when omitted). */
    mean(dim?: number | readonly number[], keepDim?: boolean): Tensor;
    /** A view with another shape; one dim may be -1. */
    reshape(shape: readonly number[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
  }
}

type OpMethods = Pick<Tensor, 'backward' | 'to' | 'add' | 'sub' | 'mul' | 'div' | 'neg' | 'relu' | 'sum' | 'mean' | 'reshape' | 'flatten'>;

const methods: OpMethods & ThisType<Tensor> = {
  backward(grad) {
    runBackward(this, grad);
  },
  to(device) {
    return ew.toDevice(this, device);
  },
  add(other) {
    return ew.add(this, other);
  },
  sub(other) {
    return ew.sub(this, other);
  },
  mul(other) {
    return ew.mul(this, other);
  },
  div(other) {
    return ew.div(this, other);
  },
  neg() {
    return ew.neg(this);
  },
  relu() {
    return ew.relu(this);
  },
  sum(dim, keepDim = false) {
    return ew.sum(this, dim, keepDim);
  },
  mean(dim, keepDim = false) {
    return ew.mean(this, dim, keepDim);
  },
  reshape(shape) {
    return ew.reshape(this, shape);
  },
  flatten(startDim = 0, endDim = -1) {
    return ew.flatten(this, startDim, endDim);
  },
};

// Non-enumerable, like methods written in the class body.
for (const [name, method] of Object.entries(methods))
  Object.defineProperty(Tensor.prototype, name, { value: method, writable: true, configurable: true });
