import { test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig, ropeInvFreq, configToJson, ModelFormatError } from "../../../src/model";

const LLAMA = {
  architectures: ["LlamaForCausalLM"],
  hidden_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 8,
  intermediate_size: 128,
  vocab_size: 100,
};

test("Llama config: defaults follow transformers (no KV heads = MHA, eps 1e-6, theta 1e4, untied)", () => {
  const c = parseConfig(LLAMA);
  assert.equal(c.numKvHeads, 8);
  assert.equal(c.headDim, 8);
  assert.equal(c.rmsNormEps, 1e-6);
  assert.equal(c.ropeTheta, 10000);
  assert.equal(c.tieWordEmbeddings, false);
  assert.equal(c.qkvBias, false);
  assert.deepEqual(c.ropeScaling, { type: "none" });
  assert.equal(c.maxPositions, 2048);
});

test("Qwen2 always has q/k/v bias and no o_proj bias; Mistral keeps its sliding window", () => {
  const q = parseConfig({
    ...LLAMA,
    architectures: ["Qwen2ForCausalLM"],
    num_key_value_heads: 2,
    tie_word_embeddings: true,
  });
  assert.equal(q.qkvBias, true);
  assert.equal(q.oBias, false);
  assert.equal(q.tieWordEmbeddings, true);
  assert.equal(q.numKvHeads, 2);
  const m = parseConfig({ ...LLAMA, architectures: ["MistralForCausalLM"], sliding_window: 4096 });
  assert.equal(m.slidingWindow, 4096);
  const l = parseConfig({ ...LLAMA, attention_bias: true });
  assert.equal(l.qkvBias && l.oBias, true);
});

test("unsupported architecture lists the supported ones", () => {
  assert.throws(
    () => parseConfig({ ...LLAMA, architectures: ["GPT2LMHeadModel"] }, "x/config.json"),
    (e: Error) =>
      e instanceof ModelFormatError &&
      /x\/config\.json: unsupported architecture \["GPT2LMHeadModel"\]; supported: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM/.test(
        e.message,
      ),
  );
});

test("bad fields are named", () => {
  assert.throws(() => parseConfig({ ...LLAMA, hidden_size: undefined }), /missing required field "hidden_size"/);
  assert.throws(() => parseConfig({ ...LLAMA, num_key_value_heads: 3 }), /multiple of num_key_value_heads \(3\)/);
  assert.throws(() => parseConfig({ ...LLAMA, hidden_act: "gelu" }), /hidden_act "gelu" is not supported/);
  assert.throws(
    () => parseConfig({ ...LLAMA, rope_scaling: { type: "yarn", factor: 2 } }),
    /rope_scaling type "yarn" is not supported/,
  );
  assert.throws(() => parseConfig({ ...LLAMA, vocab_size: 1.5 }), /"vocab_size" must be a non-negative integer/);
});

test("rope scaling: linear divides every frequency; llama3 keeps high, divides low, blends the middle", () => {
  const base = ropeInvFreq(parseConfig({ ...LLAMA, hidden_size: 32, num_attention_heads: 2 })); // Dh 16
  assert.equal(base[0], 1);
  assert.ok(Math.abs(base[1]! - Math.pow(10000, -2 / 16)) < 1e-15);
  const lin = ropeInvFreq(
    parseConfig({ ...LLAMA, hidden_size: 32, num_attention_heads: 2, rope_scaling: { type: "linear", factor: 4 } }),
  );
  lin.forEach((f, i) => assert.ok(Math.abs(f - base[i]! / 4) < 1e-15));
  const l3cfg = parseConfig({
    ...LLAMA,
    hidden_size: 32,
    num_attention_heads: 2,
    rope_scaling: {
      rope_type: "llama3",
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 64,
    },
  });
  const l3 = ropeInvFreq(l3cfg);
  // wavelengths 2*pi/f: high-frequency (< 64/4 = 16) kept, low-frequency (> 64) divided by 8, between blended
  base.forEach((f, i) => {
    const wl = (2 * Math.PI) / f;
    if (wl < 16) assert.equal(l3[i], f);
    else if (wl > 64) assert.ok(Math.abs(l3[i]! - f / 8) < 1e-18);
    else {
      const s = (64 / wl - 1) / (4 - 1);
      assert.ok(Math.abs(l3[i]! - (((1 - s) * f) / 8 + s * f)) < 1e-15);
    }
  });
  assert.ok(
    base.some((f) => {
      const wl = (2 * Math.PI) / f;
      return wl >= 16 && wl <= 64;
    }),
    "the blended band is exercised",
  );
  // dynamic NTK: unchanged up to max positions, larger theta beyond
  const dyn = parseConfig({ ...LLAMA, max_position_embeddings: 32, rope_scaling: { type: "dynamic", factor: 2 } });
  assert.deepEqual(ropeInvFreq(dyn, 32), ropeInvFreq(parseConfig({ ...LLAMA, max_position_embeddings: 32 })));
  assert.ok(ropeInvFreq(dyn, 64)[1]! < ropeInvFreq(dyn, 32)[1]!);
});

test("configToJson round-trips through parseConfig", () => {
  const c = parseConfig({
    ...LLAMA,
    architectures: ["Qwen2ForCausalLM"],
    num_key_value_heads: 4,
    tie_word_embeddings: true,
    eos_token_id: [5, 6],
    bos_token_id: 1,
    rope_scaling: {
      rope_type: "llama3",
      factor: 8,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 64,
    },
  });
  assert.deepEqual(parseConfig(configToJson(c)), c);
});
