// Incremental validation must equal full validation after any sequence of edits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { IncrementalValidator, parseDatasetText } from "../../../src/data/index";

const FIXTURES = join(__dirname, "../../fixtures/datasets");

/** Deterministic PRNG so a failing edit sequence can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
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
  '[1,2,3]',
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
  for (const name of ["bad-syntax.jsonl", "bad-fields.jsonl", "bad-chat.jsonl", "duplicates-mixed.jsonl", "bom-crlf.jsonl", "seat-meta.jsonl", "qa.jsonl", "chat.jsonl"]) {
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
  assert.deepEqual(inc.problems().map((p) => `${p.line}:${p.code}`), ["1001:duplicate-record"]);
  assert.equal(inc.summary().records, 2000);
});
