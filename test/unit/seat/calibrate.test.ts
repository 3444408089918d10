// Knob calibration: the choice (argmax abstention subject to the facts being learned), the entity
// split, and the time budget, with scripted candidate results instead of training.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  calibrate,
  calibrationGrid,
  calibrationSplit,
  chooseKnobs,
  abstentionMargin,
  nextCandidate,
  type CalibrationPoint,
} from "../../../src/seat/calibrate";
import { resolveConfig, type SeatConfig } from "../../../src/seat/config";

const pt = (lambda: number, ratio: number, answerAccuracy: number, abstentionProb: number): CalibrationPoint => ({
  lambda,
  ratio,
  answerAccuracy,
  abstentionProb,
  seconds: 1,
});

test("calibration chooses the highest abstention among candidates that learned the facts", () => {
  const points = [pt(1, 0.05, 0.95, 0.7), pt(3, 0.05, 0.8, 0.95), pt(1, 0.2, 0.97, 0.85), pt(3, 0.2, 0.92, 0.8)];
  const c = chooseKnobs(points, 0.9);
  // (3, 0.05) abstains most but did not learn: excluded.
  assert.deepEqual([c.point.lambda, c.point.ratio], [1, 0.2]);
  assert.match(c.reason, /3 of 4 candidates with answer accuracy >= 0\.9/);
  // None learned: the most accurate.
  const none = chooseKnobs([pt(1, 0.05, 0.5, 0.9), pt(3, 0.05, 0.7, 0.6)], 0.9);
  assert.deepEqual([none.point.lambda, none.point.answerAccuracy], [3, 0.7]);
  assert.match(none.reason, /no candidate reached/);
  // Within the noise margin of the held-out sample sizes, the earlier candidate stays: 8 questions each
  // give a margin of 0.25 (0.5 * sqrt(2/8)); 0.833 vs 0.832 was a real calibration's "choice".
  const n = (p: CalibrationPoint, k: number): CalibrationPoint => ({ ...p, abstentionSamples: k });
  const noisy = chooseKnobs([n(pt(1, 0.05, 1, 0.832), 8), n(pt(3, 0.05, 1, 0.833), 8)], 0.9);
  assert.equal(noisy.point.lambda, 1);
  assert.match(noisy.reason, /1 higher by less than the noise margin/);
  assert.equal(abstentionMargin(8, 8), 0.25);
  assert.equal(abstentionMargin(undefined, 8), 0);
  // Beyond it, the later one wins; with 200 questions each the margin is 0.05.
  assert.equal(chooseKnobs([n(pt(1, 0.05, 1, 0.6), 8), n(pt(3, 0.05, 1, 0.9), 8)], 0.9).point.lambda, 3);
  assert.equal(chooseKnobs([n(pt(1, 0.05, 1, 0.8), 200), n(pt(3, 0.05, 1, 0.86), 200)], 0.9).point.lambda, 3);
  assert.equal(chooseKnobs([n(pt(1, 0.05, 1, 0.8), 200), n(pt(3, 0.05, 1, 0.84), 200)], 0.9).point.lambda, 1);
  // Ties keep the earlier (closer to the defaults) candidate.
  assert.equal(chooseKnobs([pt(1, 0.05, 1, 0.8), pt(3, 0.05, 1, 0.8)], 0.9).point.lambda, 1);
  assert.throws(() => chooseKnobs([], 0.9), /no candidate/);
});

test("the grid starts at the defaults and has no duplicates", () => {
  const g = calibrationGrid(1, 0.05);
  assert.deepEqual(g[0], { lambda: 1, ratio: 0.05 });
  assert.equal(new Set(g.map((p) => `${p.lambda}/${p.ratio}`)).size, g.length);
  assert.ok(calibrationGrid(1, 0.5).every((p) => p.ratio <= 1));
});

const records = (entities: number, perEntity: number): string[] =>
  Array.from({ length: entities * perEntity }, (_, i) =>
    JSON.stringify({
      question: `Q${i} about E${Math.floor(i / perEntity)}?`,
      answer: `A${i}.`,
      seat: { entities: [`E${Math.floor(i / perEntity)}`] },
    }),
  );

test("the split is by entity: train and held-out entities are disjoint, held-out records are marked", () => {
  const s = calibrationSplit(records(20, 3), 1)!;
  assert.equal(s.trainEntities, 2);
  assert.equal(s.heldoutEntities, 5, "a quarter of the entities are only asked");
  const ent = (l: string) => (JSON.parse(l) as { seat: { entities: string[] } }).seat.entities[0];
  const tr = new Set(s.train.map(ent));
  const ho = new Set(s.heldout.map(ent));
  assert.equal(tr.size, 2);
  assert.equal(ho.size, 5);
  for (const e of ho) assert.ok(!tr.has(e), e);
  assert.ok(s.heldout.every((l) => (JSON.parse(l) as { seat: { split: string } }).seat.split === "heldout"));
  assert.deepEqual(calibrationSplit(records(20, 3), 1), s, "deterministic for a seed");
  assert.equal(calibrationSplit(records(3, 3), 1), undefined, "too few entities");
  assert.equal(calibrationSplit(['{"question":"q","answer":"a"}'], 1), undefined, "no entities");
});

test("the walk: more KL weight after a candidate that learned, a larger mask after one that did not", () => {
  const grid = calibrationGrid(1, 0.2);
  const walk = (results: Record<string, number>) => {
    const points: CalibrationPoint[] = [];
    for (let k = nextCandidate(grid, points, 0.9); k; k = nextCandidate(grid, points, 0.9))
      points.push(pt(k.lambda, k.ratio, results[`${k.lambda}/${k.ratio}`], 0.5));
    return points.map((p) => `${p.lambda}/${p.ratio}`);
  };
  // The harder set's pattern: ratio 0.2 does not learn, 0.8 does -> (1, 0.8), then more KL there.
  assert.deepEqual(walk({ "1/0.2": 0.5, "3/0.2": 0.3, "1/0.8": 1, "3/0.8": 0.95, "0.3333333333333333/0.2": 0.6 }), [
    "1/0.2",
    "1/0.8",
    "3/0.8",
    "3/0.2",
    "0.3333333333333333/0.2",
  ]);
  // Everything learns: more KL weight first; when the step leaves the grid, the grid's order.
  assert.deepEqual(walk({ "1/0.2": 1, "3/0.2": 1, "1/0.8": 1, "3/0.8": 1, "0.3333333333333333/0.2": 1 }), [
    "1/0.2",
    "3/0.2",
    "1/0.8",
    "3/0.8",
    "0.3333333333333333/0.2",
  ]);
  // Nothing learns at ratio 1 already: a weaker pull (λ/3) next.
  const full = calibrationGrid(1, 1);
  assert.deepEqual(nextCandidate(full, [pt(1, 1, 0.2, 0.9)], 0.9), { lambda: 1 / 3, ratio: 1 });
});

test("calibration stays within its budget: the defaults always run, the others while the budget holds", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-cal-"));
  try {
    const data = join(dir, "d.jsonl");
    writeFileSync(data, records(20, 3).join("\n") + "\n");
    const base = (budget: number): SeatConfig =>
      resolveConfig([
        {
          source: "t",
          layer: {
            model: "m",
            dataset: data,
            mask: { ratio: 0.05 },
            calibrate: { enabled: true, budget, minAccuracy: 0.9 },
          },
        },
      ]).config;
    // Scripted by knob: answer accuracy, held-out abstention. Each candidate's steps take 10 s on 6 of
    // 60 records (the main run's steps: ~100 s); its wall time is 12 s, the first one's 20 s (it also
    // asks the teacher; later ones reuse its replies).
    const script: Record<string, [number, number]> = {
      "1/0.05": [0.95, 0.6],
      "3/0.05": [0.92, 0.9],
      "1/0.2": [0.99, 0.7],
      "3/0.2": [0.5, 0.99],
      "0.3333333333333333/0.05": [0.97, 0.65],
    };
    let clock = 0;
    let ran: string[] = [];
    const deps = {
      log: () => {},
      now: () => clock,
      async run(c: SeatConfig) {
        const key = `${c.kl.lambda}/${c.mask.ratio}`;
        clock += ran.length === 0 ? 20 : 12;
        ran.push(key);
        assert.equal(c.calibrate.enabled, false, "candidates do not calibrate");
        assert.ok(c.eval.samples > 0);
        const [answerAccuracy, abstentionProb] = script[key];
        return { answerAccuracy, abstentionProb, seconds: 10 };
      },
    };
    // Budget 0.5 x 100 s = 50 s of wall time: 20 (+20 estimated for the next, the costliest so far),
    // 32 (+20 = 52 > 50): two candidates, the defaults and one more KL weight (the defaults learned).
    const r = (await calibrate(base(0.5), join(dir, "a"), deps))!;
    assert.equal(r.budgetSeconds, 50);
    assert.deepEqual(ran, ["1/0.05", "3/0.05"]);
    assert.equal(r.usedSeconds, 32);
    assert.equal(r.skipped, 3);
    assert.deepEqual(r.chosen, { lambda: 3, ratio: 0.05 });
    assert.deepEqual(
      r.points.map((p) => [p.seconds, p.wallSeconds]),
      [
        [10, 20],
        [10, 12],
      ],
      "steps and wall time both recorded",
    );
    ran = [];
    // Budget 0.3 x 100 s = 30 s: only the defaults' candidate runs (it always does; 20 + 20 > 30).
    const narrow = (await calibrate(base(0.3), join(dir, "b"), deps))!;
    assert.equal(narrow.points.length, 1);
    assert.deepEqual(narrow.chosen, { lambda: 1, ratio: 0.05 });
    ran = [];
    // Budget 100 s: all five fit (20 + 4 x 12 = 68). (3, 0.05) learned (0.92) and abstains most among
    // those that learned; (3, 0.2) abstains more but did not learn. The walk: (3, 0.05) learned -> 9x is
    // off the grid -> grid order.
    const wide = (await calibrate(base(1), join(dir, "c"), deps))!;
    assert.deepEqual(ran, ["1/0.05", "3/0.05", "1/0.2", "3/0.2", "0.3333333333333333/0.05"]);
    assert.equal(wide.points.length, 5);
    assert.deepEqual(wide.chosen, { lambda: 3, ratio: 0.05 });
    assert.ok(wide.usedSeconds <= wide.budgetSeconds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
