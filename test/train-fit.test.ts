// sc.train.fit from code: runs in a worker thread, streams events, stops on an AbortSignal
// and resumes; bad options reject before any work.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import * as sc from '../dist/index.js';
type FitEvent = sc.train.FitEvent;
import { makeCifarDir, tempDir } from './helpers/datasets.js';

let root = '';
const options = (out: string) => ({ model: 'vgg' as const, conv: 'dsc' as const, dataDir: root, epochs: 2, batchSize: 8, limit: 24, valLimit: 8, out: join(root, out) });

beforeAll(async () => {
  root = await makeCifarDir(await tempDir('fit'), 8); // 40 training and 8 test records
});

describe('sc.train.fit', () => {
  it('trains in a worker thread and streams start, step and epoch events', async () => {
    const events: FitEvent[] = [];
    const before = sc.memoryStats().allocations;
    const result = await sc.train.fit(options('events'), { onEvent: (e) => events.push(e) });
    expect(result.status).toBe('completed');
    expect(result.metrics.map((r) => r['epoch'])).toEqual([1, 2]);
    expect(result.best.monitor).toBe('valAccuracy');
    // The tensors of training live in the worker's environment, none in this thread's.
    expect(sc.memoryStats().allocations).toBe(before);
    expect(events[0]).toMatchObject({ type: 'start', epoch: 1, step: 0, epochs: 2, stepsPerEpoch: 3, trainItems: 24, valItems: 8, params: 174_821 });
    expect(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && `${e.epoch}:${e.step}/${e.steps}`)).toEqual(['1:1/3', '1:2/3', '1:3/3', '2:1/3', '2:2/3', '2:3/3']);
    expect(events.filter((e) => e.type === 'epoch')).toHaveLength(2);
  });

  it('stops after the current step when the signal aborts, and resumes to the same result', async () => {
    const whole = await sc.train.fit(options('whole'));
    // Aborted before it starts: the run stops after its first step (the flag is read after each step).
    const stopped = await sc.train.fit(options('stopped'), { signal: AbortSignal.abort() });
    expect(stopped.status).toBe('interrupted');
    expect(stopped.stoppedAt).toEqual({ epoch: 1, step: 1 });
    const resumed = await sc.train.fit({ resume: join(root, 'stopped') });
    expect(resumed.status).toBe('completed');
    const learned = (rows: Record<string, number>[]) => rows.map((r) => [r['trainLoss'], r['trainAccuracy'], r['valLoss'], r['valAccuracy']]);
    expect(learned(resumed.metrics)).toEqual(learned(whole.metrics));
  });

  it('rejects bad options before starting, naming the accepted values', async () => {
    // @ts-expect-error an unknown optimizer on purpose
    await expect(sc.train.fit({ ...options('bad'), optimizer: 'rmsprop' })).rejects.toThrow("optimizer 'rmsprop' is not one of: adam, sgd");
    await expect(sc.train.fit({ ...options('events') })).rejects.toThrow(`${join(root, 'events')} already holds a training run (config.json, metrics.jsonl, last.safetensors, resume.safetensors); set resume: '${join(root, 'events')}' to continue it or overwrite: true to replace it`);
    await expect(sc.train.fit({ resume: join(root, 'nothing-here') })).rejects.toThrow(`${join(root, 'nothing-here')} holds no run to resume`);
  });
});
