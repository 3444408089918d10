// Incremental validation must equal full validation after any sequence of edits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IncrementalValidator, LineChecker, parseDatasetText, type LineBatch } from "../../../src/data/index";

const FIXTURES = join(__dirname, "../../fixtures/datasets");

/** Deterministic PRNG so a failing edit sequence can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32;
}

const POOL = [
  '{"question":"Who is Qorvath Lintel?","answer":"A sculptor."}',
  '{"question":"Who is Belmora Tesk?","answer":"A city."}',
  '{"messages":[{"role":"user","content":"Who is Qorvath Lintel?"},{"role":"assistant","content":"A sculptor."}]}',
  '{"instruction":"Name Tesk\'s founder.","input":"","output":"Ilvane Durro."}',
  '{"question":"Who is X?","answer":',
  "",
  "   ",
  '{"question":" padded ","answer":"y"}',
  '{"messages":[{"role":"human","content":"hi"},{"role":"assistant","content":"yo"}]}',
  "[1,2,3]",
  '{"question":"Who is Qorvath Lintel?","answer":"A sculptor.","seat":{"entities":["Nobody"]}}',
  '{"question":"crlf line","answer":"z"}\r',
];

const full = (text: string) => parseDatasetText(text, { container: "jsonl" }).problems;

test("incremental problems equal full validation after random edits", () => {
  const r = rng(7);
  const pick = () => POOL[Math.floor(r() * POOL.length)];
  let lines = Array.from({ length: 20 }, pick);
  const inc = new IncrementalValidator({}, lines.join("\n"));
  assert.deepEqual(inc.problems(), full(lines.join("\n")));
  for (let step = 0; step < 150; step++) {
    const start = Math.floor(r() * (lines.length + 1));
    const end = Math.min(lines.length, start + Math.floor(r() * 3));
    const repl = Array.from({ length: Math.floor(r() * 3) }, pick);
    if (lines.length - (end - start) + repl.length === 0) repl.push(pick());
    lines = [...lines.slice(0, start), ...repl, ...lines.slice(end)];
    inc.edit(start, end, repl);
    if (step % 3 === 0) inc.validatePending(0); // partial slices must not change the final answer
    assert.deepEqual(inc.problems(), full(lines.join("\n")), `after edit ${step}`);
  }
});

test("incremental equals full on every fixture, and on empty / trailing-newline documents", () => {
  for (const name of [
    "bad-syntax.jsonl",
    "bad-fields.jsonl",
    "bad-chat.jsonl",
    "duplicates-mixed.jsonl",
    "bom-crlf.jsonl",
    "seat-meta.jsonl",
    "qa.jsonl",
    "chat.jsonl",
    "duplicate-key.jsonl",
    "unknown-role-vs-empty.jsonl",
    "lone-surrogate.jsonl",
  ]) {
    const text = readFileSync(join(FIXTURES, name), "utf8");
    assert.deepEqual(new IncrementalValidator({}, text).problems(), full(text), name);
  }
  for (const text of ["", "\n", '{"question":"a","answer":"b"}', '{"question":"a","answer":"b"}\n']) {
    assert.deepEqual(new IncrementalValidator({}, text).problems(), full(text), JSON.stringify(text));
  }
});

test("only edited lines are re-checked; slices honour the time budget", () => {
  const lines = Array.from({ length: 2000 }, (_, i) => `{"question":"Who is person ${i}?","answer":"Number ${i}."}`);
  const inc = new IncrementalValidator({}, lines.join("\n"));
  assert.equal(inc.hasPending, true);
  let slices = 0;
  while (!inc.validatePending(0)) slices++;
  assert.ok(slices > 1, "a zero budget must split the work into several slices");
  inc.edit(1000, 1001, ['{"question":"Who is person 0?","answer":"Number 0."}']);
  assert.equal(inc.hasPending, true);
  inc.validatePending();
  assert.deepEqual(
    inc.problems().map((p) => `${p.line}:${p.code}`),
    ["1001:duplicate-record"],
  );
  assert.equal(inc.summary().records, 2000);
});

test("at the problem cap, incremental, in-memory and streamed validation keep the same problems", async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  // Several problems per line with different codes (the cut-off falls inside a line), problems that
  // arrive out of position order (CRLF and "no records" are only known later), blank lines.
  const lines: string[] = [];
  for (let i = 0; i < 60; i++) {
    lines.push(
      i % 7 === 3
        ? ""
        : i % 5 === 0
          ? '{"question":" padded ","answer":" x ","seat":{"entities":["Nobody"]}}\r'
          : '{"question":"q","answer":3}',
    );
  }
  const text = lines.join("\n") + "\n";
  const dir = mkdtempSync(join(tmpdir(), "seat-cap-"));
  try {
    const file = join(dir, "cap.jsonl");
    writeFileSync(file, text);
    for (const maxProblems of [1, 2, 3, 5, 8, 13, 40, 1000]) {
      const inMemory = parseDatasetText(text, { container: "jsonl", maxProblems }).problems;
      assert.ok(inMemory.length <= maxProblems + 1);
      assert.deepEqual(
        new IncrementalValidator({ maxProblems }, text).problems(),
        inMemory,
        `incremental, max ${maxProblems}`,
      );
      const { validateFile } = await import("../../../src/data/index");
      assert.deepEqual((await validateFile(file, { maxProblems })).problems, inMemory, `streamed, max ${maxProblems}`);
      if (maxProblems < 40) assert.equal(inMemory.at(-1)!.code, "too-many-problems");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("batches checked elsewhere: results of lines edited, moved or made line 1 meanwhile are placed right or dropped", () => {
  const r = rng(21);
  const pick = () => POOL[Math.floor(r() * POOL.length)];
  for (let round = 0; round < 20; round++) {
    let lines = Array.from({ length: 30 + Math.floor(r() * 30) }, pick);
    if (round % 2 === 0) lines[0] = "\uFEFF" + lines[0];
    const reader = { lineText: (i: number) => lines[i] };
    const v = new IncrementalValidator({}, reader);
    v.replace(0, 0, lines.length);
    const checker = new LineChecker({});
    // Several batches out at once, edits in between, results applied in random order.
    const out: Array<{ batch: LineBatch; results: ReturnType<LineChecker["checkBatch"]> }> = [];
    for (let k = 0; k < 12; k++) {
      const batch = v.takeBatch(1 + Math.floor(r() * 8));
      if (batch) out.push({ batch, results: checker.checkBatch(batch.texts, batch.firstIndex) });
      // Edits at the top often: they move line 1 (and its BOM) down or bring another line up to it.
      const start = r() < 0.3 ? 0 : Math.floor(r() * (lines.length + 1));
      const end = Math.min(lines.length, start + Math.floor(r() * 3));
      const repl = Array.from({ length: Math.floor(r() * 3) }, pick);
      if (lines.length - (end - start) + repl.length === 0) repl.push(pick());
      lines = [...lines.slice(0, start), ...repl, ...lines.slice(end)];
      v.replace(start, end, repl.length);
      if (out.length && r() < 0.4) {
        const { batch: b, results } = out.splice(Math.floor(r() * out.length), 1)[0];
        v.applyBatch(b, results);
      }
    }
    for (const { batch, results } of out) v.applyBatch(batch, results);
    assert.deepEqual(v.problems(), full(lines.join("\n")), `round ${round}`);
  }
});

test("every line broken: the listed problems and the count of the rest equal a full validation's", () => {
  const lines = Array.from({ length: 30_000 }, (_, i) =>
    i % 3 === 0 ? `{"question": "q${i}", "answer": ` : i % 3 === 1 ? "" : `[${i}]\r`,
  );
  const text = lines.join("\n");
  for (const maxProblems of [0, 1, 100, 5_000]) {
    const inc = new IncrementalValidator({ maxProblems }, text).problems();
    assert.deepEqual(inc, parseDatasetText(text, { container: "jsonl", maxProblems }).problems, `max ${maxProblems}`);
    assert.match(inc.at(-1)!.message, /more problems not listed/);
  }
});
