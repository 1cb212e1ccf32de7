// A user's own nn.Module and dataset through sc.train.fit: named by module and export, built in
// the training worker, with the zoo's events, checkpoints, stop and resume.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';
import { tempDir } from './helpers/datasets.js';

const example = (file: string) => fileURLToPath(new URL(`../examples/custom-fit/${file}`, import.meta.url));
const fixture = new URL('./fixtures/user-segmenter.mjs', import.meta.url);
const net = { module: example('three-layer-net.js'), export: 'createModel', options: { size: 16, classes: 2 } };
const stripes = { module: example('stripes-data.js'), export: 'createDataset', options: { trainItems: 64, valItems: 16 } };

let root = '';
beforeAll(async () => {
  root = await tempDir('custom-fit');
});

describe('sc.train.fit with a user model and dataset', () => {
  it('trains the README example network on its in-memory dataset and writes the run files', async () => {
    const events: sc.train.FitEvent[] = [];
    const out = join(root, 'stripes');
    const result = await sc.train.fit({ model: net, dataset: stripes, epochs: 3, batchSize: 16, lr: 3e-3, out }, { onEvent: (e) => events.push(e) });
    expect(result.status).toBe('completed');
    expect(events[0]).toMatchObject({ type: 'start', stepsPerEpoch: 4, trainItems: 64, valItems: 16, params: 8 * 3 * 9 + 8 + 16 * 8 * 9 + 16 + 16 * 64 * 2 + 2 });
    expect(events.filter((e) => e.type === 'step')).toHaveLength(12);
    // Stripes are easy: a working training loop separates them within three epochs.
    expect(result.metrics.at(-1)!['valAccuracy']).toBeGreaterThanOrEqual(0.9);
    expect(result.metrics.at(-1)!['trainLoss']).toBeLessThan(result.metrics[0]!['trainLoss']!);
    for (const file of ['config.json', 'metrics.jsonl', 'best.safetensors', 'last.safetensors', 'resume.safetensors', 'curves.png']) expect(existsSync(join(out, file)), file).toBe(true);
    const { config } = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.model).toEqual({ module: new URL(`file://${net.module}`).href, export: 'createModel', options: { size: 16, classes: 2 } });
    // The checkpoint names the module, so it loads back without the caller rebuilding the network.
    const identity = JSON.parse(sc.loadMetadata(join(out, 'best.safetensors'))['sepconv']!);
    expect(identity).toMatchObject({ dataset: 'custom', task: 'classification', classes: ['horizontal', 'vertical'], imageSize: 16, channels: 3 });
  });

  it('stops on the signal and resumes to the same figures as an uninterrupted run', async () => {
    const options = (name: string) => ({ model: net, dataset: stripes, epochs: 2, batchSize: 16, out: join(root, name) });
    const whole = await sc.train.fit(options('whole'));
    const stopped = await sc.train.fit(options('stopped'), { signal: AbortSignal.abort() });
    expect([stopped.status, stopped.stoppedAt]).toEqual(['interrupted', { epoch: 1, step: 1 }]);
    const resumed = await sc.train.fit({ resume: join(root, 'stopped') });
    expect(resumed.status).toBe('completed');
    const figures = (rows: Record<string, number>[]) => rows.map((r) => [r['trainLoss'], r['trainAccuracy'], r['valLoss'], r['valAccuracy']]);
    expect(figures(resumed.metrics)).toEqual(figures(whole.metrics));
  });

  it('trains a user segmenter (masks in the items) with pixel metrics and mask pictures', async () => {
    const out = join(root, 'spots');
    const result = await sc.train.fit({
      model: { module: fixture, export: 'createSegmenter', options: { classes: 2 } },
      dataset: { module: fixture, export: 'createSpots', options: { items: 16 } },
      epochs: 1,
      batchSize: 8,
      maskSamples: 2,
      out,
    });
    expect(result.status).toBe('completed');
    expect(result.best.monitor).toBe('valPixelAccuracy');
    expect(Object.keys(result.metrics[0]!)).toEqual(expect.arrayContaining(['valMeanIoU', 'valIoUSpot', 'valIoUGround']));
    expect(existsSync(join(out, 'masks.png'))).toBe(true);
  });

  it('trains on arrays in memory shared with the worker, and resumes when given them again', async () => {
    const { createDataset } = await import(example('stripes-data.js'));
    const { train, val } = createDataset({ trainItems: 48, valItems: 16 });
    /** A split packed into SharedArrayBuffers: the training worker reads them in place. */
    const pack = (split: { length: number; get(i: number): { image: Float32Array; label: number } }) => {
      const images = new Float32Array(new SharedArrayBuffer(split.length * 3 * 16 * 16 * 4));
      const labels = new Int32Array(new SharedArrayBuffer(split.length * 4));
      for (let i = 0; i < split.length; i++) {
        images.set(split.get(i).image, i * 3 * 16 * 16);
        labels[i] = split.get(i).label;
      }
      return { images, labels };
    };
    const arrays: sc.train.ArrayData = { train: pack(train), val: pack(val), classes: ['horizontal', 'vertical'], imageShape: [3, 16, 16] };
    const options = (name: string) => ({ model: net, dataset: arrays, epochs: 2, batchSize: 16, out: join(root, name) });
    const whole = await sc.train.fit(options('arrays-whole'));
    expect(whole.status).toBe('completed');
    const { config } = JSON.parse(readFileSync(join(root, 'arrays-whole', 'config.json'), 'utf8'));
    expect(config.dataset).toEqual({ inMemory: { trainItems: 48, valItems: 16, task: 'classification', classes: ['horizontal', 'vertical'], imageShape: [3, 16, 16] } });
    const stopped = await sc.train.fit(options('arrays-stopped'), { signal: AbortSignal.abort() });
    expect(stopped.status).toBe('interrupted');
    const dir = join(root, 'arrays-stopped');
    await expect(sc.train.fit({ resume: dir })).rejects.toThrow(`${dir} was trained on arrays in memory; give the same dataset again to resume it`);
    const fewer = { ...arrays, val: { images: arrays.val.images.subarray(0, 8 * 768), labels: arrays.val.labels!.subarray(0, 8) } };
    await expect(sc.train.fit({ resume: dir, dataset: fewer })).rejects.toThrow(`${dir} was trained on other arrays (`);
    const resumed = await sc.train.fit({ resume: dir, dataset: arrays });
    const figures = (rows: Record<string, number>[]) => rows.map((r) => [r['trainLoss'], r['valLoss'], r['valAccuracy']]);
    expect(figures(resumed.metrics)).toEqual(figures(whole.metrics));
    await expect(sc.train.fit({ ...options('arrays-bad'), dataset: { ...arrays, train: { images: new Float32Array(100), labels: new Int32Array(1) } } })).rejects.toThrow(
      'dataset.train.images holds 100 values, not a whole number (≥ 1) of 3×16×16 images',
    );
  });

  it('names the option, the module and the export when a user module is wrong', async () => {
    const out = join(root, 'bad');
    await expect(sc.train.fit({ model: { module: './no-such-net.js' }, dataset: stripes, out })).rejects.toThrow(/^model\.module \S+no-such-net\.js does not exist$/);
    await expect(sc.train.fit({ model: { module: 'some-package' }, dataset: stripes, out })).rejects.toThrow("model.module expects a file path ('./my-net.js') or a file: URL but received 'some-package'");
    await expect(sc.train.fit({ model: net, out })).rejects.toThrow("a user's model needs a dataset");
    await expect(sc.train.fit({ model: { ...net, export: 'buildIt' }, dataset: stripes, out })).rejects.toThrow(
      `model.module ${net.module} has no function export 'buildIt' (a function of options returning an nn.Module); it exports: ThreeLayerNet, createModel`,
    );
    await expect(sc.train.fit({ model: { module: fixture, export: 'createSpots' }, dataset: stripes, out, overwrite: true })).rejects.toThrow(
      "model: export 'createSpots' of user-segmenter returned an object, not an nn.Module",
    );
    await expect(sc.train.fit({ model: net, dataset: { module: fixture, export: 'createNothing' }, out, overwrite: true })).rejects.toThrow(
      "dataset: export 'createNothing' of user-segmenter returned an object; expected { train, val, classes, imageShape } where train and val have length and get(index)",
    );
  });
});
