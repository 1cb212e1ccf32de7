// Whole training steps (zeroGrad, forward, cross-entropy, backward, Adam step) of the networks
// sepconv exists for, regular and DSC: VGG-CIFAR at batch 128 and SegNet at batch 16 on
// 128x128, next to the same networks in PyTorch CPU (NCHW and channels_last) run in the same
// process tree. This is where DSC's savings must show up in wall-clock time.
import { min, runPeer, timeCalls } from './lib.mjs';

export const description = 'training step ms of VGG-CIFAR (b128) and SegNet (b16, 128x128), regular vs DSC, vs PyTorch CPU';

export const cases = [
  { name: 'vgg_regular', model: 'vgg', conv: 'regular', input: [128, 3, 32, 32], classes: 10 },
  { name: 'vgg_dsc', model: 'vgg', conv: 'dsc', input: [128, 3, 32, 32], classes: 10 },
  { name: 'segnet_regular', model: 'segnet', conv: 'regular', input: [16, 3, 128, 128], classes: 3 },
  { name: 'segnet_dsc', model: 'segnet', conv: 'dsc', input: [16, 3, 128, 128], classes: 3 },
];

/** A model's whole training step on fixed random data; also used by the data benchmark. */
export function trainingStep(sc, c, device = 'cpu') {
  sc.manualSeed(0);
  const model = sc.models[c.model]({ conv: c.conv, numClasses: c.classes }).to(device);
  const [n, , h, w] = c.input;
  const x = sc.randn(c.input, { device });
  const labels = c.model === 'vgg' ? n : n * h * w;
  const y = sc.tensor(Int32Array.from({ length: labels }, (_, i) => (i * 7919) % c.classes), c.model === 'vgg' ? [n] : [n, h, w], { device });
  const optimizer = new sc.optim.Adam(model.parameters(), { lr: 1e-3 });
  const step = () =>
    sc.scope(() => {
      optimizer.zeroGrad();
      sc.F.crossEntropy(model.call(x), y).backward();
      optimizer.step();
    });
  const dispose = () => {
    optimizer.zeroGrad();
    for (const t of [x, y, ...model.parameters(), ...model.buffers()]) t.dispose();
  };
  return { step, dispose };
}

export const devices = ['cpu', 'cuda'];

export async function run({ sc, rounds, threads, log, device, sync }) {
  const rows = [];
  for (const c of cases) {
    const nchw = { name: `${c.name} step`, metric: 'ms', higherIsBetter: false, ours: [], peer: null };
    const last = { name: `${c.name} step (peer channels_last)`, metric: 'ms', higherIsBetter: false, ours: [], peer: null };
    rows.push(nchw, last);
    const reps = c.model === 'vgg' ? 5 : 3;
    for (let round = 0; round < rounds; round++) {
      const { step, dispose } = trainingStep(sc, c, device);
      const ms = 1e3 * min(timeCalls(step, { warmup: 2, reps, sync }));
      dispose();
      nchw.ours.push(ms);
      last.ours.push(ms);
      if (device !== 'cpu') continue;
      const peer = runPeer('torch_models.py', [String(threads), String(reps), c.name], { OMP_NUM_THREADS: String(threads) });
      if (!peer.ok) {
        log(`peer unavailable: ${peer.reason}`);
        continue;
      }
      for (const [row, layout] of [[nchw, 'nchw'], [last, 'channels_last']]) {
        const r = peer.json.results.find((p) => p.name === c.name && p.layout === layout);
        row.peer ??= { name: `${peer.json.peer} ${layout === 'nchw' ? 'NCHW' : 'channels_last'}`, values: [] };
        row.peer.values.push(1e3 * min(r.steps));
      }
    }
  }
  return rows;
}
