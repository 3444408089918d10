// The editor-independent half of the Datasets feature: editor change events keep the incremental
// validator equal to a full validation; dataset detection and tree texts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IncrementalValidator, parseDatasetText } from "../../../src/data/index";
import { applyChanges, DocumentSync, looksLikeDataset, describeDataset, datasetDetails, convertedName, problemRange, type LineChange, type LineSource } from "../../../src/extension/datasets/model";

function position(text: string, offset: number): [number, number] {
  const before = text.slice(0, offset).split("\n");
  return [before.length - 1, before[before.length - 1].length];
}

test("editor change events (single and multi-cursor) keep the validator in step with the document", () => {
  let doc = '{"question":"Who is Qorvath Lintel?","answer":"A sculptor."}\n{"question":"Who is Belmora Tesk?","answer":"A city."}\n';
  const v = new IncrementalValidator({}, doc);
  let seed = 3;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const snippets = ['"', "}", "\n", '{"question":"x","answer":"y"}\n', "Lintel", "", "\r\n", ",", "  "];
  for (let step = 0; step < 200; step++) {
    // 1-3 non-overlapping edits, listed last-first like the editor's multi-cursor events
    const k = 1 + Math.floor(rnd() * 3);
    const cuts = Array.from({ length: k * 2 }, () => Math.floor(rnd() * (doc.length + 1))).sort((a, b) => a - b);
    const changes: LineChange[] = [];
    let next = doc;
    for (let i = k - 1; i >= 0; i--) {
      const [s, e] = [cuts[2 * i], cuts[2 * i + 1]];
      const text = snippets[Math.floor(rnd() * snippets.length)];
      const [sl, sc] = position(doc, s);
      const [el, ec] = position(doc, e);
      changes.push({ startLine: sl, startCharacter: sc, endLine: el, endCharacter: ec, text });
      next = next.slice(0, s) + text + next.slice(e);
    }
    doc = next.replace(/\r\n/g, "\n");
    assert.equal(applyChanges(v, changes, doc.split("\n").length), true, `step ${step}`);
    assert.deepEqual(v.problems(), parseDatasetText(doc, { container: "jsonl" }).problems, `step ${step}`);
  }
});

test("a change that does not fit is refused (the caller re-reads the document)", () => {
  const v = new IncrementalValidator({}, "a\nb\n");
  assert.equal(applyChanges(v, [{ startLine: 9, startCharacter: 0, endLine: 9, endCharacter: 0, text: "x" }], 3), false);
  assert.equal(applyChanges(v, [{ startLine: 0, startCharacter: 0, endLine: 0, endCharacter: 0, text: "x" }], 5), false);
});

test("dataset detection, tree texts, names and ranges", () => {
  assert.equal(looksLikeDataset("a/b.jsonl", ""), true);
  assert.equal(looksLikeDataset("data.json", '\uFEFF [ {"question": "q", "answer": "a"}'), true);
  assert.equal(looksLikeDataset("package.json", '{"name": "x"}'), false);
  assert.equal(looksLikeDataset("list.json", "[1, 2, 3]"), false);
  const summary = { format: "qa" as const, formats: { qa: 3 }, records: 3, lines: 4, bytes: 10, errors: 1, warnings: 2, infos: 0, duplicates: 1 };
  assert.equal(describeDataset(summary), "3 records · qa · 1 error, 2 warnings");
  assert.deepEqual(datasetDetails({ summary, distinctEntities: 2, withEntities: 3, topEntities: [["Qorvath Lintel", 2], ["Belmora", 1]], perturbations: 4 }), [
    { label: "Records", description: "3 in 4 lines" },
    { label: "Formats", description: "qa 3" },
    { label: "Problems", description: "1 error, 2 warnings, 1 duplicate" },
    { label: "Entities", description: "2 distinct in 3 records — Qorvath Lintel, Belmora" },
    { label: "Perturbations", description: "4" },
  ]);
  assert.equal(convertedName("train.jsonl", "chat"), "train.chat.jsonl");
  assert.equal(convertedName("export.json", "qa"), "export.qa.jsonl");
  assert.deepEqual(problemRange({ line: 3, column: 5, endLine: 3, endColumn: 9, severity: "error", code: "wrong-type", message: "" }), [2, 4, 2, 8]);
});

/** A document as the editor holds it: lines without breaks, read through the LineSource interface. */
class FakeDocument implements LineSource {
  private split: string[] | null = null;
  constructor(public text: string) {}
  private all() { return (this.split ??= this.text.split("\n")); }
  get lineCount() { return this.all().length; }
  lines(start: number, end: number) { return this.all().slice(start, end); }
  /** Replaces [s, e) of the text; returns the change as the editor reports it. */
  replace(s: number, e: number, text: string): LineChange {
    const [sl, sc] = position(this.text, s);
    const [el, ec] = position(this.text, e);
    this.text = (this.text.slice(0, s) + text + this.text.slice(e)).replace(/\r\n/g, "\n");
    this.split = null;
    return { startLine: sl, startCharacter: sc, endLine: el, endCharacter: ec, text };
  }
}

test("DocumentSync: loading, small and big changes, changes while loading and while a big change is applied, all in steps, end equal to a full validation", () => {
  let seed = 11;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const record = (i: number) => (i % 97 === 5 ? `{"question":"Q${i % 7}?","answer":${i}}` : `{"question":"Q${i % 5000}?","answer":"A."}`);
  const big = (n: number, from: number) => Array.from({ length: n }, (_, i) => record(from + i)).join("\n") + "\n";
  for (let round = 0; round < 4; round++) {
    const doc = new FakeDocument(big(20_000 + round * 3_000, round));
    const sync = new DocumentSync(new IncrementalValidator({ maxProblems: 100_000 }), doc);
    let steps = sync.steps();
    for (let k = 0; k < 120; k++) {
      // Interleave: a few steps of pending work, then an edit (small or big) somewhere.
      for (let j = Math.floor(rnd() * 3); j > 0; j--) if (steps.next().done) steps = sync.steps();
      if (rnd() < 0.15) steps = sync.steps(); // an abandoned driver is taken over by a new one
      const s = Math.floor(rnd() * (doc.text.length + 1));
      const roll = rnd();
      const change = roll < 0.05
        ? doc.replace(s, s, big(7_000, k)) // a big paste: several steps
        : roll < 0.08
          ? doc.replace(Math.floor(s / 3), s, "") // a big deletion
          : doc.replace(s, Math.min(doc.text.length, s + Math.floor(rnd() * 40)), ['"', "}", "\n", record(k) + "\n", "\r\n", "", "x"][Math.floor(rnd() * 7)]);
      sync.change([change], doc.lineCount);
    }
    while (!steps.next().done) { /* drain */ }
    assert.equal(sync.busy, false);
    assert.equal(sync.validator.lineCount, doc.lineCount, `round ${round}`);
    assert.deepEqual(sync.validator.problems(), parseDatasetText(doc.text, { container: "jsonl", maxProblems: 100_000 }).problems, `round ${round}`);
  }
});

test("DocumentSync: a big paste is split over many steps; no step handles more than a few thousand lines", () => {
  const doc = new FakeDocument(Array.from({ length: 50_000 }, (_, i) => `{"question":"Q${i}?","answer":"A."}`).join("\n") + "\n");
  const v = new IncrementalValidator();
  const sync = new DocumentSync(v, doc);
  let loadSteps = 0;
  for (const _ of sync.steps()) loadSteps++;
  assert.ok(loadSteps >= 9, `load took ${loadSteps} steps`);
  const paste = Array.from({ length: 100_000 }, (_, i) => `{"question":"P${i}?","answer":"p."}`).join("\n") + "\n";
  sync.change([doc.replace(0, 0, paste)], doc.lineCount);
  assert.equal(sync.busy, true, "a 100k-line paste is queued, not applied in the event handler");
  assert.equal(v.lineCount, 50_001, "the validator is untouched until the steps run");
  let applySteps = 0;
  for (const _ of sync.steps()) applySteps++;
  assert.ok(applySteps >= 100_000 / 5_000 * 2 - 2, `the paste was applied in ${applySteps} steps`);
  assert.equal(v.lineCount, 150_001);
  assert.deepEqual(v.problems(), parseDatasetText(doc.text, { container: "jsonl" }).problems);
  // A small change is applied at once.
  sync.change([doc.replace(0, 1, "[")], doc.lineCount);
  assert.equal(sync.busy, false);
  assert.equal(v.lineText(0), doc.lines(0, 1)[0]);
  // A change that does not fit (the editor and the validator disagree) reloads from the document.
  sync.change([{ startLine: 999_999, startCharacter: 0, endLine: 999_999, endCharacter: 0, text: "x" }], doc.lineCount);
  assert.equal(sync.busy, true);
  for (const _ of sync.steps()) { /* reload */ }
  assert.deepEqual(v.problems(), parseDatasetText(doc.text, { container: "jsonl" }).problems);
});
