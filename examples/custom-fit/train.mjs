// Trains the three-layer network on the stripes dataset through sc.train.fit (in a worker
// thread: this event loop stays free), then answers one picture with an inference session.
//   node examples/custom-fit/train.mjs [out-dir]
import * as sc from 'sepconv';

const out = process.argv[2] ?? 'runs/stripes';
const result = await sc.train.fit(
  {
    model: { module: new URL('./three-layer-net.js', import.meta.url), export: 'createModel', options: { size: 16, classes: 2 } },
    dataset: { module: new URL('./stripes-data.js', import.meta.url), export: 'createDataset', options: { trainItems: 128, valItems: 32 } },
    epochs: 3,
    batchSize: 16,
    lr: 3e-3,
    out,
    overwrite: true,
  },
  { onEvent: (e) => e.type === 'epoch' && console.log(`epoch ${e.metrics.epoch}: val accuracy ${e.metrics.valAccuracy.toFixed(3)}`) },
);
console.log(result.status, `best ${result.best.monitor} ${result.best.value.toFixed(3)} at epoch ${result.best.epoch}`);

const session = await sc.infer.load(`${out}/best.safetensors`);
const { createDataset } = await import('./stripes-data.js');
const { image, label } = createDataset({ trainItems: 2, valItems: 1, seed: 7 }).train.get(1);
const { top } = await session.run({ data: image, shape: [1, 3, 16, 16] });
console.log(`a ${['horizontal', 'vertical'][label]} picture → ${top[0].name} (p ${top[0].p.toFixed(3)})`);
await session.close();
