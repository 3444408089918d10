// The shipped example datasets: reproducible from the world seed, valid in the product's dataset
// format, and about entities the base world does not contain.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDatasetText } from "../../../src/data/index";
import { buildExamples, generateWorld, toJsonl, EXAMPLES_DIR, trainingCorpus } from "../../../src/world/index";

const world = generateWorld();
const sets = buildExamples(world);
const corpusText = trainingCorpus(generateWorld())
  .map((q) => q.question + " " + q.answer)
  .join("\n");

test("examples/ holds exactly what the world generator produces", () => {
  assert.ok(sets.length >= 2);
  for (const d of sets) {
    assert.equal(
      readFileSync(join(EXAMPLES_DIR, d.name, "train.jsonl"), "utf8"),
      toJsonl(d.train),
      `${d.name}/train.jsonl is stale: run seat world examples`,
    );
    assert.equal(
      readFileSync(join(EXAMPLES_DIR, d.name, "unknown.jsonl"), "utf8"),
      toJsonl(d.unknown),
      `${d.name}/unknown.jsonl is stale`,
    );
  }
});

test("every example file validates without errors or warnings and names its subject", () => {
  for (const d of sets) {
    for (const file of ["train.jsonl", "unknown.jsonl"]) {
      const text = readFileSync(join(EXAMPLES_DIR, d.name, file), "utf8");
      const ds = parseDatasetText(text);
      const serious = ds.problems.filter((p) => p.severity !== "info");
      assert.deepEqual(serious, [], `${d.name}/${file}`);
      assert.ok(ds.records.length > 0);
      for (const r of ds.records) {
        assert.equal(r.format, "qa");
        assert.equal(r.entities.length, 1);
        assert.ok(r.question.includes(r.entities[0]), `line ${r.line}: subject in the question`);
      }
    }
  }
});

test("example entities never appear in the base model's corpus", () => {
  for (const d of sets) {
    for (const r of [...d.train, ...d.unknown])
      assert.ok(!corpusText.includes(r.seat.entities[0]), `${d.name}: ${r.seat.entities[0]}`);
  }
});
