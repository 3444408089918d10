// The KL teacher's decode batch: wide for small models, bounded by activation memory for real shapes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { teacherBatchRows } from "../../../src/seat/teacher";
import { loadModelFolder } from "../../../src/model/index";
import { EMBEDDED_MODEL_DIR } from "../../../src/world/paths";
import { realShapeConfig } from "../../fixtures/realShapes";

test("the teacher decodes 64 rows at once on the embedded model and fewer on wide real shapes", () => {
  const tiny = loadModelFolder(EMBEDDED_MODEL_DIR).config;
  assert.equal(teacherBatchRows(tiny, 64), 64);
  // Llama-3.2-1B at 512 tokens: 3 x 512 x 8192 fp32 MLP activations per row (50 MB) -> the floor, 8.
  assert.equal(teacherBatchRows(realShapeConfig("llama-3.2-1b"), 512), 8);
  // Qwen2.5-0.5B at 128 tokens: 8 x (3 x 128 x 4864 x 4 B + a 151,936-wide logits row) = 65 MB per row
  // -> 3 rows in 256 MiB -> the floor, 8 (measured: 33 rows peaked 1.4 GB above 8 rows at this shape).
  assert.equal(teacherBatchRows(realShapeConfig("qwen2.5-0.5b"), 128), 8);
  // The 135M fixture shape (MLP 1536, the llama3 tokenizer's 128,256 vocabulary) at 64 tokens:
  // 8 x (3 x 64 x 1536 + 128,256) x 4 B = 13.5 MB per row -> 19 rows.
  assert.equal(teacherBatchRows(realShapeConfig("smollm2-135m"), 64), 19);
  for (const shape of ["smollm2-135m", "qwen2.5-0.5b", "llama-3.2-1b"] as const)
    for (const T of [64, 256, 2048]) {
      const rows = teacherBatchRows(realShapeConfig(shape), T);
      assert.ok(rows >= 8 && rows <= 64, `${shape} T ${T}: ${rows}`);
    }
});
