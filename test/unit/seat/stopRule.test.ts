// `train.epochs auto`: the stopping rule on scripted quick-eval sequences, and the config value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { autoEpochsLine, stopDecision, type StopInput } from "../../../src/seat/stopRule";
import { epochBudget, resolveConfig } from "../../../src/seat/config";

const T = { accuracy: 1, abstentionFloor: 0.5, patience: 1 };
const ev = (answerAccuracy: number, abstentionProb: number): StopInput => ({
  answerAccuracy,
  accuracySamples: 60,
  abstentionProb,
  abstentionSamples: 8,
});

/** The trainer's loop in miniature: the first epoch (1-based) whose eval stops the run, or "max-epochs". */
function run(seq: StopInput[], t = T): { epoch: number; reason: string } {
  let below = 0;
  let low = Infinity;
  for (const [i, q] of seq.entries()) {
    const r = stopDecision(q, t, below, low);
    below = r.belowFloor;
    low = r.floorLow;
    if (r.decision) return { epoch: i + 1, reason: r.decision.reason };
  }
  return { epoch: seq.length, reason: "max-epochs" };
}

test("epochs auto stops when the sampled training questions are answered", () => {
  const seq = [ev(0.1, 0.9), ev(0.5, 0.85), ev(0.9, 0.8), ev(1, 0.78), ev(1, 0.7)];
  assert.deepEqual(run(seq), { epoch: 4, reason: "facts-learned" });
});

test("epochs auto stops early when held-out abstention falls below the floor", () => {
  const seq = [ev(0.1, 0.9), ev(0.4, 0.6), ev(0.7, 0.49), ev(1, 0.3)];
  assert.deepEqual(run(seq), { epoch: 3, reason: "abstention-floor" });
});

test("with patience, an early dip below the floor is waited out; a run that stays below it stops", () => {
  const P = { ...T, patience: 3 };
  // The measured shape (new-people, seed 2): 0.23 after epoch 1, then recovery.
  const dip = [ev(0, 0.23), ev(0.05, 0.45), ev(0.2, 0.8), ev(0.5, 0.85), ev(1, 0.9)];
  // The dip comes before the answers: the floor waits until half the sampled answers are right.
  assert.deepEqual(run(dip, T), { epoch: 5, reason: "facts-learned" }, "patience 1: no stop at accuracy < 0.5");
  const learnedThenLow = [ev(0.2, 0.9), ev(0.6, 0.45), ev(0.8, 0.9)];
  assert.deepEqual(run(learnedThenLow, T), { epoch: 2, reason: "abstention-floor" }, "patience 1: the first low eval");
  assert.deepEqual(run(dip, P), { epoch: 5, reason: "facts-learned" });
  // Below, back above, below again: the count starts over.
  assert.deepEqual(run([ev(0, 0.4), ev(0, 0.4), ev(0.1, 0.6), ev(0.2, 0.4), ev(0.3, 0.4)], P), {
    epoch: 5,
    reason: "max-epochs",
  });
  const stays = [ev(0.1, 0.9), ev(0.4, 0.45), ev(0.6, 0.4), ev(0.7, 0.3), ev(0.8, 0.2)];
  // Epoch 2 (accuracy 0.4) does not count; epochs 3-5 are three in a row.
  assert.deepEqual(run(stays, P), { epoch: 5, reason: "abstention-floor" });
  assert.match(stopDecision(ev(0.7, 0.3), P, 2).decision!.detail, /< 0\.5 on 8 prompts, 3 evals in a row$/);
  // Learned facts reset the count.
  assert.equal(stopDecision(ev(1, 0.3), P, 2).belowFloor, 0);
});

test("a run below the floor that is climbing back is not stopped; one that stays low or falls is", () => {
  const P = { ...T, patience: 3 };
  // Measured at SEAT's current defaults (new-people, seed 2, quick evals of epochs 1-12): three evals
  // below 0.5 while the facts were being learned, then recovery to 0.86 with every fact learned.
  const abst = [0.648, 0.196, 0.355, 0.386, 0.559, 0.811, 0.695, 0.795, 0.715, 0.755, 0.837, 0.856];
  const acc = [0, 0.017, 0.15, 0.367, 0.783, 0.883, 0.983, 1, 1, 1, 1, 1];
  const measured = abst.map((a, i) => ev(acc[i], a));
  assert.deepEqual(run(measured, P), { epoch: 8, reason: "facts-learned" });
  // The same climb with half the answers right: without a streak minimum it would stop.
  const climbing = { ...measured[3], answerAccuracy: 0.6 };
  assert.equal(stopDecision(climbing, P, 2).decision?.reason, "abstention-floor", "no streak minimum given");
  assert.equal(stopDecision(climbing, P, 2, 0.196).decision, undefined, "0.386 is more than 0.05 above 0.196");
  // Falling or flat within the margin: stopped at the patience-th eval.
  assert.deepEqual(run([ev(0.6, 0.45), ev(0.6, 0.3), ev(0.6, 0.33)], P), { epoch: 3, reason: "abstention-floor" });
  // A rise that does not hold: stopped once it is back within the margin of the streak's lowest.
  assert.deepEqual(run([ev(0.6, 0.3), ev(0.6, 0.1), ev(0.6, 0.2), ev(0.6, 0.12)], P), {
    epoch: 4,
    reason: "abstention-floor",
  });
  // The lowest is carried with the count (a resumed run passes both back in).
  assert.deepEqual(stopDecision(ev(0.6, 0.3), P, 1, 0.1), { belowFloor: 2, floorLow: 0.1 });
  // Measured (contract-register, a user's calibrated run, seed 1): 0.37, 0.45, 0.38 with no answer
  // learned stopped the run at epoch 3 with FT 0.02; the floor now waits for the answers.
  assert.deepEqual(run([ev(0.003, 0.372), ev(0, 0.445), ev(0.003, 0.383)], P), { epoch: 3, reason: "max-epochs" });
});

test("learned facts win over the floor at the same eval; neither rule met runs to the cap", () => {
  assert.equal(stopDecision(ev(1, 0.2), T).decision?.reason, "facts-learned");
  assert.deepEqual(run([ev(0.2, 0.9), ev(0.6, 0.8), ev(0.9, 0.7)]), { epoch: 3, reason: "max-epochs" });
  // No samples: nothing to decide on.
  assert.equal(
    stopDecision({ answerAccuracy: 1, accuracySamples: 0, abstentionProb: 0, abstentionSamples: 0 }, T).decision,
    undefined,
  );
  const d = stopDecision(ev(0.7, 0.4), T).decision!;
  assert.match(d.detail, /0\.400 < 0\.5 on 8 prompts/);
  assert.match(
    autoEpochsLine({ outcome: d.reason, step: 24, epoch: 3, detail: d.detail }),
    /^epochs auto: stopped at epoch 3 \(step 24\) to keep abstention: held-out/,
  );
  assert.match(
    autoEpochsLine({ outcome: "max-epochs", step: 400, epoch: 40, detail: "x" }),
    /train\.maxEpochs \(40 epochs/,
  );
});

test("train.epochs is auto by default for user runs, takes a number, and nothing else", () => {
  const base = { source: "test", layer: { model: "m", dataset: "d.jsonl" } };
  const auto = resolveConfig([base]).config;
  assert.equal(auto.train.epochs, "auto");
  assert.equal(epochBudget(auto.train), auto.train.maxEpochs);
  const fixed = resolveConfig([base, { source: "flags", layer: { train: { epochs: 12 } } }]).config;
  assert.equal(epochBudget(fixed.train), 12);
  assert.throws(
    () => resolveConfig([base, { source: "flags", layer: { train: { epochs: "many" } } }]),
    /flags: train\.epochs: expected an integer >= 1 or "auto", got "many"/,
  );
});
