import { test } from "node:test";
import assert from "node:assert/strict";
import { planMemory, planRefusal, describePlan } from "../../../src/seat/memoryPlan";
import { resolveConfig } from "../../../src/seat/config";
import { expectedTensors } from "../../../src/model/weights";
import { realShapeConfig } from "../../fixtures/realShapes";

const GB = 2 ** 30;

function planFor(method: string, batch: number) {
  const { config } = resolveConfig([
    { source: "test", layer: { method, model: "m", dataset: "d", train: { batchSize: batch } } },
  ]);
  const c = realShapeConfig("qwen2.5-0.5b");
  const numel = new Map(expectedTensors(c).map((t) => [t.name, t.shape.reduce((a, b) => a * b, 1)]));
  const params = [...numel.values()].reduce((a, b) => a + b, 0);
  const linear = [...numel.keys()].filter((n) => /proj\.weight$/.test(n));
  const trainable =
    method === "full"
      ? { names: [...numel.keys()], params }
      : { names: linear, params: Math.round(0.05 * linear.reduce((a, n) => a + numel.get(n)!, 0)) };
  return {
    config,
    plan: planMemory(
      config,
      { config: c, fileBytes: 2 * params, params, numel, storedBytesPerParam: 2 },
      { B: batch, T: 256, A: 32, kl: method === "seat" ? { K: batch, Tk: 256, Ak: 32 } : undefined },
      trainable,
    ),
  };
}

test("memory plan: parts of a 0.5B SEAT run, the perturbed batch counted, full fine-tuning dominated by optimizer state", () => {
  const seat = planFor("seat", 4).plan,
    sparse = planFor("sparse", 4).plan,
    full = planFor("full", 4).plan;
  const part = (p: typeof seat, prefix: string) => p.parts.find((x) => x.name.startsWith(prefix))?.bytes ?? 0;
  assert.equal(part(seat, "weights file"), 2 * 494_032_768);
  const scratch = (p: typeof seat) => part(p, "executor scratch");
  assert.ok(
    Math.abs(scratch(seat) - 0.1 * (seat.peakBytes - scratch(seat) - 0.6 * GB)) < 1e3,
    "10% of the step's parts",
  );
  assert.ok(seat.peakBytes > sparse.peakBytes, "the perturbed batch's activations and vocab buffers");
  assert.equal(
    part(full, "trainable values"),
    4 * 3 * 494_032_768,
    "values + two moments of 494M fp32 parameters, once (written in place)",
  );
  assert.equal([...full.parts].sort((a, b) => b.bytes - a.bytes)[0]!.name.split(" ")[0], "trainable");
  assert.match(describePlan(seat), /^memory plan: peak ~\d+\.\d GB \(/);
});

test("memory plan: a run that does not fit is refused with what to change; one that fits is not", () => {
  const { config, plan } = planFor("seat", 8);
  assert.equal(planRefusal(plan, 64 * GB, config), undefined);
  const line = planRefusal(plan, 4 * GB, config)!;
  assert.match(line, /^this run needs about \d+\.\d GB of memory and 4\.0 GB is available \(largest part: .+\); try /);
  assert.match(line, /--batch 4 --grad-accum 2/);
  const full = planFor("full", 4);
  assert.match(planRefusal(full.plan, 4 * GB, full.config)!, /--method seat or lora/);
});
