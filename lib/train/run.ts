/**
 * The training loop of `fit` (runs in the worker): epochs of training steps, validation,
 * metrics, checkpoints and pictures, with exact resume, cooperative stop and NaN/Inf stop.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { arch, cpus, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import { noGrad } from '../autograd/graph.js';
import type { Device } from '../dtype.js';
import { crossEntropy } from '../functional/index.js';
import { native } from '../native.js';
import { disposeTrainingState, loadTrainingState, saveTrainingState } from '../io/training-state.js';
import type { OptimizerStateDict, SchedulerStateDict, LRScheduler } from '../optim/index.js';
import { getRngState, manualSeed, setRngState, tensor, Tensor } from '../tensor.js';
import type { RngState } from '../tensor.js';
import { inputScaleOf, taskOf } from './config.js';
import type { TrainConfig } from './config.js';
import { evalLoader, openRunData, trainLoader } from './data.js';
import { accumulate, evaluateBatches, metricColumns, newTotals } from './epoch.js';
import type { EpochTotals } from './epoch.js';
import type { RunData } from './data.js';
import type { DataLoader } from '../data/loader.js';
import type { FitResult } from './events.js';
import { metricsCsv, metricsJsonl, writeFileAtomic } from './files.js';
import type { MetricsRow } from './files.js';
import { argmaxClasses } from './metrics.js';
import { renderCurves, renderGif, renderMaskGrid } from './pictures.js';
import type { MaskSample, Task } from './pictures.js';
import { clearRun, RUN_FILES } from './rundir.js';
import type { RunMode } from './rundir.js';
import { buildModel, buildOptimizer, buildScheduler, checkIdentity, saveWeights } from './setup.js';
import type { CheckpointIdentity, Model, TrainOptimizer } from './setup.js';
import type { JobContext } from './job.js';

/** Everything besides tensors that a resumed run needs (saved as checkpoint metadata). */
interface TrainingState {
  /** The epoch in progress (1-based) and the steps of it already done. */
  epoch: number;
  step: number;
  rows: MetricsRow[];
  best: FitResult['best'];
  totals: EpochTotals | null;
  rng: RngState;
  scheduler: SchedulerStateDict | null;
}

const SEPCONV_VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** A checkpoint position in words: (3, 0) is "end of epoch 2". */
function position(epoch: number, step: number): string {
  return step === 0 ? `end of epoch ${epoch - 1}` : `epoch ${epoch}, step ${step}`;
}

function monitorOf(task: Task): string {
  return task === 'classification' ? 'valAccuracy' : 'valPixelAccuracy';
}

class Trainer {
  private readonly task: Task;
  private readonly numClasses: number;
  private readonly out: string;
  /** Where the checkpoint on disk stands (null before the first save). */
  private savedAt: { epoch: number; step: number } | null = null;
  /** One loader each for the whole run (their worker threads start once). */
  private readonly trainBatches: DataLoader;
  private readonly valBatches: DataLoader;

  constructor(
    private readonly config: TrainConfig,
    private readonly data: RunData,
    private readonly model: Model,
    private readonly optimizer: TrainOptimizer,
    private readonly scheduler: LRScheduler | null,
    private readonly context: JobContext,
  ) {
    this.task = taskOf(config.dataset);
    this.numClasses = data.classes.length;
    this.out = config.out;
    this.trainBatches = trainLoader(config, data);
    this.valBatches = evalLoader(data.val, config.batchSize, config.device);
  }

  private path(name: string): string {
    return join(this.out, name);
  }

  /** The identity of weights at a training position (the epoch being trained, steps done in it). */
  identity(position: { epoch: number; step: number }): CheckpointIdentity {
    const c = this.config;
    return {
      model: c.model, conv: c.conv, numClasses: this.numClasses, dataset: c.dataset, imageSize: c.imageSize, classes: [...this.data.classes],
      epoch: position.epoch - 1, step: position.step, inputScale: inputScaleOf(c.pixels),
    };
  }

  // ---------------------------------------------------------------------------- checkpoints

  /**
   * Saves the resume state (one atomic file: weights, optimizer, scheduler, RNG, progress),
   * then the plain weights in last.safetensors.
   */
  saveCheckpoint(state: TrainingState): void {
    state.rng = getRngState();
    state.scheduler = this.scheduler?.stateDict() ?? null;
    saveTrainingState(this.path(RUN_FILES.resume), {
      identity: this.identity(state),
      training: { ...state },
      model: this.model.stateDict(),
      optimizer: this.optimizer.stateDict(),
    });
    saveWeights(this.path(RUN_FILES.last), this.model, this.identity(state));
    this.savedAt = { epoch: state.epoch, step: state.step };
  }

  /** Restores model, optimizer, scheduler and RNG from the run's resume file. */
  loadCheckpoint(): TrainingState {
    const path = this.path(RUN_FILES.resume);
    const saved = loadTrainingState(path) as unknown as { identity: CheckpointIdentity; training: TrainingState; model: Record<string, Tensor>; optimizer: OptimizerStateDict };
    try {
      checkIdentity(path, saved.identity, this.config);
      this.model.loadStateDict(saved.model);
      this.optimizer.loadStateDict(saved.optimizer);
    } finally {
      disposeTrainingState(saved);
    }
    const state = saved.training;
    if (this.scheduler && state.scheduler) this.scheduler.loadStateDict(state.scheduler as SchedulerStateDict);
    setRngState(state.rng);
    this.savedAt = { epoch: state.epoch, step: state.step };
    return state;
  }

  // ---------------------------------------------------------------------------- pictures and files

  async writeMetrics(rows: readonly MetricsRow[]): Promise<void> {
    await writeFileAtomic(this.path(RUN_FILES.metricsJsonl), metricsJsonl(rows));
    await writeFileAtomic(this.path(RUN_FILES.metricsCsv), metricsCsv(rows));
  }

  async writeConfig(resumedAt: { epoch: number; step: number } | null): Promise<void> {
    const path = this.path(RUN_FILES.config);
    const previous = resumedAt && existsSync(path) ? (JSON.parse(await readFile(path, 'utf8')) as { startedAt?: string; resumes?: unknown[] }) : null;
    const cpuList = cpus();
    const document = {
      config: this.config,
      sepconv: SEPCONV_VERSION,
      backend: native.backend(),
      machine: {
        cpu: cpuList[0]?.model ?? 'unknown',
        cores: cpuList.length,
        memoryGB: +(totalmem() / 2 ** 30).toFixed(1),
        platform: platform(),
        arch: arch(),
        node: process.version,
      },
      startedAt: previous?.startedAt ?? new Date().toISOString(),
      resumes: [...(previous?.resumes ?? []), ...(resumedAt ? [{ ...resumedAt, at: new Date().toISOString() }] : [])],
    };
    await writeFileAtomic(path, JSON.stringify(document, null, 2) + '\n');
  }

  /** masks/epoch-NNN.png for this epoch, masks.png (the latest) and masks.gif (all epochs). */
  async writeMasks(epoch: number, row: MetricsRow): Promise<void> {
    const count = Math.min(this.config.maskSamples, this.data.val.length);
    const samples: MaskSample[] = [];
    this.model.eval();
    for (let i = 0; i < count; i++) {
      // Spread over the split (Pets' split files are sorted by breed).
      const index = Math.floor((i * this.data.val.length) / count);
      const item = (await this.data.val.get(index)) as { image: Uint8Array; mask: Uint8Array };
      const size = this.config.imageSize;
      const predicted = noGrad(() => {
        const x = imageTensor(item.image, size, this.config.device);
        const logits = this.model.call(x);
        const labels = argmaxClasses(logits.toArray() as Float32Array, logits.shape);
        x.dispose();
        logits.dispose();
        return labels;
      });
      samples.push({ image: item.image, target: item.mask, predicted });
    }
    const title = `epoch ${epoch} · validation pixel accuracy ${(row['valPixelAccuracy']! * 100).toFixed(1)}%, mean IoU ${(row['valMeanIoU']! * 100).toFixed(1)}%`;
    const frame = await renderMaskGrid(samples, this.config.imageSize, this.data.classes, title);
    const framesDir = this.path(RUN_FILES.maskFrames);
    await mkdir(framesDir, { recursive: true });
    await writeFileAtomic(join(framesDir, `epoch-${String(epoch).padStart(3, '0')}.png`), frame);
    await writeFileAtomic(this.path(RUN_FILES.masks), frame);
    const names = (await readdir(framesDir)).filter((n) => /^epoch-\d+\.png$/.test(n)).sort();
    const frames = await Promise.all(names.map((n) => readFile(join(framesDir, n))));
    await writeFileAtomic(this.path(RUN_FILES.masksGif), await renderGif(frames));
  }

  // ---------------------------------------------------------------------------- loops

  /** Trains from `state` to the last epoch, or until stopped or diverged. */
  async run(state: TrainingState): Promise<FitResult> {
    try {
      while (state.epoch <= this.config.epochs) {
        const lr = this.optimizer.paramGroups[0]!.lr;
        const stopped = await this.trainEpoch(state);
        if (stopped) return stopped;
        const epoch = state.epoch;
        await this.endEpoch(state, lr);
        if (this.context.stopRequested() && state.epoch <= this.config.epochs)
          return this.result(state, 'interrupted', { stoppedAt: { epoch: state.epoch, step: 0 }, message: `interrupted after epoch ${epoch}` });
      }
      return this.result(state, 'completed');
    } finally {
      await Promise.all([this.trainBatches.close(), this.valBatches.close()]);
    }
  }

  private result(state: TrainingState, status: FitResult['status'], extra: Partial<FitResult> = {}): FitResult {
    return { status, runDir: this.out, metrics: state.rows, best: state.best, ...extra };
  }

  /**
   * The training steps of `state.epoch` from `state.step` on, accumulating into
   * `state.totals`. Returns a result when the run stops inside the epoch, else null.
   */
  private async trainEpoch(state: TrainingState): Promise<FitResult | null> {
    const { config, context } = this;
    const epoch = state.epoch;
    const steps = Math.ceil(this.data.train.length / config.batchSize);
    const totals = (state.totals ??= newTotals(this.numClasses));
    const loader = this.trainBatches;
    loader.epoch = epoch;
    let batchNumber = 0;
    let segmentStart = performance.now();
    this.model.train();
    for await (const { x, y } of loader) {
      batchNumber++;
      if (batchNumber <= state.step) {
        // Resuming mid-epoch: these batches were trained before the interruption.
        x.dispose();
        y.dispose();
        segmentStart = performance.now();
        continue;
      }
      const loss = this.trainStep(x, y, totals, epoch, batchNumber);
      x.dispose();
      y.dispose();
      if (!Number.isFinite(loss)) {
        const saved = this.savedAt;
        const kept = saved ? `the last good checkpoint (${position(saved.epoch, saved.step)}) is kept in ${this.path(RUN_FILES.last)}` : 'no checkpoint was written yet';
        return this.result(state, 'diverged', {
          stoppedAt: { epoch, step: batchNumber },
          message: `the loss became ${loss} at epoch ${epoch}, step ${batchNumber}; training stopped and ${kept}`,
        });
      }
      state.step = batchNumber;
      const now = performance.now();
      totals.seconds += (now - segmentStart) / 1000;
      segmentStart = now;
      const running = metricColumns('train', this.task, totals, this.data.classes, false);
      const classification = this.task === 'classification';
      context.emit({
        type: 'step',
        epoch,
        epochs: config.epochs,
        step: batchNumber,
        steps,
        loss,
        metricName: classification ? 'acc' : 'pixel acc',
        metric: running[classification ? 'trainAccuracy' : 'trainPixelAccuracy']!,
        imagesPerSecond: totals.items / totals.seconds,
      });
      context.hooks.afterStep?.(epoch, batchNumber, context);
      if (context.stopRequested() && batchNumber < steps) {
        this.saveCheckpoint(state);
        return this.result(state, 'interrupted', { stoppedAt: { epoch, step: batchNumber }, message: `interrupted at epoch ${epoch}, step ${batchNumber}` });
      }
    }
    return null;
  }

  /** One optimisation step; returns the loss (non-finite: nothing was updated). */
  private trainStep(x: Tensor, y: Tensor, totals: EpochTotals, epoch: number, step: number): number {
    const logits = this.model.call(x);
    const loss = crossEntropy(logits, y);
    const read = loss.item();
    const value = this.context.hooks.lossValue?.(epoch, step, read) ?? read;
    if (Number.isFinite(value)) {
      this.optimizer.zeroGrad();
      loss.backward();
      this.optimizer.step();
      accumulate(totals, logits, y, value);
    }
    logits.dispose();
    loss.dispose();
    return value;
  }

  /** Validation, the epoch's metrics row, checkpoints and pictures; moves `state` to the next epoch. */
  private async endEpoch(state: TrainingState, lr: number): Promise<void> {
    const { config } = this;
    const epoch = state.epoch;
    const totals = state.totals!;
    this.context.emit({ type: 'validate', epoch, epochs: config.epochs });
    const valTotals = await evaluateBatches(this.model, this.valBatches, this.numClasses);
    this.scheduler?.step();
    const row: MetricsRow = {
      epoch,
      ...metricColumns('train', this.task, totals, this.data.classes, false),
      ...metricColumns('val', this.task, valTotals, this.data.classes, true),
      lr,
      trainSeconds: totals.seconds,
      epochSeconds: totals.seconds + valTotals.seconds,
      imagesPerSecond: totals.items / totals.seconds,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      // This run's own tensors (the worker's allocator), unlike RSS which covers the process.
      peakTensorMB: native.memoryStats().peakBytesInUse / 2 ** 20,
    };
    const monitor = state.best.monitor;
    const improved = !(row[monitor]! <= state.best.value);
    state.rows.push(row);
    if (improved) state.best = { monitor, value: row[monitor]!, epoch };
    Object.assign(state, { epoch: epoch + 1, step: 0, totals: null });

    await this.writeMetrics(state.rows);
    if (improved) saveWeights(this.path(RUN_FILES.best), this.model, this.identity(state));
    this.saveCheckpoint(state);
    await writeFileAtomic(this.path(RUN_FILES.curves), await renderCurves([{ label: '', color: '#4e79a7', rows: state.rows }], this.task));
    if (this.task === 'segmentation') await this.writeMasks(epoch, row);
    this.context.emit({ type: 'epoch', metrics: row, best: improved });
  }
}

/** An image (uint8 CHW) as a float32 [1, 3, S, S] batch in [0, 1], as the loader feeds training. */
function imageTensor(image: Uint8Array, size: number, device: Device): Tensor {
  const values = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) values[i] = image[i]! / 255;
  return tensor(values, [1, 3, size, size], { device });
}

/** Runs a training job: see `fit`. */
export async function runFit(config: TrainConfig, mode: RunMode, context: JobContext): Promise<FitResult> {
  if (config.threads !== null) native.setNumThreads(config.threads);
  const data = await openRunData(config, (message) => context.emit({ type: 'warning', message }));
  manualSeed(config.seed);
  const model = buildModel(config.model, config.conv, data.classes.length, { init: config.init, inputScale: inputScaleOf(config.pixels) });
  if (config.device === 'cuda') model.to('cuda');
  const optimizer = buildOptimizer(config, model);
  const scheduler = buildScheduler(config, optimizer);
  const trainer = new Trainer(config, data, model, optimizer, scheduler, context);
  const task = taskOf(config.dataset);

  let state: TrainingState;
  if (mode === 'resume') {
    state = trainer.loadCheckpoint();
  } else {
    state = { epoch: 1, step: 0, rows: [], best: { monitor: monitorOf(task), value: NaN, epoch: 0 }, totals: null, rng: getRngState(), scheduler: null };
    if (mode === 'overwrite') await clearRun(config.out);
  }
  await mkdir(config.out, { recursive: true });
  await trainer.writeConfig(mode === 'resume' ? { epoch: state.epoch, step: state.step } : null);
  if (mode === 'resume') await trainer.writeMetrics(state.rows);
  context.emit({
    type: 'start',
    runDir: config.out,
    epoch: state.epoch,
    step: state.step,
    epochs: config.epochs,
    stepsPerEpoch: Math.ceil(data.train.length / config.batchSize),
    trainItems: data.train.length,
    valItems: data.val.length,
    params: model.parameters().reduce((n, p) => n + p.numel, 0),
  });
  return trainer.run(state);
}
