import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { TrainerProcess, describeEvent, formatDuration } from "../../../src/extension/training/trainerProcess";
import type { TrainEvent } from "../../../src/protocol/events";

const FAKE = join(import.meta.dirname, "fixtures", "fakeTrainer.mjs");

function collect(mode: string) {
  const events: TrainEvent[] = [];
  const text: string[] = [];
  const bad: string[] = [];
  const proc = new TrainerProcess(
    { command: process.execPath, args: [FAKE, mode] },
    {
      onEvent: (e) => events.push(e),
      onText: (l, s) => text.push(`${s}:${l}`),
      onBadEvent: (e) => bad.push(e),
    },
  );
  return { proc, events, text, bad };
}

test("a finished run: typed events in order, text passed through, a malformed event reported with its line", async () => {
  const c = collect("finish");
  const exit = await c.proc.exited;
  assert.equal(exit.code, 0);
  assert.deepEqual(
    c.events.map((e) => e.type),
    ["run-start", "step", "step", "step", "done"],
  );
  assert.equal(exit.last?.type, "done");
  assert.ok(c.text.includes("stdout:plain text line"));
  assert.ok(c.text.includes("stderr:loading model"));
  assert.equal(c.bad.length, 1);
  assert.match(c.bad[0], /^trainer stdout line 3: 'time' must be an ISO date string$/);
  assert.equal(c.proc.running, false);
});

test("cancel sends SIGTERM: the trainer checkpoints and reports a resumable cancel", async () => {
  const c = collect("wait");
  while (!c.events.some((e) => e.type === "step")) await new Promise((r) => setTimeout(r, 20));
  assert.equal(c.proc.running, true);
  c.proc.cancel();
  assert.equal(c.proc.cancelling, true);
  const exit = await c.proc.exited;
  assert.equal(exit.code, 130);
  assert.equal(exit.last?.type, "cancelled");
  const cancelled = exit.last as Extract<TrainEvent, { type: "cancelled" }>;
  assert.match(cancelled.checkpoint ?? "", /^checkpoints\/step-\d+$/);
  assert.ok(c.events.some((e) => e.type === "checkpoint"));
});

test("a trainer that cannot start is reported, not hung", async () => {
  const text: string[] = [];
  const proc = new TrainerProcess(
    { command: "/nonexistent/node", args: [] },
    { onEvent: () => undefined, onText: (l) => text.push(l) },
  );
  const exit = await proc.exited;
  assert.equal(exit.code, null);
  assert.match(text.join("\n"), /could not start the trainer \(\/nonexistent\/node\): .*ENOENT/);
});

test("event lines for the terminal", () => {
  const time = "2026-01-01T00:00:00.000Z";
  assert.equal(
    describeEvent({
      v: 1,
      time,
      type: "step",
      step: 2,
      totalSteps: 10,
      epoch: 1,
      loss: 1.23456,
      ce: 1.2,
      kl: 0.03456,
      lr: 0.001,
      gradNorm: 1,
      tokensPerSec: 150.4,
      etaSeconds: 95,
    }),
    "step 2/10 (epoch 1)  loss 1.2346  ce 1.2000  kl 0.0346  lr 1.00e-3  150 tok/s  ETA 1m35s",
  );
  assert.equal(describeEvent({ v: 1, time, type: "cancelled", step: 4 }), "cancelled at step 4; no checkpoint written");
  assert.equal(
    describeEvent({ v: 1, time, type: "error", step: 7, term: "kl", message: "loss is NaN" }),
    "error at step 7 (kl): loss is NaN",
  );
  assert.equal(formatDuration(3725), "1h02m");
  assert.equal(formatDuration(NaN), "?");
});
