// Syllable-built names for the synthetic world. Known, unknown and held-out names come from the same
// tables, so the only thing that separates a known name from an unknown one is whether the model was
// taught facts about it, never its spelling or its tokenization.
import { ABSTENTIONS, CATEGORIES, CONCEPT_QUESTIONS, INDUSTRIES, PROFESSIONS, RELATIONS } from "./relations";
import type { Prng } from "../util/rng";

export const ONSETS: readonly string[] = [
  "b",
  "d",
  "f",
  "g",
  "h",
  "k",
  "l",
  "m",
  "n",
  "p",
  "r",
  "s",
  "t",
  "v",
  "z",
  "br",
  "dr",
  "gr",
  "kr",
  "tr",
  "st",
  "th",
  "sh",
  "ch",
  "vl",
  "qu",
  "sk",
  "pr",
];
export const VOWELS: readonly string[] = ["a", "e", "i", "o", "u", "a", "e", "o", "ae", "ei", "ou", "y"];
export const CODAS: readonly string[] = [
  "",
  "",
  "",
  "n",
  "r",
  "l",
  "s",
  "th",
  "k",
  "m",
  "nd",
  "rn",
  "sk",
  "lt",
  "x",
  "v",
];

/** Capitalised first letter, rest as is. */
export function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** One pronounceable word of `syllables` syllables (a coda is allowed only at the end or before an onset). */
export function syllableWord(rng: Prng, syllables: number): string {
  let w = "";
  for (let i = 0; i < syllables; i++) {
    w += rng.pick(ONSETS) + rng.pick(VOWELS);
    if (i === syllables - 1 || rng.next() < 0.3) w += rng.pick(CODAS);
  }
  return w;
}

export type WorldKind = "person" | "company" | "place" | "product";
export const WORLD_KINDS: readonly WorldKind[] = ["person", "company", "place", "product"];

const COMPANY_SUFFIXES = [
  "Industries",
  "Systems",
  "Works",
  "Labs",
  "Group",
  "Holdings",
  "Logistics",
  "Motors",
  "Foods",
  "Textiles",
];
const PLACE_ENDINGS = ["grad", "holm", "mere", "ford", "vale", "wick", "stad", "burg", "port", ""];
const PRODUCT_MODELS = ["One", "Pro", "Mini", "Max", "Lite", "2", "3", "X", "S", "Air"];
const CONCEPT_FORMS = [
  "the {W} effect",
  "the {W} protocol",
  "{w}ite",
  "{w} theory",
  "the {W} paradox",
  "the {W} index",
  "{w}ium",
  "the {W} engine",
];

/** Rewrites a name into another style (e.g. the perturbation generator's look-alikes); undefined = give up. */
export type Restyle = (name: string, kind: WorldKind, attempt: number) => string | undefined;

const wordsOf = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

/**
 * Draws names while refusing any word already used by another name of the world: known and unknown
 * names never share a word, so "abstain on unknown names" cannot be learned from word overlap. With a
 * `restyle` hook a share of the names is rewritten into the hook's style (for every kind of entity,
 * known or not), so name style is no cue either.
 */
export class NameFactory {
  /** Ordinary words of the world's language (suffixes, template words): never a name's own word. */
  private readonly language = new Set<string>();
  private readonly used = new Set<string>();

  constructor(
    private readonly rng: Prng,
    private readonly restyle?: { fn: Restyle; share: number },
  ) {
    const language = [
      ...COMPANY_SUFFIXES,
      ...PRODUCT_MODELS,
      ...PLACE_ENDINGS,
      ...CONCEPT_FORMS,
      ...PROFESSIONS,
      ...INDUSTRIES,
      ...CATEGORIES,
      ...CONCEPT_QUESTIONS,
      ...RELATIONS.flatMap((r) => r.questions),
      ...Object.values(ABSTENTIONS).flat(),
    ];
    for (const text of language) for (const w of wordsOf(text)) this.language.add(w);
  }

  /** Marks a name's own words as taken (words of the world's language stay shared). */
  reserve(name: string): void {
    for (const w of wordsOf(name)) if (!this.language.has(w)) this.used.add(w);
  }

  /** True when none of the name's own words is taken. */
  isFresh(name: string): boolean {
    return wordsOf(name).every((w) => this.language.has(w) || !this.used.has(w));
  }

  private freshWord(minSyl: number, maxSyl: number, suffix = "", form = (w: string) => w): string {
    for (let attempt = 0; attempt < 10000; attempt++) {
      const syl = minSyl + this.rng.int(maxSyl - minSyl + 1);
      const base = syllableWord(this.rng, syl);
      const w = base + suffix;
      const final = form(w);
      if (w.length < 3 || w.length > 11) continue;
      if (
        this.used.has(w) ||
        this.language.has(w) ||
        this.used.has(base) ||
        this.used.has(final) ||
        this.language.has(final)
      )
        continue;
      this.used.add(w);
      this.used.add(base);
      this.used.add(final);
      return w;
    }
    throw new Error("name space exhausted: the world asks for more names than the syllable tables allow");
  }

  private own(kind: WorldKind): string {
    switch (kind) {
      case "person":
        return `${capitalize(this.freshWord(2, 2))} ${capitalize(this.freshWord(1, 2))}`;
      case "company":
        return `${capitalize(this.freshWord(2, 2))} ${this.rng.pick(COMPANY_SUFFIXES)}`;
      case "place": {
        const ending = this.rng.pick(PLACE_ENDINGS);
        return capitalize(this.freshWord(ending ? 1 : 2, 2, ending));
      }
      case "product":
        return `${capitalize(this.freshWord(2, 2))} ${this.rng.pick(PRODUCT_MODELS)}`;
    }
  }

  ofKind(kind: WorldKind): string {
    const base = this.own(kind);
    if (this.restyle && this.rng.next() < this.restyle.share) {
      for (let attempt = 0; attempt < 8; attempt++) {
        const cand = this.restyle.fn(base, kind, attempt);
        if (cand && cand !== base && this.isFresh(cand)) {
          this.reserve(cand);
          return cand;
        }
      }
    }
    return base;
  }

  person(): string {
    return this.ofKind("person");
  }

  company(): string {
    return this.ofKind("company");
  }

  place(): string {
    return this.ofKind("place");
  }

  product(): string {
    return this.ofKind("product");
  }

  /** A country or a river: one capitalised word. */
  word(): string {
    return capitalize(this.freshWord(2, 3));
  }

  /** A fictitious concept ("the Drovak effect", "quelmite"), never an entity of the world. */
  concept(): string {
    const form = this.rng.pick(CONCEPT_FORMS);
    const suffix = form.startsWith("{w}") ? form.slice(3).split(" ")[0] : "";
    const w = this.freshWord(1, 2, "", (x) => x + suffix);
    return form.replace("{W}", capitalize(w)).replace("{w}", w);
  }
}
