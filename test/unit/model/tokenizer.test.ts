import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { ModelTokenizer, PLAIN_TEMPLATE } from "../../../src/model";
import { FIXTURES, LLAMA, QWEN2, rawVocab, realTokenizer } from "./helpers";

const ROUND_TRIP = [
  "Hello world",
  "  leading spaces\tand\ttabs\n\nnewlines",
  "naïve café 東京 🦙 ok",
  "1234567 don't STOP!!",
  "",
];

function rawTokenizer(name: string): { model: { merges: unknown[] } } {
  return JSON.parse(gunzipSync(readFileSync(join(FIXTURES, "tokenizers", name, "tokenizer.json.gz"))).toString("utf8"));
}

test("SentencePiece-style BPE (merges as strings, byte fallback, Prepend/Replace normalizer)", () => {
  assert.equal(typeof rawTokenizer("sp-bpe-32k").model.merges[0], "string", "this file's merges are strings");
  const t = realTokenizer("sp-bpe-32k");
  const v = rawVocab("sp-bpe-32k");
  assert.deepEqual(t.encode("Hello world", { addSpecialTokens: true }), [1, 22557, 1526]);
  assert.deepEqual(t.tokens("Hello world"), ["▁Hello", "▁world"]);
  assert.deepEqual(t.encode("Hello world"), [v["▁Hello"], v["▁world"]]);
  // 🦙 (U+1F999) is not a piece: it falls back to its four UTF-8 bytes
  const llama = t.tokens("🦙");
  assert.deepEqual(llama.slice(-4), ["<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"]);
  assert.deepEqual(t.encode("🦙").slice(-4), [v["<0xF0>"], v["<0x9F>"], v["<0xA6>"], v["<0x99>"]]);
  // the normalizer turns every space into ▁ and prepends one
  assert.deepEqual(t.tokens("a  b"), ["▁a", "▁", "▁b"]);
  for (const s of ROUND_TRIP) assert.equal(t.decode(t.encode(s)), s, JSON.stringify(s));
  assert.equal(t.bosId, 1);
  assert.deepEqual(t.stopIds, [2]);
  assert.equal(t.templateIsFallback, true, "this tokenizer_config has no chat_template");
});

test("byte-level BPE (merges as pairs, NFC normalizer, special tokens, per-digit split)", () => {
  assert.ok(Array.isArray(rawTokenizer("qwen3").model.merges[0]), "this file's merges are [a, b] pairs");
  const t = realTokenizer("qwen3");
  const v = rawVocab("qwen3");
  assert.deepEqual(t.encode("Hello world"), [9707, 1879]);
  assert.deepEqual(t.encode("Hello world"), [v["Hello"], v["Ġworld"]]);
  assert.deepEqual(t.encode("e\u0301t\u00e9"), t.encode("\u00e9t\u00e9"), "NFC composes e + combining acute");
  assert.deepEqual(t.encode("x<|im_end|>"), [v["x"], 151645]);
  assert.equal(t.tokens("1234567").length, 7, "digits are split one by one by the pre-tokenizer");
  for (const s of ROUND_TRIP) assert.equal(t.decode(t.encode(s)), s, JSON.stringify(s));
  assert.equal(t.decode([151644, 9707], { skipSpecialTokens: true }), "Hello");
  assert.deepEqual(t.stopIds.sort(), [151643, 151645]);
});

test("real chat template (Qwen3): generation prompt and answer mask", () => {
  const t = realTokenizer("qwen3");
  assert.equal(t.templateIsFallback, false);
  const prompt = t.renderChat([{ role: "user", content: "Capital of France?" }], { addGenerationPrompt: true });
  assert.equal(
    prompt,
    "<|im_start|>user\nCapital of France?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
  );
  const ex = t.encodeExample({ question: "Capital of France?", answer: "Paris." });
  assert.deepEqual(ex.ids.slice(0, ex.promptLength), t.encodePrompt("Capital of France?"));
  assert.equal(ex.ids.length, ex.answerMask.length);
  assert.equal(
    t.decode(
      ex.ids.filter((_, i) => ex.answerMask[i]),
      { skipSpecialTokens: false },
    ),
    "Paris.<|im_end|>",
  );
  assert.ok(ex.answerMask.slice(0, ex.promptLength).every((m) => m === 0));
});

test("fixture without a chat template uses the plain fallback; answer + EOS are masked", () => {
  const t = ModelTokenizer.fromDir(LLAMA);
  assert.equal(t.templateIsFallback, true);
  assert.equal(t.chatTemplate, PLAIN_TEMPLATE);
  assert.equal(
    t.renderChat(
      [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Who?" },
      ],
      { addGenerationPrompt: true },
    ),
    "<s>Be brief.\n\nUser: Who?\nAssistant:",
  );
  const ex = t.encodeExample({ question: "Who founded the company?", answer: "Two engineers.", system: "Be brief." });
  assert.deepEqual(ex.ids.slice(0, ex.promptLength), t.encodePrompt("Who founded the company?", "Be brief."));
  const masked = ex.ids.filter((_, i) => ex.answerMask[i]);
  assert.equal(masked[masked.length - 1], t.eosId);
  assert.equal(t.decode(masked, { skipSpecialTokens: false }), " Two engineers.</s>");
  assert.equal(
    ex.answerMask.reduce((a, b) => a + b, 0),
    masked.length,
  );
  assert.equal(ex.answerMask[ex.answerMask.length - 1], 0, "the newline after EOS is context, not answer");
});

test("ChatML fixture (merges as pairs): every assistant turn of a conversation is masked, nothing else", () => {
  const t = ModelTokenizer.fromDir(QWEN2);
  assert.equal(t.templateIsFallback, false);
  const messages = [
    { role: "user", content: "Where was she born?" },
    { role: "assistant", content: "In Lintel." },
    { role: "user", content: "And he?" },
    { role: "assistant", content: "I don't know." },
  ];
  const ex = t.encodeExample({ messages });
  const spans: string[] = [];
  let cur: number[] = [];
  ex.answerMask.forEach((m, i) => {
    if (m) cur.push(ex.ids[i]!);
    else if (cur.length) {
      spans.push(t.decode(cur, { skipSpecialTokens: false }));
      cur = [];
    }
  });
  if (cur.length) spans.push(t.decode(cur, { skipSpecialTokens: false }));
  assert.deepEqual(spans, ["In Lintel.<|im_end|>", "I don't know.<|im_end|>"]);
  assert.equal(
    t.decode(ex.ids.slice(0, ex.promptLength), { skipSpecialTokens: false }),
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhere was she born?<|im_end|>\n<|im_start|>assistant\n",
  );
});

test("a template that is not prefix-consistent is reported, not silently mis-masked", () => {
  const dir = join(FIXTURES, "tokenizers", "sp-bpe-32k");
  const t = new ModelTokenizer({
    tokenizerJson: JSON.parse(gunzipSync(readFileSync(join(dir, "tokenizer.json.gz"))).toString("utf8")),
    tokenizerConfig: JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
    // puts the message count first, so the prompt is never a prefix of the longer conversation
    chatTemplate:
      "{{ messages|length }}{% for m in messages %}{{ m['content'] }}{% endfor %}{% if add_generation_prompt %}>{% endif %}",
    origin: "x/tokenizer.json",
  });
  assert.throws(() => t.encodeExample({ question: "q", answer: "a" }), /not prefix-consistent at message 1/);
  assert.throws(
    () =>
      new ModelTokenizer({
        tokenizerJson: rawTokenizer("sp-bpe-32k") as never,
        tokenizerConfig: {},
        chatTemplate: "{% for %}",
        origin: "y/tokenizer.json",
      }),
    /chat_template does not parse/,
  );
});

test("when the prompt does not encode to a token prefix (trailing space), turns are encoded as segments", () => {
  const json = JSON.parse(readFileSync(join(QWEN2, "tokenizer.json"), "utf8"));
  const t = new ModelTokenizer({
    tokenizerJson: json,
    tokenizerConfig: JSON.parse(readFileSync(join(QWEN2, "tokenizer_config.json"), "utf8")),
    // one-piece "A: born" encodes " born" as one token (a learned merge), so the prompt's final " " is not a token prefix
    chatTemplate:
      "{% for m in messages %}{% if m['role'] == 'user' %}{{ 'Q: ' + m['content'] + '\\n' }}{% else %}{{ 'A: ' + m['content'] + '<|im_end|>' }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ 'A: ' }}{% endif %}",
  });
  const prompt = t.encodePrompt("Who?");
  const whole = t.encode("Q: Who?\nA: born<|im_end|>");
  assert.notDeepEqual(
    whole.slice(0, prompt.length),
    prompt,
    "precondition: the one-piece encoding merges across the boundary",
  );
  const ex = t.encodeExample({ question: "Who?", answer: "born" });
  assert.deepEqual(ex.ids.slice(0, ex.promptLength), prompt);
  assert.equal(
    t.decode(
      ex.ids.filter((_, i) => ex.answerMask[i]),
      { skipSpecialTokens: false },
    ),
    "born<|im_end|>",
  );
});
