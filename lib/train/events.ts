/** What a training run reports while it runs (streamed from its worker) and when it ends. */
import type { MetricsRow } from './files.js';

export type FitEvent =
  | {
      type: 'start';
      runDir: string;
      /** The epoch and step the run starts at (1 and 0 unless resumed). */
      epoch: number;
      step: number;
      epochs: number;
      stepsPerEpoch: number;
      trainItems: number;
      valItems: number;
      params: number;
    }
  | { type: 'step'; epoch: number; epochs: number; step: number; steps: number; loss: number; metricName: string; metric: number; imagesPerSecond: number }
  | { type: 'validate'; epoch: number; epochs: number }
  | { type: 'epoch'; metrics: MetricsRow; best: boolean }
  | { type: 'warning'; message: string };

export type FitStatus = 'completed' | 'interrupted' | 'diverged';

export interface FitResult {
  status: FitStatus;
  runDir: string;
  /** One row per finished epoch, as in metrics.jsonl. */
  metrics: MetricsRow[];
  /** The best validation value of `monitor` and its epoch (NaN/0 before the first epoch). */
  best: { monitor: string; value: number; epoch: number };
  /** Where the run stopped when interrupted or diverged (the step that did not finish for NaN). */
  stoppedAt?: { epoch: number; step: number };
  /** Why it stopped, in words, when it did not complete. */
  message?: string;
}
