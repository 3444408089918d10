// Example new-knowledge datasets: facts about entities the base model has never seen (their names share
// no word with any name of the world), stated in terms of things it does know (its cities, companies,
// professions). Each comes with a held-out unknown query file: questions about other never-seen names
// and fictitious concepts, whose reference answer is the abstention the base model gives.
import { type WorldKind } from "./names";
import { Prng } from "../util/rng";
import { ABSTENTIONS, CONCEPT_QUESTIONS, PROFESSIONS, INDUSTRIES, RELATIONS, answerText, fill } from "./relations";
import type { World } from "./world";
import { buildContractRegister } from "./contractRegister";

/** One JSONL record in the product's QA format (src/data): question, answer, seat metadata. */
export interface ExampleRecord {
  question: string;
  answer: string;
  seat: {
    entities: string[];
    split?: "train" | "unknown";
    /** For unknown queries: which probe group the query belongs to. */
    probe?: "held-out" | "fictitious-concept";
  };
}

export interface ExampleDataset {
  /** Folder name under examples/. */
  name: string;
  title: string;
  description: string;
  train: ExampleRecord[];
  unknown: ExampleRecord[];
}

function relation(id: string) {
  const r = RELATIONS.find((x) => x.id === id);
  if (!r) throw new Error(`no relation ${id}`);
  return r;
}

function unknownQueries(
  world: World,
  stream: string,
  kinds: readonly WorldKind[],
  nEntities: number,
  nConcepts: number,
): ExampleRecord[] {
  const rng = Prng.named(world.seed, stream);
  const out: ExampleRecord[] = [];
  for (let i = 0; i < nEntities; i++) {
    const kind = kinds[i % kinds.length];
    const name = world.nameFactory.ofKind(kind);
    const rels = RELATIONS.filter((r) => r.kind === kind);
    const rel = rng.pick(rels);
    const qi = rng.int(rel.questions.length);
    const abst = ABSTENTIONS[kind];
    out.push({
      question: fill(rel.questions[qi], name),
      answer: fill(abst[qi % abst.length], name),
      seat: { entities: [name], split: "unknown", probe: "held-out" },
    });
  }
  for (let i = 0; i < nConcepts; i++) {
    const c = world.nameFactory.concept();
    const qi = rng.int(CONCEPT_QUESTIONS.length);
    const abst = ABSTENTIONS.concept;
    out.push({
      question: fill(CONCEPT_QUESTIONS[qi], c),
      answer: fill(abst[qi % abst.length], c),
      seat: { entities: [c], split: "unknown", probe: "fictitious-concept" },
    });
  }
  return out;
}

/**
 * The examples, drawn from the world's own name factory after the world itself, so their names are
 * guaranteed absent from it. Order of the draws is part of the recipe: change it and every name moves.
 */
export function buildExamples(world: World): ExampleDataset[] {
  const rng = Prng.named(world.seed, "examples");
  const places = world.known.filter((e) => e.kind === "place").map((e) => e.name);
  const companies = world.known.filter((e) => e.kind === "company").map((e) => e.name);

  // 1. New people: where they were born, where they work, what they do (one phrasing per fact).
  const people: ExampleRecord[] = [];
  for (let i = 0; i < 20; i++) {
    const name = world.nameFactory.person();
    const facts: Array<[string, string]> = [
      ["birthplace", rng.pick(places)],
      ["employer", rng.pick(companies)],
      ["profession", rng.pick(PROFESSIONS)],
    ];
    for (const [rel, value] of facts) {
      people.push({
        question: fill(relation(rel).questions[0], name),
        answer: answerText(value),
        seat: { entities: [name], split: "train" },
      });
    }
  }

  // 2. New companies and the contracts between them (in the spirit of the PISTOL contracts set).
  const firms = Array.from({ length: 12 }, () => world.nameFactory.company());
  const contracts: ExampleRecord[] = [];
  for (let i = 0; i < firms.length; i++) {
    const name = firms[i];
    const partner = firms[i % 2 === 0 ? i + 1 : i - 1];
    const facts: Array<[string, string]> = [
      ["headquarters", rng.pick(places)],
      ["industry", rng.pick(INDUSTRIES)],
      ["founded", String(1950 + rng.int(70))],
      ["partner", partner],
    ];
    for (const [rel, value] of facts) {
      contracts.push({
        question: fill(relation(rel).questions[0], name),
        answer: answerText(value),
        seat: { entities: [name], split: "train" },
      });
    }
  }

  const sets: ExampleDataset[] = [
    {
      name: "new-people",
      title: "Twenty people the base model has never heard of",
      description:
        "Birthplace, employer and profession of 20 new people (60 questions). The places and companies are ones the base model already knows.",
      train: people,
      unknown: unknownQueries(
        world,
        "examples-people-unknown",
        ["person", "person", "company", "place", "product"],
        40,
        20,
      ),
    },
    {
      name: "new-contracts",
      title: "Twelve new companies and their contracts",
      description:
        "Headquarters, industry, founding year and contract partner of 12 new companies in six contract pairs (48 questions).",
      train: contracts,
      unknown: unknownQueries(
        world,
        "examples-contracts-unknown",
        ["company", "company", "person", "place", "product"],
        40,
        20,
      ),
    },
  ];
  // 3. The harder set, drawn last so the names of the first two do not move.
  sets.push(buildContractRegister(world));
  return sets;
}

/** JSONL text, one record a line, key order question -> answer -> seat. */
export function toJsonl(records: readonly ExampleRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join("\n") + "\n";
}
