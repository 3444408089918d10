import { test } from "node:test";
import assert from "node:assert/strict";
import { buildRows, visibleRows } from "../../../webview/model";
import { applyTrainEvent, outcomeOfSummary, seriesFromEvents } from "../../../src/presentation/curves";
import { calibrationSvg, lineChartSvg, pcaSvg } from "../../../src/presentation/svg";
import { DEFAULT_VIEW_STATE } from "../../../src/presentation/webview";
import { makeEvent, type TrainEvent } from "../../../src/protocol/events";
import { sampleReport } from "./sampleReport";

test("table rows line up base and runs per record; filters and sorts", () => {
  const rows = buildRows(sampleReport(), 0);
  assert.deepEqual(
    rows.map((r) => [r.key, r.line, r.base?.own.answer, r.runs[0]?.own.answer]),
    [
      ["r1", 1, "I don't know who Qorvath Lintel is.", "Veldra."],
      ["line:2", 2, "Tea.", "Copper."],
    ],
  );
  const v = (patch: Partial<typeof DEFAULT_VIEW_STATE>) =>
    visibleRows(rows, { ...DEFAULT_VIEW_STATE, ...patch }).map((r) => r.key);
  assert.deepEqual(v({}), ["r1", "line:2"]);
  assert.deepEqual(v({ filter: "regressed" }), ["r1"]);
  assert.deepEqual(v({ filter: "hallucinating" }), ["r1"]);
  assert.deepEqual(v({ filter: "not-learned" }), ["line:2"]);
  assert.deepEqual(v({ sort: "rouge" }), ["line:2", "r1"]);
  assert.deepEqual(v({ sort: "rouge", descending: true }), ["r1", "line:2"]);
  assert.deepEqual(v({ sort: "abstention" }), ["r1", "line:2"], "1/2 before 1/1");
  assert.deepEqual(v({ search: "COPPER" }), ["line:2"]);
  assert.deepEqual(v({ search: "qorvath lintel is" }), ["r1"], "search covers the base answers");
});

test("base-only report: rows use the base model's records", () => {
  const r = sampleReport();
  const rows = buildRows({ ...r, runs: [], comparisons: [] }, 0);
  assert.equal(rows[0].current?.own.answer, "I don't know who Qorvath Lintel is.");
  assert.deepEqual(
    visibleRows(rows, { ...DEFAULT_VIEW_STATE, filter: "not-learned" }).map((x) => x.key),
    ["r1", "line:2"],
  );
});

test("curves from events: steps, quick evals, end state; a resumed run drops points past its checkpoint", () => {
  const e = (x: Parameters<typeof makeEvent>[0]) => makeEvent(x, new Date(0));
  const step = (n: number, loss: number): TrainEvent =>
    e({
      type: "step",
      step: n,
      totalSteps: 4,
      epoch: 1,
      loss,
      ce: loss,
      kl: 0.1,
      lr: 1e-4,
      gradNorm: 1,
      tokensPerSec: 10,
      etaSeconds: 1,
    });
  const start = (resumedFromStep?: number): TrainEvent =>
    e({
      type: "run-start",
      runDir: "/r",
      method: "seat",
      model: "m",
      dataset: "d",
      totalSteps: 4,
      stepsPerEpoch: 4,
      epochs: 1,
      trainableParams: 1,
      totalParams: 2,
      provider: "cpu",
      ...(resumedFromStep !== undefined ? { resumedFromStep } : {}),
    });
  const s = seriesFromEvents("/r", "r", [
    start(),
    step(1, 3),
    step(2, 2),
    step(3, 1.5),
    e({
      type: "quick-eval",
      step: 2,
      epoch: 1,
      abstentionProb: 0.8,
      answerAccuracy: 0.5,
      abstentionSamples: 4,
      accuracySamples: 4,
    }),
    e({ type: "cancelled", step: 3 }),
    start(2),
    step(3, 1.4),
    step(4, 1),
    e({ type: "done", summary: {} as never }),
  ]);
  assert.deepEqual(
    s.steps.map((p) => [p.step, p.loss]),
    [
      [1, 3],
      [2, 2],
      [3, 1.4],
      [4, 1],
    ],
  );
  assert.deepEqual(s.quickEval, [{ step: 2, abstentionProb: 0.8, answerAccuracy: 0.5 }]);
  assert.equal(s.state, "finished");
  const list = applyTrainEvent([], "/x", "x", step(1, 5));
  assert.equal(list.length, 1);
  applyTrainEvent(list, "/x", "x", e({ type: "error", message: "NaN", step: 2, term: "kl" }));
  assert.equal(list[0].state, "failed");
});

test("SVG charts escape labels and skip non-finite points", () => {
  const svg = lineChartSvg("Loss <b>", [
    {
      label: 'run "a" <script>',
      points: [
        [1, 2],
        [2, NaN],
        [3, 1],
      ],
    },
  ]);
  assert.ok(!svg.includes("<script") && !svg.includes("<b>"));
  assert.ok(svg.includes("run &quot;a&quot; &lt;script&gt;"));
  assert.match(svg, /<polyline class="chart-line chart-s0" fill="none" points="44\.0,20\.0 312\.0,138\.0">/);
  assert.match(lineChartSvg("Empty", []), /no data yet/);
  const pca = pcaSvg({
    points: [
      { x: 0, y: 0, group: "known", model: "base", key: "<k>" },
      { x: 1, y: 1, group: "unknown", model: "tuned", key: "u" },
    ],
    explained: [0.75, 0.25],
    separation: { base: 1, tuned: 0.5 },
  });
  assert.ok(
    pca.includes("PC1 (75.0%)") && pca.includes("&lt;k&gt;") && pca.includes('<polygon class="pca-unknown pca-tuned"'),
  );
});

test("a run's outcome from its events: epochs auto, early stop and the calibration's candidates; odd summaries are dropped field by field", () => {
  const e = (x: Parameters<typeof makeEvent>[0]) => makeEvent(x, new Date(0));
  const calibration = {
    chosen: { lambda: 1, ratio: 0.2 },
    reason: "highest held-out abstention (0.890) among 1 of 3 candidates with answer accuracy >= 0.9",
    points: [
      { lambda: 1, ratio: 0.05, answerAccuracy: 0.78, abstentionProb: 0.8, seconds: 22, wallSeconds: 30 },
      { lambda: 3, ratio: 0.05, answerAccuracy: 0.34, abstentionProb: 0.85, seconds: 23, wallSeconds: 25 },
      { lambda: 1, ratio: 0.2, answerAccuracy: 1, abstentionProb: 0.89, seconds: 22 },
    ],
    usedSeconds: 67,
    budgetSeconds: 75,
    runSeconds: 340,
    minAccuracy: 0.9,
    skipped: 2,
    trainEntities: 4,
    heldoutEntities: 4,
  };
  const epochsAuto = { outcome: "facts-learned" as const, step: 920, epoch: 23, detail: "answer accuracy 1.000 >= 1" };
  const s = seriesFromEvents("/r", "r", [
    e({ type: "early-stop", step: 920, reason: "facts-learned", detail: "answer accuracy 1.000 >= 1" }),
    e({ type: "done", summary: { steps: 920, epochs: 23, trainSeconds: 300, epochsAuto, calibration } as never }),
  ]);
  assert.deepEqual(s.outcome, {
    earlyStop: { reason: "facts-learned", step: 920, detail: "answer accuracy 1.000 >= 1" },
    steps: 920,
    epochs: 23,
    trainSeconds: 300,
    epochsAuto,
    calibration,
  });
  // A hand-edited log: a bad outcome name and a candidate without numbers are left out, the rest kept.
  const odd = outcomeOfSummary({
    steps: "many",
    epochsAuto: { ...epochsAuto, outcome: "bored" },
    calibration: { ...calibration, points: [calibration.points[0], { lambda: 1 }], minAccuracy: "high" },
  });
  assert.equal(odd.steps, undefined);
  assert.equal(odd.epochsAuto, undefined);
  assert.deepEqual(odd.calibration?.points, [calibration.points[0]]);
  assert.equal(odd.calibration?.minAccuracy, undefined);
  assert.deepEqual(outcomeOfSummary(null), {});
  // A run started again from scratch (no resume) forgets the old outcome.
  applyTrainEvent(
    [s],
    "/r",
    "r",
    e({
      type: "run-start",
      runDir: "/r",
      method: "seat",
      model: "m",
      dataset: "d",
      totalSteps: 4,
      stepsPerEpoch: 4,
      epochs: 1,
      trainableParams: 1,
      totalParams: 2,
      provider: "cpu",
    }),
  );
  assert.equal(s.outcome, undefined);
});

test("calibration chart: one mark per candidate at (accuracy, abstention), the chosen one ringed, the floor dashed", () => {
  const svg = calibrationSvg(
    [
      { lambda: 1, ratio: 0.05, answerAccuracy: 0.5, abstentionProb: 0.25 },
      { lambda: 1, ratio: 0.2, answerAccuracy: 1, abstentionProb: 1 },
    ],
    { lambda: 1, ratio: 0.2 },
    0.9,
  );
  // Frame x 44..328, y 22..186 (340 x 220 with its paddings).
  assert.match(svg, /<circle class="cal-point" cx="186\.0" cy="145\.0" r="4">/);
  assert.match(
    svg,
    /<circle class="cal-point cal-chosen" cx="328\.0" cy="22\.0" r="6"><title>λ 1, ratio 0\.2: answer accuracy 1\.000, held-out abstention 1\.000 \(chosen\)/,
  );
  assert.match(svg, /<line class="cal-floor" x1="299\.6" y1="22" x2="299\.6" y2="186"/);
  assert.equal((svg.match(/<circle/g) ?? []).length, 2);
  assert.ok(!calibrationSvg([], { lambda: 1, ratio: 0.05 }).includes("cal-floor"), "no floor line without a floor");
  // Candidates on one spot (as in a measured calibration: all learned, abstention 0.732 and 0.736) get
  // labels a line apart instead of printed over each other.
  const same = calibrationSvg(
    [
      { lambda: 1, ratio: 0.2, answerAccuracy: 1, abstentionProb: 0.732 },
      { lambda: 3, ratio: 0.2, answerAccuracy: 1, abstentionProb: 0.736 },
      { lambda: 1, ratio: 0.8, answerAccuracy: 1, abstentionProb: 0.602 },
    ],
    { lambda: 1, ratio: 0.2 },
  );
  const ys = [...same.matchAll(/<text class="cal-label" x="[\d.]+" y="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(ys.length, 3);
  for (let i = 0; i < ys.length; i++)
    for (let j = i + 1; j < ys.length; j++)
      assert.ok(Math.abs(ys[i] - ys[j]) >= 12, `labels at y ${ys[i]} and ${ys[j]}`);
});
