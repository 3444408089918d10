// The editor-independent half of the Datasets feature: editor change events keep the incremental
// validator equal to a full validation; dataset detection and tree texts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDatasetText } from "../../../src/data/index";
import {
  applyChanges,
  countLineBreaks,
  DocumentSync,
  looksLikeDataset,
  describeDataset,
  datasetDetails,
  convertedName,
  problemRange,
  type LineChange,
  type LineSource,
} from "../../../src/extension/datasets/model";

function position(text: string, offset: number): [number, number] {
  const before = text.slice(0, offset).split("\n");
  return [before.length - 1, before[before.length - 1].length];
}

/** A document as the editor holds it: lines without breaks, read one at a time (LineSource); counts reads. */
class FakeDocument implements LineSource {
  private split: string[] | null = null;
  reads = 0;
  constructor(public text: string) {}
  private all() {
    return (this.split ??= this.text.split("\n"));
  }
  get lineCount() {
    return this.all().length;
  }
  lineText(i: number) {
    this.reads++;
    return this.all()[i];
  }
  /** Replaces [s, e) of the text; returns the change as the editor reports it. */
  replace(s: number, e: number, text: string): LineChange {
    const [sl, sc] = position(this.text, s);
    const [el, ec] = position(this.text, e);
    this.text = (this.text.slice(0, s) + text + this.text.slice(e)).replace(/\r\n/g, "\n");
    this.split = null;
    return { startLine: sl, startCharacter: sc, endLine: el, endCharacter: ec, text };
  }
}

test("editor change events (single and multi-cursor) keep the validator in step with the document", () => {
  const doc = new FakeDocument(
    '{"question":"Who is Qorvath Lintel?","answer":"A sculptor."}\n{"question":"Who is Belmora Tesk?","answer":"A city."}\n',
  );
  const sync = new DocumentSync({}, doc);
  const v = sync.validator;
  let seed = 3;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const snippets = ['"', "}", "\n", '{"question":"x","answer":"y"}\n', "Lintel", "", "\r\n", ",", "  "];
  for (let step = 0; step < 200; step++) {
    // 1-3 non-overlapping edits, listed last-first like the editor's multi-cursor events; each change's
    // positions are in the document as the earlier changes of the batch left it.
    const k = 1 + Math.floor(rnd() * 3);
    const cuts = Array.from({ length: k * 2 }, () => Math.floor(rnd() * (doc.text.length + 1))).sort((a, b) => a - b);
    const changes: LineChange[] = [];
    for (let i = k - 1; i >= 0; i--)
      changes.push(doc.replace(cuts[2 * i], cuts[2 * i + 1], snippets[Math.floor(rnd() * snippets.length)]));
    assert.equal(applyChanges(v, changes, doc.lineCount), true, `step ${step}`);
    assert.deepEqual(v.problems(), parseDatasetText(doc.text, { container: "jsonl" }).problems, `step ${step}`);
  }
});

test("a change that does not fit is refused; DocumentSync then re-reads the document", () => {
  const doc = new FakeDocument("a\nb\n");
  const sync = new DocumentSync({}, doc);
  assert.equal(
    applyChanges(sync.validator, [{ startLine: 9, startCharacter: 0, endLine: 9, endCharacter: 0, text: "x" }], 3),
    false,
  );
  const fresh = new DocumentSync({}, doc);
  assert.equal(
    applyChanges(fresh.validator, [{ startLine: 0, startCharacter: 0, endLine: 0, endCharacter: 0, text: "x" }], 5),
    false,
  );
  // The editor and the validator disagree: the whole document is marked for checking again.
  sync.change([{ startLine: 999_999, startCharacter: 0, endLine: 999_999, endCharacter: 0, text: "x" }], doc.lineCount);
  assert.equal(sync.validator.lineCount, doc.lineCount);
  assert.deepEqual(sync.validator.problems(), parseDatasetText(doc.text, { container: "jsonl" }).problems);
});

test("line breaks are counted as the editor splits lines (LF, CRLF, lone CR)", () => {
  assert.equal(countLineBreaks(""), 0);
  assert.equal(countLineBreaks("abc"), 0);
  assert.equal(countLineBreaks("a\nb\n"), 2);
  assert.equal(countLineBreaks("a\r\nb\r\n"), 2);
  assert.equal(countLineBreaks("a\rb\r\n\nc\r"), 4);
});

test("dataset detection, tree texts, names and ranges", () => {
  assert.equal(looksLikeDataset("a/b.jsonl", ""), true);
  assert.equal(looksLikeDataset("data.json", '\uFEFF [ {"question": "q", "answer": "a"}'), true);
  assert.equal(looksLikeDataset("package.json", '{"name": "x"}'), false);
  assert.equal(looksLikeDataset("list.json", "[1, 2, 3]"), false);
  const summary = {
    format: "qa" as const,
    formats: { qa: 3 },
    records: 3,
    lines: 4,
    bytes: 10,
    errors: 1,
    warnings: 2,
    infos: 0,
    duplicates: 1,
  };
  assert.equal(describeDataset(summary), "3 records · qa · 1 error, 2 warnings");
  assert.deepEqual(
    datasetDetails({
      summary,
      distinctEntities: 2,
      withEntities: 3,
      topEntities: [
        ["Qorvath Lintel", 2],
        ["Belmora", 1],
      ],
      perturbations: 4,
    }),
    [
      { label: "Records", description: "3 in 4 lines" },
      { label: "Formats", description: "qa 3" },
      { label: "Problems", description: "1 error, 2 warnings, 1 duplicate" },
      { label: "Entities", description: "2 distinct in 3 records — Qorvath Lintel, Belmora" },
      { label: "Perturbations", description: "4" },
    ],
  );
  assert.equal(convertedName("train.jsonl", "chat"), "train.chat.jsonl");
  assert.equal(convertedName("export.json", "qa"), "export.qa.jsonl");
  assert.deepEqual(
    problemRange({ line: 3, column: 5, endLine: 3, endColumn: 9, severity: "error", code: "wrong-type", message: "" }),
    [2, 4, 2, 8],
  );
});

test("DocumentSync: loading, small and big changes, validation abandoned half-way, all end equal to a full validation", () => {
  let seed = 11;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const record = (i: number) =>
    i % 97 === 5 ? `{"question":"Q${i % 7}?","answer":${i}}` : `{"question":"Q${i % 5000}?","answer":"A."}`;
  const big = (n: number, from: number) => Array.from({ length: n }, (_, i) => record(from + i)).join("\n") + "\n";
  for (let round = 0; round < 4; round++) {
    const doc = new FakeDocument(big(20_000 + round * 3_000, round));
    const sync = new DocumentSync({ maxProblems: 100_000 }, doc);
    for (let k = 0; k < 120; k++) {
      // Interleave: a few steps of a validation pass (abandoned at the next change, as the editor
      // adapter does), then an edit (small or big) somewhere.
      const steps = sync.validator.problemSteps();
      for (let j = Math.floor(rnd() * 4); j > 0; j--) if (steps.next().done) break;
      const s = Math.floor(rnd() * (doc.text.length + 1));
      const roll = rnd();
      const change =
        roll < 0.05
          ? doc.replace(s, s, big(7_000, k)) // a big paste
          : roll < 0.08
            ? doc.replace(Math.floor(s / 3), s, "") // a big deletion
            : doc.replace(
                s,
                Math.min(doc.text.length, s + Math.floor(rnd() * 40)),
                ['"', "}", "\n", record(k) + "\n", "\r\n", "", "x"][Math.floor(rnd() * 7)],
              );
      sync.change([change], doc.lineCount);
      if (k % 40 === 39)
        assert.deepEqual(
          sync.validator.problems(),
          parseDatasetText(doc.text, { container: "jsonl", maxProblems: 100_000 }).problems,
          `round ${round}, edit ${k}`,
        );
    }
    assert.equal(sync.validator.lineCount, doc.lineCount, `round ${round}`);
    assert.deepEqual(
      sync.validator.problems(),
      parseDatasetText(doc.text, { container: "jsonl", maxProblems: 100_000 }).problems,
      `round ${round}`,
    );
  }
});

test("DocumentSync: opening and a 100k-line paste read no line; validation then reads only the new lines", () => {
  const doc = new FakeDocument(
    Array.from({ length: 50_000 }, (_, i) => `{"question":"Q${i}?","answer":"A."}`).join("\n") + "\n",
  );
  const sync = new DocumentSync({}, doc);
  const v = sync.validator;
  assert.equal(v.lineCount, 50_001);
  assert.equal(doc.reads, 0, "opening reads nothing");
  assert.deepEqual(v.problems(), parseDatasetText(doc.text, { container: "jsonl" }).problems);
  assert.ok(doc.reads <= 50_001 + 2, `validating 50k lines read ${doc.reads} lines`);
  const paste = Array.from({ length: 100_000 }, (_, i) => `{"question":"P${i}?","answer":"p."}`).join("\n") + "\n";
  doc.reads = 0;
  sync.change([doc.replace(0, 0, paste)], doc.lineCount);
  assert.equal(doc.reads, 0, "the change event reads no line");
  assert.equal(v.lineCount, 150_001);
  assert.deepEqual(v.problems(), parseDatasetText(doc.text, { container: "jsonl" }).problems);
  assert.ok(doc.reads <= 100_001 + 2, `re-validation read ${doc.reads} lines for a 100k-line paste`);
  // A one-character edit: one line read.
  doc.reads = 0;
  sync.change([doc.replace(0, 1, "[")], doc.lineCount);
  const ps = v.problems();
  assert.ok(doc.reads <= 2, `a one-line edit read ${doc.reads} lines`);
  assert.deepEqual(ps, parseDatasetText(doc.text, { container: "jsonl" }).problems);
  assert.equal(v.lineText(0), doc.text.split("\n")[0]);
});
