// The editor-independent half of the Datasets feature: editor change events keep the incremental
// validator equal to a full validation; dataset detection and tree texts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IncrementalValidator, parseDatasetText } from "../../../src/data/index";
import { applyChanges, looksLikeDataset, describeDataset, datasetDetails, convertedName, problemRange, type LineChange } from "../../../src/extension/datasets/model";

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
