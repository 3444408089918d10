import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import {
  discoverModelFolders,
  formatBytes,
  formatCount,
  inspectModelFolder,
  installedProviders,
} from "../../../src/extension/models/modelInfo";

const FIXTURES = join(import.meta.dirname, "../../fixtures/models");

/** Llama parameter count from config.json alone, independent of the safetensors reader. */
function expectedParams(dir: string): number {
  const c = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  const D = c.hidden_size,
    V = c.vocab_size,
    L = c.num_hidden_layers,
    F = c.intermediate_size;
  const Dh = c.head_dim ?? D / c.num_attention_heads;
  const q = D * c.num_attention_heads * Dh,
    kv = D * c.num_key_value_heads * Dh,
    o = c.num_attention_heads * Dh * D;
  const qwen = c.architectures[0] === "Qwen2ForCausalLM";
  const bias = qwen ? c.num_attention_heads * Dh + 2 * c.num_key_value_heads * Dh : 0;
  const layer = 2 * D + q + 2 * kv + o + 3 * D * F + bias;
  return V * D * (c.tie_word_embeddings ? 1 : 2) + D + L * layer;
}

test("a Llama fixture: architecture, parameters, bytes, dtype, tokenizer — from headers only", () => {
  const dir = join(FIXTURES, "tiny-llama");
  const info = inspectModelFolder(dir);
  assert.equal(info.error, undefined);
  assert.equal(info.config?.architecture, "LlamaForCausalLM");
  assert.equal(info.params, expectedParams(dir));
  assert.equal(info.bytes, statSync(join(dir, "model.safetensors")).size);
  assert.deepEqual(info.dtypes, ["BF16"], "the fixture stores bfloat16 weights");
  assert.equal(info.tokenizer, "tokenizer.json");
});

test("a sharded Qwen2 fixture sums both shards", () => {
  const dir = join(FIXTURES, "tiny-qwen2");
  const info = inspectModelFolder(dir);
  assert.equal(info.error, undefined);
  assert.equal(info.config?.architecture, "Qwen2ForCausalLM");
  assert.equal(info.params, expectedParams(dir));
  assert.deepEqual(info.dtypes, ["F32"]);
  assert.equal(
    info.bytes,
    statSync(join(dir, "model-00001-of-00002.safetensors")).size +
      statSync(join(dir, "model-00002-of-00002.safetensors")).size,
  );
});

test("broken folders say which file is wrong", () => {
  const tmp = mkdtempSync(join(tmpdir(), "seat-modelinfo-"));
  try {
    const copy = (name: string) => {
      const d = join(tmp, name);
      cpSync(join(FIXTURES, "tiny-llama"), d, { recursive: true });
      return d;
    };
    const truncated = copy("truncated");
    truncateSync(join(truncated, "model.safetensors"), 1000);
    assert.match(inspectModelFolder(truncated).error ?? "", /truncated\/model\.safetensors/);

    const noWeights = copy("no-weights");
    unlinkSync(join(noWeights, "model.safetensors"));
    assert.match(inspectModelFolder(noWeights).error ?? "", /no-weights\/model\.safetensors: no \.safetensors weights/);

    const noTokenizer = copy("no-tokenizer");
    unlinkSync(join(noTokenizer, "tokenizer.json"));
    assert.match(inspectModelFolder(noTokenizer).error ?? "", /no-tokenizer\/tokenizer\.json: missing/);

    const badConfig = copy("bad-config");
    writeFileSync(join(badConfig, "config.json"), JSON.stringify({ architectures: ["GPT2LMHeadModel"] }));
    assert.match(inspectModelFolder(badConfig).error ?? "", /config\.json/);
  } finally {
    rmSync(tmp, { recursive: true });
  }
});

test("discovery: a model folder itself, or the model folders inside a folder; no duplicates", () => {
  const found = discoverModelFolders([FIXTURES, join(FIXTURES, "tiny-llama"), join(FIXTURES, "no-such-folder")]);
  assert.deepEqual(found, [join(FIXTURES, "tiny-llama"), join(FIXTURES, "tiny-qwen2")]);
});

test("formatting and installed providers", () => {
  assert.equal(formatCount(134_515_008), "135M");
  assert.equal(formatCount(1_234_567_890), "1.2B");
  assert.equal(formatCount(16_976), "17K");
  assert.equal(formatBytes(36_072), "35.2 KiB");
  assert.deepEqual(installedProviders(undefined), ["cpu"]);
  const dir = mkdtempSync(join(tmpdir(), "seat-ort-"));
  try {
    assert.deepEqual(installedProviders(dir, "linux"), ["cpu", "webgpu"]);
    writeFileSync(join(dir, "libonnxruntime_providers_cuda.so"), "");
    // without providers_shared onnxruntime cannot load the cuda provider
    assert.deepEqual(installedProviders(dir, "linux"), ["cpu", "webgpu"]);
    writeFileSync(join(dir, "libonnxruntime_providers_shared.so"), "");
    assert.deepEqual(installedProviders(dir, "linux"), ["cpu", "webgpu", "cuda"]);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
