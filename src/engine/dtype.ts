// Element types of the engine and how they map onto ONNX TensorProto.DataType codes
// (onnx/onnx.proto, enum TensorProto.DataType).

export type DType = "float32" | "float16" | "bfloat16" | "float64" | "int64" | "int32" | "uint8" | "bool";

export const ONNX_DTYPE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
};

export const DTYPE_BYTES: Record<DType, number> = {
  float32: 4,
  uint8: 1,
  int32: 4,
  int64: 8,
  bool: 1,
  float16: 2,
  float64: 8,
  bfloat16: 2,
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
      case "float32":
        return new Float32Array(n);
      case "float64":
        return new Float64Array(n);
      case "int64":
        return new BigInt64Array(n);
      case "int32":
        return new Int32Array(n);
      case "uint8":
      case "bool":
        return new Uint8Array(n);
      case "float16":
      case "bfloat16":
        return new Uint16Array(n);
    }
  };
  let out: HostData;
  if (data && ArrayBuffer.isView(data) && !(data instanceof DataView)) out = data as HostData;
  else {
    out = make();
    if (data) {
      if (out instanceof BigInt64Array)
        for (let i = 0; i < n; i++) out[i] = BigInt(Math.trunc((data as ArrayLike<number>)[i]!));
      else (out as Float64Array).set(data as ArrayLike<number>);
    }
  }
  if (out.length !== n)
    throw new Error(`hostTensor: ${dtype}[${dims.join(",")}] needs ${n} elements, got ${out.length}`);
  return { dtype, dims: [...dims], data: out };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a number (round to nearest even), for float16 constants. */
export function toHalfBits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> 0
    mant |= 0x800000; // subnormal: shift the implicit bit in
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1),
      half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
  return sign | h;
}

/** bfloat16 bits of a number (the top half of its float32 bits, round to nearest even; NaN stays NaN). */
export function toBf16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The number a binary16 bit pattern encodes. */
export function fromHalfBits(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >>> 10) & 0x1f,
    m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
