// Serving: a SegNet-DSC 128x128 inference session (sc.infer) answering JPEGs at concurrency 1,
// 4 and 16 — latency p50/p99 per request, images/s, and the event loop's largest delay while
// serving — against the way to do it without sessions, a loop of sc.train.predict calls (each
// starts a worker and loads the checkpoint). The default session runs its threads at nice 10;
// the niceness-0 rows show what that costs and buys when other processes load the CPU. Real
// Pets photos from $SEPCONV_DATA or ../shared/datasets when there, else generated 300x250
// JPEGs. Weights are a seeded initialisation: serving cost does not depend on training.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { saveWeights } from '../../dist/train/setup.js';

export const description = 'SegNet-DSC 128x128 session: latency p50/p99, images/s at concurrency 1/4/16, event-loop delay, vs a loop of sc.train.predict';

const SIZE = 128;
const REQUESTS = 48;
const PREDICT_CALLS = 6;
const CONCURRENCY = [1, 4, 16];

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function photos(log) {
  const data = process.env.SEPCONV_DATA ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'datasets');
  const pets = join(data, 'oxford-iiit-pet', 'images');
  try {
    const files = readdirSync(pets).filter((f) => f.endsWith('.jpg')).sort().slice(0, 16);
    if (files.length === 16) {
      log(`images: 16 Pets photos from ${pets}`);
      return files.map((f) => ({ file: join(pets, f), bytes: readFileSync(join(pets, f)) }));
    }
  } catch {
    // no real data: generate
  }
  log('images: 16 generated 300x250 JPEGs (no ../shared/datasets)');
  return Promise.all(
    Array.from({ length: 16 }, async (_, i) => ({
      file: null,
      bytes: await sharp({ create: { width: 300, height: 250, channels: 3, background: { r: 15 * i, g: 120, b: 200 - 10 * i } } }).jpeg().toBuffer(),
    })),
  );
}

/** `requests` calls from `concurrency` clients, each sending its next call when the last is answered. */
async function load(call, inputs, concurrency, requests) {
  const latencies = [];
  let next = 0;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const input = inputs[next++ % inputs.length];
        const t = performance.now();
        await call(input);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  delay.disable();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), imagesPerSecond: requests / seconds, maxDelayMs: delay.max / 1e6 };
}

export async function run({ sc, rounds, log }) {
  const dir = mkdtempSync(join(tmpdir(), 'sepconv-bench-serve-'));
  try {
    sc.manualSeed(0);
    const checkpoint = join(dir, 'segnet-dsc.safetensors');
    saveWeights(checkpoint, sc.models.segnet({ conv: 'dsc', numClasses: 3 }), {
      model: 'segnet', conv: 'dsc', numClasses: 3, dataset: 'pets', imageSize: SIZE, classes: ['pet', 'background', 'border'], epoch: 0, step: 0,
    });
    const images = await photos(log);
    const session = await sc.infer.load(checkpoint, { maxBatch: 16, maxDelayMs: 2 });
    const unniced = await sc.infer.load(checkpoint, { maxBatch: 16, maxDelayMs: 2, niceness: 0 });
    await Promise.all([session.run(images[0].bytes), unniced.run(images[0].bytes)]); // warm
    const ours = Object.fromEntries(CONCURRENCY.map((c) => [c, []]));
    const niceness0 = [];
    const peer = [];
    for (let round = 0; round < rounds; round++) {
      for (const c of CONCURRENCY) ours[c].push(await load((image) => session.run(image.bytes), images, c, REQUESTS));
      niceness0.push(await load((image) => unniced.run(image.bytes), images, 16, REQUESTS));
      // predict takes files (or bytes) and writes the mask and overlay PNGs, as `sepconv predict` does.
      peer.push(await load((image) => sc.train.predict({ checkpoint, images: [image.file ?? image.bytes], out: join(dir, 'predicted') }), images, 1, PREDICT_CALLS));
      log(`round ${round + 1}: session ${CONCURRENCY.map((c) => `c${c} ${ours[c].at(-1).imagesPerSecond.toFixed(1)}/s`).join(', ')}; predict loop ${peer.at(-1).imagesPerSecond.toFixed(2)}/s`);
    }
    const stats = session.stats();
    await Promise.all([session.close(), unniced.close()]);
    log(`session: ${stats.calls} calls in ${stats.batches} batches (largest ${stats.largestBatch})`);
    const peerOf = (key) => ({ name: 'loop of sc.train.predict calls (one image each)', values: peer.map((r) => r[key]) });
    return CONCURRENCY.flatMap((c) => [
      { name: `latency p50, concurrency ${c}`, metric: 'ms', higherIsBetter: false, ours: ours[c].map((r) => r.p50), peer: peerOf('p50') },
      { name: `latency p99, concurrency ${c}`, metric: 'ms', higherIsBetter: false, ours: ours[c].map((r) => r.p99), peer: peerOf('p99') },
      { name: `throughput, concurrency ${c}`, metric: 'images/s', higherIsBetter: true, ours: ours[c].map((r) => r.imagesPerSecond), peer: peerOf('imagesPerSecond') },
      { name: `max event-loop delay, concurrency ${c}`, metric: 'ms', higherIsBetter: false, ours: ours[c].map((r) => r.maxDelayMs), peer: peerOf('maxDelayMs') },
    ]).concat([
      { name: 'throughput, concurrency 16, niceness 0', metric: 'images/s', higherIsBetter: true, ours: niceness0.map((r) => r.imagesPerSecond), peer: peerOf('imagesPerSecond') },
      { name: 'max event-loop delay, concurrency 16, niceness 0', metric: 'ms', higherIsBetter: false, ours: niceness0.map((r) => r.maxDelayMs), peer: peerOf('maxDelayMs') },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
