import { test } from "node:test";
import assert from "node:assert/strict";
import { verifyUnknown, suggestPerturbations, type AbstentionScorer } from "../../../src/entities/index";

const rec = { question: "What genre is Jaime Vasquez known for?", answer: "Crime fiction." };

test("keeps the candidates the base model abstains on, best first, with their scores", async () => {
  const s = suggestPerturbations(rec, 0, { k: 4, seed: 2 });
  assert.equal(s.candidates.length, 4);
  // A fake base model: abstains strongly on the 1st and 3rd stand-ins, answers on the others.
  const scores = new Map(s.candidates.map((c, i) => [c.question!, [0.9, 0.2, 0.97, 0.5][i]]));
  const seen: string[] = [];
  const scorer: AbstentionScorer = async (q) => {
    seen.push(q);
    return scores.get(q)!;
  };
  const progress: number[] = [];
  const r = await verifyUnknown(s.candidates, scorer, { threshold: 0.6, onProgress: (d) => progress.push(d) });
  assert.deepEqual(
    seen,
    s.candidates.map((c) => c.question),
    "the scorer gets the perturbed questions",
  );
  assert.deepEqual(
    r.kept.map((c) => c.replacement),
    [s.candidates[2].replacement, s.candidates[0].replacement],
  );
  assert.deepEqual(
    r.kept.map((c) => c.abstention),
    [0.97, 0.9],
  );
  assert.deepEqual(
    r.rejected.map((c) => c.abstention),
    [0.2, 0.5],
  );
  assert.deepEqual(progress, [1, 2, 3, 4]);
});

test("a scorer returning a non-probability is an error naming the candidate; abort stops", async () => {
  const s = suggestPerturbations(rec, 0, { k: 2 });
  await assert.rejects(
    verifyUnknown(s.candidates, async () => Number.NaN),
    new RegExp(`returned NaN for "${s.candidates[0].replacement}"`),
  );
  const ac = new AbortController();
  let calls = 0;
  const p = verifyUnknown(
    s.candidates,
    async () => {
      calls++;
      ac.abort();
      return 1;
    },
    { signal: ac.signal },
  );
  await assert.rejects(p, { name: "AbortError" });
  assert.equal(calls, 1);
});
