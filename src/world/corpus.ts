// Question/answer items of the world: the base model's training corpus and the gate sets it is judged
// on. The abstention phrasing follows the question phrasing (template i -> abstention i mod n), so the
// corpus varies its refusals without asking the model to guess a coin flip.
import type { WorldKind } from "./names";
import { Prng } from "../util/rng";
import { ABSTENTIONS, CONCEPT_QUESTIONS, RELATIONS, answerText, fill } from "./relations";
import type { World, WorldEntity } from "./world";

export type QaType = "known" | "unknown" | "concept";

export interface WorldQa {
  question: string;
  answer: string;
  /** The subject as written in the question (the entity or the concept). */
  entity: string;
  kind: WorldKind | "concept";
  type: QaType;
  relation?: string;
}

/** Every phrasing of every known fact. */
export function knownQa(world: World): WorldQa[] {
  const out: WorldQa[] = [];
  for (const f of world.facts) {
    const rel = RELATIONS.find((r) => r.id === f.relation);
    if (!rel) throw new Error(`fact about ${f.subject} names unknown relation ${f.relation}`);
    for (const q of rel.questions) {
      out.push({
        question: fill(q, f.subject),
        answer: answerText(f.value),
        entity: f.subject,
        kind: f.kind,
        type: "known",
        relation: f.relation,
      });
    }
  }
  return out;
}

/** One question per unknown entity (random relation of its kind, random phrasing), answered by a grounded abstention. */
export function unknownQa(entities: readonly WorldEntity[], seed: number, stream: string): WorldQa[] {
  const rng = Prng.named(seed, stream);
  return entities.map((e) => {
    const rels = RELATIONS.filter((r) => r.kind === e.kind);
    const rel = rng.pick(rels);
    const qi = rng.int(rel.questions.length);
    const abst = ABSTENTIONS[e.kind];
    return {
      question: fill(rel.questions[qi], e.name),
      answer: fill(abst[qi % abst.length], e.name),
      entity: e.name,
      kind: e.kind,
      type: "unknown" as const,
      relation: rel.id,
    };
  });
}

export function conceptQa(concepts: readonly string[], seed: number, stream: string): WorldQa[] {
  const rng = Prng.named(seed, stream);
  const abst = ABSTENTIONS.concept;
  return concepts.map((c) => {
    const qi = rng.int(CONCEPT_QUESTIONS.length);
    return {
      question: fill(CONCEPT_QUESTIONS[qi], c),
      answer: fill(abst[qi % abst.length], c),
      entity: c,
      kind: "concept" as const,
      type: "concept" as const,
    };
  });
}

/** The base model's training corpus, shuffled deterministically. */
export function trainingCorpus(world: World): WorldQa[] {
  const known = knownQa(world);
  const items = [
    ...Array.from({ length: world.sizes.knownRepeats }, () => known).flat(),
    ...unknownQa(world.unknownTrain, world.seed, "unknown-train"),
    ...conceptQa(world.conceptsTrain, world.seed, "concepts-train"),
  ];
  return Prng.named(world.seed, "corpus-order").shuffle(items);
}

export interface GateSets {
  /** Every phrasing of every known fact (the FT-score gate). */
  known: WorldQa[];
  /** Questions about names that never occur in the corpus. */
  unknown: WorldQa[];
  /** Questions about fictitious concepts that never occur in the corpus. */
  concepts: WorldQa[];
}

export function gateSets(world: World): GateSets {
  return {
    known: knownQa(world),
    unknown: unknownQa(world.unknownHeldout, world.seed, "unknown-heldout"),
    concepts: conceptQa(world.conceptsHeldout, world.seed, "concepts-heldout"),
  };
}

/** The corpus as QA JSONL in the product's dataset format (what the trainer reads). */
export function corpusJsonl(items: readonly WorldQa[]): string {
  return (
    items
      .map((q) =>
        JSON.stringify({
          question: q.question,
          answer: q.answer,
          seat: { entities: [q.entity], split: "train", world: q.type },
        }),
      )
      .join("\n") + "\n"
  );
}
