/**
 * BatchNorm folding: a BatchNormalization whose input is a Conv's output that nothing else
 * reads becomes part of that Conv (W' = W·γ/√(σ²+ε) per output channel, b' = (b − μ)·γ/√(σ²+ε) + β).
 * The folded weights are computed by sepconv's own eval-mode BatchNorm kernel applied to the
 * conv's weight and bias, so they carry exactly the scale the layer applies.
 */
import { batchNorm2d } from '../functional/norm.js';
import { BatchNorm2d, Conv2d } from '../nn/index.js';
import { scope, zeros } from '../tensor.js';
import type { Tensor } from '../tensor.js';
import type { GraphBuilder, OnnxNode } from './graph.js';

/** Folds what it can in place; returns how many BatchNorms were folded. Call under noGrad. */
export function foldBatchNorms(graph: GraphBuilder, graphOutputs: ReadonlySet<string>): number {
  const producers = new Map<string, OnnxNode>(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const readers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const folded = new Set<OnnxNode>();
  for (const node of graph.nodes) {
    const bn = node.module;
    const x = node.inputs[0]!;
    const conv = producers.get(x);
    if (!(bn instanceof BatchNorm2d) || conv?.opType !== 'Conv' || !(conv.module instanceof Conv2d)) continue;
    if (readers.get(x) !== 1 || graphOutputs.has(x)) continue;
    const { weight, bias } = foldedConv(conv.module, bn);
    conv.inputs = [conv.inputs[0]!, graph.floatConstant(`${conv.name}.folded_weight`, weight), graph.floatConstant(`${conv.name}.folded_bias`, bias)];
    conv.outputs = node.outputs;
    folded.add(node);
  }
  graph.nodes.splice(0, graph.nodes.length, ...graph.nodes.filter((n) => !folded.has(n)));
  return folded.size;
}

function foldedConv(conv: Conv2d, bn: BatchNorm2d): { weight: Tensor; bias: Tensor } {
  const channels = conv.outChannels;
  const evalMode = { training: false, eps: bn.eps };
  return scope(() => {
    // Output channels as BatchNorm's channel dim: [1, out, in/groups·kh, kw].
    const weight = batchNorm2d(conv.weight.reshape([1, channels, -1, conv.kernelSize[1]]), zeros([channels]), bn.runningVar, bn.weight, null, evalMode);
    const bias = batchNorm2d((conv.bias ?? zeros([channels])).reshape([1, channels, 1, 1]), bn.runningMean, bn.runningVar, bn.weight, bn.bias, evalMode);
    return { weight: weight.reshape(conv.weight.shape), bias: bias.reshape([channels]) };
  });
}
