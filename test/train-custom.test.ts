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
