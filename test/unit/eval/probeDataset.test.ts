// The probe pipeline on the model layer's committed tiny fixtures (random weights, so the answers are
// noise; what is checked is the plumbing and the exact relations that must hold for any weights).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  probeDataset,
  referenceProbeModel,
  loadAbstentionLists,
  scorerFromNextToken,
  type ProbeModelLoader,
} from "../../../src/eval/index";
import { reportToText } from "../../../src/presentation/index";
import { loadModelFolder, allWeightsF32, referenceForward, logSoftmaxRows } from "../../../src/model/index";

const MODEL = resolve("test/fixtures/models/tiny-llama");
const DATA = resolve("test/fixtures/eval/tiny.jsonl");
const lists = loadAbstentionLists();

test("reference probe model: batched continuation scores equal the next-token trie walk", async () => {
  const m = referenceProbeModel({ dir: MODEL, label: "t", hash: "h" });
  const f = loadModelFolder(MODEL);
  const w = allWeightsF32(f.weights);
  const V = f.config.vocabSize;
  const next = async (ids: readonly number[]) => {
    const lp = logSoftmaxRows(referenceForward(f.config, (n) => w.get(n)!, ids).logits, V);
    return lp.subarray((ids.length - 1) * V, ids.length * V);
  };
  const prompt = await m.encodePrompt("Who is Ada Vel?");
  const conts = await Promise.all(["I don't know", "I'm not sure", "Sorry"].map((o) => m.encodeContinuation(o)));
  const a = await m.scoreContinuations(prompt, conts);
  const b = await scorerFromNextToken(next)(prompt, conts);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-9, `${x} vs ${b[i]}`));
  const h = await m.lastTokenHiddenStates!(prompt);
  assert.equal(h.length, f.config.numLayers);
  assert.equal(h[0].length, f.config.hiddenSize);
});

test("probeDataset on the tiny fixture: inputs, identical base/tuned give zero displacement and no regressions, cache hit skips the model", async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), "seat-probe-cache-"));
  try {
    let loads = 0;
    const loadModel: ProbeModelLoader = async (ref) => {
      loads++;
      return referenceProbeModel(ref);
    };
    const run = () =>
      probeDataset({
        data: DATA,
        models: [{ dir: MODEL, label: "tuned" }],
        base: { dir: MODEL, label: "base" },
        lists,
        settings: { maxNewTokens: 4, hiddenStateQueries: 8 },
        neighbours: 0,
        cacheDir,
        loadModel,
      });
    const first = await run();
    assert.equal(loads, 1, "same folder = same content hash: probed once, the second model is a cache hit");
    const rep = first.report;
    assert.deepEqual(
      rep.runs[0].records.map((r) => [r.key, r.line, r.perturbations.map((p) => p.question)]),
      [
        ["line:1", 1, ["Who is Oki Tam?"]],
        ["q2", 2, ["Where is Vima?", "Where is Tesk?"]],
      ],
    );
    assert.deepEqual(
      rep.runs[0].unknown.map((u) => [u.kind, u.line, u.entity]),
      [["fictitious-concept", 3, "zorb"]],
    );
    assert.deepEqual(
      rep.runs[0].records.map((r) => r.own.answer),
      rep.base!.records.map((r) => r.own.answer),
    );
    const c = rep.comparisons[0];
    assert.ok(c.displacement && c.displacement.length === 2);
    for (const d of c.displacement!) {
      assert.equal(d.meanRelativeShift, 0);
      assert.ok(Math.abs(d.meanCosine - 1) < 1e-6);
    }
    for (const f of Object.values(c.flags)) assert.equal(f.regressed, false);
    assert.ok(c.pca && c.pca.points.length === 2 * (2 + 3 + 1));
    for (const r of rep.runs[0].records)
      for (const p of [r.own, ...r.perturbations])
        assert.ok(p.abstentionProb !== null && p.abstentionProb >= 0 && p.abstentionProb <= 1);

    const second = await run();
    assert.equal(loads, 1, "second run served from the cache");
    assert.deepEqual(second.report.runs[0].records, rep.runs[0].records);
    assert.deepEqual(second.report.comparisons[0].displacement, c.displacement);
    assert.match(reportToText(second.report), /line {4}2 {2}learned ✗/);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test("probeDataset: a missing dataset is a located error", async () => {
  await assert.rejects(
    probeDataset({
      data: "/nonexistent/x.jsonl",
      models: [{ dir: MODEL, label: "t" }],
      lists,
      loadModel: async (r) => referenceProbeModel(r),
    }),
    /x\.jsonl/,
  );
});

test("runtime (onnxruntime) probe model agrees with the float64 reference on the tiny fixture", async () => {
  const { runtimeProbeModel } = await import("../../../src/eval/index");
  const ref = { dir: MODEL, label: "t", hash: "h" };
  const a = referenceProbeModel(ref);
  const b = await runtimeProbeModel(ref, { provider: "cpu" });
  try {
    const prompts = await Promise.all(
      ["Who is Ada Vel?", "Where is Rulo?"].map(async (q) => [...(await a.encodePrompt(q))]),
    );
    const conts = await Promise.all(
      ["I don't know", "I'm not sure"].map(async (o) => [...(await a.encodeContinuation(o))]),
    );
    const gen = await b.generateMany!(prompts, 6);
    const sc = await b.scoreMany!(prompts, conts);
    const hid = await b.hiddenMany!(prompts);
    for (const [i, p] of prompts.entries()) {
      assert.equal(gen[i], await a.generate(p, 6), "greedy answers match");
      const want = await a.scoreContinuations(p, conts);
      want.forEach((x, k) => assert.ok(Math.abs(x - sc[i][k]) < 1e-3, `score ${x} vs ${sc[i][k]}`));
      const wh = await a.lastTokenHiddenStates!(p);
      assert.equal(hid[i].length, wh.length);
      wh.forEach((v, l) =>
        v.forEach((x, d) => assert.ok(Math.abs(x - hid[i][l][d]) < 1e-3 * (1 + Math.abs(x)), `hidden ${l}/${d}`)),
      );
    }
  } finally {
    await b.dispose();
  }
});

test("generated neighbours fill only records without stored perturbations, deterministically", async () => {
  const { readDataset } = await import("../../../src/data/index");
  const { probeInputs, addGeneratedNeighbours } = await import("../../../src/eval/index");
  const ds = await readDataset(resolve("test/fixtures/eval/no-neighbours.jsonl"));
  const run = () => {
    const inp = probeInputs(ds.records);
    addGeneratedNeighbours(ds.records, inp.records, 2);
    return inp.records;
  };
  const [a, b, c] = run();
  assert.equal(a.perturbations.length, 2);
  for (const p of a.perturbations) {
    assert.ok(p.entity && p.entity !== "Thyna Stipol");
    assert.equal(p.question, `Where was ${p.entity} born?`);
  }
  assert.deepEqual(
    b.perturbations,
    [{ question: "Where does Mara Quell work?", entity: "Mara Quell" }],
    "stored perturbations are kept as they are",
  );
  assert.deepEqual(c.perturbations, [], "no entity in the question: nothing to perturb");
  assert.deepEqual(run()[0].perturbations, a.perturbations);
});
