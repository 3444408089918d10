import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  readSafetensorsHeader,
  readTensorF32,
  readTensorBytes,
  writeSafetensors,
  f16ToF32,
  f32ToF16,
  f32ToBf16,
  float32ToBytes,
  bytesToFloat32,
} from "../../../src/model";
import { scratchDir } from "./helpers";

/** A header + data file written by hand (not by writeSafetensors), to test the reader independently. */
function handMade(header: object, data: Uint8Array): Buffer {
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  return Buffer.concat([len, h, data]);
}

test("reads a hand-made file: offsets, f32/f16/bf16 widening, metadata", () => {
  const { dir, cleanup } = scratchDir();
  try {
    const f32 = new Float32Array([1.5, -2, 3.25]);
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555]); // 1, -2, 0.333251953125
    const bf16 = new Uint16Array([0x3f80, 0x4049, 0xbf00]); // 1, 3.140625, -0.5
    const data = Buffer.concat([Buffer.from(f32.buffer), Buffer.from(f16.buffer), Buffer.from(bf16.buffer)]);
    const file = join(dir, "m.safetensors");
    writeFileSync(
      file,
      handMade(
        {
          __metadata__: { format: "pt" },
          a: { dtype: "F32", shape: [3], data_offsets: [0, 12] },
          b: { dtype: "F16", shape: [1, 3], data_offsets: [12, 18] },
          c: { dtype: "BF16", shape: [3], data_offsets: [18, 24] },
        },
        data,
      ),
    );
    const h = readSafetensorsHeader(file);
    assert.deepEqual(h.metadata, { format: "pt" });
    const a = h.tensors.get("a")!;
    assert.equal(a.fileOffset, h.dataStart);
    assert.equal(h.tensors.get("c")!.fileOffset, h.dataStart + 18);
    assert.deepEqual([...readTensorF32(a)], [1.5, -2, 3.25]);
    assert.deepEqual([...readTensorF32(h.tensors.get("b")!)], [1, -2, 0.333251953125]);
    assert.deepEqual([...readTensorF32(h.tensors.get("c")!)], [1, 3.140625, -0.5]);
  } finally {
    cleanup();
  }
});

test("header validation: truncation, lying offsets, size mismatch, overlap, garbage", () => {
  const { dir, cleanup } = scratchDir();
  try {
    const file = join(dir, "bad.safetensors");
    const check = (buf: Buffer, re: RegExp) => {
      writeFileSync(file, buf);
      assert.throws(
        () => readSafetensorsHeader(file),
        (e: Error) => e.message.startsWith(file) && re.test(e.message),
        re.source,
      );
    };
    const eight = new Uint8Array(8);
    check(Buffer.from([1, 2, 3]), /too short for a safetensors file/);
    check(
      handMade({ w: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, eight).subarray(0, 30),
      /header length \d+ does not fit|unexpected end|not valid JSON/,
    );
    check(
      handMade({ w: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, eight),
      /tensor "w": data_offsets \[0, 16\] run past the end of the data section \(8 bytes\)/,
    );
    check(
      handMade({ w: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, eight),
      /tensor "w": data_offsets \[0, 8\] span 8 bytes but F32\[3\] needs 12/,
    );
    check(
      handMade(
        {
          w: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
          v: { dtype: "F32", shape: [1], data_offsets: [2, 6] },
        },
        eight,
      ),
      /overlaps/,
    );
    check(
      handMade({ w: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }, eight),
      /tensor "w": unsupported dtype "Q4"/,
    );
    check(
      handMade({ w: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, eight),
      /shape must be a list of non-negative integers/,
    );
    const notJson = Buffer.concat([Buffer.from([5, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{oops")]);
    check(notJson, /header is not valid JSON/);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(1n << 40n);
    check(huge, /header length 1099511627776 does not fit in the file/);
  } finally {
    cleanup();
  }
});

test("writer round-trips names, dtypes and bytes; aligned data; atomic (no temp files left)", () => {
  const { dir, cleanup } = scratchDir();
  try {
    const file = join(dir, "w.safetensors");
    const vals = new Float32Array([0.1, -3.5, 65504, 1e-8, 7]);
    writeSafetensors(
      file,
      [
        { name: "x.f32", dtype: "F32", shape: [5], data: float32ToBytes("F32", vals) },
        { name: "x.bf16", dtype: "BF16", shape: [5, 1], data: float32ToBytes("BF16", vals) },
        { name: "x.f16", dtype: "F16", shape: [1, 5], data: float32ToBytes("F16", vals) },
      ],
      { note: "hi" },
    );
    assert.deepEqual(readdirSync(dir), ["w.safetensors"]);
    const h = readSafetensorsHeader(file);
    assert.equal(h.dataStart % 8, 0);
    assert.deepEqual([...h.tensors.keys()], ["x.f32", "x.bf16", "x.f16"]);
    assert.deepEqual(h.tensors.get("x.bf16")!.shape, [5, 1]);
    assert.deepEqual(readTensorF32(h.tensors.get("x.f32")!), vals);
    const bf = readTensorF32(h.tensors.get("x.bf16")!);
    vals.forEach((v, i) => assert.ok(Math.abs(bf[i]! - v) <= Math.abs(v) / 128, `bf16 ${v} -> ${bf[i]}`));
    const hf = readTensorF32(h.tensors.get("x.f16")!);
    assert.equal(hf[2], 65504);
    assert.ok(Math.abs(hf[0]! - 0.1) < 1e-4);
    // rewriting the same values reproduces the same bytes
    const again = join(dir, "again.safetensors");
    writeSafetensors(
      again,
      [...h.tensors.values()].map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape, data: readTensorBytes(e) })),
      h.metadata,
    );
    assert.deepEqual(readFileSync(again), readFileSync(file));
    assert.throws(
      () =>
        writeSafetensors(join(dir, "x.safetensors"), [
          { name: "a", dtype: "F32", shape: [2], data: new Uint8Array(4) },
        ]),
      /has 4 bytes, F32\[2\] needs 8/,
    );
    assert.equal(existsSync(join(dir, "x.safetensors")), false);
  } finally {
    cleanup();
  }
});

test("half and bfloat16 conversions: exact cases and round-to-nearest-even", () => {
  assert.equal(f32ToF16(1), 0x3c00);
  assert.equal(f32ToF16(-2), 0xc000);
  assert.equal(f32ToF16(65504), 0x7bff);
  assert.equal(f32ToF16(1e6), 0x7c00); // overflow -> inf
  assert.equal(f32ToF16(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(f32ToF16(1 + 2 ** -11), 0x3c00); // tie -> even (down)
  assert.equal(f32ToF16(1 + 3 * 2 ** -11), 0x3c02); // tie -> even (up)
  assert.ok(Number.isNaN(f16ToF32(f32ToF16(NaN))));
  for (let h = 0; h < 0x7c00; h += 7) assert.equal(f32ToF16(f16ToF32(h)), h, `half ${h.toString(16)}`);
  assert.equal(f32ToBf16(1), 0x3f80);
  assert.equal(f32ToBf16(1 + 2 ** -8), 0x3f80); // tie -> even
  assert.equal(f32ToBf16(1 + 3 * 2 ** -8), 0x3f82);
  const back = bytesToFloat32("BF16", new Uint8Array(new Uint16Array([f32ToBf16(-0.5)]).buffer));
  assert.equal(back[0], -0.5);
});
