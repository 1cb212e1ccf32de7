/** Element types. Codes are the native layer's (native/core/dtype.h). */
export type DType = 'float32' | 'float64' | 'int32' | 'uint8';
export type FloatDType = 'float32' | 'float64';
export type Device = 'cpu' | 'cuda';

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : Uint8Array;
export type AnyTypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;

export const DTYPE_CODE: Record<DType, number> = { float32: 0, float64: 1, int32: 2, uint8: 3 };
/** Device codes of the native layer (native/core/dtype.h). */
export const DEVICE_CODE: Record<Device, number> = { cpu: 0, cuda: 1 };

export function isDevice(value: unknown): value is Device {
  return value === 'cpu' || value === 'cuda';
}

const ARRAY_CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
} as const;

export function dtypeSize(dtype: DType): number {
  return ARRAY_CTORS[dtype].BYTES_PER_ELEMENT;
}

export interface TypedArrayCtor<A> {
  new (n: number | ArrayBuffer): A;
  from(data: ArrayLike<number>): A;
}

export function arrayCtor<D extends DType>(dtype: D): TypedArrayCtor<TypedArrayFor<D>> {
  return ARRAY_CTORS[dtype] as unknown as TypedArrayCtor<TypedArrayFor<D>>;
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === 'float32' || dtype === 'float64';
}

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && value in DTYPE_CODE;
}

/** The dtype a typed array holds, or undefined for a plain array. */
export function dtypeOfArray(data: ArrayLike<number>): DType | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Uint8Array) return 'uint8';
  return undefined;
}
