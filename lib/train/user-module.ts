/**
 * A user's own model or dataset in `fit`: named by module specifier and export, since a live
 * nn.Module cannot cross into the training worker (it owns native tensors of this thread's
 * addon instance, and functions do not survive structured cloning). The worker imports the
 * module itself and calls the export with `options` (plain data, kept in config.json and the
 * checkpoint so a resume and `sc.infer.load` rebuild the same thing).
 */
import { existsSync } from 'node:fs';
import { basename, extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, SepconvError } from '../errors.js';

/** `{ module: './my-net.js', export: 'createModel', options: { width: 32 } }` */
export interface ModuleSpec {
  /** A file path (relative to the current directory) or a file: URL. */
  module: string | URL;
  /** The export to call (default 'default'); a function of `options`, possibly async. */
  export?: string;
  /** Passed to the export; plain JSON data. */
  options?: unknown;
}

/** A spec as runs store it: an absolute file: URL, the export name, JSON options. */
export interface ResolvedModuleSpec {
  module: string;
  export: string;
  options: unknown;
}

export function isModuleSpec(value: unknown): value is ModuleSpec {
  return value !== null && typeof value === 'object' && 'module' in value;
}

/** Checks a spec and makes its module an absolute file: URL, so the run finds it from anywhere. */
export function resolveModuleSpec(option: string, spec: ModuleSpec): ResolvedModuleSpec {
  const { module, export: name = 'default', options = {} } = spec;
  for (const key of Object.keys(spec))
    if (!['module', 'export', 'options'].includes(key)) throw new SepconvError(`${option}.${key} is not one of: module, export, options`);
  let url: string;
  if (module instanceof URL || (typeof module === 'string' && module.startsWith('file:'))) url = String(module);
  else if (typeof module === 'string' && (module.startsWith('.') || isAbsolute(module))) url = pathToFileURL(resolve(module)).href;
  else throw new SepconvError(`${option}.module expects a file path ('./my-net.js') or a file: URL but received ${describe(module)}`);
  if (!url.startsWith('file:')) throw new SepconvError(`${option}.module expects a file: URL but received ${url}`);
  if (!existsSync(fileURLToPath(url))) throw new SepconvError(`${option}.module ${fileURLToPath(url)} does not exist`);
  if (typeof name !== 'string' || name === '') throw new SepconvError(`${option}.export expects an export name but received ${describe(name)}`);
  let json: string | undefined;
  try {
    json = JSON.stringify(options);
  } catch {
    json = undefined;
  }
  if (json === undefined) throw new SepconvError(`${option}.options must be plain JSON data (it is saved with the run) but received ${describe(options)}`);
  return { module: url, export: name, options: JSON.parse(json) as unknown };
}

/** A short name for run folders and messages: the module's file name without extension. */
export function moduleLabel(spec: ResolvedModuleSpec): string {
  const file = basename(fileURLToPath(spec.module));
  return file.slice(0, file.length - extname(file).length);
}

/** Imports the module and calls its export with the options (in the worker). */
export async function callExport(option: string, spec: ResolvedModuleSpec, expects: string): Promise<unknown> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(spec.module)) as Record<string, unknown>;
  } catch (err) {
    throw new SepconvError(`${option}.module ${fileURLToPath(spec.module)} cannot be imported: ${err instanceof Error ? err.message : String(err)}`);
  }
  const factory = namespace[spec.export];
  if (typeof factory !== 'function')
    throw new SepconvError(`${option}.module ${fileURLToPath(spec.module)} has no function export '${spec.export}' (a function of options returning ${expects}); it exports: ${Object.keys(namespace).join(', ') || 'nothing'}`);
  return (factory as (options: unknown) => unknown)(spec.options);
}
