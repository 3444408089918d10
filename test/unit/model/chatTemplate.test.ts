// Chat templates render under a budget: a template is untrusted data from the model folder, and a
// runaway one must fail with a located ModelFormatError instead of freezing training or the editor.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";
import { loadModelFolder, ModelFormatError } from "../../../src/model";
import { defaultRenderBudget, renderWithBudget, TemplateBudgetError } from "../../../src/model/chatTemplate";
import { FIXTURES, QWEN2, scratchCopy } from "./helpers";

const EXAMPLE = { question: "Who is Qorvath Lintel?", answer: "A glassblower." };

function withTemplate(
  tpl: string,
  file: "tokenizer_config.json" | "chat_template.jinja",
  fn: (dir: string) => void,
): void {
  const { dir, cleanup } = scratchCopy(QWEN2);
  try {
    if (file === "chat_template.jinja") writeFileSync(join(dir, file), tpl);
    else {
      const p = join(dir, file);
      const cfg = JSON.parse(readFileSync(p, "utf8"));
      cfg.chat_template = tpl;
      writeFileSync(p, JSON.stringify(cfg));
    }
    fn(dir);
  } finally {
    cleanup();
  }
}

/** Runs `fn`, which must throw a budget ModelFormatError naming `file`, within `ms`. */
function refusedWithin(fn: () => unknown, file: string, ms: number): ModelFormatError {
  const t0 = performance.now();
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  const took = performance.now() - t0;
  assert.ok(
    err instanceof ModelFormatError,
    `expected a ModelFormatError, got ${String((err as Error)?.stack ?? err)}`,
  );
  assert.equal(err.file, file);
  assert.match(err.message, /render budget/);
  assert.ok(took < ms, `refused after ${took.toFixed(0)} ms`);
  return err;
}

test("nested loops of 10^8 passes stop with an error naming tokenizer_config.json", () => {
  withTemplate(
    "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}{% for m in messages %}{{ m.content }}{% endfor %}",
    "tokenizer_config.json",
    (dir) => {
      const folder = loadModelFolder(dir);
      const e = refusedWithin(() => folder.tokenizer.encodeExample(EXAMPLE), join(dir, "tokenizer_config.json"), 8_000);
      assert.match(e.message, /steps/);
    },
  );
});

test("a template read from chat_template.jinja is named in its errors", () => {
  withTemplate("{% for i in range(10**9) %}x{% endfor %}", "chat_template.jinja", (dir) => {
    const folder = loadModelFolder(dir);
    // range() is refused before it allocates a billion numbers, so this is quick.
    const e = refusedWithin(() => folder.tokenizer.encodePrompt("Who?"), join(dir, "chat_template.jinja"), 1_000);
    assert.match(e.message, /range\(\) of 1000000000 items/);
  });
});

test("lists and strings that double in a loop are stopped at the size limits", () => {
  const items = { messages: [] };
  // Step counting alone would stop these too (lists cost their length); lift it to see the size limits.
  const budget = { ...defaultRenderBudget(0, 0), maxSteps: 1e12 };
  assert.throws(
    () =>
      renderWithBudget(
        new Template("{% set ns = namespace(a=[1]) %}{% for i in range(40) %}{% set ns.a = ns.a + ns.a %}{% endfor %}"),
        items,
        budget,
      ),
    (e: unknown) => e instanceof TemplateBudgetError && /list of \d+ items/.test(e.message),
  );
  assert.throws(
    () =>
      renderWithBudget(
        new Template("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}"),
        items,
        budget,
      ),
    (e: unknown) => e instanceof TemplateBudgetError && /text of \d+ characters/.test(e.message),
  );
  // The wall-clock backstop: a tiny time budget stops even a modest loop.
  assert.throws(
    () =>
      renderWithBudget(new Template("{% for i in range(50000) %}{{ i }}{% endfor %}"), items, {
        ...budget,
        maxMillis: 0,
      }),
    (e: unknown) => e instanceof TemplateBudgetError && /longer than 0 ms/.test(e.message),
  );
});

test("the budget leaves real templates alone: same text as the library's own render, far below the limits", () => {
  const qwen3 = JSON.parse(readFileSync(join(FIXTURES, "tokenizers", "qwen3", "tokenizer_config.json"), "utf8"))
    .chat_template as string;
  const qwen2 = JSON.parse(readFileSync(join(QWEN2, "tokenizer_config.json"), "utf8")).chat_template as string;
  const messages = [{ role: "system", content: "Be brief." }];
  for (let i = 0; i < 40; i++)
    messages.push({ role: i % 2 ? "assistant" : "user", content: `turn ${i}: ${"word ".repeat(i)}` });
  for (const tpl of [
    qwen3,
    qwen2,
    "{{ range(3)|join(',') }} {{ range(1, 10, 3)|join(',') }} {{ range(5, 0, -2)|join(',') }} {{ true }} {{ None is none }}",
  ]) {
    const t = new Template(tpl);
    for (const add_generation_prompt of [false, true]) {
      const items = { messages, add_generation_prompt, enable_thinking: false, bos_token: "<s>", eos_token: "</s>" };
      const tight = { ...defaultRenderBudget(0, messages.length), maxSteps: 20_000 };
      assert.equal(renderWithBudget(t, items, tight), t.render(items));
    }
  }
  // raise_exception still reports the template's own message.
  assert.throws(
    () =>
      renderWithBudget(
        new Template("{{ raise_exception('only user/assistant roles') }}"),
        {},
        defaultRenderBudget(0, 0),
      ),
    /only user\/assistant roles/,
  );
});
