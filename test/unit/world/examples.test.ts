// The shipped example datasets: reproducible from the world seed, valid in the product's dataset
// format, and about entities the base world does not contain.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDatasetText } from "../../../src/data/index";
import { buildExamples, generateWorld, toJsonl, EXAMPLES_DIR, trainingCorpus } from "../../../src/world/index";
import { REGISTER_RELATIONS, REGISTER_SIZES } from "../../../src/world/contractRegister";
import { fill } from "../../../src/world/relations";

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

test("contract-register: 320 records, 8 facts per company, high-entropy answers, disjoint unknowns", () => {
  const d = sets.find((s) => s.name === "contract-register");
  assert.ok(d, "the harder set is built");
  assert.equal(d.train.length, REGISTER_SIZES.companies * REGISTER_RELATIONS.length);
  assert.ok(d.train.length >= 300);
  const companies = [...new Set(d.train.map((r) => r.seat.entities[0]))];
  assert.equal(companies.length, REGISTER_SIZES.companies);
  for (const c of companies)
    assert.equal(d.train.filter((r) => r.seat.entities[0] === c).length, REGISTER_RELATIONS.length, c);
  // High entropy: most answers are distinct strings (dates, addresses, amounts, names).
  const distinct = new Set(d.train.map((r) => r.answer)).size;
  assert.ok(distinct / d.train.length > 0.6, `${distinct} distinct answers of ${d.train.length}`);
  assert.ok(
    d.train.some((r) => /^\d{1,2} [A-Z][a-z]+ \d{4}\.$/.test(r.answer)),
    "dates",
  );
  assert.ok(
    d.train.some((r) => /^\d+ [A-Z][a-z]+ Street, [A-Z]/.test(r.answer)),
    "street addresses",
  );
  assert.ok(
    d.train.some((r) => /million euros\.$/.test(r.answer)),
    "amounts",
  );
  // Real-QA question lengths: at least 10 words each.
  for (const r of d.train) assert.ok(r.question.split(/\s+/).length >= 10, r.question);
  // The unknown sets: unseen companies (same kind) and fictitious concepts, none a training entity,
  // none a name used inside a training answer, none a world entity.
  const heldOut = d.unknown.filter((r) => r.seat.probe === "held-out");
  const concepts = d.unknown.filter((r) => r.seat.probe === "fictitious-concept");
  assert.equal(heldOut.length, REGISTER_SIZES.unseenCompanies);
  assert.equal(concepts.length, REGISTER_SIZES.concepts);
  const trainNames = new Set(companies);
  const answers = d.train.map((r) => r.answer).join("\n");
  const worldNames = new Set(world.known.map((e) => e.name));
  for (const u of d.unknown) {
    const name = u.seat.entities[0];
    assert.ok(!trainNames.has(name) && !worldNames.has(name), name);
    assert.ok(!answers.includes(name), `${name} is inside a training answer`);
    assert.ok(u.answer.includes(name), "the reference abstention names the entity");
  }
  for (const u of heldOut)
    assert.ok(REGISTER_RELATIONS.some((rel) => fill(rel.question, u.seat.entities[0]) === u.question));
});
