/**
 * What an inference session's worker thread runs (after worker.ts set its priority): loads
 * the checkpoint once, then answers batches (decode each image, one forward pass for the
 * batch, per-input answers). An input that fails to decode fails alone; the rest of its batch
 * is answered.
 */
import '../tensor-methods.js'; // this thread runs models: attach Tensor's op methods
import { parentPort, workerData } from 'node:worker_threads';
import { imageInput } from '../data/image.js';
import { SepconvError } from '../errors.js';
import { native } from '../native.js';
import { loadCheckpointModel, taskOfIdentity } from '../train/setup.js';
import { forwardBatch } from './forward.js';
import type { ForwardSetup, ModelInput } from './forward.js';
import type { InferenceResult } from './outputs.js';
import type { BatchRequest, SessionWorkerMessage, SessionWorkerSetup, WireAnswer, WireInput } from './protocol.js';

const port = parentPort!;
const config = workerData as SessionWorkerSetup;

function failure<F extends 'input' | 'model'>(err: unknown, fault: F): { error: string; known: boolean; fault: F } {
  const error = err instanceof Error ? err : new Error(String(err));
  return { error: error instanceof SepconvError ? error.message : (error.stack ?? error.message), known: error instanceof SepconvError, fault };
}

/** The buffers of the answers, moved rather than copied to the session. */
function transferList(answers: WireAnswer[]): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const answer of answers) {
    if (!('result' in answer)) continue;
    const r = answer.result as Partial<{ mask: Uint8Array; probabilities: Float32Array }>;
    for (const array of [r.mask, r.probabilities]) if (array && !buffers.includes(array.buffer as ArrayBuffer)) buffers.push(array.buffer as ArrayBuffer);
  }
  return buffers;
}

async function answerBatch(setup: ForwardSetup, inputs: WireInput[]): Promise<WireAnswer[]> {
  const decoded = await Promise.allSettled(
    inputs.map(async (input): Promise<ModelInput> => {
      if (input.kind === 'array') return { data: input.data, width: setup.size, height: setup.size, probabilities: input.probabilities };
      const image = await imageInput('infer', input.source, setup.size, 'the input');
      return { ...image, probabilities: input.probabilities };
    }),
  );
  const ready = decoded.flatMap((d) => (d.status === 'fulfilled' ? [d.value] : []));
  let results: InferenceResult[] = [];
  let batchError: WireAnswer | null = null;
  if (ready.length > 0)
    try {
      results = await forwardBatch(setup, ready);
    } catch (err) {
      batchError = failure(err, 'model');
    }
  let next = 0;
  return decoded.map((d) => (d.status === 'rejected' ? failure(d.reason, 'input') : (batchError ?? { result: results[next++]! })));
}

async function start(): Promise<void> {
  if (config.threads !== null) native.setNumThreads(config.threads);
  let setup: ForwardSetup;
  try {
    const { model, identity } = await loadCheckpointModel(config.checkpoint, {});
    if (config.device === 'cuda') model.to('cuda');
    setup = { model, task: taskOfIdentity(identity), classes: identity.classes, size: identity.imageSize, device: config.device, topK: config.topK };
  } catch (err) {
    port.postMessage({ kind: 'failed', ...failure(err, 'model') } satisfies SessionWorkerMessage);
    return;
  }
  port.on('message', (request: BatchRequest) => {
    void answerBatch(setup, request.inputs).then((answers) =>
      port.postMessage({ kind: 'answers', id: request.id, answers } satisfies SessionWorkerMessage, transferList(answers)),
    );
  });
  port.postMessage({ kind: 'ready' } satisfies SessionWorkerMessage);
}

void start();
