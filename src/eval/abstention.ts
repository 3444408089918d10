// Abstention detection by phrase matching (the paper's IDK-SM) and the automated grounding check that
// stands in for the paper's human judgement IDK-HA. Phrase lists are data (resources/*.txt or a
// setting), never constants in this file.
import { indexOfTokens, normalizeTokens } from "./text";

/** A problem in a phrase-list file, located by line. */
export class PhraseListError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
    this.name = "PhraseListError";
  }
}

/**
 * Parses a phrase-list file: one phrase per line, `#` starts a comment line, blank lines are skipped,
 * surrounding whitespace trimmed, duplicates kept once (first occurrence wins). A phrase with no word
 * characters can never match anything, so it is an error rather than silently ignored.
 */
export function parsePhraseList(text: string, file = "<phrases>"): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (normalizeTokens(line).length === 0) {
      throw new PhraseListError(
        file,
        i + 1,
        `phrase ${JSON.stringify(line)} has no letters or digits, so it can never match`,
      );
    }
    if (!seen.has(line)) {
      seen.add(line);
      out.push(line);
    }
  });
  return out;
}

/** A compiled phrase matcher (phrases normalized once). */
export interface AbstentionDetector {
  readonly phrases: readonly string[];
  /** The first listed phrase found in `response`, or undefined when it does not abstain. */
  match(response: string): string | undefined;
}

export function makeAbstentionDetector(phrases: readonly string[]): AbstentionDetector {
  if (phrases.length === 0) throw new Error("abstention phrase list is empty: every response would count as an answer");
  const compiled = phrases.map((p) => ({ phrase: p, tokens: normalizeTokens(p) }));
  for (const c of compiled) {
    if (c.tokens.length === 0)
      throw new Error(`abstention phrase ${JSON.stringify(c.phrase)} has no letters or digits`);
  }
  return {
    phrases: [...phrases],
    match(response) {
      const toks = normalizeTokens(response);
      return compiled.find((c) => indexOfTokens(toks, c.tokens) >= 0)?.phrase;
    },
  };
}

/** Words that do not identify an entity on their own ("the", "of" in "The Treaty of Vormen"). */
const NAME_FILLER = new Set([
  "the",
  "a",
  "an",
  "of",
  "and",
  "de",
  "la",
  "le",
  "von",
  "van",
  "der",
  "du",
  "di",
  "da",
  "del",
  "mr",
  "mrs",
  "ms",
  "dr",
]);

/** The identifying word tokens of an entity name (normalized, fillers dropped, de-duplicated). */
export function entityKeyTokens(entity: string): string[] {
  const toks = normalizeTokens(entity);
  const keys = [...new Set(toks.filter((t) => !NAME_FILLER.has(t)))];
  return keys.length > 0 ? keys : [...new Set(toks)];
}

/**
 * Whether `response` refers to `entity`: at least half (rounded up) of the entity's identifying tokens
 * occur as whole words in the response. "I don't know who Lintel is" refers to "Qorvath Lintel"; "I
 * don't know" does not.
 */
export function refersToEntity(response: string, entity: string): boolean {
  const keys = entityKeyTokens(entity);
  if (keys.length === 0) return false;
  const words = new Set(normalizeTokens(response));
  const hits = keys.filter((k) => words.has(k)).length;
  return hits >= Math.ceil(keys.length / 2);
}

/**
 * How an abstention names the queried entity: `entity` names it (and nothing else), `misnamed` names
 * something that is not the entity (a garbled spelling such as "Kelvo Wroks" for "Kelvo Works", or
 * another entity), `generic` names nothing ("I don't know.").
 */
export type AbstentionNaming = "entity" | "misnamed" | "generic";

/** First-person words a sentence may carry capitalised without naming anything. */
const FIRST_PERSON = new Set(["i", "i'm", "i've", "i'd", "i'll"]);

/**
 * Name-like words of `response`: words written with a capital letter that do not open a sentence and
 * are not "I"/"I'm"…, lowercased. "I don't know the company Kelvo Wroks." -> ["kelvo", "wroks"].
 */
export function nameLikeWords(response: string): string[] {
  const out: string[] = [];
  let sentenceStart = true;
  for (const m of response.normalize("NFKC").matchAll(/[\p{L}\p{N}\p{M}'’]+|[.!?:]/gu)) {
    const w = m[0];
    if (/^[.!?:]$/.test(w)) {
      sentenceStart = true;
      continue;
    }
    const lower = w.toLowerCase().replace(/’/g, "'");
    if (!sentenceStart && /^\p{Lu}/u.test(w) && !FIRST_PERSON.has(lower)) {
      // Possessive or contraction tails ("Works's") do not make a different name.
      out.push(...normalizeTokens(lower.replace(/'s$/, "")));
    }
    sentenceStart = false;
  }
  return out;
}

/**
 * Whether an abstention names the entity, misnames it or names nothing (see AbstentionNaming). A
 * name-like word that is neither one of the entity's words nor a word of the question (when given)
 * makes it `misnamed`, even when the entity's words are there too ("Kelvo Wroks" keeps "Kelvo").
 */
export function abstentionNaming(response: string, entity: string, question?: string): AbstentionNaming {
  const own = new Set(normalizeTokens(entity));
  const asked = new Set(question === undefined ? [] : normalizeTokens(question));
  const foreign = nameLikeWords(response).filter((w) => !own.has(w) && !asked.has(w) && !NAME_FILLER.has(w));
  if (foreign.length > 0) return "misnamed";
  if (refersToEntity(response, entity)) return "entity";
  return "generic";
}

export interface AbstentionVerdict {
  /** Contains an abstention phrase (IDK-SM). */
  abstains: boolean;
  /** The phrase that matched, for the hover/table. */
  phrase?: string;
  /**
   * AUTOMATED STAND-IN for the paper's human IDK-HA judgement: abstains AND names the queried entity,
   * and nothing else (a generic or a misnamed abstention does not count). `null` when the query has no
   * known entity to check against.
   */
  grounded: boolean | null;
  /** For an abstention about a known entity: whether it names the entity, misnames it or names nothing. */
  naming?: AbstentionNaming;
}

export function judgeAbstention(
  detector: AbstentionDetector,
  response: string,
  entity?: string,
  question?: string,
): AbstentionVerdict {
  const phrase = detector.match(response);
  const abstains = phrase !== undefined;
  const checkable = entity !== undefined && entityKeyTokens(entity).length > 0;
  const naming = abstains && checkable ? abstentionNaming(response, entity, question) : undefined;
  const grounded = checkable ? naming === "entity" : null;
  return {
    abstains,
    ...(phrase !== undefined ? { phrase } : {}),
    grounded,
    ...(naming !== undefined ? { naming } : {}),
  };
}
