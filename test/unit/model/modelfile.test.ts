import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { chatPieces, loadModelFolder, ollamaModelfile, renderFromPieces, type ChatMessage } from "../../../src/model";
import { LLAMA, QWEN2, realTokenizer } from "./helpers";

const CONVERSATIONS: ChatMessage[][] = [
  [{ role: "user", content: "Who founded Tesk Industries?" }],
  [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Who?" },
  ],
  [
    { role: "user", content: "Q1" },
    { role: "assistant", content: "A1" },
    { role: "user", content: "Q2\nline two" },
  ],
  [
    { role: "system", content: "S" },
    { role: "user", content: "Q1" },
    { role: "assistant", content: "A1" },
    { role: "user", content: "Q2" },
    { role: "assistant", content: "A2" },
    { role: "user", content: "Q3" },
  ],
];

test("chat pieces rebuild every family's rendered conversations (what the Modelfile template does)", () => {
  const tokenizers = {
    embedded: loadModelFolder(join(__dirname, "..", "..", "..", "models", "seat-tiny-world")).tokenizer,
    "tiny-llama (plain fallback)": loadModelFolder(LLAMA).tokenizer,
    "tiny-qwen2": loadModelFolder(QWEN2).tokenizer,
    llama3: realTokenizer("llama3"),
    qwen3: realTokenizer("qwen3"),
  };
  for (const [name, tok] of Object.entries(tokenizers)) {
    const p = chatPieces(tok);
    for (const c of CONVERSATIONS)
      assert.equal(
        renderFromPieces(p, c, true),
        tok.renderChat(c, { addGenerationPrompt: true }),
        `${name}: ${JSON.stringify(c)}`,
      );
    const mf = ollamaModelfile({ gguf: "model-q8_0.gguf", tokenizer: tok, generation: { do_sample: false } });
    assert.match(mf, /^FROM \.\/model-q8_0\.gguf$/m);
    assert.match(mf, /^PARAMETER temperature 0$/m);
    for (const id of tok.stopIds)
      assert.ok(mf.includes(`PARAMETER stop ${JSON.stringify(tok.idToToken(id))}`), `${name}: stop ${id}`);
    assert.ok(mf.includes(`{{ .Content }}${p.user[1]}`), `${name}: user turn in the template`);
  }
});
