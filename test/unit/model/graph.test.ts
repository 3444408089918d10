// The ONNX graphs against the float64 reference, and the trainable-weight machinery end to end.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as E from "../../../src/engine";
import {
  loadModelFolder,
  allWeightsF32,
  referenceForward,
  createModelGraph,
  llamaForward,
  mergeTrained,
  openModelSession,
  type WeightSpec,
  readSafetensorsHeader,
  writeSafetensors,
  float32ToBytes,
  readTensorF32,
} from "../../../src/model";
import { LLAMA, QWEN2, maxAbsDiff, scratchCopy } from "./helpers";

/** float32 graph vs float64 reference: errors are float32 rounding through 2 layers. */
const LOGIT_TOL = 1e-4;

for (const [name, dir] of [
  ["tiny-llama", LLAMA],
  ["tiny-qwen2", QWEN2],
] as const) {
  test(`${name}: committed golden logits reproduce with the reference, and the ONNX forward matches it`, async () => {
    const f = loadModelFolder(dir);
    const w = allWeightsF32(f.weights);
    const golden = JSON.parse(readFileSync(join(dir, "golden.json"), "utf8")) as {
      ids: number[];
      logits: number[];
      finalHidden: number[];
    };
    const ref = referenceForward(f.config, (n) => w.get(n)!, golden.ids);
    assert.ok(maxAbsDiff(ref.logits, golden.logits) < 1e-12, "reference drifted from the committed golden logits");
    assert.ok(maxAbsDiff(ref.hiddenStates[f.config.numLayers]!, golden.finalHidden) < 1e-12);

    const m = createModelGraph(f);
    const T = golden.ids.length;
    const ids = m.graph.input("ids", "int64", [2, T]);
    const out = llamaForward(m.tuned, ids);
    m.graph.output("logits", out.logits);
    m.graph.output("h1", out.hidden[1]!);
    const s = await openModelSession(E.toOnnx(m.graph), f.weights, { provider: "cpu" });
    try {
      const other = golden.ids.map((x, i) => (x * 7 + i) % f.config.vocabSize);
      const r = await s.run({ ids: E.hostTensor("int64", [2, T], [...golden.ids, ...other]) });
      const V = f.config.vocabSize,
        D = f.config.hiddenSize;
      const logits = r.logits!.data as Float32Array;
      assert.ok(maxAbsDiff(logits.subarray(0, T * V), golden.logits) < LOGIT_TOL);
      const ref2 = referenceForward(f.config, (n) => w.get(n)!, other);
      assert.ok(maxAbsDiff(logits.subarray(T * V), ref2.logits) < LOGIT_TOL, "second batch row");
      assert.ok(
        maxAbsDiff((r.h1!.data as Float32Array).subarray(0, T * D), ref.hiddenStates[1]!) < LOGIT_TOL,
        "layer-1 hidden state",
      );
    } finally {
      await s.release();
    }
  });
}

test("trainable specs: dense, sparse and LoRA train; frozen entries stay bit-identical; merged weights reproduce the tuned model", async () => {
  const f = loadModelFolder(QWEN2);
  const c = f.config;
  const sparseIdx = [0, 5, 17, 100, 255];
  const specs: Record<string, WeightSpec> = {
    "model.layers.0.self_attn.q_proj.weight": { kind: "sparse", indices: sparseIdx },
    "model.layers.1.mlp.down_proj.weight": { kind: "lora", rank: 2, alpha: 4 },
    "model.layers.1.self_attn.v_proj.bias": { kind: "dense" },
  };
  const m = createModelGraph(f, { specs });
  assert.deepEqual(
    m.params.map((p) => p.input.name),
    [
      "model.layers.0.self_attn.q_proj.weight.values",
      "model.layers.1.mlp.down_proj.weight.lora_A",
      "model.layers.1.mlp.down_proj.weight.lora_B",
      "model.layers.1.self_attn.v_proj.bias",
    ],
  );
  assert.equal(m.params.find((p) => p.role === "dense")!.noDecay, true, "biases are excluded from weight decay");
  const g = m.graph;
  const T = 6;
  const ids = g.input("ids", "int64", [1, T]);
  const labels = g.input("labels", "int64", [1, T]);
  const tuned = llamaForward(m.tuned, ids).logits;
  const base = llamaForward(m.base, ids).logits;
  const { loss } = E.crossEntropy(tuned, labels);
  g.output("kl", E.reduceSum(E.kl(E.logSoftmax(base, -1), E.logSoftmax(tuned, -1)), [-1]));
  g.output("tuned_logits", tuned);
  const step = E.trainStep(
    loss,
    m.params.map((p) => ({ value: p.input, noDecay: p.noDecay })),
    { weightDecay: 0.1 },
  );
  const s = await openModelSession(E.toOnnx(g), f.weights, { provider: "cpu" });
  try {
    await s.setState({ ...m.initialState(), ...E.initialOptimizerState(step) });
    const idv = [3, 77, 140, 9, 201, 56];
    const feeds = {
      ids: E.hostTensor("int64", [1, T], idv),
      labels: E.hostTensor("int64", [1, T], [77, 140, 9, 201, 56, -100]),
    };
    const first = await s.run(
      { ...feeds, lr: E.hostTensor("float32", [], [0]), step: E.hostTensor("float32", [], [1]) },
      ["loss", "kl"],
    );
    assert.ok(
      Math.abs((first.kl!.data as Float32Array)[0]!) < 1e-6,
      "KL(base||tuned) is 0 before training (LoRA B = 0)",
    );
    const losses: number[] = [];
    for (let t = 1; t <= 8; t++) {
      const out = await s.step(
        { ...feeds, lr: E.hostTensor("float32", [], [0.05]), step: E.hostTensor("float32", [], [t]) },
        { carry: step.carry, fetch: ["loss"] },
      );
      losses.push((out.loss!.data as Float32Array)[0]!);
    }
    assert.ok(losses[7]! < losses[0]! * 0.9, `loss falls: ${losses.map((x) => x.toFixed(3)).join(" ")}`);
    const state = await s.getState(m.params.map((p) => p.input.name!));
    const after = await s.run(
      { ...feeds, lr: E.hostTensor("float32", [], [0]), step: E.hostTensor("float32", [], [1]) },
      ["tuned_logits", "kl"],
    );
    assert.ok((after.kl!.data as Float32Array)[0]! > 1e-4, "tuned model moved away from the base");

    const merged = mergeTrained(f, m.params, state);
    assert.deepEqual([...merged.keys()].sort(), Object.keys(specs).sort());
    const stored = allWeightsF32(f.weights);
    const q0 = "model.layers.0.self_attn.q_proj.weight";
    let changed = 0;
    merged.get(q0)!.forEach((v, i) => {
      if (sparseIdx.includes(i)) {
        if (v !== stored.get(q0)![i]) changed++;
      } else assert.ok(Object.is(v, stored.get(q0)![i]), `masked-out entry ${i} changed`);
    });
    assert.ok(changed > 0, "the trainable entries moved");
    const all = new Map([...stored, ...merged]);
    const ref = referenceForward(c, (n) => all.get(n)!, idv);
    assert.ok(
      maxAbsDiff(after.tuned_logits!.data as Float32Array, ref.logits) < LOGIT_TOL,
      "merged weights reproduce the tuned graph",
    );
  } finally {
    await s.release();
  }
});

test("spec errors name the weight", () => {
  const f = loadModelFolder(LLAMA);
  assert.throws(
    () => createModelGraph(f, { specs: { "model.layers.9.mlp.up_proj.weight": { kind: "dense" } } }),
    /"model\.layers\.9\.mlp\.up_proj\.weight", which is not a weight/,
  );
  assert.throws(
    () => createModelGraph(f, { specs: { "model.norm.weight": { kind: "sparse", indices: [16] } } }),
    /index 16 outside 0\.\.15/,
  );
  assert.throws(
    () => createModelGraph(f, { specs: { "model.norm.weight": { kind: "lora", rank: 2, alpha: 2 } } }),
    /LoRA needs a matrix/,
  );
});

test("float16 weights referenced in place (external data + Cast) match the reference on the same values", async () => {
  const { dir, cleanup } = scratchCopy(QWEN2);
  try {
    const f0 = loadModelFolder(dir);
    for (const shard of f0.weights.shards) {
      const h = readSafetensorsHeader(join(dir, shard.file));
      writeSafetensors(
        join(dir, shard.file),
        shard.names.map((n) => {
          const e = h.tensors.get(n)!;
          return { name: n, dtype: "F16" as const, shape: e.shape, data: float32ToBytes("F16", readTensorF32(e)) };
        }),
        h.metadata,
      );
    }
    const f = loadModelFolder(dir);
    assert.ok([...f.weights.entries.values()].every((e) => e.dtype === "F16"));
    const w = allWeightsF32(f.weights);
    const m = createModelGraph(f);
    const ids = [3, 50, 120, 7, 260];
    const idt = m.graph.input("ids", "int64", [1, ids.length]);
    m.graph.output("logits", llamaForward(m.tuned, idt).logits);
    const serialized = E.toOnnx(m.graph);
    assert.ok(serialized.externalLocations.length === 2, "weights are referenced in the two shards, not copied");
    const s = await openModelSession(serialized, f.weights, { provider: "cpu" });
    try {
      const r = await s.run({ ids: E.hostTensor("int64", [1, ids.length], ids) });
      assert.ok(
        maxAbsDiff(r.logits!.data as Float32Array, referenceForward(f.config, (n) => w.get(n)!, ids).logits) <
          LOGIT_TOL,
      );
    } finally {
      await s.release();
    }
  } finally {
    cleanup();
  }
});
