// The harder example set, `contract-register`: new companies with eight facts each, most of them
// high-entropy (street addresses, calendar dates, contract values, head-count, other companies' and
// people's names), asked with questions of the length of real QA data rather than the world's short
// templates. Its unknown queries ask the same questions about companies never in the set (the "unseen
// entities of the same kind" the issue measures) plus fictitious concepts; the probes add look-alike
// neighbours of the training companies themselves.
import { Prng } from "../util/rng";
import { ABSTENTIONS, CONCEPT_QUESTIONS, fill } from "./relations";
import type { ExampleDataset, ExampleRecord } from "./examples";
import type { World } from "./world";

/** One fact of the register: an id, the question (`{e}` = the company) and how its value is drawn. */
export interface RegisterRelation {
  id: string;
  question: string;
}

/** Questions of 10-16 words, like the questions of real QA datasets (PISTOL, TOFU), one per fact. */
export const REGISTER_RELATIONS: readonly RegisterRelation[] = [
  { id: "address", question: "What is the registered address of the head office of {e}?" },
  { id: "founded", question: "On what date was the company {e} entered in the register?" },
  { id: "ceo", question: "Who is the chief executive officer of {e} according to the register?" },
  { id: "partner", question: "Which company signed the current supply contract with {e}?" },
  { id: "signed", question: "On what date did {e} sign its current supply contract?" },
  { id: "value", question: "What is the total value of the supply contract signed by {e}?" },
  { id: "employees", question: "How many people does {e} employ according to its latest annual report?" },
  { id: "supplier", question: "Which company supplies {e} with most of its raw materials?" },
];

export const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** Sizes of the set: 40 companies x 8 facts = 320 records; 80 unseen-company queries + 20 concepts. */
export const REGISTER_SIZES = { companies: 40, unseenCompanies: 80, concepts: 20 };

function date(rng: Prng, lo: number, hi: number): string {
  return `${1 + rng.int(28)} ${rng.pick(MONTHS)} ${lo + rng.int(hi - lo + 1)}`;
}

function thousands(n: number): string {
  return n >= 1000 ? `${Math.floor(n / 1000)},${String(n % 1000).padStart(3, "0")}` : String(n);
}

/**
 * Draws the set from the world's name factory (after the other examples: the order of draws is part of
 * the recipe). Companies are paired into contracts, so a "partner" answer is another training entity.
 */
export function buildContractRegister(world: World, sizes = REGISTER_SIZES): ExampleDataset {
  const rng = Prng.named(world.seed, "examples-contract-register");
  const places = world.known.filter((e) => e.kind === "place").map((e) => e.name);
  const suppliers = world.known.filter((e) => e.kind === "company").map((e) => e.name);
  const firms = Array.from({ length: sizes.companies }, () => world.nameFactory.company());
  const train: ExampleRecord[] = [];
  for (let i = 0; i < firms.length; i++) {
    const name = firms[i];
    const partner = firms[i % 2 === 0 ? Math.min(i + 1, firms.length - 1) : i - 1];
    const street = world.nameFactory.word();
    const values: Record<string, string> = {
      address: `${2 + rng.int(97)} ${street} Street, ${rng.pick(places)}`,
      founded: date(rng, 1950, 2015),
      ceo: world.nameFactory.person(),
      partner,
      signed: date(rng, 2016, 2024),
      value: `${1 + rng.int(9)}.${rng.int(10)} million euros`,
      employees: `${thousands(40 + rng.int(9960))} employees`,
      supplier: rng.pick(suppliers),
    };
    for (const rel of REGISTER_RELATIONS) {
      train.push({
        question: fill(rel.question, name),
        answer: values[rel.id] + ".",
        seat: { entities: [name], split: "train" },
      });
    }
  }

  const unknown: ExampleRecord[] = [];
  const abst = ABSTENTIONS.company;
  for (let i = 0; i < sizes.unseenCompanies; i++) {
    const name = world.nameFactory.company();
    const rel = rng.pick(REGISTER_RELATIONS);
    unknown.push({
      question: fill(rel.question, name),
      answer: fill(abst[i % abst.length], name),
      seat: { entities: [name], split: "unknown", probe: "held-out" },
    });
  }
  for (let i = 0; i < sizes.concepts; i++) {
    const c = world.nameFactory.concept();
    const qi = rng.int(CONCEPT_QUESTIONS.length);
    const ca = ABSTENTIONS.concept;
    unknown.push({
      question: fill(CONCEPT_QUESTIONS[qi], c),
      answer: fill(ca[qi % ca.length], c),
      seat: { entities: [c], split: "unknown", probe: "fictitious-concept" },
    });
  }

  return {
    name: "contract-register",
    title: "Forty new companies in a contract register (the harder set)",
    description: `Eight facts about each of ${sizes.companies} new companies (${train.length} questions of real-QA length): registered street address, registration date, chief executive, contract partner, signing date, contract value, head-count and main supplier. Most answers are high-entropy (dates, addresses, amounts, names of other new companies and people). The unknown queries ask the same questions about ${sizes.unseenCompanies} companies never in the set, plus ${sizes.concepts} fictitious concepts.`,
    train,
    unknown,
  };
}
