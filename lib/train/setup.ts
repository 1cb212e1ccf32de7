/**
 * The model side of a run: the network, optimizer and scheduler a configuration names, and
 * weights files: plain state dicts (PyTorch loads them) whose safetensors header metadata
 * says which network they hold, so a checkpoint of another model or variant is refused by
 * name rather than failing on tensor shapes.
 */
import { existsSync } from 'node:fs';
import { SepconvError } from '../errors.js';
import { load, loadMetadata, save } from '../io/checkpoint.js';
import { disposeTrainingState, isTrainingState, loadTrainingState } from '../io/training-state.js';
import { MODELS as MODEL_ZOO } from '../models/index.js';
import type { Module } from '../nn/module.js';
import type { InitScheme } from '../nn/init.js';
import { Adam, CosineAnnealingLR, SGD, StepLR } from '../optim/index.js';
import type { LRScheduler } from '../optim/index.js';
import type { Tensor } from '../tensor.js';
import type { ConvKind, DatasetName, ModelName, TrainConfig } from './config.js';
import { MODELS, CONVS } from './config.js';

/** What a weights file says about the network it holds (safetensors header metadata). */
export interface CheckpointIdentity {
  model: ModelName;
  conv: ConvKind;
  numClasses: number;
  dataset: DatasetName;
  imageSize: number;
  classes: string[];
  /** Epochs the weights have finished training (best.safetensors after epoch 3: 3). */
  epoch: number;
  /** Steps of the following epoch already trained (0 at an epoch's end). */
  step: number;
  /** What the model multiplies its input by (255 for runs on raw pixels); absent in older files: 1. */
  inputScale?: number;
}

export type Model = Module<[Tensor], Tensor>;
export type TrainOptimizer = Adam | SGD;

export function buildModel(model: ModelName, conv: ConvKind, numClasses: number, opts: { init?: InitScheme; inputScale?: number } = {}): Model {
  return MODEL_ZOO[model].build({ conv, numClasses, ...opts }) as Model;
}

export function buildOptimizer(config: TrainConfig, model: Model): TrainOptimizer {
  const params = model.parameters();
  return config.optimizer === 'adam'
    ? new Adam(params, { lr: config.lr, eps: config.eps, weightDecay: config.weightDecay })
    : new SGD(params, { lr: config.lr, momentum: config.momentum, weightDecay: config.weightDecay });
}

export function buildScheduler(config: TrainConfig, optimizer: TrainOptimizer): LRScheduler | null {
  if (config.scheduler === 'step') return new StepLR(optimizer, { stepSize: config.stepSize, gamma: config.gamma });
  if (config.scheduler === 'cosine') return new CosineAnnealingLR(optimizer, { tMax: config.epochs });
  return null;
}

const IDENTITY_KEY = 'sepconv';

/** Writes the model's weights with its identity in the header (atomic). */
export function saveWeights(path: string, model: Model, identity: CheckpointIdentity): void {
  save(model.stateDict(), path, { metadata: { [IDENTITY_KEY]: JSON.stringify(identity) } });
}

/**
 * A weights file's identity (header only), or null for a file without one (e.g. exported
 * from PyTorch). A run's resume.safetensors (a training state) carries it inside its state.
 */
export function readIdentity(path: string): CheckpointIdentity | null {
  if (!existsSync(path)) throw new SepconvError(`checkpoint ${path} does not exist`);
  const metadata = loadMetadata(path);
  const text = isTrainingState(metadata) ? JSON.stringify((JSON.parse(metadata.state ?? '{}') as { identity?: unknown }).identity) : metadata[IDENTITY_KEY];
  if (text === undefined) return null;
  const identity = JSON.parse(text) as CheckpointIdentity;
  if (!MODELS.includes(identity.model) || !CONVS.includes(identity.conv))
    throw new SepconvError(`checkpoint ${path} names an unknown network (${identity.model} ${identity.conv})`);
  return identity;
}

/** Refuses a checkpoint of another model or variant, naming both. */
export function checkIdentity(path: string, identity: CheckpointIdentity, expected: { model: ModelName; conv: ConvKind }): void {
  if (identity.model !== expected.model || identity.conv !== expected.conv)
    throw new SepconvError(`${path} is a checkpoint of ${identity.model} (${identity.conv}), not ${expected.model} (${expected.conv})`);
}

/** What `evaluate` and `predict` may say about a checkpoint (needed only for files without sepconv metadata). */
export interface CheckpointHints {
  model?: ModelName;
  conv?: ConvKind;
  dataset?: DatasetName;
  imageSize?: number;
}

/** Class names by data set (checkpoints carry their own; these serve files without metadata). */
export const DATASET_CLASSES: Record<DatasetName, string[]> = {
  cifar10: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
  pets: ['pet', 'background', 'border'],
};

/**
 * The network in a weights file, ready for inference. The file's metadata names the model;
 * hints that disagree with it are refused, and a file without metadata (e.g. from PyTorch)
 * needs `model` and `conv` hints.
 */
export function loadCheckpointModel(path: string, hints: CheckpointHints): { model: Model; identity: CheckpointIdentity } {
  const stored = readIdentity(path);
  let identity: CheckpointIdentity;
  if (stored !== null) {
    checkIdentity(path, stored, { model: hints.model ?? stored.model, conv: hints.conv ?? stored.conv });
    identity = stored;
  } else {
    if (hints.model === undefined || hints.conv === undefined)
      throw new SepconvError(`${path} does not say which network it holds (no sepconv metadata); pass --model and --conv`);
    const dataset = hints.dataset ?? (hints.model === 'vgg' || hints.model === 'mobilenet' ? 'cifar10' : 'pets');
    const classes = DATASET_CLASSES[dataset];
    identity = { model: hints.model, conv: hints.conv, dataset, numClasses: classes.length, classes, imageSize: hints.imageSize ?? (dataset === 'cifar10' ? 32 : 128), epoch: 0, step: 0 };
  }
  const model = buildModel(identity.model, identity.conv, identity.numClasses, { inputScale: identity.inputScale ?? 1 });
  // last/best.safetensors are plain weights; resume.safetensors also holds optimizer state.
  const trainingState = isTrainingState(loadMetadata(path));
  const contents = trainingState ? loadTrainingState(path) : load(path);
  try {
    model.loadStateDict((trainingState ? contents['model'] : contents) as Record<string, Tensor>);
  } finally {
    disposeTrainingState(contents);
  }
  return { model: model.eval(), identity };
}
