/** Argument checks shared by the functional ops; each throws a message naming op, argument and shapes. */
import { isFloat } from '../dtype.js';
import { describe, invalidArg, shapeStr } from '../errors.js';
import { Tensor } from '../tensor.js';

export function expectTensor(op: string, argument: string, value: unknown): Tensor {
  if (!(value instanceof Tensor)) throw invalidArg(op, argument, 'a Tensor', describe(value));
  if (value.isDisposed) throw invalidArg(op, argument, 'a live Tensor', `a disposed tensor of shape ${shapeStr(value.shape)}`);
  return value;
}

export function expectFloatTensor(op: string, argument: string, value: unknown): Tensor {
  const t = expectTensor(op, argument, value);
  if (!isFloat(t.dtype)) throw invalidArg(op, argument, 'a float32 or float64 tensor', `a ${t.dtype} tensor of shape ${shapeStr(t.shape)}`);
  return t;
}

export function expectRank(op: string, argument: string, t: Tensor, rank: number, layout: string): void {
  if (t.ndim !== rank)
    throw invalidArg(op, argument, `a ${rank}-D tensor ${layout}`, `shape ${shapeStr(t.shape)}`);
}

export function expectSameDtype(op: string, argument: string, t: Tensor, reference: Tensor, referenceName: string): void {
  if (t.dtype !== reference.dtype)
    throw invalidArg(op, argument, `dtype ${reference.dtype} (the dtype of ${referenceName})`, t.dtype);
}

export function expectSameDevice(op: string, argument: string, t: Tensor, reference: Tensor, referenceName: string): void {
  if (t.device !== reference.device)
    throw invalidArg(op, argument, `a tensor on ${reference.device} (where ${referenceName} is)`, `a tensor on ${t.device}`);
}

/** A number or a [h, w] pair of integers >= min, as [h, w]. */
export function pair(op: string, argument: string, value: unknown, min: number): [number, number] {
  const ok = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= min;
  if (ok(value)) return [value, value];
  if (Array.isArray(value) && value.length === 2 && ok(value[0]) && ok(value[1])) return [value[0], value[1]];
  throw invalidArg(op, argument, `an integer >= ${min} or a pair [h, w] of them`, describe(value));
}

/** An optional boolean option: `fallback` when undefined, an error when not a boolean. */
export function optionalBoolean(op: string, argument: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArg(op, argument, 'a boolean', describe(value));
  return value;
}
