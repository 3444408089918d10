// Element types of the engine and how they map onto ONNX TensorProto.DataType codes
// (onnx/onnx.proto, enum TensorProto.DataType).

export type DType = "float32" | "float16" | "bfloat16" | "float64" | "int64" | "int32" | "uint8" | "bool";

export const ONNX_DTYPE: Record<DType, number> = {
  float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, bfloat16: 16,
};

export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4, uint8: 1, int32: 4, int64: 8, bool: 1, float16: 2, float64: 8, bfloat16: 2,
};

export function isFloat(d: DType): boolean {
  return d === "float32" || d === "float16" || d === "float64" || d === "bfloat16";
}

/** Host-side tensor as it crosses the engine/runtime boundary (no onnxruntime types leak out). */
export type HostData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;
export interface HostTensor {
  dtype: DType;
  dims: number[];
  /** float16/bfloat16 as raw Uint16Array bits; bool as Uint8Array 0/1. */
  data: HostData;
}

export function hostTensor(dtype: DType, dims: number[], data?: HostData | ArrayLike<number>): HostTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const make = (): HostData => {
    switch (dtype) {
      case "float32": return new Float32Array(n);
      case "float64": return new Float64Array(n);
      case "int64": return new BigInt64Array(n);
      case "int32": return new Int32Array(n);
      case "uint8": case "bool": return new Uint8Array(n);
      case "float16": case "bfloat16": return new Uint16Array(n);
    }
  };
  let out: HostData;
  if (data && ArrayBuffer.isView(data) && !(data instanceof DataView)) out = data as HostData;
  else {
    out = make();
    if (data) {
      if (out instanceof BigInt64Array) for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc((data as ArrayLike<number>)[i]!));
      else (out as Float64Array).set(data as ArrayLike<number>);
    }
  }
  if (out.length !== n) throw new Error(`hostTensor: ${dtype}[${dims.join(",")}] needs ${n} elements, got ${out.length}`);
  return { dtype, dims: [...dims], data: out };
}
