/**
 * The native ops as TypeScript sees them, derived from the one op schema (native/core/ops.json,
 * generated into ./ops.gen.ts): each op's id, resolved once when this module loads, and the
 * packing of its named, typed params into the flat array the addon validates and the kernels
 * read as C++ structs. `runKernel(ops.conv2d_forward, inputs, outputs, { strideH, … })`.
 */
import { native } from './native.js';
import { OP_SCHEMA, type OpParams } from './ops.gen.js';

export { OP_SCHEMA };
export type { OpParams };

export type OpName = keyof OpParams;
export type OpSchemaEntry = (typeof OP_SCHEMA)[number];
export type OpBackend = OpSchemaEntry['backends'][number];

/** A native op, resolved at load: `pack` turns its named params into the order the addon reads. */
export interface NativeOp<N extends OpName = OpName> {
  readonly id: number;
  readonly name: N;
  readonly schema: OpSchemaEntry;
  pack(params: OpParams[N]): Float64Array;
}

/** The params argument of `runKernel` for op N: none for an op without params. */
export type OpParamsArg<N extends OpName> = keyof OpParams[N] extends never ? [] : [params: OpParams[N]];

function packer(entry: OpSchemaEntry): (fields: object) => Float64Array {
  const specs = entry.params as readonly { field: string; type: string; values?: readonly string[] }[];
  return (fields) => {
    const values = fields as Record<string, number | boolean | string>;
    const out = new Float64Array(specs.length);
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[i]!;
      const v = values[spec.field];
      // An unknown enum value packs as -1, which the addon rejects naming the op and param.
      out[i] = spec.values ? spec.values.indexOf(v as string) : typeof v === 'boolean' ? (v ? 1 : 0) : (v as number);
    }
    return out;
  };
}

function resolve(): { [N in OpName]: NativeOp<N> } {
  const built = native.opNames();
  const declared = OP_SCHEMA.map((o) => o.name);
  if (built.length !== declared.length || built.some((name, i) => name !== declared[i]))
    throw new Error('sepconv: the native addon was built from another op schema than lib/ops.gen.ts (rebuild it: npm run build:native)');
  const table: Record<string, NativeOp> = {};
  OP_SCHEMA.forEach((schema, id) => {
    table[schema.name] = { id, name: schema.name, schema, pack: packer(schema) as NativeOp['pack'] };
  });
  return table as { [N in OpName]: NativeOp<N> };
}

/** Every native op by name (`ops.conv2d_forward`), ids resolved against the loaded addon. */
export const ops = resolve();
