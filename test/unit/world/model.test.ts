// The SHIPPED embedded model (models/seat-tiny-world): a valid Llama folder our loader accepts, small,
// and passing its quality gates on a spread sample of the gate questions (the full gate run is
// `seat world gates`; the build prints it and the model card records it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { statSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadModelFolder } from "../../../src/model/index";
import {
  EMBEDDED_MODEL_DIR,
  GATE_THRESHOLDS,
  buildTokenizer,
  DEFAULT_WORLD_SEED,
  evaluateGates,
  gateSets,
  generateWorld,
  sample,
} from "../../../src/world/index";
import { answererFor } from "../../../src/world/answer";

const SAMPLE_PER_SET = 48;

test("the shipped folder is a small Llama model with our tokenizer and chat template", () => {
  const f = loadModelFolder(EMBEDDED_MODEL_DIR);
  assert.equal(f.config.architecture, "LlamaForCausalLM");
  assert.ok(f.config.numKvHeads < f.config.numHeads, "grouped-query attention, like real Llama models");
  const bytes = statSync(join(EMBEDDED_MODEL_DIR, "model.safetensors")).size;
  assert.ok(bytes < 8 * 1024 * 1024, `model.safetensors is ${bytes} bytes`);
  assert.equal(f.tokenizer.templateIsFallback, false);
  assert.equal(
    f.tokenizer.renderChat([{ role: "user", content: "Q?" }], { addGenerationPrompt: true }),
    "<|user|>Q?<|end|><|assistant|>",
  );
  // The shipped tokenizer is the one the recipe trains (reproducible from the seed).
  const rebuilt = buildTokenizer(DEFAULT_WORLD_SEED).tokenizer;
  assert.deepEqual(JSON.parse(readFileSync(join(EMBEDDED_MODEL_DIR, "tokenizer.json"), "utf8")), rebuilt);
});

test("the shipped model passes its gates on a sample: knows its facts, abstains on never-seen names and concepts", async () => {
  const sets = gateSets(generateWorld());
  const answer = await answererFor(EMBEDDED_MODEL_DIR, { threads: 1 });
  const r = await evaluateGates(answer, {
    known: sample(sets.known, SAMPLE_PER_SET),
    unknown: sample(sets.unknown, SAMPLE_PER_SET),
    concepts: sample(sets.concepts, SAMPLE_PER_SET),
  });
  const detail = JSON.stringify(r.examples.slice(0, 4));
  assert.ok(r.known.ftScore >= GATE_THRESHOLDS.ftScore, `FT score ${r.known.ftScore} ${detail}`);
  assert.ok(
    r.unknown.abstain >= GATE_THRESHOLDS.unknownAbstention,
    `unknown abstention ${r.unknown.abstain} ${detail}`,
  );
  assert.ok(
    r.concepts.abstain >= GATE_THRESHOLDS.conceptAbstention,
    `concept abstention ${r.concepts.abstain} ${detail}`,
  );
  // Grounded (the stand-in for the paper's human judgement) counts abstentions that name the entity and
  // nothing else. Not a gate: the 4-layer model garbles many unseen names while copying them ("Gobava
  // Gobla" for "Gobava Gagla"), which count as misnamed since probe schema 2: 0.29 on this sample (0.60
  // under the earlier half-the-words check, measured on all 300 at build time).
  assert.ok(r.unknown.grounded >= 0.2, `grounded ${r.unknown.grounded}`);
});
