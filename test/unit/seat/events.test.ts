import { test } from "node:test";
import assert from "node:assert/strict";
import { makeEvent, formatEvent, parseEvent, parseEventLog } from "../../../src/protocol/events";

const T = new Date("2026-01-01T00:00:00Z");

test("events round-trip through one JSON line, non-finite losses included", () => {
  const e = makeEvent(
    {
      type: "step",
      step: 3,
      totalSteps: 10,
      epoch: 1,
      loss: NaN,
      ce: 1.5,
      kl: Infinity,
      lr: 1e-3,
      gradNorm: 0.5,
      tokensPerSec: 100,
      etaSeconds: 7,
    },
    T,
  );
  const line = formatEvent(e);
  assert.ok(!line.includes("\n"));
  const r = parseEvent(line);
  assert.ok(r.ok);
  assert.equal(r.event.type, "step");
  if (r.event.type === "step") {
    assert.ok(Number.isNaN(r.event.loss));
    assert.equal(r.event.kl, Infinity);
    assert.equal(r.event.ce, 1.5);
  }
});

test("the parser rejects bad lines with a located reason", () => {
  assert.match((parseEvent("{", "events.jsonl:4") as { error: string }).error, /^events.jsonl:4: not JSON/);
  assert.match(
    (parseEvent('{"v":2,"time":"x","type":"step"}') as { error: string }).error,
    /unsupported events version 2/,
  );
  assert.match(
    (parseEvent('{"v":1,"time":"x","type":"boom"}') as { error: string }).error,
    /unknown event type "boom"; expected one of run-start/,
  );
  assert.match(
    (parseEvent('{"v":1,"time":"x","type":"checkpoint","step":1.5,"path":"p"}') as { error: string }).error,
    /checkpoint.step must be a non-negative integer, got 1.5/,
  );
  assert.match(
    (parseEvent('{"v":1,"time":"x","type":"checkpoint","step":1}') as { error: string }).error,
    /checkpoint event lacks 'path'/,
  );
  assert.match(
    (parseEvent('{"v":1,"time":"x","type":"error","message":"m","term":"xx"}') as { error: string }).error,
    /error.term must be one of ce, kl, ewc, total/,
  );
});

test("a log parses line by line, skipping blanks and reporting bad lines by number", () => {
  const good = formatEvent(makeEvent({ type: "cancelled", step: 4, checkpoint: "checkpoints/step-0000004" }, T));
  const { events, errors } = parseEventLog(`${good}\n\nnot json\n${good}\n`, "run/events.jsonl");
  assert.equal(events.length, 2);
  assert.deepEqual(
    errors.map((e) => e.split(":").slice(0, 2).join(":")),
    ["run/events.jsonl:3"],
  );
});
