/**
 * Serialises a built graph as an ONNX ModelProto with protobufjs and the official schema
 * (`onnx.proto`, copied verbatim from the ONNX repository next to this file, compiled to
 * `schema.ts` by scripts/onnx-schema.mjs).
 */
import { endianness } from 'node:os';
import protobuf from 'protobufjs/light.js';
import { ONNX_SCHEMA } from './schema.js';
import type { AttributeValue, GraphBuilder, Initializer } from './graph.js';

/** TensorProto.DataType. */
const DATA_TYPE = { float32: 1, int32: 6, int64: 7 } as const;
export type ElementType = keyof typeof DATA_TYPE;

/** AttributeProto.AttributeType. */
const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 } as const;

/** A graph input or output: element type and dims (a name for a symbolic dim, null for an unknown one). */
export interface ValueInfo {
  name: string;
  elemType: ElementType;
  dims: readonly (number | string | null)[];
}

export interface ModelInfo {
  graphName: string;
  opset: number;
  irVersion: number;
  inputs: readonly ValueInfo[];
  outputs: readonly ValueInfo[];
  metadata: Readonly<Record<string, string>>;
}

let modelType: protobuf.Type | null = null;

/** The onnx.ModelProto message type. */
export function modelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  return modelType;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** raw_data is little-endian whatever the host. */
function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) return bytes;
  const copy = Buffer.from(bytes);
  return data.BYTES_PER_ELEMENT === 4 ? copy.swap32() : copy.swap64();
}

function attribute(name: string, value: AttributeValue): object {
  if (typeof value === 'string') return { name, type: ATTRIBUTE_TYPE.STRING, s: Buffer.from(value, 'utf8') };
  if (typeof value === 'number') return { name, type: ATTRIBUTE_TYPE.INT, i: value };
  if (Array.isArray(value)) return { name, type: ATTRIBUTE_TYPE.INTS, ints: value };
  return { name, type: ATTRIBUTE_TYPE.FLOAT, f: (value as { float: number }).float };
}

function tensorProto(init: Initializer): object {
  if ('float32' in init) {
    const t = init.float32;
    return { name: init.name, dims: t.shape, data_type: DATA_TYPE.float32, raw_data: littleEndianBytes(t.toArray() as Float32Array) };
  }
  return { name: init.name, dims: init.dims, data_type: DATA_TYPE.int64, raw_data: littleEndianBytes(BigInt64Array.from(init.int64, (v) => BigInt(v))) };
}

function valueInfo(v: ValueInfo): object {
  const dim = v.dims.map((d) => (typeof d === 'number' ? { dim_value: d } : d === null ? {} : { dim_param: d }));
  return { name: v.name, type: { tensor_type: { elem_type: DATA_TYPE[v.elemType], shape: { dim } } } };
}

/** The ModelProto bytes of `graph` (initializers no node reads are left out). */
export function encodeModel(graph: GraphBuilder, info: ModelInfo): Uint8Array {
  const read = new Set(graph.nodes.flatMap((n) => n.inputs));
  const type = modelProto();
  const model = type.fromObject({
    ir_version: info.irVersion,
    opset_import: [{ domain: '', version: info.opset }],
    producer_name: 'sepconv',
    metadata_props: Object.entries(info.metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: info.graphName,
      node: graph.nodes.map((n) => ({
        name: n.name,
        op_type: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes).map(([k, v]) => attribute(k, v)),
      })),
      initializer: [...graph.initializers.values()].filter((i) => read.has(i.name)).map(tensorProto),
      input: info.inputs.map(valueInfo),
      output: info.outputs.map(valueInfo),
    },
  });
  return type.encode(model).finish();
}
