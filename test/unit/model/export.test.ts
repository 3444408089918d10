import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createSession } from "../../../src/runtime";
import {
  loadModelFolder,
  allWeightsF32,
  readSafetensorsHeader,
  readTensorBytes,
  exportMergedModel,
  exportOnnx,
  EXPORT_RECORD,
  inferenceFeeds,
  referenceForward,
} from "../../../src/model";
import { LLAMA, QWEN2, scratchDir, maxAbsDiff } from "./helpers";

test("merged export keeps files, names, order and dtypes; untouched tensors byte-identical; loads back", () => {
  for (const dir of [LLAMA, QWEN2]) {
    const src = loadModelFolder(dir);
    const out = scratchDir();
    try {
      const name = "model.layers.1.mlp.up_proj.weight";
      const w = allWeightsF32(src.weights).get(name)!;
      const changed = w.map((v, i) => (i % 3 === 0 ? v + 0.5 : v));
      exportMergedModel(src, new Map([[name, changed]]), out.dir);
      assert.deepEqual(
        readdirSync(out.dir).sort(),
        [...readdirSync(dir).filter((f) => f !== "golden.json"), EXPORT_RECORD].sort(),
      );
      assert.deepEqual(JSON.parse(readFileSync(join(out.dir, EXPORT_RECORD), "utf8")), {
        base: src.weights.dir,
        changedTensors: [name],
      });
      const back = loadModelFolder(out.dir);
      assert.deepEqual(back.config, src.config);
      for (const shard of src.weights.shards) {
        const a = readSafetensorsHeader(join(dir, shard.file)),
          b = readSafetensorsHeader(join(out.dir, shard.file));
        assert.deepEqual([...b.tensors.keys()], [...a.tensors.keys()]);
        assert.deepEqual(b.metadata, a.metadata);
        for (const [n, e] of a.tensors) {
          const f = b.tensors.get(n)!;
          assert.equal(f.dtype, e.dtype);
          assert.deepEqual(f.shape, e.shape);
          if (n !== name) assert.deepEqual(readTensorBytes(f), readTensorBytes(e), `${n} copied byte for byte`);
        }
      }
      const got = allWeightsF32(back.weights).get(name)!;
      const bf16 = src.weights.entries.get(name)!.dtype === "BF16";
      changed.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) <= (bf16 ? Math.abs(v) / 128 : 0), `entry ${i}`));
      assert.throws(() => exportMergedModel(src, new Map(), dir), /is the source model folder/);
      assert.throws(
        () => exportMergedModel(src, new Map([["nope", new Float32Array(1)]]), out.dir),
        /"nope" is not a weight/,
      );
      assert.throws(() => exportMergedModel(src, new Map([[name, new Float32Array(3)]]), out.dir), /has 3 values/);
    } finally {
      out.cleanup();
    }
  }
});

test("ONNX export runs standalone and reproduces the merged model's logits", async () => {
  const src = loadModelFolder(QWEN2);
  const out = scratchDir();
  try {
    const all = allWeightsF32(src.weights);
    const name = "model.layers.0.self_attn.o_proj.weight";
    const merged = new Map([[name, all.get(name)!.map((v) => v * 0.5)]]);
    const file = exportOnnx(src, join(out.dir, "model.onnx"), merged);
    assert.ok(existsSync(`${file}.data`));
    assert.ok(JSON.parse(readFileSync(`${file}.json`, "utf8")).inputs.some((i: { name: string }) => i.name === "ids"));
    const s = await createSession(file, { provider: "cpu" });
    try {
      const ids = [3, 50, 120, 7];
      const feeds = inferenceFeeds(
        src.config,
        { ids: [ids], positions: [[0, 1, 2, 3]], keyValid: [[true, true, true, true]], select: [[0, 1, 2, 3]] },
        null,
      );
      const r = await s.run(feeds, ["logits"]);
      const withMerged = new Map([...all, ...merged]);
      const ref = referenceForward(src.config, (n) => withMerged.get(n)!, ids);
      assert.ok(maxAbsDiff(r.logits!.data as Float32Array, ref.logits) < 1e-4);
    } finally {
      await s.release();
    }
  } finally {
    out.cleanup();
  }
});
