// Generates the op contract's derived code from its one declaration, native/core/ops.json:
//   native/core/ops.gen.h  the op list macro, enums, parameter structs, the schema table
//   lib/ops.gen.ts         the TypeScript op table and parameter field types
// `node scripts/gen-ops.mjs` rewrites both; `--check` exits 1 (naming the stale file) when
// either differs from what the schema gives. The outputs are committed, so building needs no
// generator run, and test/op-schema.test.ts keeps them fresh.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaPath = 'native/core/ops.json';
const outputs = { cpp: 'native/core/ops.gen.h', ts: 'lib/ops.gen.ts' };

const BACKENDS = ['cpu', 'cuda'];
const DTYPE_SETS = { float: ['float32', 'float64'], any: ['float32', 'float64', 'int32', 'uint8'], int32: ['int32'] };
const SCALAR_TYPES = ['int', 'float', 'bool'];

function fail(message) {
  throw new Error(`${schemaPath}: ${message}`);
}

const camel = (snake) => snake.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const pascal = (snake) => camel(snake).replace(/^./, (c) => c.toUpperCase());

// 'x?: float[2-3]' -> { name, optional, dtypes, minRank, maxRank } (ranks -1 for "any").
function parseOperand(op, text) {
  const m = /^(\w+)(\?)?: (\w+)(?:\[(\d+)(?:(\+)|-(\d+))?\])?$/.exec(text);
  if (!m) fail(`${op}: operand '${text}' is not 'name[?]: dtypes[rank]'`);
  const [, name, optional, dtypes, rank, plus, maxRank] = m;
  if (!DTYPE_SETS[dtypes]) fail(`${op}: operand ${name}: unknown dtypes '${dtypes}' (${Object.keys(DTYPE_SETS).join(', ')})`);
  const min = rank === undefined ? -1 : Number(rank);
  const max = rank === undefined || plus ? -1 : maxRank !== undefined ? Number(maxRank) : min;
  return { name, optional: optional === '?', dtypes, minRank: min, maxRank: max };
}

function parseParam(where, text, enums) {
  const m = /^(\w+): (\w+)$/.exec(text);
  if (!m) fail(`${where}: param '${text}' is not 'name: type'`);
  const [, name, type] = m;
  if (!SCALAR_TYPES.includes(type) && !enums[type]) fail(`${where}: param ${name}: unknown type '${type}'`);
  return { name, field: camel(name), type };
}

function load() {
  const raw = JSON.parse(readFileSync(join(root, schemaPath), 'utf8'));
  const enums = raw.enums;
  const sets = Object.entries(raw.param_sets).map(([struct, params]) => ({
    struct,
    params: params.map((p) => parseParam(struct, p, enums)),
  }));
  const ops = raw.ops.map((o) => {
    for (const b of o.backends ?? []) if (!BACKENDS.includes(b)) fail(`${o.name}: unknown backend '${b}'`);
    if (!o.backends?.includes('cpu')) fail(`${o.name}: every op needs a cpu kernel (backends: ${JSON.stringify(o.backends)})`);
    let set;
    if (typeof o.params === 'string') {
      set = sets.find((s) => s.struct === o.params);
      if (!set) fail(`${o.name}: unknown param set '${o.params}'`);
    } else if (o.params.length > 0) {
      set = { struct: `${pascal(o.name)}Params`, params: o.params.map((p) => parseParam(o.name, p, enums)) };
      sets.push(set);
    }
    const operands = (list) => {
      const parsed = list.map((t) => parseOperand(o.name, t));
      const firstOptional = parsed.findIndex((p) => p.optional);
      if (firstOptional >= 0 && parsed.slice(firstOptional).some((p) => !p.optional))
        fail(`${o.name}: optional operands must come last`);
      return parsed;
    };
    if (o.grad !== 'none' && o.grad !== 'backward' && (typeof o.grad !== 'object' || o.grad === null))
      fail(`${o.name}: grad must be 'none', 'backward' or an object of input -> ops`);
    const inputs = operands(o.inputs);
    if (typeof o.grad === 'object')
      for (const input of Object.keys(o.grad))
        if (!inputs.some((i) => i.name === input)) fail(`${o.name}: grad names '${input}', which is not an input`);
    return { name: o.name, doc: o.doc, inputs, outputs: operands(o.outputs), set, backends: o.backends, grad: o.grad };
  });
  const used = new Set(ops.map((o) => o.set?.struct));
  for (const s of sets) if (!used.has(s.struct)) fail(`param set ${s.struct} is used by no op`);
  return { enums, sets, ops };
}

// ---------------------------------------------------------------------------------- C++

const CPP_TYPE = { int: 'int64_t', float: 'double', bool: 'bool' };
const cppType = (t) => CPP_TYPE[t] ?? t;
const cppDecode = (t, v) => (t === 'int' ? `int64_t(${v})` : t === 'float' ? v : t === 'bool' ? `${v} != 0` : `${t}(int32_t(${v}))`);
const cppParamType = (t) => (t === 'int' ? 'Int' : t === 'float' ? 'Float' : t === 'bool' ? 'Bool' : 'Enum');
const DTYPE_BITS = { float32: 1, float64: 2, int32: 4, uint8: 8 };

function macroLines(lines) {
  const width = Math.max(...lines.map((l) => l.length)) + 1;
  return lines.map((l, i) => (i < lines.length - 1 ? `${l.padEnd(width)}\\` : l)).join('\n');
}

function cpp({ enums, sets, ops }) {
  const out = [];
  out.push('// Generated by scripts/gen-ops.mjs from native/core/ops.json (`npm run gen:ops`): do not edit.');
  out.push('// Included by core/ops.h, which defines the schema types it fills in.');
  out.push('#pragma once', '#include <array>', '#include <cstdint>', '');
  out.push('// The op list: X(name, on_cuda), on_cuda 1 when the op has a CUDA kernel.');
  out.push(macroLines(['#define SEPCONV_OPS(X)', ...ops.map((o) => `  X(${o.name}, ${o.backends.includes('cuda') ? 1 : 0})`)]));
  out.push('', 'namespace sepconv {', '');
  for (const [name, values] of Object.entries(enums))
    out.push(`enum class ${name} : int32_t { ${values.join(', ')} };`);
  out.push('');
  out.push('// The parameter structs, read by name: call.params_as<Conv2dParams>() checks the op takes them.');
  sets.forEach((s, id) => {
    out.push(`struct ${s.struct} {`);
    for (const p of s.params) out.push(`  ${cppType(p.type)} ${p.name};`);
    out.push(`  static constexpr int kSet = ${id};`, `  static constexpr int kCount = ${s.params.length};`);
    out.push(`  static ${s.struct} decode(const double* p) {`);
    out.push(`    return {${s.params.map((p, i) => cppDecode(p.type, `p[${i}]`)).join(', ')}};`);
    out.push('  }');
    out.push('  // The flat form an OpCall carries (what the TypeScript side packs).');
    out.push(`  std::array<double, kCount> encode() const {`);
    out.push(`    return {${s.params.map((p) => (p.type === 'int' || p.type === 'float' ? `double(${p.name})` : p.type === 'bool' ? `${p.name} ? 1.0 : 0.0` : `double(int32_t(${p.name}))`)).join(', ')}};`);
    out.push('  }', '};');
  });
  out.push('', 'namespace schema {', '');
  sets.forEach((s, id) => {
    out.push(`inline constexpr ParamSpec k${s.struct}Specs[] = {`);
    for (const p of s.params) {
      const values = enums[p.type];
      out.push(`    {"${p.name}", ParamType::${cppParamType(p.type)}, ${values ? values.length : 0}, "${values ? values.map((v, i) => `${i} ${v}`).join(', ') : ''}"},`);
    }
    out.push('};');
  });
  const operandTable = (o, side, list) => {
    if (list.length === 0) return 'nullptr';
    const name = `k${pascal(o.name)}${side}`;
    out.push(`inline constexpr OperandSpec ${name}[] = {`);
    for (const t of list) {
      const bits = DTYPE_SETS[t.dtypes].reduce((m, d) => m | DTYPE_BITS[d], 0);
      out.push(`    {"${t.name}", ${bits}, ${t.minRank}, ${t.maxRank}, ${t.optional}},`);
    }
    out.push('};');
    return name;
  };
  const rows = ops.map((o) => {
    const inputs = operandTable(o, 'Inputs', o.inputs), outs = operandTable(o, 'Outputs', o.outputs);
    const set = o.set ? sets.indexOf(o.set) : -1;
    const params = o.set ? `k${o.set.struct}Specs` : 'nullptr';
    return `    {"${o.name}", ${set}, ${params}, ${o.set?.params.length ?? 0}, ${inputs}, ${o.inputs.length}, ${outs}, ${o.outputs.length}, ${o.backends.includes('cuda')}},`;
  });
  out.push('', '// One row per op, in SEPCONV_OPS order.', 'inline constexpr OpSpec kOpSpecs[] = {', ...rows, '};');
  out.push('', '}  // namespace schema', '}  // namespace sepconv', '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------- TypeScript

const tsType = (t, enums) =>
  t === 'int' || t === 'float' ? 'number' : t === 'bool' ? 'boolean' : enums[t].map((v) => `'${v}'`).join(' | ');

function ts({ enums, ops }) {
  const out = [];
  out.push('// Generated by scripts/gen-ops.mjs from native/core/ops.json (`npm run gen:ops`): do not edit.');
  out.push('');
  out.push('/** Each native op\'s parameters by field name (packed in schema order by lib/ops.ts). */');
  out.push('export interface OpParams {');
  for (const o of ops) {
    const fields = o.set?.params.map((p) => `${p.field}: ${tsType(p.type, enums)}`) ?? [];
    out.push(`  ${o.name}: ${fields.length ? `{ ${fields.join('; ')} }` : 'Record<never, never>'};`);
  }
  out.push('}', '');
  out.push('/** The op schema, in native op-id order. */');
  out.push('export const OP_SCHEMA = [');
  for (const o of ops) {
    const operand = (t) => `{ name: '${t.name}', optional: ${t.optional}, dtypes: [${DTYPE_SETS[t.dtypes].map((d) => `'${d}'`).join(', ')}], minRank: ${t.minRank}, maxRank: ${t.maxRank} }`;
    const param = (p) => `{ name: '${p.name}', field: '${p.field}', type: '${p.type}'${enums[p.type] ? `, values: [${enums[p.type].map((v) => `'${v}'`).join(', ')}]` : ''} }`;
    const grad = typeof o.grad === 'string' ? `'${o.grad}'` : `{ ${Object.entries(o.grad).map(([k, v]) => `${k}: ${JSON.stringify(v.split(/,\s*/))}`).join(', ')} }`;
    out.push('  {');
    out.push(`    name: '${o.name}',`);
    out.push(`    doc: ${JSON.stringify(o.doc)},`);
    out.push(`    inputs: [${o.inputs.map(operand).join(', ')}],`);
    out.push(`    outputs: [${o.outputs.map(operand).join(', ')}],`);
    out.push(`    params: [${o.set?.params.map(param).join(', ') ?? ''}],`);
    out.push(`    backends: [${o.backends.map((b) => `'${b}'`).join(', ')}],`);
    out.push(`    grad: ${grad},`);
    out.push('  },');
  }
  out.push('] as const;', '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------- main

const schema = load();
const generated = { [outputs.cpp]: cpp(schema), [outputs.ts]: ts(schema) };
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of Object.entries(generated)) {
  const full = join(root, path);
  let current = null;
  try {
    current = readFileSync(full, 'utf8');
  } catch {}
  if (current === text) continue;
  if (check) {
    console.error(`gen-ops: ${path} is stale: run \`npm run gen:ops\` and commit it`);
    stale++;
  } else {
    writeFileSync(full, text);
    console.log(`gen-ops: wrote ${path}`);
  }
}
process.exit(stale ? 1 : 0);
