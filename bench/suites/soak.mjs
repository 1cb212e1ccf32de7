// Memory of the README's training loop run synchronously (no await between steps, so no
// event-loop turn ever runs): the DSC VGG at batch 32, `zeroGrad / model.call /
// F.crossEntropy / backward / step / item`, nothing disposed by hand. After a warm-up (a
// tenth of the steps, at least 50) native bytes in use must stay flat and RSS within 5%.
// Runs only when named (`npm run bench -- soak [--steps N]`, default 10,000 steps).
export const description = "the README's training loop (DSC VGG, b32) run synchronously: native bytes and RSS per step";
export const onlyWhenNamed = true;

const KB = 1024;
const MB = 1024 * 1024;

export async function run({ sc, steps = 10_000, log }) {
  sc.manualSeed(0);
  const model = sc.models.vgg({ conv: 'dsc' });
  const optimizer = new sc.optim.Adam(model.parameters(), { lr: 1e-3 });
  const images = sc.randn([32, 3, 32, 32]);
  const labels = sc.tensor(Int32Array.from({ length: 32 }, (_, i) => i % 10), [32]);
  const warmup = Math.min(steps - 1, Math.max(50, Math.floor(steps / 10)));
  const sample = () => ({ native: sc.memoryStats().bytesInUse, rss: process.memoryUsage().rss });
  let atWarmup = sample();
  let peakNative = 0;
  let peakRss = 0;
  const start = performance.now();
  let loss = 0;
  for (let i = 1; i <= steps; i++) {
    optimizer.zeroGrad();
    const l = sc.F.crossEntropy(model.call(images), labels);
    l.backward();
    optimizer.step();
    loss = l.item();
    const now = sample();
    if (i === warmup) atWarmup = now;
    if (i > warmup) {
      peakNative = Math.max(peakNative, now.native);
      peakRss = Math.max(peakRss, now.rss);
    }
    if (i % 1000 === 0) log(`step ${i}: native ${(now.native / MB).toFixed(2)} MB, rss ${(now.rss / MB).toFixed(1)} MB, loss ${loss.toFixed(4)}`);
  }
  const atEnd = sample();
  const measured = steps - warmup;
  const perStep = (key) => (atEnd[key] - atWarmup[key]) / measured;
  log(`${steps} steps in ${((performance.now() - start) / 1e3).toFixed(0)} s, warm-up ${warmup} steps`);
  log(`native bytes in use: ${atWarmup.native} at warm-up, ${atEnd.native} at the end (peak after warm-up ${peakNative}): ${perStep('native').toFixed(1)} B/step`);
  log(`RSS: ${(atWarmup.rss / MB).toFixed(1)} MB at warm-up, ${(atEnd.rss / MB).toFixed(1)} MB at the end (peak ${(peakRss / MB).toFixed(1)} MB, ${((100 * peakRss) / atWarmup.rss - 100).toFixed(1)}% over warm-up): ${(perStep('rss') / KB).toFixed(2)} KB/step`);
  optimizer.zeroGrad();
  for (const t of [images, labels, ...model.parameters(), ...model.buffers()]) t.dispose();
  const row = (name, value) => ({ name, metric: 'B/step', higherIsBetter: false, ours: [value], peer: null });
  return [row('native bytes in use, growth after warm-up', perStep('native')), row('RSS, growth after warm-up', perStep('rss'))];
}
