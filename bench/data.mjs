#!/usr/bin/env node
// Data-loading throughput: Oxford-IIIT Pet images/s through decode + resize to 128 +
// augmentation with the DataLoader (cold: JPEG decode in the workers; warm: from the disk
// cache), and CIFAR-10 batches/s; with a PyTorch DataLoader peer (PIL + numpy, 2 workers)
// doing the light pipeline in the same run, and what a SegNet-DSC training step (batch 16,
// 128², 2 threads) consumes, measured in the same run: the loader must supply at least 3× that.
// Prints a table, then JSON.
//
// usage: node bench/data.mjs [--data-dir DIR] [--workers N] [--repeats N] [--no-peer]
// The data folder defaults to $SEPCONV_DATA, else ../shared/datasets, else ./datasets.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import * as sc from '../dist/index.js';
import { cases as modelCases, trainingStep } from './suites/models.mjs';
import { min, timeCalls } from './suites/lib.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const T = sc.data.transforms;
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
/** Flip + normalise: what the PyTorch peer does too. */
const LIGHT = [T.randomHorizontalFlip(), T.normalize(MEAN, STD)];
/** The UNet experiment's heavier set. */
const HEAVY = [
  T.randomHorizontalFlip(),
  T.randomRotation(15),
  T.randomCrop(128, { padding: 8 }),
  T.colorJitter({ brightness: 0.2, contrast: 0.2, saturation: 0.2 }),
  T.channelDropout(0.1),
  T.randomErasing({ p: 0.25 }),
  T.normalize(MEAN, STD),
];

function dataDir(flag) {
  if (flag || process.env.SEPCONV_DATA) return sc.data.resolveDataDir(flag).dir;
  const shared = resolve(repoRoot, '..', 'shared', 'datasets');
  return existsSync(shared) ? shared : sc.data.resolveDataDir().dir;
}

/** Best items/s (and batches/s) over `repeats` epochs (or their first `limit` batches). */
async function bestRate(loader, repeats, limit = Infinity) {
  let best = { items: 0, batches: 0 };
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    let items = 0;
    let batches = 0;
    for await (const { x, y } of loader) {
      items += x.shape[0];
      batches++;
      x.dispose();
      y.dispose();
      if (batches >= limit) break;
    }
    const seconds = (performance.now() - start) / 1000;
    if (items / seconds > best.items) best = { items: items / seconds, batches: batches / seconds };
  }
  return best;
}

async function timed(fn) {
  const start = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - start) / 1000 };
}

async function peer(dir, repeats) {
  try {
    const { stdout } = await promisify(execFile)('/usr/bin/python3', [join(repoRoot, 'bench', 'data_peer.py'), dir, '--repeats', String(repeats)], {
      env: { ...process.env, OPENBLAS_NUM_THREADS: '2' },
    });
    return JSON.parse(stdout);
  } catch (err) {
    return { unavailable: err.message.split('\n')[0] };
  }
}

async function main() {
  const { values } = parseArgs({
    options: { 'data-dir': { type: 'string' }, workers: { type: 'string', default: '2' }, repeats: { type: 'string', default: '3' }, 'no-peer': { type: 'boolean' } },
  });
  const dir = dataDir(values['data-dir']);
  const workers = Number(values.workers);
  const repeats = Number(values.repeats);
  const cacheRoot = await mkdtemp(join(tmpdir(), 'sepconv-bench-cache-'));
  const rows = [];
  const results = { dataDir: dir, workers, repeats, cores: (await import('node:os')).availableParallelism() };
  try {
    // Pets: the up-front check decodes every listed item once (cold), or reads the cache (warm).
    const cold = await timed(() => sc.data.oxfordPets({ dir, split: 'trainval', size: 128, cacheDir: cacheRoot, onWarning: () => {} }));
    const warm = await timed(() => sc.data.oxfordPets({ dir, split: 'trainval', size: 128, cacheDir: cacheRoot, onWarning: () => {} }));
    const uncached = await sc.data.oxfordPets({ dir, split: 'trainval', size: 128, cacheDir: false, onWarning: () => {} });
    const n = cold.value.length;
    results.petsItems = n;
    results.petsCheckSeconds = { cold: cold.seconds, warm: warm.seconds };
    rows.push([`Pets check of ${n} items (cold, decodes all)`, `${(n / cold.seconds).toFixed(0)} images/s`, `${cold.seconds.toFixed(2)} s`]);
    rows.push([`Pets check of ${n} items (warm cache)`, `${(n / warm.seconds).toFixed(0)} images/s`, `${warm.seconds.toFixed(2)} s`]);
    for (const [name, transform] of [['light', LIGHT], ['heavy', HEAVY]])
      for (const [mode, dataset] of [['cold', uncached], ['warm', warm.value]]) {
        const loader = new sc.data.DataLoader(dataset, { batchSize: 16, shuffle: true, seed: 1, transform, workers });
        const rate = await bestRate(loader, repeats);
        await loader.close();
        results[`pets_${mode}_${name}`] = rate.items;
        rows.push([`Pets 128² batch 16, ${mode}, ${name} augmentation`, `${rate.items.toFixed(0)} images/s`, '']);
      }
    // What training consumes: SegNet-DSC steps on the same kind of batch, loader idle.
    const segnetDsc = modelCases.find((c) => c.name === 'segnet_dsc');
    const { step, dispose } = trainingStep(sc, segnetDsc);
    const stepSeconds = min(timeCalls(step, { warmup: 1, reps: 3 }));
    dispose();
    const consumed = segnetDsc.input[0] / stepSeconds;
    const supplied = Math.min(results.pets_cold_heavy, results.pets_cold_light);
    results.segnetDscStepSeconds = stepSeconds;
    results.segnetDscImagesPerSecond = consumed;
    results.petsSupplyOverConsumption = supplied / consumed;
    rows.push([`SegNet-DSC training step consumes (batch 16, ${sc.backend().threads} threads)`, `${consumed.toFixed(1)} images/s`, `${(1e3 * stepSeconds).toFixed(0)} ms/step`]);
    rows.push(['Pets loader (cold, slower pipeline) / SegNet-DSC consumption', `${(supplied / consumed).toFixed(1)}×`, 'target ≥ 3×']);
    // CIFAR-10: the classic crop + flip + normalise, batch 128.
    const cifar = await timed(() => sc.data.cifar10({ dir, split: 'train' }));
    rows.push(['CIFAR-10 train split load (50,000 items)', '', `${cifar.seconds.toFixed(2)} s`]);
    for (const [name, transform] of [['none', []], ['crop+flip+normalize', [T.randomCrop(32, { padding: 4 }), T.randomHorizontalFlip(), T.normalize(MEAN, STD)]]]) {
      const loader = new sc.data.DataLoader(cifar.value, { batchSize: 128, shuffle: true, seed: 1, transform, workers });
      const rate = await bestRate(loader, repeats, 100);
      await loader.close();
      results[`cifar_${name}_batchesPerSecond`] = rate.batches;
      rows.push([`CIFAR-10 batch 128, ${name}`, `${rate.batches.toFixed(1)} batches/s`, `${rate.items.toFixed(0)} images/s`]);
    }
    if (!values['no-peer']) {
      results.peer = await peer(dir, repeats);
      if (results.peer.unavailable) rows.push(['PyTorch peer', 'unavailable', results.peer.unavailable]);
      else {
        const ratio = (ours, theirs) => `ours ${(ours / theirs).toFixed(2)}×`;
        rows.push([`PyTorch ${results.peer.torch} DataLoader: Pets cold, light`, `${results.peer.petsImagesPerSecond.toFixed(0)} images/s`, ratio(results.pets_cold_light, results.peer.petsImagesPerSecond)]);
        rows.push([`PyTorch DataLoader: CIFAR crop+flip+normalize`, `${results.peer.cifarBatchesPerSecond.toFixed(1)} batches/s`, ratio(results['cifar_crop+flip+normalize_batchesPerSecond'], results.peer.cifarBatchesPerSecond)]);
      }
    }
  } finally {
    await rm(cacheRoot, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`data loading, ${workers} workers, best of ${repeats}, data from ${dir}`);
  for (const [what, rate, extra] of rows) console.log(`${what.padEnd(width)}  ${rate.padStart(18)}  ${extra}`);
  console.log(JSON.stringify(results));
}

await main();
