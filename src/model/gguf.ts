// The GGUF file format (llama.cpp, Ollama, LM Studio), written without a library, from the format's
// specification (ggml's docs/gguf.md): little-endian throughout.
//   magic "GGUF" | version u32 (3) | tensor count u64 | metadata count u64
//   metadata: key (string) | value type u32 | value       string = u64 byte length + UTF-8 bytes
//   tensor infos: name | n_dims u32 | dims u64[n_dims] (innermost first) | ggml type u32 | offset u64
//   padding to `general.alignment` (32 unless stated) | tensor data, each tensor aligned the same way
// The writer streams: the header first, then one tensor at a time through a callback, so a model over
// 2 GiB never sits in one buffer.
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { f32ToF16 } from "./safetensors";

export const GGUF_ALIGNMENT = 32;
/** ggml tensor types written here (ggml.h `enum ggml_type`). */
export const GGML_TYPE = { F32: 0, F16: 1, Q8_0: 8 } as const;
export type GgmlType = keyof typeof GGML_TYPE;
/** Q8_0: blocks of 32 values, each an f16 scale and 32 int8 quants (34 bytes). */
export const Q8_0_BLOCK = 32;

/** Metadata value types (gguf.md `gguf_metadata_value_type`). */
const VT = {
  U8: 0,
  I8: 1,
  U16: 2,
  I16: 3,
  U32: 4,
  I32: 5,
  F32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  U64: 10,
  I64: 11,
  F64: 12,
} as const;

export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: readonly string[] }
  | { type: "i32[]"; value: ArrayLike<number> }
  | { type: "f32[]"; value: ArrayLike<number> };

export interface GgufTensor {
  name: string;
  /** ggml order: dims[0] is the innermost (contiguous) one, i.e. a [out, in] matrix is [in, out]. */
  dims: readonly number[];
  type: GgmlType;
  /** The tensor's bytes in `type`, produced when it is written (one tensor in memory at a time). */
  data: () => Uint8Array;
}

export function ggmlByteLength(type: GgmlType, dims: readonly number[]): number {
  const n = dims.reduce((a, b) => a * b, 1);
  switch (type) {
    case "F32":
      return 4 * n;
    case "F16":
      return 2 * n;
    case "Q8_0":
      return (n / Q8_0_BLOCK) * 34;
  }
}

/** float32 -> Q8_0 blocks: scale d = max|x| / 127 stored as f16, quants round(x / d) (ggml's reference). */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  if (x.length % Q8_0_BLOCK !== 0) throw new Error(`Q8_0 needs a multiple of ${Q8_0_BLOCK} values, got ${x.length}`);
  const blocks = x.length / Q8_0_BLOCK;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let i = 0; i < Q8_0_BLOCK; i++) amax = Math.max(amax, Math.abs(x[b * Q8_0_BLOCK + i]!));
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    view.setUint16(b * 34, f32ToF16(d), true);
    for (let i = 0; i < Q8_0_BLOCK; i++) {
      const v = x[b * Q8_0_BLOCK + i]! * id;
      // roundf: halves away from zero.
      view.setInt8(b * 34 + 2 + i, Math.sign(v) * Math.round(Math.abs(v)));
    }
  }
  return out;
}

export function encodeF16(x: Float32Array): Uint8Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f32ToF16(x[i]!);
  return new Uint8Array(out.buffer);
}

export function encodeF32(x: Float32Array): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/** Appends little-endian values to growing chunks (the header; tensor data never goes through here). */
class Bytes {
  private parts: Buffer[] = [];
  length = 0;
  private push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v: number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  u8(v: number): void {
    this.push(Buffer.from([v]));
  }
  str(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.push(b);
  }
  zeros(n: number): void {
    if (n > 0) this.push(Buffer.alloc(n));
  }
  take(): Buffer {
    const b = Buffer.concat(this.parts);
    this.parts = [];
    return b;
  }
}

function writeValue(out: Bytes, v: GgufValue): void {
  const array = (elem: number, n: number, each: (i: number) => void) => {
    out.u32(VT.ARRAY);
    out.u32(elem);
    out.u64(n);
    for (let i = 0; i < n; i++) each(i);
  };
  switch (v.type) {
    case "u32":
      out.u32(VT.U32);
      out.u32(v.value);
      break;
    case "i32":
      out.u32(VT.I32);
      out.i32(v.value);
      break;
    case "f32":
      out.u32(VT.F32);
      out.f32(v.value);
      break;
    case "bool":
      out.u32(VT.BOOL);
      out.u8(v.value ? 1 : 0);
      break;
    case "string":
      out.u32(VT.STRING);
      out.str(v.value);
      break;
    case "string[]":
      array(VT.STRING, v.value.length, (i) => out.str(v.value[i]!));
      break;
    case "i32[]":
      array(VT.I32, v.value.length, (i) => out.i32(v.value[i]!));
      break;
    case "f32[]":
      array(VT.F32, v.value.length, (i) => out.f32(v.value[i]!));
      break;
  }
}

const pad = (n: number) => (GGUF_ALIGNMENT - (n % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;

function writeAll(fd: number, b: Uint8Array): void {
  let done = 0;
  while (done < b.byteLength) done += writeSync(fd, b, done, b.byteLength - done);
}

/**
 * Writes a GGUF v3 file atomically (a temporary name, renamed when complete). `onTensor` reports
 * progress after each tensor; `signal` stops between tensors (the partial file is removed).
 */
export function writeGguf(
  file: string,
  metadata: ReadonlyMap<string, GgufValue>,
  tensors: readonly GgufTensor[],
  opts: { onTensor?: (done: number, total: number, name: string) => void; signal?: AbortSignal } = {},
): void {
  const head = new Bytes();
  head.u32(0x46554747); // "GGUF" read as a little-endian u32
  head.u32(3);
  head.u64(tensors.length);
  head.u64(metadata.size);
  for (const [key, v] of metadata) {
    head.str(key);
    writeValue(head, v);
  }
  let offset = 0;
  const sizes: number[] = [];
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new Error(`GGUF: duplicate tensor name "${t.name}"`);
    names.add(t.name);
    if (t.type === "Q8_0" && t.dims[0]! % Q8_0_BLOCK !== 0)
      throw new Error(
        `GGUF: tensor "${t.name}" row length ${t.dims[0]} is not a multiple of ${Q8_0_BLOCK} (Q8_0 blocks)`,
      );
    head.str(t.name);
    head.u32(t.dims.length);
    for (const d of t.dims) head.u64(d);
    head.u32(GGML_TYPE[t.type]);
    head.u64(offset);
    const size = ggmlByteLength(t.type, t.dims);
    sizes.push(size);
    offset += size + pad(size);
  }
  head.zeros(pad(head.length));
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    writeAll(fd, head.take());
    tensors.forEach((t, i) => {
      if (opts.signal?.aborted) throw new Error("GGUF export cancelled");
      const data = t.data();
      if (data.byteLength !== sizes[i])
        throw new Error(
          `GGUF: tensor "${t.name}" has ${data.byteLength} bytes, ${t.type}[${t.dims.join(", ")}] needs ${sizes[i]}`,
        );
      writeAll(fd, data);
      writeAll(fd, new Uint8Array(pad(data.byteLength)));
      opts.onTensor?.(i + 1, tensors.length, t.name);
    });
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to clean */
    }
    throw e;
  }
}
