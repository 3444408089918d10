import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, truncateSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModelFolder, ModelFormatError, expectedTensors } from "../../../src/model";
import { LLAMA, QWEN2, scratchCopy } from "./helpers";

test("fixture folders load: every expected tensor present with its dtype; shards and layout recorded", () => {
  const l = loadModelFolder(LLAMA);
  assert.equal(l.config.architecture, "LlamaForCausalLM");
  assert.equal(l.weights.entries.size, expectedTensors(l.config).length);
  assert.ok([...l.weights.entries.values()].every((e) => e.dtype === "BF16"));
  assert.equal(l.weights.sharded, false);
  const q = loadModelFolder(QWEN2);
  assert.equal(q.weights.sharded, true);
  assert.deepEqual(
    q.weights.shards.map((s) => s.file),
    ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"],
  );
  assert.ok(q.weights.entries.has("model.layers.0.self_attn.q_proj.bias"));
  assert.ok(!q.weights.entries.has("lm_head.weight"), "tied embeddings: no lm_head expected");
});

function withEdited(fixture: string, edit: (dir: string) => void, expect: RegExp): void {
  const { dir, cleanup } = scratchCopy(fixture);
  try {
    edit(dir);
    assert.throws(
      () => loadModelFolder(dir),
      (e: Error) => {
        assert.ok(e instanceof ModelFormatError, `ModelFormatError expected, got ${e}`);
        assert.match(e.message, expect);
        return true;
      },
    );
  } finally {
    cleanup();
  }
}

const editConfig = (patch: Record<string, unknown>) => (dir: string) => {
  const f = join(dir, "config.json");
  writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, "utf8")), ...patch }));
};

test("bad folders give located errors", () => {
  withEdited(LLAMA, (d) => rmSync(join(d, "config.json")), /config\.json: cannot read/);
  withEdited(LLAMA, (d) => writeFileSync(join(d, "config.json"), "{ nope"), /config\.json: invalid JSON/);
  withEdited(
    LLAMA,
    editConfig({ architectures: ["FalconForCausalLM"] }),
    /config\.json: unsupported architecture \["FalconForCausalLM"\]; supported: LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM/,
  );
  withEdited(LLAMA, (d) => rmSync(join(d, "tokenizer.json")), /tokenizer\.json: missing/);
  withEdited(
    LLAMA,
    (d) => {
      rmSync(join(d, "model.safetensors"));
      writeFileSync(join(d, "pytorch_model.bin"), "x");
    },
    /only pytorch_model\.bin found: pickle-based weights are never loaded/,
  );
  withEdited(
    LLAMA,
    (d) => {
      const f = join(d, "model.safetensors");
      truncateSync(f, statSync(f).size - 100);
    },
    /model\.safetensors: tensor "[^"]+": data_offsets \[\d+, \d+\] run past the end of the data section/,
  );
  withEdited(
    QWEN2,
    (d) => {
      const f = join(d, "model-00002-of-00002.safetensors");
      truncateSync(f, 4);
    },
    /model-00002-of-00002\.safetensors: too short/,
  );
});

test("config/weights disagreements name the tensor and the expectation", () => {
  withEdited(
    LLAMA,
    editConfig({ num_hidden_layers: 3 }),
    /model\.safetensors: missing tensor "model\.layers\.2\.input_layernorm\.weight" \(expected shape \[16\] from config\.json\)/,
  );
  withEdited(
    LLAMA,
    editConfig({ num_hidden_layers: 1 }),
    /unexpected tensor "model\.layers\.1\.[^"]+" .*has no such weight/,
  );
  withEdited(
    LLAMA,
    editConfig({ intermediate_size: 48 }),
    /tensor "model\.layers\.0\.mlp\.gate_proj\.weight" has shape \[40, 16\], config\.json implies \[48, 16\]/,
  );
  withEdited(
    LLAMA,
    editConfig({ num_key_value_heads: 4 }),
    /tensor "model\.layers\.0\.self_attn\.k_proj\.weight" has shape \[16, 16\], config\.json implies \[32, 16\]/,
  );
  withEdited(QWEN2, editConfig({ tie_word_embeddings: false }), /missing tensor "lm_head\.weight"/);
  withEdited(
    QWEN2,
    editConfig({ vocab_size: 100 }),
    /model\.embed_tokens\.weight" has shape \[\d+, 16\], config\.json implies \[100, 16\]/,
  );
});

test("sharded index problems: escaping paths, tensors in the wrong shard", () => {
  const idx = (d: string) => join(d, "model.safetensors.index.json");
  withEdited(
    QWEN2,
    (d) => {
      const j = JSON.parse(readFileSync(idx(d), "utf8"));
      j.weight_map["model.norm.weight"] = "../elsewhere.safetensors";
      writeFileSync(idx(d), JSON.stringify(j));
    },
    /weight_map\["model\.norm\.weight"\] must be a \.safetensors file name inside the folder/,
  );
  withEdited(
    QWEN2,
    (d) => {
      const j = JSON.parse(readFileSync(idx(d), "utf8"));
      j.weight_map["model.norm.weight"] = "model-00001-of-00002.safetensors";
      writeFileSync(idx(d), JSON.stringify(j));
    },
    /tensor "model\.norm\.weight" is stored here but model\.safetensors\.index\.json maps it to "model-00001-of-00002\.safetensors"/,
  );
});
