/**
 * Progress display for the CLI: a live bar per epoch (cli-progress) when stderr is a
 * terminal; otherwise (CI logs, pipes, services) one line per epoch plus a heartbeat line
 * once a minute in between, so a long epoch is never silent.
 */
import cliProgress from 'cli-progress';
import type { FitEvent } from './events.js';
import type { MetricsRow } from './files.js';

const fixed = (v: number | undefined, digits: number): string => (v === undefined ? '–' : Number.isFinite(v) ? v.toFixed(digits) : String(v));

/** '1 step', '3 steps'. */
export const count = (n: number, noun: string): string => `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;

/** Seconds between heartbeat lines when there is no live bar (at most 2 a minute, at least 1 every 5 minutes). */
export const HEARTBEAT_SECONDS = 60;

/** 75 → '1m15s', 3725 → '1h02m'. */
function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The one-line summary of an epoch.
 *
 * @example
 * sc.train.epochLine(row, 10, true); // 'epoch  3/10  train loss 0.8120 acc 0.7130 | val loss … (best)'
 */
export function epochLine(row: MetricsRow, epochs: number, best: boolean): string {
  const part = (prefix: 'train' | 'val'): string => {
    const metrics = [
      ['Accuracy', 'acc'],
      ['PixelAccuracy', 'pixel acc'],
      ['MeanIoU', 'mIoU'],
    ]
      .filter(([key]) => `${prefix}${key}` in row)
      .map(([key, name]) => `${name} ${fixed(row[`${prefix}${key}`], 4)}`);
    return [`${prefix} loss ${fixed(row[`${prefix}Loss`], 4)}`, ...metrics].join(' ');
  };
  const width = String(epochs).length;
  return (
    `epoch ${String(row['epoch']).padStart(width)}/${epochs}  ${part('train')} | ${part('val')} | ` +
    `${fixed(row['epochSeconds'], 1)}s, ${fixed(row['imagesPerSecond'], 0)} img/s, peak RSS ${fixed(row['peakRssMB'], 0)} MB` +
    (best ? '  (best)' : '')
  );
}

export interface ProgressOptions {
  /** Live bar (default: whether stderr is a terminal). */
  live?: boolean;
  /** Where epoch lines go (default: console.log). */
  print?: (line: string) => void;
  /** Where warnings go (default: console.error). */
  warn?: (line: string) => void;
  /** The clock for heartbeats, in milliseconds (default performance.now). */
  now?: () => number;
}

/**
 * Turns a run's events into terminal output, as `sepconv train` shows it. Call `handle` for
 * each event, `stop` at the end.
 *
 * @example
 * const printer = new sc.train.ProgressPrinter();
 * await sc.train.fit(options, { onEvent: (e) => printer.handle(e) });
 * printer.stop();
 */
export class ProgressPrinter {
  private bar: cliProgress.SingleBar | null = null;
  private epochs = 0;
  private readonly live: boolean;
  private readonly print: (line: string) => void;
  private readonly warn: (line: string) => void;
  private readonly now: () => number;
  /** When the last line was printed and the current epoch's first step was seen (ms). */
  private lastLine = 0;
  private epochStarted: { at: number; step: number } | null = null;

  constructor(options: ProgressOptions = {}) {
    this.live = options.live ?? process.stderr.isTTY === true;
    this.print = options.print ?? ((line) => console.log(line));
    this.warn = options.warn ?? ((line) => console.error(line));
    this.now = options.now ?? (() => performance.now());
    this.lastLine = this.now();
  }

  private line(text: string): void {
    this.print(text);
    this.lastLine = this.now();
  }

  /** A plain progress line between epochs: position, loss, metric, speed and the epoch's ETA. */
  private heartbeat(event: Extract<FitEvent, { type: 'step' }>): void {
    const now = this.now();
    if (this.epochStarted === null || event.step <= this.epochStarted.step) this.epochStarted = { at: now, step: event.step - 1 };
    if (now - this.lastLine < HEARTBEAT_SECONDS * 1000) return;
    const done = event.step - this.epochStarted.step;
    const eta = ((now - this.epochStarted.at) / 1000 / done) * (event.steps - event.step);
    this.line(
      `epoch ${event.epoch}/${event.epochs} step ${event.step}/${event.steps}  loss ${fixed(event.loss, 4)} ${event.metricName} ${fixed(event.metric, 4)} | ` +
        `${fixed(event.imagesPerSecond, 0)} img/s | epoch ETA ${duration(eta)}`,
    );
  }

  handle(event: FitEvent): void {
    switch (event.type) {
      case 'start':
        this.epochs = event.epochs;
        if (event.epoch > event.epochs) {
          this.line(`${event.runDir} has finished its ${count(event.epochs, 'epoch')}: nothing to train (resume with a larger --epochs to train more)`);
          break;
        }
        this.line(
          `${event.step > 0 || event.epoch > 1 ? `resuming at epoch ${event.epoch}, step ${event.step}` : 'training'}: ` +
            `${event.trainItems} training and ${event.valItems} validation items, ${count(event.stepsPerEpoch, 'step')} per epoch, ` +
            `${event.params.toLocaleString('en-US')} parameters → ${event.runDir}`,
        );
        break;
      case 'step':
        if (!this.live) {
          this.heartbeat(event);
          break;
        }
        if (this.bar === null) {
          this.bar = new cliProgress.SingleBar(
            {
              format: `epoch {epoch}/{epochs} {bar} {value}/{total} | loss {loss} | {metricName} {metric} | {rate} img/s | ETA {eta_formatted}`,
              hideCursor: true,
              clearOnComplete: true,
              barsize: 24,
              etaBuffer: 20,
              stream: process.stderr,
            },
            cliProgress.Presets.shades_classic,
          );
          this.bar.start(event.steps, event.step - 1, { epoch: event.epoch, epochs: event.epochs, loss: '–', metricName: event.metricName, metric: '–', rate: '–' });
        }
        this.bar.update(event.step, { loss: event.loss.toFixed(4), metric: event.metric.toFixed(4), rate: event.imagesPerSecond.toFixed(0) });
        break;
      case 'validate':
        this.bar?.update({ metricName: 'validating', metric: '…' });
        break;
      case 'epoch':
        this.clearBar();
        this.epochStarted = null;
        this.line(epochLine(event.metrics, this.epochs, event.best));
        break;
      case 'warning':
        this.clearBar();
        this.warn(`warning: ${event.message}`);
        break;
    }
  }

  /** Removes a bar left on screen (call before printing anything else). */
  stop(): void {
    this.clearBar();
  }

  private clearBar(): void {
    if (this.bar === null) return;
    this.bar.stop();
    this.bar = null;
  }
}
