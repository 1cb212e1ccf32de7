/** The messages between an inference session and its worker thread. */
import type { Device } from '../dtype.js';
import type { InferenceResult } from './outputs.js';

export interface SessionWorkerSetup {
  checkpoint: string;
  device: Device;
  threads: number | null;
  topK: number;
}

/** One call's input as it crosses: encoded bytes or a path (decoded in the worker), or model-ready floats. */
export type WireInput =
  | { kind: 'image'; source: Uint8Array | string; probabilities: boolean }
  | { kind: 'array'; data: Float32Array; probabilities: boolean };

export interface BatchRequest {
  id: number;
  inputs: WireInput[];
}

/** Per input: its answer, or why that input failed (`known`: a SepconvError, re-raised as one). */
export type WireAnswer = { result: InferenceResult } | { error: string; known: boolean };

export type SessionWorkerMessage =
  | { kind: 'ready' }
  | { kind: 'failed'; error: string; known: boolean }
  | { kind: 'answers'; id: number; answers: WireAnswer[] };
