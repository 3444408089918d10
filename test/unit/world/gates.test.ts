// The gate arithmetic on scripted answers: a model that knows everything and abstains properly passes;
// one that answers unknown names (hallucinates) or forgets facts fails the right gate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluateGates, gateSets, generateWorld, sample, type AnswerFn } from "../../../src/world/index";

const sets = gateSets(generateWorld());
const small = { known: sample(sets.known, 30), unknown: sample(sets.unknown, 30), concepts: sample(sets.concepts, 30) };
const byQuestion = new Map([...small.known, ...small.unknown, ...small.concepts].map((q) => [q.question, q.answer]));

test("an ideal model passes every gate", async () => {
  const ideal: AnswerFn = async (qs) => qs.map((q) => byQuestion.get(q)!);
  const r = await evaluateGates(ideal, small);
  assert.equal(r.passed, true, r.failed.join("; "));
  assert.equal(r.known.ftScore, 1);
  assert.equal(r.unknown.grounded, 1);
});

test("a model that answers every question with a fact fails both abstention gates", async () => {
  const confident: AnswerFn = async (qs) =>
    qs.map((q) => (small.known.some((k) => k.question === q) ? byQuestion.get(q)! : "Tessagrad."));
  const r = await evaluateGates(confident, small);
  assert.equal(r.passed, false);
  assert.equal(r.unknown.abstain, 0);
  assert.equal(r.concepts.abstain, 0);
  assert.equal(r.failed.length, 2);
});

test("a model that abstains on everything fails the FT-score gate; a generic refusal is not grounded", async () => {
  const refuser: AnswerFn = async (qs) => qs.map(() => "I don't know.");
  const r = await evaluateGates(refuser, small);
  assert.ok(r.known.ftScore < 0.5);
  assert.deepEqual(
    r.failed.map((f) => f.split(" ")[0]),
    ["FT"],
  );
  assert.equal(r.unknown.abstain, 1);
  assert.equal(r.unknown.grounded, 0);
});
