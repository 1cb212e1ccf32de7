/**
 * Reverse-mode autograd. Differentiable ops compute their output with native kernels and
 * then `record` a node holding a backward closure and the tensors it saved. `backward`
 * walks the nodes in reverse topological order, accumulates gradients of leaves into
 * `.grad`, and frees each node's saved tensors as soon as its backward has run.
 */
import { invalidArg, opError, shapeStr } from '../errors.js';
import { empty, ones, runKernel, scope, Tensor, untracked } from '../tensor.js';

/** Gradients for a node's inputs (null where an input needs none), from the output's gradient. */
export type BackwardFn = (grad: Tensor, saved: readonly Tensor[], needsGrad: readonly boolean[]) => (Tensor | null)[];

type Edge = { node: GradNode } | { leaf: Tensor } | null;

export class GradNode {
  private saved: Tensor[] | null;
  constructor(
    readonly name: string,
    readonly edges: readonly Edge[],
    private readonly fn: BackwardFn,
    saved: Tensor[],
    readonly outputShape: readonly number[],
  ) {
    this.saved = saved;
  }

  get released(): boolean {
    return this.saved === null;
  }

  apply(grad: Tensor): (Tensor | null)[] {
    if (this.saved === null)
      throw opError('backward', `the graph through '${this.name}' was already freed by an earlier backward()`);
    return this.fn(
      grad,
      this.saved,
      this.edges.map((e) => e !== null),
    );
  }

  /** Drops the saved tensors (their memory is freed unless someone else holds it). */
  release(): void {
    if (this.saved === null) return;
    for (const t of this.saved) t.dispose();
    this.saved = null;
  }
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` without recording autograd nodes (inference, parameter updates). Synchronous
 * functions only.
 *
 * @example
 * const logits = sc.noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** @internal Sees every differentiable op as it runs, grad mode or not (ONNX export traces a forward's glue between layers with it). */
export type OpObserver = (name: string, output: Tensor, inputs: readonly (Tensor | null)[]) => void;

let opObserver: OpObserver | null = null;

/** @internal Runs `fn` with `observer` told of every `record`ed op. */
export function withOpObserver<T>(observer: OpObserver, fn: () => T): T {
  const previous = opObserver;
  opObserver = observer;
  try {
    return fn();
  } finally {
    opObserver = previous;
  }
}

/** Whether a tensor takes part in autograd (a leaf with requiresGrad, or an op output of one). */
function tracksGrad(t: Tensor | null): t is Tensor {
  return t !== null && (t.requiresGrad || t.gradFn !== null);
}

/**
 * Attaches a backward node to `output` when grad mode is on and some input tracks
 * gradients. `saved` tensors stay alive (as aliases owned by the node) until backward.
 */
export function record(name: string, output: Tensor, inputs: readonly (Tensor | null)[], backward: BackwardFn, saved: readonly Tensor[] = []): Tensor {
  opObserver?.(name, output, inputs);
  if (!gradEnabled || !inputs.some(tracksGrad)) return output;
  const edges: Edge[] = inputs.map((t) => {
    if (!tracksGrad(t)) return null;
    return t.gradFn !== null ? { node: t.gradFn } : { leaf: t };
  });
  const aliases = untracked(() => saved.map((t) => t.alias()));
  output.gradFn = new GradNode(name, edges, backward, aliases, output.shape);
  output.requiresGrad = true;
  return output;
}

// ------------------------------------------------------------------------------ the engine

/** Reference counts of the gradient tensors the engine owns while it runs. */
class GradOwnership {
  private counts = new Map<Tensor, number>();
  add(t: Tensor): void {
    this.counts.set(t, (this.counts.get(t) ?? 0) + 1);
  }
  /** Whether the engine holds exactly one reference to `t` (it may hand it over). */
  soleOwner(t: Tensor): boolean {
    return this.counts.get(t) === 1;
  }
  drop(t: Tensor): void {
    const n = this.counts.get(t);
    if (n === undefined) return; // not ours (the caller's gradient argument)
    if (n > 1) this.counts.set(t, n - 1);
    else {
      this.counts.delete(t);
      t.dispose();
    }
  }
  forget(t: Tensor): void {
    this.counts.delete(t);
  }
}

function accumulateLeaf(leaf: Tensor, g: Tensor, owned: GradOwnership): void {
  if (leaf.grad === null || leaf.grad.isDisposed) {
    if (owned.soleOwner(g) && g.dtype === leaf.dtype) {
      owned.forget(g);
      leaf.grad = g.shape.length === leaf.shape.length ? g : reshapeOwned(g, leaf.shape);
    } else {
      leaf.grad = copyOf(g, leaf);
      owned.drop(g);
    }
    leaf.grad.keep();
    return;
  }
  if (leaf.grad.storage('backward').exclusive) {
    runKernel('axpy', [g, leaf.grad], [], [1]);
  } else {
    const sum = copyOf(leaf.grad, leaf);
    runKernel('axpy', [g, sum], [], [1]);
    leaf.grad.dispose();
    leaf.grad = sum.keep();
  }
  owned.drop(g);
}

function reshapeOwned(g: Tensor, shape: readonly number[]): Tensor {
  const view = g.alias(shape);
  g.dispose();
  return view;
}

/** A new tensor with `like`'s shape and dtype holding `src`'s values. */
function copyOf(src: Tensor, like: Tensor): Tensor {
  const out = empty(like.shape, like.dtype, like.device);
  runKernel('copy', [src], [out]);
  return out;
}

/** Every node reachable from `root`, with how many reachable nodes feed gradient into each. */
function collectNodes(root: GradNode): Map<GradNode, number> {
  const consumers = new Map<GradNode, number>([[root, 0]]);
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const e of node.edges) {
      if (e === null || !('node' in e)) continue;
      const seen = consumers.has(e.node);
      consumers.set(e.node, (consumers.get(e.node) ?? 0) + 1);
      if (!seen) stack.push(e.node);
    }
  }
  return consumers;
}

/** Implements Tensor#backward. */
export function runBackward(root: Tensor, grad?: Tensor): void {
  if (!tracksGrad(root))
    throw opError('backward', 'the tensor does not require grad (no input of the ops that produced it has requiresGrad)');
  if (grad === undefined && root.numel !== 1)
    throw invalidArg('backward', 'grad', `a gradient of shape ${shapeStr(root.shape)} (backward() without one needs a scalar)`, 'none');
  if (grad !== undefined) {
    if (!(grad instanceof Tensor)) throw invalidArg('backward', 'grad', 'a Tensor', typeof grad);
    if (grad.shape.join() !== root.shape.join())
      throw invalidArg('backward', 'grad', `shape ${shapeStr(root.shape)}`, `shape ${shapeStr(grad.shape)}`);
  }
  // Everything created here is freed when backward returns, except the leaves' gradients
  // (kept); each node's own temporaries are freed right after its backward runs. Backward
  // itself is not recorded (no higher-order gradients).
  noGrad(() => scope(() => {
    const owned = new GradOwnership();
    const seed = grad ?? ones(root.shape, { dtype: root.dtype, device: root.device });
    if (grad === undefined) owned.add(seed);
    if (root.gradFn === null) {
      accumulateLeaf(root, seed, owned);
      return;
    }
    const pending = new Map<GradNode, Tensor>([[root.gradFn, seed]]);
    const remaining = collectNodes(root.gradFn);
    const ready: GradNode[] = [root.gradFn];
    const deliver = (node: GradNode, g: Tensor): void => {
      const prev = pending.get(node);
      if (prev === undefined) pending.set(node, g);
      else if (owned.soleOwner(prev) && prev.storage('backward').exclusive) {
        // Two paths meet and nothing else sees `prev`: accumulate in place.
        runKernel('axpy', [g, prev], [], [1]);
        owned.drop(g);
      } else {
        // `prev` is shared with another slot or view: sum into a fresh tensor.
        const sum = copyOf(prev, prev);
        runKernel('axpy', [g, sum], [], [1]);
        owned.add(sum);
        owned.drop(prev);
        owned.drop(g);
        pending.set(node, sum);
      }
      const left = remaining.get(node)! - 1;
      remaining.set(node, left);
      if (left === 0) ready.push(node);
    };
    while (ready.length > 0) {
      const node = ready.pop()!;
      const g = pending.get(node);
      pending.delete(node);
      const grads = g === undefined ? node.edges.map(() => null) : scope(() => node.apply(g));
      node.release();
      grads.forEach((gi) => gi !== null && owned.add(gi));
      if (g !== undefined) owned.drop(g);
      node.edges.forEach((edge, i) => {
        const gi = grads[i] ?? null;
        if (edge === null) {
          if (gi !== null) owned.drop(gi);
          return;
        }
        if ('leaf' in edge) {
          if (gi !== null) accumulateLeaf(edge.leaf, gi, owned);
          return;
        }
        if (gi === null) {
          const left = remaining.get(edge.node)! - 1;
          remaining.set(edge.node, left);
          if (left === 0) ready.push(edge.node);
        } else deliver(edge.node, gi);
      });
    }
  }));
}
