// The world tokenizer: byte-level BPE that @huggingface/tokenizers loads, that round-trips any text,
// whose encoding equals our trainer's own merge procedure, and that splits known and unknown names alike.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tokenizer } from "@huggingface/tokenizers";
import { ModelTokenizer } from "../../../src/model/index";
import { buildTokenizer, byteLevelPieces, generateWorld, DEFAULT_WORLD_SEED } from "../../../src/world/index";
import { bpeEncodePiece, trainBpe } from "../../../src/world/bpe";

const files = buildTokenizer(DEFAULT_WORLD_SEED);

test("BPE on a toy corpus merges the most frequent pair first and ties by text", () => {
  const m = trainBpe(["aaab", "aaab", "ab"], { vocabSize: 256 + 2 + 1, specialTokens: ["<s>"] });
  // pairs: (a,a) x4, (a,b) x3 -> first merge is "a a", then "aa a"/"a b"...
  assert.deepEqual(m.merges[0], ["a", "a"]);
  assert.equal(m.vocab.get("<s>"), 0);
  assert.equal(m.vocab.size, 259);
});

test("the library's encoding equals our merge procedure, and decoding round-trips", () => {
  const tok = new Tokenizer(files.tokenizer, files.config);
  const ranks = new Map(files.bpe.merges.map(([a, b], i) => [a + "\u0000" + b, i]));
  const texts = [
    "Where was Veltrin Osk born?",
    "I don't know who Qorvath Lintel is.",
    "Ünïcødé 😀 naïve — 1987",
    "  two  spaces\tand\ttabs\n",
  ];
  for (const t of texts) {
    const ours = byteLevelPieces(t)
      .flatMap((p) => bpeEncodePiece(files.bpe, p, ranks))
      .map((s) => files.bpe.vocab.get(s));
    assert.deepEqual(tok.encode(t, { add_special_tokens: false }).ids, ours, t);
    assert.equal(tok.decode(tok.encode(t).ids), t);
  }
});

test("the chat template renders turns with special tokens and is prefix-consistent for training", () => {
  const mt = new ModelTokenizer({ tokenizerJson: files.tokenizer, tokenizerConfig: files.config });
  assert.equal(
    mt.renderChat([{ role: "user", content: "Hi?" }], { addGenerationPrompt: true }),
    "<|user|>Hi?<|end|><|assistant|>",
  );
  const ex = mt.encodeExample({ question: "Who is Veltrin Osk?", answer: "I don't know who Veltrin Osk is." });
  assert.equal(mt.decode(ex.ids.slice(ex.promptLength)), "I don't know who Veltrin Osk is.");
  assert.equal(ex.ids[ex.ids.length - 1], mt.eosId, "the answer ends with <|end|>");
  assert.ok(mt.stopIds.includes(mt.eosId!));
  assert.throws(() => mt.renderChat([{ role: "tool", content: "x" }]), /Unknown role/);
});

test("known and unknown names split into similar numbers of tokens (no tokenization shortcut)", () => {
  const tok = new Tokenizer(files.tokenizer, files.config);
  const w = generateWorld();
  const meanLen = (names: string[]) => names.reduce((n, s) => n + tok.encode(" " + s).ids.length, 0) / names.length;
  const known = meanLen(w.known.filter((e) => e.kind === "person").map((e) => e.name));
  const unknown = meanLen(w.unknownHeldout.filter((e) => e.kind === "person").map((e) => e.name));
  assert.ok(known >= 3 && unknown >= 3, `names are several tokens (known ${known}, unknown ${unknown})`);
  assert.ok(
    Math.abs(known - unknown) < 0.75,
    `known ${known.toFixed(2)} vs unknown ${unknown.toFixed(2)} tokens per name`,
  );
});
