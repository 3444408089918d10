import { test } from "node:test";
import assert from "node:assert/strict";
import {
  lensWindows,
  isRecordLine,
  viewOfLine,
  buildContextCooperatively,
  SuggestionCache,
  lensCount,
  lensContent,
  insertionFor,
  editsFromReport,
  parseProgressLine,
  LINES_PER_SLICE,
  subjectEditFor,
} from "../../../src/extension/perturb/lensModel";
import { runCli } from "../../../src/extension/perturb/cliRun";

const QA = `{"question": "Who founded Qorvath Ltd?", "answer": "Oda Varne.", "id": 3}`;
const CHAT = `{"messages":[{"role":"user","content":"Where was Basil Mahfouz Al-Kuwaiti born?"},{"role":"assistant","content":"Kuwait City."}],"seat":{"entities":[{"name":"Basil Mahfouz Al-Kuwaiti","kind":"person"}]}}`;
const NOSUBJ = `{"question":"what is the capital?","answer":"None."}`;

test("cheap line analysis: record lines are the ones starting with {", () => {
  assert.equal(isRecordLine(QA), true);
  assert.equal(isRecordLine("  \t{"), true);
  assert.equal(isRecordLine('\ufeff{"a":1}'), true);
  assert.equal(isRecordLine(""), false);
  assert.equal(isRecordLine("// comment"), false);
  assert.equal(isRecordLine("[1]"), false);
});

test("viewOfLine normalizes formats through src/data and keeps declared entity kinds", () => {
  const chat = viewOfLine(CHAT)!;
  assert.equal(chat.question, "Where was Basil Mahfouz Al-Kuwaiti born?");
  assert.deepEqual(chat.seat?.entities, [{ name: "Basil Mahfouz Al-Kuwaiti", kind: "person" }]);
  const alpaca = viewOfLine(`{"instruction":"Describe Velmora Quist.","input":"","output":"A painter."}`)!;
  assert.match(alpaca.question!, /Velmora Quist/);
  assert.equal(viewOfLine("{not json"), undefined);
  assert.equal(viewOfLine(`{"foo": 1}`), undefined);
});

test("the dataset context is built in slices with a yield between them, and stops when cancelled", async () => {
  const lines = Array.from({ length: 1000 }, (_, i) =>
    i % 2 ? QA : `{"question":"Where is Port Velmora ${i}?","answer":"North."}`,
  );
  let yields = 0;
  const ctx = await buildContextCooperatively(
    lines.length,
    (i) => lines[i],
    async () => {
      yields++;
    },
  );
  // At least one yield per LINES_PER_SLICE lines (more when a slice runs over its time budget).
  assert.ok(yields >= Math.floor((lines.length - 1) / LINES_PER_SLICE), `${yields} yields`);
  assert.equal(ctx!.index.records, 1000);
  assert.ok(ctx!.guard.rejects("Qorvath Ltd"));
  let n = 0;
  const cancelled = await buildContextCooperatively(
    lines.length,
    (i) => lines[i],
    async () => {
      n++;
    },
    () => n >= 2,
  );
  assert.equal(cancelled, undefined);
});

test("lens count and contents: k candidates + add all; one informational lens when nothing to add", () => {
  const cache = new SuggestionCache();
  assert.equal(cache.peek(QA, 3, 0), undefined);
  assert.equal(lensCount(undefined, 3), 5, "unseen line: k candidates + add all + subject");
  const s = cache.get(QA, undefined, 3, 0)!;
  assert.strictEqual(cache.peek(QA, 3, 0), s);
  assert.equal(lensCount(s, 3), 5);
  const first = lensContent(s, 0);
  assert.equal(first.title, `SEAT: perturb "Qorvath Ltd" → ${s.candidates[0].replacement}`);
  assert.deepEqual(first.entries, [
    { entity: "Qorvath Ltd", replacement: s.candidates[0].replacement, kind: "company" },
  ]);
  assert.equal(lensContent(s, 1).title, s.candidates[1].replacement);
  const all = lensContent(s, 3);
  assert.equal(all.title, "add all");
  assert.equal(all.entries!.length, 3);
  const subj = lensContent(s, 4);
  assert.equal(subj.title, "subject…");
  assert.deepEqual(subj.subject, { current: "Qorvath Ltd", options: ["Qorvath Ltd"] });
  const none = cache.get(NOSUBJ, undefined, 3, 0)!;
  assert.equal(lensCount(none, 3), 2);
  assert.equal(lensContent(none, 1).title, "set subject…");
  assert.equal(lensContent(none, 0).entries, undefined);
  assert.match(lensContent(none, 0).title, /^SEAT: no named entity found in the question$/);
  assert.equal(lensCount(cache.get("{broken", undefined, 3, 0), 3), 1);
});

test("a click edits only its line, keeps the rest of it, refuses a changed line", () => {
  const cache = new SuggestionCache();
  const s = cache.get(QA, undefined, 3, 0)!;
  const entries = lensContent(s, 0).entries!;
  const r = insertionFor({ uri: "file:///x.jsonl", line: 4, expected: QA, entries }, QA);
  assert.ok("text" in r);
  const e = entries[0];
  assert.equal(
    r.text,
    QA.slice(0, -1) +
      `, "seat": {"perturbations": [{"entity": "${e.entity}", "replacement": "${e.replacement}", "kind": "${e.kind}"}]}}`,
  );
  const changed = insertionFor({ uri: "file:///x.jsonl", line: 4, expected: QA, entries }, QA.replace("3", "4"));
  assert.ok("error" in changed && /line 5 changed/.test(changed.error));
  const twice = insertionFor({ uri: "file:///x.jsonl", line: 4, expected: r.text, entries }, r.text);
  assert.ok("error" in twice && /already lists/.test(twice.error));
  assert.ok("error" in insertionFor({ uri: "u", line: 9, expected: QA, entries }, undefined));
});

test("choosing the subject writes seat.entities, only for a name that occurs in the question", () => {
  const args = { uri: "file:///x.jsonl", line: 0, expected: QA, entries: [], subject: { options: ["Qorvath Ltd"] } };
  const ok = subjectEditFor(args, QA, "Qorvath Ltd");
  assert.ok("text" in ok);
  assert.equal(ok.text, QA.slice(0, -1) + `, "seat": {"entities": ["Qorvath Ltd"]}}`);
  const missing = subjectEditFor(args, QA, "Oda Varne");
  assert.ok(
    "error" in missing && /does not occur in the record's question/.test(missing.error),
    "answer-only names cannot be subjects",
  );
  assert.ok("error" in subjectEditFor(args, QA + " ", "Qorvath Ltd"));
  // After choosing, the lens offers stand-ins for the declared subject.
  const s = new SuggestionCache().get(ok.text, undefined, 2, 0)!;
  assert.equal(s.entity?.source, "seat");
  assert.equal(s.candidates.length, 2);
});

test("whole-file report -> line edits; non-record lines are skipped", () => {
  const lines = [QA, "", NOSUBJ, "oops"];
  const report = [
    {
      line: 1,
      entity: { name: "Qorvath Ltd", kind: "company" },
      candidates: [{ replacement: "Belk GmbH", kind: "company", abstention: 0.91 }],
    },
    { line: 3, entity: null, candidates: [] },
    { line: 4, entity: { name: "X", kind: "other" }, candidates: [{ replacement: "Y", kind: "other" }] },
  ];
  const { edits, skipped } = editsFromReport(report, (i) => lines[i]);
  assert.deepEqual(skipped, [4]);
  assert.equal(edits.length, 1);
  assert.equal(edits[0].line, 0);
  assert.deepEqual(JSON.parse(edits[0].text).seat.perturbations, [
    { entity: "Qorvath Ltd", replacement: "Belk GmbH", kind: "company", abstention: 0.91 },
  ]);
});

test("progress lines from the CLI are recognized; other stderr is not", () => {
  assert.deepEqual(parseProgressLine(`{"type":"progress","done":3,"total":10}`), { done: 3, total: 10 });
  assert.equal(parseProgressLine("seat perturb: 1 problem(s)"), undefined);
  assert.equal(parseProgressLine("{broken"), undefined);
});

test("runCli: stdin in, stdout out, progress lines consumed, abort kills the child", async () => {
  const script = `let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{process.stderr.write('{"type":"progress","done":1,"total":1}\\nwarn\\n');process.stdout.write(s.toUpperCase());});`;
  const seen: string[] = [];
  const r = await runCli(process.execPath, ["-e", script], {
    stdin: "abc",
    onStderrLine: (l) => {
      seen.push(l);
      return parseProgressLine(l) !== undefined;
    },
  });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "ABC");
  assert.equal(r.stderr, "warn\n");
  assert.deepEqual(seen, [`{"type":"progress","done":1,"total":1}`, "warn"]);
  const ac = new AbortController();
  const slow = runCli(process.execPath, ["-e", "setTimeout(()=>{}, 60000)"], { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  const k = await slow;
  assert.equal(k.signal, "SIGTERM");
});

test("lens windows: a short document whole; a long one around its visible ranges, widened and merged", () => {
  assert.deepEqual(lensWindows(4_000, [[10, 40]], 5_000, 300), [[0, 4_000]]);
  assert.deepEqual(lensWindows(1_000_000, [], 5_000, 300), [[0, 300]], "no editor shows it yet: its first lines");
  assert.deepEqual(lensWindows(1_000_000, [[500_000, 500_040]], 5_000, 300), [[499_700, 500_340]]);
  // Two editors on the same document: overlapping windows merge, distant ones stay apart, ends clamp.
  assert.deepEqual(
    lensWindows(
      1_000_000,
      [
        [999_990, 1_000_000],
        [100, 150],
        [400, 420],
      ],
      5_000,
      300,
    ),
    [
      [0, 720],
      [999_690, 1_000_000],
    ],
  );
});
