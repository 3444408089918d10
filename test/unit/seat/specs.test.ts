// The trainable tensors come out in the model's order whether the mask was just drawn or restored
// from a checkpoint (which stores it in sorted order): the order decides the training graph's inputs
// and the order of the optimizer's global-norm sum, so a resumed run must build the same graph.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelFolder } from "../../../src/model/index";
import { resolveConfig, drawMask, selectTensors, Prng } from "../../../src/seat/index";
import { weightSpecs, maskFromCheckpoint } from "../../../src/seat/specs";
import { writeCheckpoint, readCheckpoint, type CkptTensor } from "../../../src/seat/checkpoint";

test("weightSpecs lists sparse tensors in model order for a drawn and for a checkpoint-restored mask", () => {
  const folder = loadModelFolder("test/fixtures/models/tiny-llama");
  const config = resolveConfig([{ source: "test", layer: { model: "m", dataset: "d", method: "seat" } }]).config;
  const modelOrder = [...folder.weights.entries.keys()];
  const names = selectTensors(modelOrder, config.mask.modules, "mask.modules");
  const drawn = drawMask(
    names.map((name) => ({ name, shape: folder.weights.entries.get(name)!.shape })),
    config.mask,
    new Prng(1, 3),
  );
  const dir = mkdtempSync(join(tmpdir(), "seat-specs-"));
  try {
    const tensors = new Map<string, CkptTensor>(
      [...drawn].map(([k, idx]) => [`mask/${k}`, { shape: [idx.length], data: idx }]),
    );
    const ck = writeCheckpoint(
      dir,
      {
        version: 1,
        step: 1,
        epoch: 0,
        batchInEpoch: 1,
        dataOrder: [0],
        rng: {},
        trainSeconds: 0,
        tokens: 0,
        extra: {},
      },
      tensors,
      1,
    );
    const restored = maskFromCheckpoint(readCheckpoint(ck).tensors);
    assert.notDeepEqual(
      [...restored.keys()],
      [...drawn.keys()],
      "the fixture really exercises a permuted mask (sorted vs model order)",
    );
    const a = [...weightSpecs(config, folder, drawn).keys()];
    const b = [...weightSpecs(config, folder, restored).keys()];
    assert.deepEqual(b, a);
    assert.deepEqual(
      a,
      modelOrder.filter((n) => drawn.has(n)),
    );
    assert.throws(
      () => weightSpecs(config, folder, new Map([["no.such.weight", new Int32Array([0])]])),
      /mask names tensor "no\.such\.weight"/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
