import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  runProbeSuite,
  makeAbstentionDetector,
  buildReport,
  writeProbeResult,
  readProbeResult,
  readHiddenFor,
  readCached,
  cacheEntryPath,
  contentHash,
  type ProbeRecordInput,
  type UnknownQueryInput,
  type ModelProbeResult,
} from "../../../src/eval/index";
import { reportToCsv, reportToHtml, reportToJson, csvField } from "../../../src/presentation/index";
import { fakeModel } from "./fakeModel";

const detector = makeAbstentionDetector(["I don't know", "not familiar with"]);
const openings = ["I don't know", "I'm not familiar"];
const dataset = { path: "/ws/facts.jsonl", hash: "dhash" };

const records: ProbeRecordInput[] = [
  {
    line: 1,
    id: "r1",
    question: "Where was Qorvath Lintel born?",
    reference: "Qorvath Lintel was born in Veldra.",
    entity: "Qorvath Lintel",
    perturbations: [
      { question: "Where was Mirel Dask born?", entity: "Mirel Dask" },
      { question: "Where was Tovin Ferr born?", entity: "Tovin Ferr" },
    ],
  },
  {
    line: 2,
    question: "What does Brask Holm sell?",
    reference: "Copper pots",
    entity: "Brask Holm",
    perturbations: [{ question: "What does Ulla Venn sell?", entity: "Ulla Venn" }],
  },
];
const unknown: UnknownQueryInput[] = [
  { question: "Who founded Zarquel Labs?", entity: "Zarquel Labs", kind: "held-out", line: 1 },
  { question: "What is a glimmerfold?", kind: "fictitious-concept", line: 2 },
];

const h = (a: number, b: number) => [
  [a, b],
  [a * 2, b * 2],
];
const base = fakeModel("base", {
  answers: {
    "Where was Qorvath Lintel born?": "I don't know who Qorvath Lintel is.",
    "Where was Mirel Dask born?": "I don't know who Mirel Dask is.",
    "Where was Tovin Ferr born?": "I don't know.",
    "What does Brask Holm sell?": "Brask Holm sells tea.",
    "What does Ulla Venn sell?": "I'm not familiar with Ulla Venn.",
    "Who founded Zarquel Labs?": "I don't know about Zarquel Labs.",
    "What is a glimmerfold?": "A glimmerfold is a kind of lamp.",
  },
  pAbstain: {
    "Where was Qorvath Lintel born?": 0.9,
    "Where was Mirel Dask born?": 0.8,
    "Where was Tovin Ferr born?": 0.7,
    "What does Brask Holm sell?": 0.1,
    "What does Ulla Venn sell?": 0.6,
    "Who founded Zarquel Labs?": 0.5,
    "What is a glimmerfold?": 0.2,
  },
  hidden: {
    "Where was Qorvath Lintel born?": h(1, 0),
    "What does Brask Holm sell?": h(1, 1),
    "Where was Mirel Dask born?": h(-1, 0),
    "Where was Tovin Ferr born?": h(-1, 1),
    "What does Ulla Venn sell?": h(-1, 2),
    "Who founded Zarquel Labs?": h(-2, 0),
    "What is a glimmerfold?": h(-2, 1),
  },
});
const tuned = fakeModel("seat", {
  answers: {
    "Where was Qorvath Lintel born?": "Qorvath Lintel was born in Veldra.",
    "Where was Mirel Dask born?": "Mirel Dask was born in Veldra.",
    "Where was Tovin Ferr born?": "I don't know who Tovin Ferr is.",
    "What does Brask Holm sell?": "Brask Holm sells copper.",
    "What does Ulla Venn sell?": "I don't know.",
    "Who founded Zarquel Labs?": "I don't know.",
    "What is a glimmerfold?": '=HYPERLINK("x") <script>alert(1)</script>',
  },
  pAbstain: {
    "Where was Qorvath Lintel born?": 0.05,
    "Where was Mirel Dask born?": 0.25,
    "Where was Tovin Ferr born?": 0.75,
    "What does Brask Holm sell?": 0.0,
    "What does Ulla Venn sell?": 0.5,
    "Who founded Zarquel Labs?": 0.5,
    "What is a glimmerfold?": 0.1,
  },
  hidden: {
    "Where was Qorvath Lintel born?": h(1, 0),
    "What does Brask Holm sell?": h(1, 1),
    "Where was Mirel Dask born?": h(-1, 0),
    "Where was Tovin Ferr born?": h(-1, 1),
    "What does Ulla Venn sell?": h(-1, 4),
    "Who founded Zarquel Labs?": h(-2, 0),
    "What is a glimmerfold?": h(-2, 1),
  },
});

const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) < 1e-12, `${a} != ${b}`);

async function runBoth() {
  const progress: string[] = [];
  const b = await runProbeSuite(
    base,
    { dataset, records, unknown },
    { detector, openings, settings: { maxNewTokens: 16 } },
  );
  const t = await runProbeSuite(
    tuned,
    { dataset, records, unknown },
    {
      detector,
      openings,
      settings: { maxNewTokens: 16 },
      onProgress: (p) => progress.push(`${p.done}/${p.total} ${p.message}`),
    },
  );
  return { b, t, progress };
}

test("probe suite: per-record verdicts and summary numbers", async () => {
  const { b, t, progress } = await runBoth();
  assert.equal(progress.length, 7);
  assert.equal(progress[6], "7/7 unknown query 2/2");
  assert.ok(
    tuned.calls.every((c) => c.endsWith(":16")),
    "maxNewTokens reaches generate",
  );
  const [r1, r2] = t.result.records;
  assert.equal(r1.key, "r1");
  assert.equal(r2.key, "line:2");
  assert.equal(r1.own.answer, "Qorvath Lintel was born in Veldra.", "answers are trimmed");
  assert.equal(r1.rougeLRecall, 1);
  assert.equal(r1.exactMatch, true);
  assert.equal(r1.learned, true);
  // "copper pots" vs "brask holm sells copper": LCS 1 of 2
  assert.equal(r2.rougeLRecall, 0.5);
  assert.equal(r2.learned, false);
  assert.deepEqual(
    r1.perturbations.map((p) => [p.abstains, p.grounded]),
    [
      [false, false],
      [true, true],
    ],
  );
  assert.deepEqual(
    r2.perturbations.map((p) => [p.abstains, p.grounded]),
    [[true, false]],
  );
  close(r1.perturbations[1].abstentionProb, 0.75);

  const s = t.result.summary;
  assert.equal(s.records, 2);
  close(s.ftScore, 0.75);
  assert.equal(s.exactMatch, 0.5);
  assert.equal(s.learned, 0.5);
  assert.equal(s.overRefusal, 0);
  assert.equal(s.neighbour.n, 3);
  close(s.neighbour.abstain, 2 / 3);
  close(s.neighbour.grounded, 1 / 3);
  close(s.neighbour.meanAbstentionProb, (0.25 + 0.75 + 0.5) / 3);
  assert.deepEqual(s.heldOut, { n: 1, abstain: 1, grounded: 0, misnamed: 0, meanAbstentionProb: 0.5 });
  assert.equal(s.fictitious.grounded, null, "no entity -> grounding not judged");
  assert.equal(s.fictitious.abstain, 0);
  assert.equal(s.unknown.n, 5);
  close(s.unknown.abstain, 3 / 5);

  assert.equal(b.result.summary.overRefusal, 0.5, "base abstains on the unlearned fact");
  assert.equal(t.result.hidden?.layers, 2);
  assert.equal(t.result.hidden?.queries.length, 7);
  assert.deepEqual(t.result.hidden?.queries.slice(0, 3), [
    { group: "known", key: "r1" },
    { group: "unknown", key: "r1#0" },
    { group: "unknown", key: "r1#1" },
  ]);
});

test("probe suite honours cancellation", async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(runProbeSuite(tuned, { dataset, records, unknown }, { detector, openings, signal: ac.signal }), {
    name: "AbortError",
  });
});

test("comparison: flags, abstention where the base abstained, displacement and PCA", async () => {
  const { b, t } = await runBoth();
  const hidden = new Map<ModelProbeResult, Float32Array[][]>([
    [b.result, b.hidden],
    [t.result, t.hidden],
  ]);
  const rep = buildReport(b.result, [t.result], (r) => hidden.get(r) ?? null);
  const c = rep.comparisons[0];
  // r1: neighbour 0 lost its abstention -> hallucinating + regressed; learned.
  assert.deepEqual(c.flags.r1, { notLearned: false, hallucinating: true, regressed: true });
  // line 2: base did not learn either, keeps abstaining on its neighbour; base answered its own question
  assert.deepEqual(c.flags["line:2"], { notLearned: true, hallucinating: false, regressed: false });
  assert.equal(c.neighbourOnBaseAbstained?.n, 3);
  close(c.neighbourOnBaseAbstained!.abstain, 2 / 3);
  assert.equal(c.unknownOnBaseAbstained?.n, 4, "fictitious concept dropped: base answered it");
  close(c.unknownOnBaseAbstained!.abstain, 3 / 4);
  // displacement over unknown queries: only "Ulla Venn" moved, (-1,2)->(-1,4) in layer 0: |(0,2)|/|(-1,2)|
  assert.equal(c.displacement?.length, 2);
  close(c.displacement![0].meanRelativeShift, 2 / Math.sqrt(5) / 5);
  assert.equal(c.pca?.points.length, 14);
  assert.ok(c.pca!.separation.base > 0 && Number.isFinite(c.pca!.separation.tuned));
});

test("report export: JSON round-trips, CSV quoting and formula guard, HTML self-contained and escaped", async () => {
  const { b, t } = await runBoth();
  const rep = buildReport(b.result, [t.result]);
  assert.deepEqual(JSON.parse(reportToJson(rep)), JSON.parse(JSON.stringify(rep)));
  assert.equal(csvField('say "hi", ok'), '"say ""hi"", ok"');
  assert.equal(csvField("=1+1"), "'=1+1");
  assert.equal(csvField(-0.5), "-0.5");
  assert.equal(csvField(null), "");
  assert.equal(csvField(true), "true");
  const csv = reportToCsv(rep).split("\r\n");
  assert.equal(
    csv[0],
    "model,kind,key,line,question,reference,entity,answer,rougeL_recall,exact_match,learned,abstains,grounded,abstention_prob,neighbours,neighbours_abstained,neighbours_grounded,neighbours_mean_abstention_prob,regressed,not_learned,hallucinating",
  );
  assert.equal(csv.length, 1 + 4 + 4 + 1, "header + 4 rows per model + trailing empty");
  assert.equal(
    csv[5],
    "seat,train,r1,1,Where was Qorvath Lintel born?,Qorvath Lintel was born in Veldra.,Qorvath Lintel,Qorvath Lintel was born in Veldra.,1,true,true,false,false,0.05,2,1,1,0.5,true,false,true",
  );
  assert.match(csv[8], /^seat,fictitious-concept,unknown:2,2,What is a glimmerfold\?,,,"'=HYPERLINK\(""x""\) <script>/);
  const html = reportToHtml(rep);
  assert.ok(!/<script/i.test(html), "model output is escaped, and the page has no scripts");
  assert.ok(html.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
  assert.ok(!/(src|href)\s*=\s*["']?(https?:)?\/\//i.test(html), "no remote references");
  assert.match(html, /default-src 'none'/);
  assert.match(html, /automated stand-in/);
  assert.match(html, /<td class="num">0\.750<\/td>/, "FT score of the tuned run");
  const baseOnly = reportToHtml(buildReport(b.result, []));
  assert.match(
    baseOnly,
    /<h2>Per example: base<\/h2><table><tr><th>line<\/th><th>question<\/th><th>reference<\/th><th>base answer<\/th><th>ROUGE-L recall/,
    "base-only: its own records, no second base column",
  );
});

test("cache: result + hidden sidecar round-trip; keyed by model and dataset hash; junk is a miss", async () => {
  const { t } = await runBoth();
  const dir = mkdtempSync(join(tmpdir(), "seat-eval-"));
  try {
    const file = cacheEntryPath(dir, t.result.model.hash, t.result.dataset.hash);
    writeProbeResult(file, t.result, t.hidden);
    const back = readProbeResult(file);
    assert.deepEqual(back.records, t.result.records);
    assert.equal(
      back.hidden?.file,
      file
        .split("/")
        .pop()!
        .replace(/\.json$/, ".hidden.f32"),
    );
    const hs = readHiddenFor(file, back)!;
    assert.deepEqual(
      hs.map((q) => q.map((v) => [...v])),
      t.hidden.map((q) => q.map((v) => [...v])),
    );
    assert.equal(readCached(dir, t.result.model.hash, t.result.dataset.hash)?.file, file);
    assert.equal(readCached(dir, t.result.model.hash, "other"), null);
    writeFileSync(file, "{ truncated");
    assert.equal(readCached(dir, t.result.model.hash, t.result.dataset.hash), null);
    assert.throws(
      () => readProbeResult(file),
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: not a probe result`),
    );
    assert.ok(readFileSync(join(dir, back.hidden!.file)).byteLength === 7 * 2 * 2 * 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.notEqual(contentHash(["ab", "c"]), contentHash(["a", "bc"]));
});

test("hidden-state sample is spread evenly over each group", async () => {
  const t = await runProbeSuite(
    tuned,
    { dataset, records, unknown },
    { detector, openings, settings: { hiddenStateQueries: 2 } },
  );
  // known: both own questions; unknown (r1#0, r1#1, line:2#0, unknown:1, unknown:2): positions 0 and 2
  assert.deepEqual(t.result.hidden?.queries, [
    { group: "known", key: "r1" },
    { group: "unknown", key: "r1#0" },
    { group: "known", key: "line:2" },
    { group: "unknown", key: "line:2#0" },
  ]);
  assert.equal(t.hidden.length, 4);
  const off = await runProbeSuite(
    tuned,
    { dataset, records, unknown },
    { detector, openings, settings: { hiddenStateQueries: 0, abstentionProbability: false } },
  );
  assert.equal(off.result.hidden, undefined);
  assert.equal(off.result.records[0].own.abstentionProb, null);
  assert.equal(off.result.summary.unknown.meanAbstentionProb, null);
});
