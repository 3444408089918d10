import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, writeFileSync, utimesSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { listRunFolders, readRun } from "../../../src/extension/runs/runFolders";

const T = "2026-01-01T00:00:00.000Z";
const start = {
  v: 1,
  time: T,
  type: "run-start",
  runDir: "x",
  method: "seat",
  model: "/m",
  dataset: "d.jsonl",
  totalSteps: 4,
  stepsPerEpoch: 2,
  epochs: 2,
  trainableParams: 5,
  totalParams: 50,
  provider: "cpu",
};
const step = (n: number) => ({
  v: 1,
  time: T,
  type: "step",
  step: n,
  totalSteps: 4,
  epoch: 1,
  loss: 1,
  ce: 1,
  kl: 0,
  lr: 1e-3,
  gradNorm: 1,
  tokensPerSec: 1,
  etaSeconds: 1,
});
const done = {
  v: 1,
  time: T,
  type: "done",
  summary: {
    method: "seat",
    steps: 4,
    epochs: 2,
    trainSeconds: 1,
    finalLoss: 0.5,
    finalCe: 0.5,
    finalKl: 0,
    meanTokensPerSec: 1,
    meanStepSeconds: 1,
    trainableParams: 5,
    totalParams: 50,
    modelDir: "model",
  },
};

function makeRuns(runs: Record<string, object[] | string>, ageMs = 120_000): string {
  const root = mkdtempSync(join(tmpdir(), "seat-runs-"));
  for (const [name, events] of Object.entries(runs)) {
    mkdirSync(join(root, name));
    const file = join(root, name, "events.jsonl");
    writeFileSync(file, typeof events === "string" ? events : events.map((e) => JSON.stringify(e)).join("\n") + "\n");
    const t = (Date.now() - ageMs) / 1000;
    utimesSync(file, t, t);
  }
  mkdirSync(join(root, "not-a-run"));
  return root;
}

test("states come from the last lifecycle event; a silent, stale run is interrupted (failed)", () => {
  const root = makeRuns({
    finished: [start, step(1), step(4), done],
    failed: [start, step(1), { v: 1, time: T, type: "error", step: 2, term: "ce", message: "loss is NaN" }],
    cancelled: [
      start,
      step(1),
      { v: 1, time: T, type: "checkpoint", step: 1, path: "checkpoints/step-1" },
      { v: 1, time: T, type: "cancelled", step: 1, checkpoint: "checkpoints/step-1" },
    ],
    cancelledAfterCheckpoint: [
      start,
      { v: 1, time: T, type: "checkpoint", step: 1, path: "checkpoints/step-1" },
      step(2),
      { v: 1, time: T, type: "cancelled", step: 2 },
    ],
    cancelledEarly: [start, step(1), { v: 1, time: T, type: "cancelled", step: 1 }],
    resumed: [
      start,
      step(1),
      { v: 1, time: T, type: "cancelled", step: 1, checkpoint: "c" },
      { ...start, resumedFromStep: 1 },
      step(2),
      done,
    ],
    killed: [start, step(1), { v: 1, time: T, type: "checkpoint", step: 1, path: "checkpoints/step-1" }, step(2)],
  });
  try {
    const byName = Object.fromEntries(listRunFolders(root).map((r) => [r.name, r]));
    assert.deepEqual(Object.keys(byName).sort(), [
      "cancelled",
      "cancelledAfterCheckpoint",
      "cancelledEarly",
      "failed",
      "finished",
      "killed",
      "resumed",
    ]);
    assert.equal(byName.finished.state, "finished");
    assert.equal(byName.finished.modelDir, join(root, "finished", "model"));
    assert.equal(byName.finished.detail, "4 steps, loss 0.500");
    assert.equal(byName.failed.state, "failed");
    assert.equal(byName.failed.detail, "step 2: loss is NaN");
    assert.equal(byName.cancelled.state, "cancelled");
    assert.equal(byName.cancelled.detail, "cancelled at step 1 (resumable)");
    assert.equal(byName.cancelledAfterCheckpoint.detail, "cancelled at step 2 (resumable)");
    assert.equal(byName.cancelledEarly.detail, "cancelled at step 1");
    assert.equal(byName.resumed.state, "finished");
    assert.equal(byName.killed.state, "failed");
    assert.equal(byName.killed.detail, "interrupted after step 2 (resumable)");
    assert.equal(byName.killed.method, "seat");
  } finally {
    rmSync(root, { recursive: true });
  }
});

test("a run without an end is running while its process is active or its events are fresh", () => {
  const root = makeRuns({ live: [start, step(3)] });
  try {
    const dir = join(root, "live");
    assert.equal(readRun(dir)!.state, "failed");
    assert.equal(readRun(dir, { active: new Set([dir]) })!.state, "running");
    assert.equal(readRun(dir, { active: new Set([dir]) })!.detail, "step 3/4");
    assert.equal(readRun(dir, { freshMs: 10 * 60_000 })!.state, "running");
  } finally {
    rmSync(root, { recursive: true });
  }
});

test("bad event lines are listed with their line numbers, the rest still read", () => {
  const root = makeRuns({
    odd: `${JSON.stringify(start)}\nnot json\n${JSON.stringify({ v: 2, time: T, type: "step" })}\n${JSON.stringify(done)}\n`,
  });
  try {
    const run = readRun(join(root, "odd"))!;
    assert.equal(run.state, "finished");
    assert.equal(run.problems.length, 2);
    assert.match(run.problems[0], /events\.jsonl:2: not JSON/);
    assert.match(run.problems[1], /events\.jsonl:3: unsupported events version 2/);
  } finally {
    rmSync(root, { recursive: true });
  }
});

test("a missing runs folder is an empty list", () => {
  assert.deepEqual(listRunFolders(join(tmpdir(), "seat-no-such-runs-folder")), []);
});

test("new run folder names sort by time and carry a file-system-safe method", async () => {
  const { newRunName } = await import("../../../src/extension/training/trainArgs");
  assert.equal(newRunName("full+kl", new Date(2026, 10, 25, 9, 5, 7)), "20261125-090507-full_kl");
});
