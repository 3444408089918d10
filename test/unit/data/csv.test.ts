// CSV round trips (quotes, embedded newlines, unicode, non-string fields) and statistics.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import {
  recordsToCsv,
  csvToJsonl,
  exportCsvFile,
  importCsvFile,
  datasetStats,
  CsvInputError,
  rawMembers,
  updateSeat,
} from "../../../src/data/index";

const RECORDS = [
  '{"question":"Who wrote \\"Ashgrove\\", the novel?","answer":"Ostrid Hale,\\nin 1931.\\r\\nTwice.","edge":"é ü 中文 🙂","seat":{"entities":["Ostrid Hale"]}}',
  '{"question":"Where is Belmora?","answer":"","edge":"x","id":12,"score":1.0}',
  '{"question":"  spaces  ","answer":"a,b;c\\td","edge":"=1+2"}',
];

test("JSONL -> CSV -> JSONL gives back equal records, values and key order", async () => {
  const csv = await recordsToCsv(RECORDS);
  assert.equal(csv.split("\n")[0], "question,answer,edge,seat:json,id:json,score:json");
  const back = await csvToJsonl(csv);
  assert.deepEqual(back.skipped, []);
  assert.equal(back.records, 3);
  assert.equal(back.text, RECORDS.map((r) => r + "\n").join(""));
});

test("plain spreadsheet CSV imports as string fields; bad rows are located and skipped", async () => {
  const csv = 'question,answer,notes\n"Who is ""Q""?","Line one\nline two",ok\nonly,two\n';
  const r = await csvToJsonl(csv);
  assert.equal(r.text, '{"question":"Who is \\"Q\\"?","answer":"Line one\\nline two","notes":"ok"}\n');
  assert.deepEqual(r.skipped, [{ line: 2, message: "row has 2 cells but the header has 3 columns: skipped" }]);
  const bad = await csvToJsonl("question,seat:json\nq,{nope}\n");
  assert.equal(bad.records, 0);
  assert.equal(bad.skipped[0].line, 1);
  assert.equal(bad.skipped[0].column, "seat:json");
  const dup = await csvToJsonl("a,a\n1,2\n");
  assert.deepEqual(dup.skipped, [{ line: 0, column: "a", message: 'column "a" appears twice in the header' }]);
});

test("file export/import round trip; never overwrites without permission; input untouched", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-csv-"));
  try {
    const src = join(dir, "d.jsonl");
    const text = RECORDS.join("\n") + "\nnot json\n";
    writeFileSync(src, text);
    const ex = await exportCsvFile(src, join(dir, "d.csv"));
    assert.equal(ex.rows, 3);
    assert.deepEqual(ex.skipped, [
      { line: 4, message: "not a JSON object record: skipped (run `seat validate` for details)" },
    ]);
    await assert.rejects(exportCsvFile(src, join(dir, "d.csv")), /already exists/);
    const im = await importCsvFile(join(dir, "d.csv"), join(dir, "back.jsonl"));
    assert.equal(im.records, 3);
    assert.equal(readFileSync(join(dir, "back.jsonl"), "utf8"), RECORDS.map((r) => r + "\n").join(""));
    assert.equal(readFileSync(src, "utf8"), text);
    writeFileSync(join(dir, "bad.csv"), "");
    const empty = await importCsvFile(join(dir, "bad.csv"), join(dir, "empty.jsonl"));
    assert.equal(empty.records, 0);
    assert.ok(existsSync(join(dir, "empty.jsonl")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a valid record nested 50k deep exports and edits like any other (no depth cap on member spans)", async () => {
  const deep = `{"question": "Who is Q?", "answer": "A.", "seat": ${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}`;
  const members = rawMembers(deep);
  assert.deepEqual(
    members.map(([k]) => k),
    ["question", "answer", "seat"],
  );
  assert.equal(members[2][1].length, deep.length - deep.indexOf('{"a":') - 1);
  const edited = updateSeat(deep.replace(/"seat": .*$/, '"seat": {"split": "train"}}'), { entities: ["Q"] });
  assert.equal(edited, '{"question": "Who is Q?", "answer": "A.", "seat": {"split":"train","entities":["Q"]}}');
  const dir = mkdtempSync(join(tmpdir(), "seat-csv-"));
  try {
    writeFileSync(join(dir, "deep.jsonl"), `${RECORDS[2]}\n${deep}\n`);
    const ex = await exportCsvFile(join(dir, "deep.jsonl"), join(dir, "deep.csv"));
    assert.deepEqual(ex.skipped, []);
    assert.equal(ex.rows, 2);
    const back = await importCsvFile(join(dir, "deep.csv"), join(dir, "back.jsonl"));
    assert.equal(back.records, 2);
    // (compared as text: a recursive deep-equal of 50k levels would overflow the stack itself)
    assert.equal(
      readFileSync(join(dir, "back.jsonl"), "utf8").split("\n")[1],
      `{"question":"Who is Q?","answer":"A.","seat":${members[2][1]}}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("JSON array files: a syntax error is located (line:col) and nothing is written; elements keep their source text", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-csv-"));
  try {
    const truncated = join(dir, "t.json");
    writeFileSync(truncated, `[\n  ${RECORDS[2]},\n  {"question": "Who`);
    await assert.rejects(exportCsvFile(truncated, join(dir, "t.csv")), (e: unknown) => {
      assert.ok(e instanceof CsvInputError);
      assert.deepEqual([e.issue.line, e.issue.col], [3, 16]);
      assert.match(e.message, /t\.json:3:16: invalid JSON: unterminated string/);
      return true;
    });
    assert.ok(!existsSync(join(dir, "t.csv")), "no partial output");
    const arr = join(dir, "a.json");
    writeFileSync(arr, `[\n  ${RECORDS[1]},\n  3,\n  {"question": "x",\n   "answer": "y", "score": 1.0}\n]\n`);
    const ex = await exportCsvFile(arr, join(dir, "a.csv"));
    assert.equal(ex.rows, 2);
    assert.deepEqual(ex.skipped, [{ line: 3, col: 3, message: "array element 2 is not an object: skipped" }]);
    const csv = readFileSync(join(dir, "a.csv"), "utf8");
    assert.match(csv, /^x,y,,,1\.0$/m, "1.0 keeps its spelling, as in JSONL export");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("statistics count records, formats, entities, perturbations, duplicates and tokens", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-stats-"));
  try {
    const p = join(dir, "s.jsonl");
    writeFileSync(
      p,
      [
        '{"question":"Who is Qorvath Lintel?","answer":"A sculptor.","seat":{"entities":["Qorvath Lintel"],"perturbations":["Belmora Tesk","Ilvane Durro"]}}',
        '{"question":"Where did Qorvath Lintel live?","answer":"Ashgrove.","seat":{"entities":["Qorvath Lintel"]}}',
        '{"messages":[{"role":"user","content":"Who is Qorvath Lintel?"},{"role":"assistant","content":"A sculptor."}]}',
      ].join("\n") + "\n",
    );
    const s = await datasetStats(p, { countTokens: (t) => t.split(/\s+/).length });
    assert.equal(s.summary.records, 3);
    assert.deepEqual(s.formats, { qa: 2, chat: 1 });
    assert.equal(s.withEntities, 2);
    assert.equal(s.distinctEntities, 1);
    assert.deepEqual(s.topEntities, [["Qorvath Lintel", 2]]);
    assert.equal(s.perturbations, 2);
    assert.equal(s.withPerturbations, 1);
    assert.equal(s.duplicates, 1);
    assert.deepEqual(s.tokens, { min: 6, max: 6, mean: 6, total: 18 });
    assert.deepEqual(s.questionChars, { min: 22, max: 30, mean: (22 + 30 + 22) / 3 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
