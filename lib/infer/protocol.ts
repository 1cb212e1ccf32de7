/** The messages between an inference session and its worker thread. */
import type { Device } from '../dtype.js';
import type { InferenceResult } from './outputs.js';

export interface SessionWorkerSetup {
  checkpoint: string;
  device: Device;
  threads: number | null;
  topK: number;
  /** Added to the worker's nice value on Linux (0: the process's priority). */
  niceness: number;
}

/** One call's input as it crosses: encoded bytes or a path (decoded in the worker), or model-ready floats. */
export type WireInput =
  | { kind: 'image'; source: Uint8Array | string; probabilities: boolean }
  | { kind: 'array'; data: Float32Array; probabilities: boolean };

export interface BatchRequest {
  id: number;
  inputs: WireInput[];
}

/**
 * Per input: its answer, or why it failed (`known`: a SepconvError, re-raised as one; `fault`:
 * the input itself, or the model's forward pass over the batch).
 */
export type WireAnswer = { result: InferenceResult } | { error: string; known: boolean; fault: 'input' | 'model' };

export type SessionWorkerMessage =
  | { kind: 'ready' }
  | { kind: 'failed'; error: string; known: boolean; fault: 'model' }
  | { kind: 'answers'; id: number; answers: WireAnswer[] };
