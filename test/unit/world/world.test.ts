// The synthetic world: deterministic, names that never overlap between known / unknown / held-out /
// example entities, and abstentions that the probe suite recognises as grounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  generateWorld,
  trainingCorpus,
  gateSets,
  buildExamples,
  RELATIONS,
  DEFAULT_SIZES,
} from "../../../src/world/index";
import { judgeAbstention, loadAbstentionLists, makeAbstentionDetector } from "../../../src/eval/index";

const w = generateWorld();
const words = (name: string) =>
  name
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);

const SMALL = {
  known: { person: 5, company: 4, place: 3, product: 3 },
  countries: 2,
  rivers: 2,
  unknownTrain: 20,
  unknownHeldout: 10,
  lookalikeTrain: 10,
  lookalikeHeldout: 5,
  conceptsTrain: 10,
  conceptsHeldout: 5,
  knownRepeats: 2,
};

test("same seed gives the same world, another seed a different one", () => {
  const a = generateWorld(7, SMALL);
  const b = generateWorld(7, SMALL);
  const c = generateWorld(8, SMALL);
  assert.equal(trainingCorpus(a).length, 2 * 3 * (5 * 3 + 4 * 4 + 3 * 2 + 3 * 3) + 30 + 10);
  assert.deepEqual(trainingCorpus(a), trainingCorpus(b));
  assert.deepEqual(a.facts, b.facts);
  assert.notDeepEqual(
    a.known.map((e) => e.name),
    c.known.map((e) => e.name),
  );
});

test("the world has the configured sizes and every relation of every known entity", () => {
  const perKind = (k: string) => w.known.filter((e) => e.kind === k).length;
  assert.equal(perKind("person"), DEFAULT_SIZES.known.person);
  assert.equal(perKind("company"), DEFAULT_SIZES.known.company);
  for (const e of w.known) {
    const rels = RELATIONS.filter((r) => r.kind === e.kind)
      .map((r) => r.id)
      .sort();
    const got = w.facts
      .filter((f) => f.subject === e.name)
      .map((f) => f.relation)
      .sort();
    assert.deepEqual(got, rels, `facts of ${e.name}`);
  }
  // Contracts are symmetric: a's partner is b and b's partner is a.
  const partner = new Map(w.facts.filter((f) => f.relation === "partner").map((f) => [f.subject, f.value]));
  for (const [a, b] of partner) assert.equal(partner.get(b), a);
});

test("known, unknown, held-out and example names share no word", () => {
  const groups: Record<string, string[]> = {
    known: w.known.map((e) => e.name),
    unknownTrain: w.unknownTrain.map((e) => e.name),
    unknownHeldout: w.unknownHeldout.map((e) => e.name),
    concepts: [...w.conceptsTrain, ...w.conceptsHeldout],
  };
  const ex = buildExamples(generateWorld());
  groups["examples"] = ex.flatMap((d) => [...d.train, ...d.unknown].flatMap((r) => r.seat.entities));
  const owner = new Map<string, string>();
  const generic = new Set([
    "the",
    "effect",
    "protocol",
    "theory",
    "paradox",
    "index",
    "engine",
    "industries",
    "systems",
    "works",
    "labs",
    "group",
    "holdings",
    "logistics",
    "motors",
    "foods",
    "textiles",
    "one",
    "pro",
    "mini",
    "max",
    "lite",
    "x",
    "s",
    "air",
  ]);
  for (const [g, names] of Object.entries(groups)) {
    for (const n of names) {
      for (const wd of words(n)) {
        // Product model designators ("X", "3", "Pro") are shared on purpose, like company suffixes.
        if (generic.has(wd) || wd.length <= 2 || /^[0-9]+$/.test(wd)) continue;
        const prev = owner.get(wd);
        assert.ok(prev === undefined || prev === g, `word "${wd}" of ${g} name "${n}" is also in ${prev}`);
        owner.set(wd, g);
      }
    }
  }
});

test("every abstention in the corpus and gate sets is detected and grounded by the probe suite", () => {
  const det = makeAbstentionDetector(loadAbstentionLists().phrases);
  const sets = gateSets(w);
  const abst = [...trainingCorpus(w).filter((q) => q.type !== "known"), ...sets.unknown, ...sets.concepts];
  assert.ok(abst.length > 1000);
  for (const q of abst) {
    const v = judgeAbstention(det, q.answer, q.entity);
    assert.ok(v.abstains && v.grounded, `${q.question} -> ${q.answer}`);
  }
  // And no fact answer is mistaken for an abstention.
  for (const q of sets.known) assert.equal(det.match(q.answer), undefined, q.answer);
});

test("held-out gate names never occur in the training corpus", () => {
  const corpusWords = new Set(trainingCorpus(w).flatMap((q) => words(q.question + " " + q.answer)));
  const sets = gateSets(w);
  const generic = new Set(["the", "effect", "protocol", "theory", "paradox", "index", "engine"]);
  for (const q of [...sets.unknown, ...sets.concepts]) {
    const specific = words(q.entity).filter((x) => !generic.has(x));
    assert.ok(
      specific.some((x) => !corpusWords.has(x)),
      `${q.entity} looks like a corpus name`,
    );
  }
});
