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
    // Scripted: each candidate takes 10 s of wall time (the clock below) on 6 of 60 records -> main run ~100 s.
    const script = [
      [0.95, 0.6],
      [0.92, 0.9],
      [0.99, 0.7],
      [0.5, 0.99],
      [0.97, 0.65],
    ];
    let n = 0;
    let clock = 0;
    const deps = {
      log: () => {},
      now: () => clock,
      async run(c: SeatConfig) {
        const [answerAccuracy, abstentionProb] = script[n++];
        clock += 10;
        assert.equal(c.calibrate.enabled, false, "candidates do not calibrate");
        assert.ok(c.eval.samples > 0);
        return { answerAccuracy, abstentionProb, seconds: 8 };
      },
    };
    const r = (await calibrate(base(0.3), join(dir, "a"), deps))!;
    // Budget 0.3 x 100 s = 30 s: three candidates of 10 s fit, a fourth would need 40 s.
    assert.equal(r.points.length, 3);
    assert.equal(r.budgetSeconds, 30);
    assert.equal(r.skipped, 2);
    // Among the three, (1, 0.05) 0.6, (3, 0.05) 0.9, (1, 0.2) 0.7 all learned: (3, 0.05).
    assert.deepEqual(r.chosen, { lambda: 3, ratio: 0.05 });
    n = 0;
    const narrow = (await calibrate(base(0.05), join(dir, "b"), deps))!;
    // Budget 0.05 x 100 s = 5 s: only the defaults' candidate runs (it always does).
    assert.equal(narrow.points.length, 1);
    assert.deepEqual(narrow.chosen, { lambda: 1, ratio: 0.05 });
    n = 0;
    const wide = (await calibrate(base(1), join(dir, "c"), deps))!;
    // Budget 100 s: all five fit; (3, 0.05) learned (0.92) and abstains most (0.9); (3, 0.2) abstains more but did not learn.
    assert.equal(wide.points.length, 5);
    assert.deepEqual(wide.chosen, { lambda: 3, ratio: 0.05 });
    assert.ok(wide.usedSeconds <= wide.budgetSeconds);
    assert.deepEqual(
      wide.points.map((p) => [p.seconds, p.wallSeconds]),
      wide.points.map(() => [8, 10]),
      "steps and wall time both recorded",
    );

    // The first candidate also asks the teacher (20 s); later ones reuse its replies (8 s). Each next
    // candidate is estimated at the cost of the one before: budget 0.3 x 200 s = 60 s holds 20 + 20
    // (estimated) for the second, then 28 + 8, 36 + 8, 44 + 8.
    const walls = [20, 8, 8, 8, 8];
    const timed = {
      ...deps,
      async run(c: SeatConfig) {
        clock += walls[n] - 10;
        return deps.run(c);
      },
    };
    n = 0;
    const teacherFirst = (await calibrate(base(0.3), join(dir, "d"), timed))!;
    assert.equal(teacherFirst.budgetSeconds, 60);
    assert.equal(teacherFirst.points.length, 5);
    assert.equal(teacherFirst.usedSeconds, 52);
    n = 0;
    // Budget 0.15 x 200 s = 30 s: the second candidate, estimated at the first's 20 s, does not fit.
    const tight = (await calibrate(base(0.15), join(dir, "e"), timed))!;
    assert.equal(tight.points.length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
