// The one sentence on a calibration's cost (panel, CLI, exported README).
import { test } from "node:test";
import assert from "node:assert/strict";
import { calibrationCostText, candidateSecondsText } from "../../../src/seat/calibrationText";

const point = { lambda: 1, ratio: 0.2, answerAccuracy: 1, abstentionProb: 0.9, seconds: 20, wallSeconds: 25 };

test("the calibration's cost: candidates, budget, share of the run, and what the budget left out", () => {
  assert.equal(
    calibrationCostText({
      points: [point, point],
      usedSeconds: 82.2,
      budgetSeconds: 120.8,
      runSeconds: 343.3,
      skipped: 3,
    }),
    "2 candidates in 82 s of a 121 s budget, +24% on the run's own 343 s; 3 left out by the budget",
  );
  // Recorded before the run's own time was: no share.
  assert.equal(
    calibrationCostText({ points: [point, point, point], usedSeconds: 67, budgetSeconds: 75 }),
    "3 candidates in 67 s of a 75 s budget",
  );
  // The defaults' candidate always runs, even over the budget (small data: fixed costs dominate).
  assert.equal(
    calibrationCostText({ points: [point], usedSeconds: 6.2, budgetSeconds: 3.9, runSeconds: 34, skipped: 4 }),
    "the defaults' candidate alone (it always runs) took 6 s, over the 4 s budget, +18% on the run's own 34 s; 4 left out by the budget",
  );
  assert.equal(
    calibrationCostText({ points: [point], usedSeconds: 6, budgetSeconds: 30 }),
    "1 candidate in 6 s of a 30 s budget",
  );
});

test("a candidate's seconds in the tables: wall time with its steps, or steps alone in older records", () => {
  assert.equal(candidateSecondsText({ seconds: 22.7, wallSeconds: 27.6 }), "28 (23)");
  assert.equal(candidateSecondsText({ seconds: 22.7 }), "23");
});
