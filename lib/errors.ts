/**
 * The one error helper: every public op validates in TypeScript before calling native code
 * and throws messages of one form, "<op>: expected <what> for <argument> but received <what>".
 */
export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export class SepconvError extends Error {
  override name = 'SepconvError';
}

export function invalidArg(op: string, argument: string, expected: string, received: string): SepconvError {
  return new SepconvError(`${op}: expected ${expected} for ${argument} but received ${received}`);
}

export function opError(op: string, message: string): SepconvError {
  return new SepconvError(`${op}: ${message}`);
}

/** A readable description of any value for "received …" parts of messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    return ctor && ctor !== 'Object' ? `a ${ctor}` : 'an object';
  }
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}
