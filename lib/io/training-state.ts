/**
 * Everything needed to resume training, in ONE safetensors file (so it is replaced
 * atomically as a whole: weights and optimizer state can never come from different steps).
 *
 * The state is a tree of plain objects and arrays whose leaves are tensors, numbers,
 * strings, booleans or null: typically `{ model: model.stateDict(), optimizer:
 * optimizer.stateDict(), scheduler: scheduler.stateDict(), epoch }`. Each tensor is stored
 * under its path joined with dots (`model.enc.0.weight`, `optimizer.state.0.exp_avg`), so
 * PyTorch's safetensors reader sees ordinary named tensors; the tree itself, with tensors
 * replaced by {"__tensor__": name}, is JSON in the header's __metadata__ under "state".
 */
import { describe, invalidArg, SepconvError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { readCheckpoint, writeTensors } from './checkpoint.js';
import { setOwn } from './safetensors.js';

/** A value in a training state: tensors, JSON scalars, and arrays / plain objects of them. */
export type StateValue = Tensor | number | string | boolean | null | readonly StateValue[] | { readonly [key: string]: StateValue };

/**
 * What saveTrainingState takes: named parts, each a tree of plain objects and arrays with
 * StateValue leaves. Checked at run time, so interface-typed state dicts (an optimizer's
 * stateDict()) pass without casts.
 */
export type TrainingState = { readonly [key: string]: unknown };

const FORMAT = 'sepconv.training-state';
const VERSION = '1';
// Markers in the JSON tree; plain objects holding these keys are refused on save.
const TENSOR_KEY = '__tensor__';
const NUMBER_KEY = '__number__';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
}

/** The JSON tree of `value`, collecting its tensors by dotted path. */
function encode(value: unknown, path: string[], tensors: Map<string, Tensor>): unknown {
  const where = `state.${path.join('.')}`;
  if (value instanceof Tensor) {
    const name = path.join('.');
    if (tensors.has(name)) throw invalidArg('saveTrainingState', where, 'a unique tensor name', `a second tensor named '${name}'`);
    tensors.set(name, value);
    return { [TENSOR_KEY]: name };
  }
  if (typeof value === 'number') return Number.isFinite(value) ? value : { [NUMBER_KEY]: String(value) };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((v, i) => (v === undefined ? null : encode(v, [...path, String(i)], tensors)));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (key === TENSOR_KEY || key === NUMBER_KEY)
        throw invalidArg('saveTrainingState', where, `an object without the reserved key '${key}'`, `an object with it`);
      if (v !== undefined) setOwn(out, key, encode(v, [...path, key], tensors));
    }
    return out;
  }
  throw invalidArg('saveTrainingState', where, 'a Tensor, number, string, boolean, null, array or plain object', describe(value));
}

/**
 * Saves a training state (model weights, optimizer state, counters) to one safetensors
 * file, atomically. Restore it with loadTrainingState.
 *
 * @example
 * sc.saveTrainingState('run/last.safetensors', {
 *   model: model.stateDict(), optimizer: optimizer.stateDict(), epoch,
 * });
 */
export function saveTrainingState(path: string, state: TrainingState): void {
  if (!isPlainObject(state)) throw invalidArg('saveTrainingState', 'state', 'a plain object', describe(state));
  const tensors = new Map<string, Tensor>();
  const tree = Object.fromEntries(Object.entries(state).filter(([, v]) => v !== undefined).map(([k, v]) => [k, encode(v, [k], tensors)]));
  writeTensors('saveTrainingState', path, [...tensors], { format: FORMAT, version: VERSION, state: JSON.stringify(tree) });
}

/** Whether a safetensors header's metadata is that of a training-state file. */
export function isTrainingState(metadata: Readonly<Record<string, string>>): boolean {
  return metadata.format === FORMAT;
}

/** Frees every tensor in a loaded training state (or any part of one). */
export function disposeTrainingState(value: unknown): void {
  if (value instanceof Tensor) value.dispose();
  else if (Array.isArray(value)) value.forEach(disposeTrainingState);
  else if (value !== null && typeof value === 'object') Object.values(value).forEach(disposeTrainingState);
}

/**
 * Loads a file written by saveTrainingState: the same tree, with tensors on the CPU.
 *
 * @example
 * const state = sc.loadTrainingState('run/last.safetensors');
 * model.loadStateDict(state.model as Record<string, sc.Tensor>);
 * optimizer.loadStateDict(state.optimizer);
 */
export function loadTrainingState(path: string): Record<string, StateValue> {
  const { tensors, metadata } = readCheckpoint('loadTrainingState', path);
  const fail = (problem: string) => {
    for (const t of Object.values(tensors)) t.dispose();
    return new SepconvError(`loadTrainingState: '${path}' ${problem}`);
  };
  if (metadata.format !== FORMAT) throw fail(`is not a training-state file (no "format": "${FORMAT}" in its __metadata__; sc.load reads plain state dicts)`);
  if (metadata.version !== VERSION) throw fail(`has training-state version ${JSON.stringify(metadata.version)}; this sepconv reads version ${VERSION}`);
  let tree: unknown;
  try {
    tree = JSON.parse(metadata.state ?? '');
  } catch {
    throw fail('has a corrupt "state" entry in its __metadata__ (not JSON)');
  }
  const used = new Set<string>();
  const decode = (value: unknown): StateValue => {
    if (Array.isArray(value)) return value.map(decode);
    if (value === null || typeof value !== 'object') return value as StateValue;
    const marker = value as Record<string, unknown>;
    if (typeof marker[TENSOR_KEY] === 'string') {
      const name = marker[TENSOR_KEY];
      if (!Object.hasOwn(tensors, name)) throw fail(`refers to tensor '${name}', which the file does not hold`);
      used.add(name);
      return tensors[name]!;
    }
    if (typeof marker[NUMBER_KEY] === 'string') return Number(marker[NUMBER_KEY]);
    const out: Record<string, StateValue> = {};
    for (const [key, v] of Object.entries(value)) setOwn(out, key, decode(v));
    return out;
  };
  const state = decode(tree);
  if (!isPlainObject(state)) throw fail('has a "state" entry that is not a JSON object');
  const unused = Object.keys(tensors).filter((name) => !used.has(name));
  if (unused.length > 0) throw fail(`holds tensors the state does not refer to: ${unused.map((n) => `'${n}'`).join(', ')}`);
  return state as Record<string, StateValue>;
}
