// The safetensors format, read and written without a library: an 8-byte little-endian header length N,
// N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {...}}, then the
// raw little-endian tensor bytes (offsets are relative to the end of the header). Nothing in it is
// executable, which is why it is the only weight format accepted.
// Reference: https://github.com/huggingface/safetensors (format section of its README).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { writeFileAtomic } from "../util/files";
import { fromHalfBits, toHalfBits } from "../engine/dtype";
import { ModelFormatError } from "./errors";

export type SafetensorsDType = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";
export const SAFETENSORS_DTYPE_BYTES: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
/** Float dtypes that weights may use; they are widened to float32 for compute. */
export const FLOAT_DTYPES: readonly SafetensorsDType[] = ["F32", "F16", "BF16", "F64"];

/** Headers larger than this are certainly corrupt (real ones are a few hundred KiB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Absolute path of the .safetensors file holding the tensor. */
  file: string;
  /**
   * Absolute byte offset of the tensor's first byte in `file` (8 + header length + data_offsets[0]):
   * what ONNX external data `offset` needs to reference the weight in place, without copying.
   */
  fileOffset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  file: string;
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  /** Byte offset where the data section starts (8 + N). */
  dataStart: number;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function readExactly(fd: number, length: number, position: number, file: string, what: string): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0)
      throw new ModelFormatError(
        file,
        `unexpected end of file while reading ${what} (${got} of ${length} bytes at offset ${position})`,
      );
    got += n;
  }
  return buf;
}

/** Reads and validates the header: offsets lie inside the file, sizes match shape x dtype, no overlaps. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    throw new ModelFormatError(file, `cannot open: ${(e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8)
      throw new ModelFormatError(
        file,
        `too short for a safetensors file (${size} bytes; the 8-byte header length is missing)`,
      );
    const n = Number(readExactly(fd, 8, 0, file, "the header length").readBigUInt64LE(0));
    if (n > MAX_HEADER_BYTES || 8 + n > size) {
      throw new ModelFormatError(
        file,
        `header length ${n} does not fit in the file (${size} bytes): not a safetensors file, or truncated`,
      );
    }
    const headerText = readExactly(fd, n, 8, file, "the JSON header").toString("utf8");
    let json: unknown;
    try {
      json = JSON.parse(headerText);
    } catch (e) {
      throw new ModelFormatError(file, `header is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof json !== "object" || json === null || Array.isArray(json))
      throw new ModelFormatError(file, "header must be a JSON object");
    const dataStart = 8 + n;
    const dataSize = size - dataStart;
    const tensors = new Map<string, TensorEntry>();
    let metadata: Record<string, string> = {};
    const spans: [number, number, string][] = [];
    for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
      if (name === "__metadata__") {
        metadata = (raw ?? {}) as Record<string, string>;
        continue;
      }
      const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const where = `tensor "${name}"`;
      if (typeof e !== "object" || e === null)
        throw new ModelFormatError(file, `${where}: header entry must be an object`);
      if (typeof e.dtype !== "string" || !(e.dtype in SAFETENSORS_DTYPE_BYTES)) {
        throw new ModelFormatError(
          file,
          `${where}: unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(SAFETENSORS_DTYPE_BYTES).join(", ")})`,
        );
      }
      const dtype = e.dtype as SafetensorsDType;
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new ModelFormatError(
          file,
          `${where}: shape must be a list of non-negative integers, got ${JSON.stringify(e.shape)}`,
        );
      }
      const off = e.data_offsets;
      if (
        !Array.isArray(off) ||
        off.length !== 2 ||
        !off.every((x) => Number.isInteger(x) && x >= 0) ||
        off[0] > off[1]
      ) {
        throw new ModelFormatError(
          file,
          `${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)}`,
        );
      }
      const [begin, end] = off as [number, number];
      const shape = e.shape as number[];
      const expected = numel(shape) * SAFETENSORS_DTYPE_BYTES[dtype];
      if (end - begin !== expected) {
        throw new ModelFormatError(
          file,
          `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype}[${shape.join(", ")}] needs ${expected}`,
        );
      }
      if (end > dataSize) {
        throw new ModelFormatError(
          file,
          `${where}: data_offsets [${begin}, ${end}] run past the end of the data section (${dataSize} bytes): the file is truncated or its header is wrong`,
        );
      }
      spans.push([begin, end, name]);
      tensors.set(name, {
        name,
        dtype,
        shape: [...shape],
        file,
        fileOffset: dataStart + begin,
        byteLength: end - begin,
      });
    }
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      const [b, , nm] = spans[i]!;
      const [, pe, pn] = spans[i - 1]!;
      if (b < pe) throw new ModelFormatError(file, `tensor "${nm}" overlaps tensor "${pn}" in the data section`);
    }
    return { file, tensors, metadata, dataStart };
  } finally {
    closeSync(fd);
  }
}

/** Raw bytes of one tensor as stored. */
export function readTensorBytes(entry: TensorEntry): Uint8Array {
  const fd = openSync(entry.file, "r");
  try {
    return new Uint8Array(readExactly(fd, entry.byteLength, entry.fileOffset, entry.file, `tensor "${entry.name}"`));
  } finally {
    closeSync(fd);
  }
}

/** IEEE half -> float (handles subnormals, inf, NaN); the engine's decoder. */
export const f16ToF32 = fromHalfBits;

/** float -> IEEE half bits, round to nearest even (what torch's .half() does); the engine's encoder. */
export const f32ToF16 = toHalfBits;

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** float -> bfloat16 bits, round to nearest even; NaN stays NaN. */
export function f32ToBf16(x: number): number {
  f32Scratch[0] = x;
  const bits = u32Scratch[0]!;
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Widens stored float bytes to float32 (bf16 -> f32 is exact: the bits shifted up by 16). */
export function bytesToFloat32(dtype: SafetensorsDType, bytes: Uint8Array, what = "tensor"): Float32Array {
  const copy = bytes.slice(); // aligned copy: typed-array views need aligned offsets
  switch (dtype) {
    case "F32":
      return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
    case "F64":
      return Float32Array.from(new Float64Array(copy.buffer, 0, copy.byteLength / 8));
    case "BF16": {
      const src = new Uint16Array(copy.buffer, 0, copy.byteLength / 2);
      const out = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = src[i]! << 16;
      return new Float32Array(out.buffer);
    }
    case "F16": {
      const src = new Uint16Array(copy.buffer, 0, copy.byteLength / 2);
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = f16ToF32(src[i]!);
      return out;
    }
    default:
      throw new Error(`${what}: dtype ${dtype} is not a float type`);
  }
}

/** Narrows float32 values to the stored dtype's bytes (export keeps each tensor's original dtype). */
export function float32ToBytes(dtype: SafetensorsDType, values: Float32Array): Uint8Array {
  switch (dtype) {
    case "F32":
      return new Uint8Array(values.slice().buffer);
    case "F64":
      return new Uint8Array(Float64Array.from(values).buffer);
    case "BF16": {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = f32ToBf16(values[i]!);
      return new Uint8Array(out.buffer);
    }
    case "F16": {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = f32ToF16(values[i]!);
      return new Uint8Array(out.buffer);
    }
    default:
      throw new Error(`cannot store float values as ${dtype}`);
  }
}

export function readTensorF32(entry: TensorEntry): Float32Array {
  return bytesToFloat32(entry.dtype, readTensorBytes(entry), `${entry.file}: tensor "${entry.name}"`);
}

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /**
   * Raw little-endian bytes, numel(shape) x dtype size; or a function producing them when the tensor's
   * turn comes, so a file of any size is written with one tensor in memory at a time.
   */
  data: Uint8Array | (() => Uint8Array);
}

/**
 * Writes a safetensors file atomically (temp file in the same folder, then rename), so a crash never
 * leaves a half-written model where a good one was. Tensors are laid out in the given order.
 */
export function writeSafetensors(
  file: string,
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): void {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header["__metadata__"] = metadata;
  let offset = 0;
  const checkSize = (t: TensorToWrite, data: Uint8Array) => {
    const need = numel(t.shape) * SAFETENSORS_DTYPE_BYTES[t.dtype];
    if (data.byteLength !== need)
      throw new Error(
        `writeSafetensors: tensor "${t.name}" has ${data.byteLength} bytes, ${t.dtype}[${t.shape.join(", ")}] needs ${need}`,
      );
  };
  for (const t of tensors) {
    const need = numel(t.shape) * SAFETENSORS_DTYPE_BYTES[t.dtype];
    if (typeof t.data !== "function") checkSize(t, t.data);
    if (t.name in header) throw new Error(`writeSafetensors: duplicate tensor name "${t.name}"`);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + need] };
    offset += need;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned (as the reference writer does).
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.byteLength));
  // A generator: each lazy tensor is produced only when its turn to be written comes.
  writeFileAtomic(
    file,
    (function* () {
      yield len;
      yield headerBytes;
      for (const t of tensors) {
        const data = typeof t.data === "function" ? t.data() : t.data;
        checkSize(t, data);
        yield data;
      }
    })(),
  );
}
