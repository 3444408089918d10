import { test } from "node:test";
import assert from "node:assert/strict";
import { Prng } from "../../../src/util/rng";
import { drawMask, topK, moduleMatches, selectTensors, maskSize } from "../../../src/seat/masks";
import { lrAt } from "../../../src/seat/schedule";

test("the PRNG is deterministic, resumable from its state, and streams differ", () => {
  const a = new Prng(7);
  const first = [a.u32(), a.u32()];
  const saved = a.state();
  const rest = [a.u32(), a.u32(), a.u32()];
  const b = Prng.fromState(JSON.parse(JSON.stringify(saved)));
  assert.deepEqual([b.u32(), b.u32(), b.u32()], rest);
  const c = new Prng(7);
  assert.deepEqual([c.u32(), c.u32()], first);
  assert.notDeepEqual(new Prng(7, 1).u32(), first[0]);
  const p = new Prng(1).permutation(50);
  assert.deepEqual(
    [...p].sort((x, y) => x - y),
    Array.from({ length: 50 }, (_, i) => i),
  );
});

test("selection sampling draws exactly k sorted distinct indices, roughly uniformly", () => {
  const r = new Prng(3);
  const hits = new Float64Array(20);
  for (let rep = 0; rep < 2000; rep++) {
    const s = r.sample(20, 5);
    assert.equal(s.length, 5);
    for (let i = 1; i < s.length; i++) assert.ok(s[i] > s[i - 1]);
    for (const i of s) hits[i]++;
  }
  // each index expected 500 times; 5 sigma of a binomial(2000, .25) is ~97
  for (const h of hits) assert.ok(Math.abs(h - 500) < 100, `count ${h}`);
});

test("random masks: per-tensor share, seeded, element and row granularity", () => {
  const tensors = [
    { name: "a", shape: [10, 8] },
    { name: "b", shape: [4, 5] },
  ];
  const m1 = drawMask(tensors, { type: "random", ratio: 0.25, granularity: "element" }, new Prng(1));
  const m2 = drawMask(tensors, { type: "random", ratio: 0.25, granularity: "element" }, new Prng(1));
  assert.deepEqual(m1, m2);
  assert.equal(m1.get("a")!.length, 20);
  assert.equal(m1.get("b")!.length, 5);
  assert.equal(maskSize(m1), 25);
  const m3 = drawMask(tensors, { type: "random", ratio: 0.25, granularity: "element" }, new Prng(2));
  assert.notDeepEqual(m1.get("a"), m3.get("a"));
  const rows = drawMask(tensors, { type: "random", ratio: 0.2, granularity: "row" }, new Prng(1)).get("a")!;
  assert.equal(rows.length, 2 * 8);
  // whole rows: indices come in runs of 8 starting at a multiple of 8
  for (let i = 0; i < rows.length; i += 8) {
    assert.equal(rows[i] % 8, 0);
    for (let c = 1; c < 8; c++) assert.equal(rows[i + c], rows[i] + c);
  }
});

test("magnitude and importance masks pick the largest entries; ties break by index", () => {
  const values = new Float32Array([0.1, -5, 0.3, 2, -0.2, 4]);
  const m = drawMask(
    [{ name: "w", shape: [2, 3], values }],
    { type: "magnitude", ratio: 0.5, granularity: "element" },
    new Prng(0),
  );
  assert.deepEqual([...m.get("w")!], [1, 3, 5]);
  const rowsM = drawMask(
    [{ name: "w", shape: [2, 3], values }],
    { type: "magnitude", ratio: 0.5, granularity: "row" },
    new Prng(0),
  );
  // row norms²: row 0 = .01 + 25 + .09 = 25.1 beats row 1 = 4 + .04 + 16 = 20.04
  assert.deepEqual([...rowsM.get("w")!], [0, 1, 2]);
  const scores = new Float32Array([1, 1, 1, 0, 2, 1]);
  assert.deepEqual(
    [
      ...drawMask(
        [{ name: "w", shape: [6], scores }],
        { type: "importance", ratio: 0.5, granularity: "element" },
        new Prng(0),
      ).get("w")!,
    ],
    [0, 1, 4],
  );
  assert.throws(
    () =>
      drawMask([{ name: "w", shape: [6] }], { type: "importance", ratio: 0.5, granularity: "element" }, new Prng(0)),
    /tensor w needs importance scores of length 6/,
  );
  assert.deepEqual([...topK(new Float64Array([3, 1, 2]), 3)], [0, 1, 2]);
});

test("module patterns select linear weights by name segment or glob and name patterns that match nothing", () => {
  const names = [
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.0.mlp.down_proj.weight",
    "model.norm.weight",
  ];
  assert.ok(moduleMatches(names[1], "q_proj"));
  assert.ok(!moduleMatches(names[1], "q"));
  assert.ok(moduleMatches(names[2], "model.layers.*.mlp.*"));
  assert.deepEqual(selectTensors(names, ["q_proj", "down_proj"]), [names[1], names[2]]);
  assert.equal(selectTensors(names, ["*"]).length, 4);
  assert.throws(() => selectTensors(names, ["q_proj", "wq"]), /mask.modules: 'wq' match no tensor/);
});

test("lr schedule: warmup, constant, linear and cosine decay", () => {
  assert.equal(lrAt({ lr: 1, warmupSteps: 4, schedule: "constant" }, 2, 10), 0.5);
  assert.equal(lrAt({ lr: 1, warmupSteps: 0, schedule: "constant" }, 9, 10), 1);
  // Decay: the first step takes the full rate, the last still a tenth (linear) of it, never 0.
  assert.equal(lrAt({ lr: 1, warmupSteps: 0, schedule: "linear" }, 1, 10), 1);
  assert.ok(Math.abs(lrAt({ lr: 1, warmupSteps: 0, schedule: "linear" }, 10, 10) - 0.1) < 1e-12);
  assert.ok(Math.abs(lrAt({ lr: 1, warmupSteps: 0, schedule: "cosine" }, 6, 10) - 0.5) < 1e-12);
  assert.equal(lrAt({ lr: 1, warmupSteps: 0, schedule: "cosine" }, 1, 1), 1, "a one-step run learns");
  assert.ok(lrAt({ lr: 1, warmupSteps: 0, schedule: "cosine" }, 10, 10) > 0);
  assert.equal(lrAt({ lr: 1, warmupSteps: 4, schedule: "cosine" }, 5, 10), 1, "full rate right after warmup");
});
