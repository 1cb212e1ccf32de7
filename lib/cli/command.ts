/**
 * What a `sepconv` subcommand is, and the option parsing they share. A command parses its
 * own argv with `parseOptions` (node:util parseArgs, strict) and returns an exit code:
 * 0 success, 1 failure, 2 bad usage (thrown as `UsageError`).
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { SepconvError } from '../errors.js';

/** Where a command writes (process streams in the bin; buffers in tests). */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

export interface Command {
  /** The subcommand: `sepconv <name> …`. */
  name: string;
  /** One line for `sepconv --help`. */
  description: string;
  /** The full `sepconv <name> --help` text. */
  help: string;
  run(argv: string[], io: CliIO): number | Promise<number>;
}

/** Bad command-line usage: reported with a pointer to --help, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Runs `fn`, turning the library's errors for bad values (options, shapes, refused directories) into usage errors (exit 2). */
export function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SepconvError) throw new UsageError(err.message);
    throw err;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The parsed flag values for an options table (strings and booleans by flag name). */
export type OptionValues<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: false }>>['values'];

function flagList(options: Options): string {
  return Object.entries(options)
    .map(([name, o]) => `--${name}${o.type === 'string' ? ' <value>' : ''}`)
    .join(', ');
}

/** `--lr -1` as `--lr=-1`: parseArgs reads a value starting with '-' as a flag, so negative numbers need the = form. */
function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : null;
    if (name !== null && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/**
 * node:util parseArgs (strict) over `argv`, with negative numbers taken as values; unknown
 * flags, missing values and stray arguments become a UsageError listing the accepted flags.
 */
export function parseStrict(
  command: string,
  argv: readonly string[],
  options: Options,
  allowPositionals: boolean,
): { values: Record<string, string | boolean | (string | boolean)[] | undefined>; positionals: string[] } {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options, strict: true, allowPositionals });
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (!code.startsWith('ERR_PARSE_ARGS')) throw err;
    const reason = (err as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(`${reason}\n'sepconv ${command}' accepts: ${flagList(options)}`);
  }
}

export function parseOptions<O extends Options>(command: string, argv: string[], options: O): OptionValues<O> {
  return parseStrict(command, argv, options, false).values as unknown as OptionValues<O>;
}

/** `value` if it is one of `accepted`, else a UsageError listing them. */
export function choice<T extends string>(flag: string, value: string, accepted: readonly T[]): T {
  if (!(accepted as readonly string[]).includes(value)) throw new UsageError(`--${flag} '${value}' is not one of: ${accepted.join(', ')}`);
  return value as T;
}

/** A positive number (integer when `integer`), else a UsageError. */
export function positiveNumber(flag: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${flag} expects a positive ${integer ? 'integer' : 'number'} but received '${value}'`);
  return n;
}

/** "3x128x128" → [3, 128, 128] (positive integers joined by 'x'). */
export function dims(flag: string, value: string): number[] {
  const parts = value.toLowerCase().split('x');
  if (!parts.every((p) => /^[1-9][0-9]*$/.test(p))) throw new UsageError(`--${flag} expects sizes like 3x128x128 but received '${value}'`);
  return parts.map(Number);
}
