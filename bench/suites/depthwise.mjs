// Depthwise 3x3 (padding 1) forward, input gradient and weight gradient on the micro shapes
// and the SegNet-DSC layers (batch 16), next to PyTorch CPU with the same thread count:
// channels_last (PyTorch's fastest CPU layout) is the peer, NCHW goes in the note. The cases
// and the interleaved PyTorch conversation live in bench/depthwise.mjs (also runnable alone,
// with a single-thread CPU-time mode for busy machines).
import { run as runDepthwise } from '../depthwise.mjs';

export const description = 'depthwise 3x3 fwd / input grad / weight grad ms (micro + SegNet-DSC shapes), vs PyTorch CPU channels_last';

export async function run({ rounds, log }) {
  const { environment, results } = await runDepthwise({ rounds, reps: 5, log });
  const peerName = environment.torch ? `PyTorch ${environment.torch.torch} channels_last` : null;
  return results.map((r) => ({
    name: `${r.case} ${r.op}`,
    metric: 'ms',
    higherIsBetter: false,
    ours: r.rounds.sepconv,
    peer: peerName ? { name: peerName, values: r.rounds.torch_channels_last } : undefined,
    note: `${r.gbps.toFixed(1)} GB/s${r.torch_nchw ? `; PyTorch NCHW ${r.torch_nchw.best.toFixed(2)} ms` : ''}`,
  }));
}
