// What `sepconv train` prints: the start line, heartbeats between epochs when stderr is not a
// terminal (CI logs, services), epoch lines, and a finished run resumed without more epochs.
import { describe, expect, it } from 'vitest';
import * as sc from '../dist/index.js';

const start = { type: 'start', runDir: 'runs/x', epoch: 1, step: 0, epochs: 2, stepsPerEpoch: 1, trainItems: 8, valItems: 4, params: 1234 } as const;
const step = (n: number, steps = 100) =>
  ({ type: 'step', epoch: 1, epochs: 2, step: n, steps, loss: 2.5, metricName: 'acc', metric: 0.25, imagesPerSecond: 64 }) as const;

function printer(): { lines: string[]; clock: { ms: number }; p: sc.train.ProgressPrinter } {
  const lines: string[] = [];
  const clock = { ms: 0 };
  return { lines, clock, p: new sc.train.ProgressPrinter({ live: false, print: (l) => lines.push(l), warn: (l) => lines.push(l), now: () => clock.ms }) };
}

describe('progress lines', () => {
  it('says "1 step" and "3 steps"', () => {
    const { lines, p } = printer();
    p.handle(start);
    p.handle({ ...start, stepsPerEpoch: 3 });
    expect(lines[0]).toBe('training: 8 training and 4 validation items, 1 step per epoch, 1,234 parameters → runs/x');
    expect(lines[1]).toContain('3 steps per epoch');
  });

  it('prints a heartbeat at most once a minute without a live bar, with the epoch ETA', () => {
    const { lines, clock, p } = printer();
    p.handle(start);
    // 1 step every 2 s: 100 steps take 200 s.
    for (let n = 1; n <= 100; n++) {
      clock.ms = n * 2000;
      p.handle(step(n));
    }
    const beats = lines.slice(1);
    expect(beats).toHaveLength(3); // at 60 s, 120 s and 180 s
    expect(beats[0]).toBe('epoch 1/2 step 30/100  loss 2.5000 acc 0.2500 | 64 img/s | epoch ETA 2m15s'); // 70 steps at the 58 s / 30 steps seen since the first one
  });

  it('says when a resumed run has nothing left to train', () => {
    const { lines, p } = printer();
    p.handle({ ...start, epoch: 3, epochs: 2 });
    expect(lines).toEqual(['runs/x has finished its 2 epochs: nothing to train (resume with a larger --epochs to train more)']);
  });
});
