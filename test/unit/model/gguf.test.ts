import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import {
  exportGguf,
  ggufPreTokenizer,
  ggufTensorName,
  loadModelFolder,
  permuteForPairRope,
  quantizeQ8_0,
  writeGguf,
  ModelFormatError,
} from "../../../src/model";
import { dequantizeQ8_0 } from "./llamaCppPeer";
import { FIXTURES, LLAMA, QWEN2, scratchCopy, scratchDir } from "./helpers";

/** Reads back the header of a GGUF file (what llama.cpp's loader reads first), independently of the writer. */
function readHeader(file: string): {
  version: number;
  kv: Map<string, unknown>;
  tensors: { name: string; dims: number[]; type: number; offset: number }[];
  dataStart: number;
  size: number;
} {
  const b = readFileSync(file);
  let o = 0;
  const u32 = () => {
    const v = b.readUInt32LE(o);
    o += 4;
    return v;
  };
  const u64 = () => {
    const v = Number(b.readBigUInt64LE(o));
    o += 8;
    return v;
  };
  const str = () => {
    const n = u64();
    const s = b.toString("utf8", o, o + n);
    o += n;
    return s;
  };
  const value = (t: number): unknown => {
    switch (t) {
      case 4:
        return u32();
      case 5: {
        const v = b.readInt32LE(o);
        o += 4;
        return v;
      }
      case 6: {
        const v = b.readFloatLE(o);
        o += 4;
        return v;
      }
      case 7:
        return b[o++] === 1;
      case 8:
        return str();
      case 9: {
        const et = u32();
        const n = u64();
        return Array.from({ length: n }, () => value(et));
      }
      default:
        throw new Error(`value type ${t}`);
    }
  };
  assert.equal(b.toString("latin1", 0, 4), "GGUF");
  o = 4;
  const version = u32(),
    nt = u64(),
    nkv = u64();
  const kv = new Map<string, unknown>();
  for (let i = 0; i < nkv; i++) {
    const k = str();
    kv.set(k, value(u32()));
  }
  const tensors = [];
  for (let i = 0; i < nt; i++) {
    const name = str();
    const nd = u32();
    const dims = Array.from({ length: nd }, () => u64());
    tensors.push({ name, dims, type: u32(), offset: u64() });
  }
  return { version, kv, tensors, dataStart: Math.ceil(o / 32) * 32, size: b.length };
}

test("writeGguf: header, metadata and aligned tensor data read back", () => {
  const out = scratchDir();
  try {
    const file = join(out.dir, "t.gguf");
    const a = Float32Array.from({ length: 64 }, (_, i) => i / 10);
    writeGguf(
      file,
      new Map([
        ["general.architecture", { type: "string", value: "llama" }],
        ["x.list", { type: "string[]", value: ["a", "b c"] }],
        ["x.flag", { type: "bool", value: true }],
      ]),
      [
        { name: "a", dims: [64], type: "F32", data: () => new Uint8Array(a.buffer) },
        { name: "b", dims: [32, 2], type: "Q8_0", data: () => quantizeQ8_0(a) },
      ],
    );
    const h = readHeader(file);
    assert.equal(h.version, 3);
    assert.equal(h.kv.get("general.architecture"), "llama");
    assert.deepEqual(h.kv.get("x.list"), ["a", "b c"]);
    assert.equal(h.kv.get("x.flag"), true);
    assert.deepEqual(
      h.tensors.map((t) => [t.name, t.dims, t.type, t.offset % 32]),
      [
        ["a", [64], 0, 0],
        ["b", [32, 2], 8, 0],
      ],
    );
    const bytes = readFileSync(file);
    const back = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + h.dataStart, bytes.byteOffset + h.dataStart + 256),
    );
    assert.deepEqual(back, a);
    assert.equal(h.size, h.dataStart + h.tensors[1]!.offset + 96); // 2 Q8_0 blocks of 34 bytes, padded to 32
  } finally {
    out.cleanup();
  }
});

test("Q8_0: each value within half a quantization step of its block's scale", () => {
  const x = Float32Array.from({ length: 96 }, (_, i) => Math.sin(i * 1.7) * (i < 32 ? 1e-3 : 3));
  const y = dequantizeQ8_0(quantizeQ8_0(x));
  for (let b = 0; b < 3; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[b * 32 + i]!));
    for (let i = 0; i < 32; i++)
      assert.ok(Math.abs(y[b * 32 + i]! - x[b * 32 + i]!) <= (amax / 127) * 0.5 + amax * 1e-3, `block ${b} value ${i}`);
  }
  assert.throws(() => quantizeQ8_0(new Float32Array(33)), /multiple of 32/);
});

test("pair-rope permutation: row 2i of a head takes row i, row 2i+1 takes row i + Dh/2", () => {
  const heads = 2,
    hd = 4,
    cols = 3;
  const x = Float32Array.from({ length: heads * hd * cols }, (_, i) => Math.floor(i / cols));
  const y = permuteForPairRope(x, heads, hd);
  assert.deepEqual(
    [...y].filter((_, i) => i % cols === 0),
    [0, 2, 1, 3, 4, 6, 5, 7],
  );
});

test("pre-tokenizer names: GPT-2 byte level, Llama 3, Qwen2, SmolLM; others refused with the reason", () => {
  const tj = (name: string) =>
    JSON.parse(gunzipSync(readFileSync(join(FIXTURES, "tokenizers", name, "tokenizer.json.gz"))).toString("utf8")) as {
      pre_tokenizer: unknown;
    };
  assert.deepEqual(
    ggufPreTokenizer(
      JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "models", "seat-tiny-world", "tokenizer.json"), "utf8"))
        .pre_tokenizer,
    ),
    { name: "gpt-2" },
  );
  assert.deepEqual(ggufPreTokenizer(tj("llama3").pre_tokenizer), { name: "llama-bpe" });
  assert.deepEqual(ggufPreTokenizer(tj("qwen3").pre_tokenizer), { name: "qwen2" });
  assert.deepEqual(
    ggufPreTokenizer({
      type: "Sequence",
      pretokenizers: [
        { type: "Digits", individual_digits: true },
        { type: "ByteLevel", add_prefix_space: false, use_regex: true },
      ],
    }),
    { name: "smollm" },
  );
  const odd = ggufPreTokenizer({ type: "Metaspace" });
  assert.ok("reason" in odd && /Metaspace/.test(odd.reason));
});

test("tensor names follow llama.cpp's; what GGUF cannot carry is a located error", () => {
  assert.equal(ggufTensorName("model.layers.3.self_attn.k_proj.bias"), "blk.3.attn_k.bias");
  assert.equal(ggufTensorName("model.layers.0.post_attention_layernorm.weight"), "blk.0.ffn_norm.weight");
  assert.equal(ggufTensorName("model.embed_tokens.weight"), "token_embd.weight");
  for (const dir of [LLAMA, QWEN2]) {
    const tok = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")) as {
      model: { type: string; byte_fallback?: boolean };
    };
    const out = scratchDir();
    try {
      const file = join(out.dir, "m.gguf");
      const run = () => exportGguf(loadModelFolder(dir), file, { type: "f16" });
      assert.equal(tok.model.type, "BPE");
      {
        run();
        const h = readHeader(file);
        assert.equal(h.kv.get("general.architecture"), dir === QWEN2 ? "qwen2" : "llama");
        assert.equal((h.kv.get("tokenizer.ggml.tokens") as string[]).length, loadModelFolder(dir).config.vocabSize);
      }
    } finally {
      out.cleanup();
    }
  }
  const copy = scratchCopy(LLAMA);
  try {
    const cfg = JSON.parse(readFileSync(join(copy.dir, "config.json"), "utf8")) as Record<string, unknown>;
    cfg["rope_scaling"] = { rope_type: "dynamic", factor: 2 };
    writeFileSync(join(copy.dir, "config.json"), JSON.stringify(cfg));
    assert.throws(
      () => exportGguf(loadModelFolder(copy.dir), join(copy.dir, "x.gguf"), { type: "f16" }),
      (e: Error) =>
        e instanceof ModelFormatError &&
        e.message.startsWith(join(copy.dir, "config.json")) &&
        /dynamic NTK/.test(e.message),
    );
    const tj = JSON.parse(readFileSync(join(copy.dir, "tokenizer.json"), "utf8")) as Record<string, unknown>;
    cfg["rope_scaling"] = null;
    writeFileSync(join(copy.dir, "config.json"), JSON.stringify(cfg));
    tj["pre_tokenizer"] = { type: "Whitespace" };
    writeFileSync(join(copy.dir, "tokenizer.json"), JSON.stringify(tj));
    assert.throws(
      () => exportGguf(loadModelFolder(copy.dir), join(copy.dir, "x.gguf"), { type: "f16" }),
      (e: Error) =>
        e instanceof ModelFormatError &&
        e.message.startsWith(join(copy.dir, "tokenizer.json")) &&
        /no pre-tokenizer matching/.test(e.message),
    );
  } finally {
    copy.cleanup();
  }
});
