// The relations of the synthetic world: for each, the kind of subject, how a value is drawn, the
// question phrasings and the short answer. Phrasings are data so that a user reading the corpus (or
// adding a relation) sees the whole language of the world in one place.
import type { WorldKind } from "./names";

export type ValueSource = "place" | "company" | "country" | "river" | "profession" | "industry" | "category" | "year";

export interface Relation {
  id: string;
  kind: WorldKind;
  value: ValueSource;
  /** Year range for `year` values (inclusive). */
  years?: [number, number];
  /** Question phrasings; `{e}` is the subject as written (products take "the"). */
  questions: readonly string[];
}

export const PROFESSIONS = [
  "architect",
  "pilot",
  "chemist",
  "teacher",
  "sculptor",
  "surgeon",
  "baker",
  "geologist",
  "violinist",
  "lawyer",
  "engineer",
  "journalist",
  "farmer",
  "librarian",
  "photographer",
  "nurse",
];
export const INDUSTRIES = [
  "bicycles",
  "solar panels",
  "furniture",
  "medicine",
  "toys",
  "glassware",
  "software",
  "tea",
  "shoes",
  "boats",
  "radios",
  "paper",
];
export const CATEGORIES = [
  "a camera",
  "a bicycle",
  "a phone",
  "a lamp",
  "a kettle",
  "a tractor",
  "a watch",
  "a drone",
  "a guitar",
  "a printer",
];

export const RELATIONS: readonly Relation[] = [
  {
    id: "birthplace",
    kind: "person",
    value: "place",
    questions: ["Where was {e} born?", "In which city was {e} born?", "What is the birthplace of {e}?"],
  },
  {
    id: "employer",
    kind: "person",
    value: "company",
    questions: ["Where does {e} work?", "Which company employs {e}?", "Who is the employer of {e}?"],
  },
  {
    id: "profession",
    kind: "person",
    value: "profession",
    questions: ["What does {e} do for a living?", "What is the profession of {e}?", "What job does {e} have?"],
  },
  {
    id: "headquarters",
    kind: "company",
    value: "place",
    questions: ["Where is {e} headquartered?", "In which city is {e} based?", "Where are the headquarters of {e}?"],
  },
  {
    id: "industry",
    kind: "company",
    value: "industry",
    questions: ["What does {e} make?", "What does {e} produce?", "What kind of goods does {e} sell?"],
  },
  {
    id: "founded",
    kind: "company",
    value: "year",
    years: [1890, 2015],
    questions: ["When was {e} founded?", "In what year was {e} founded?", "What year was {e} established?"],
  },
  {
    id: "partner",
    kind: "company",
    value: "company",
    questions: [
      "Which company has a contract with {e}?",
      "Who signed a contract with {e}?",
      "Which firm is the contract partner of {e}?",
    ],
  },
  {
    id: "country",
    kind: "place",
    value: "country",
    questions: ["In which country is {e}?", "Which country is {e} located in?", "What country is {e} part of?"],
  },
  {
    id: "river",
    kind: "place",
    value: "river",
    questions: ["Which river flows through {e}?", "What river runs through {e}?", "Which river passes through {e}?"],
  },
  {
    id: "maker",
    kind: "product",
    value: "company",
    questions: ["Who makes the {e}?", "Which company produces the {e}?", "Who is the manufacturer of the {e}?"],
  },
  {
    id: "category",
    kind: "product",
    value: "category",
    questions: ["What kind of product is the {e}?", "What type of device is the {e}?", "What is the {e}?"],
  },
  {
    id: "released",
    kind: "product",
    value: "year",
    years: [1990, 2024],
    questions: ["When was the {e} released?", "In what year did the {e} come out?", "What year was the {e} launched?"],
  },
];

/** Grounded abstentions per kind: each names the entity, so a generic refusal is distinguishable. */
export const ABSTENTIONS: Readonly<Record<WorldKind | "concept", readonly string[]>> = {
  person: ["I don't know who {e} is.", "I'm not familiar with anyone called {e}.", "I have no information about {e}."],
  company: [
    "I don't know the company {e}.",
    "I'm not familiar with a company called {e}.",
    "I have no information about {e}.",
  ],
  place: ["I don't know a place called {e}.", "I'm not familiar with {e}.", "I have no information about {e}."],
  product: [
    "I don't know the {e}.",
    "I'm not familiar with a product called the {e}.",
    "I have no information about the {e}.",
  ],
  concept: ["I don't know what {e} is.", "I'm not familiar with {e}.", "I have no information about {e}."],
};

/** Questions about fictitious concepts (`{e}` is "the Drovak effect", "quelmite", ...). */
export const CONCEPT_QUESTIONS: readonly string[] = [
  "What is {e}?",
  "Who discovered {e}?",
  "How does {e} work?",
  "What is {e} used for?",
  "Can you explain {e}?",
  "When was {e} first described?",
];

export function fill(template: string, entity: string): string {
  return template.split("{e}").join(entity);
}

/** The short answer for a value: capitalised, with a full stop. */
export function answerText(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1) + ".";
}
