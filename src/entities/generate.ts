// Fictitious look-alike names: same kind and same shape as the original (word count, capitalisation,
// hyphens, initials, digits, titles, particles and legal-suffix style kept), syllable-based so they are
// pronounceable but unlikely to be real, deterministic for a given seed, and diverse.
import type { EntityKind } from "./types";
import { Prng, hashString } from "../util/rng";
import { tooClose } from "./distance";
import { NameGuard, nameTokens } from "./guard";
import type { NameStyle } from "./nameStyle";
import {
  CLUSTER_ONSETS,
  CODAS,
  COMPANY_WORDS,
  DIPHTHONGS,
  LEGAL_SUFFIX_FAMILIES,
  NAME_PARTICLES,
  NUCLEI,
  ONSETS,
  PERSON_TITLES,
  PLACE_WORDS,
  PRODUCT_WORDS,
  TITLE_ADJECTIVES,
  TITLE_FUNCTION_WORDS,
  TITLE_NOUNS,
  legalSuffixFamily,
  MAX_SUFFIX_WORDS,
} from "./lexicon";

export interface GenerateOptions {
  /** How many names (default 3). Fewer come back only when the attempts run out. */
  k?: number;
  /** Seed; the same seed, entity and kind give the same names. Default 0. */
  seed?: number;
  /** Names the output must not equal or come close to (the dataset's names, earlier suggestions). */
  guard?: NameGuard;
  /** Attempts per requested name before giving up (default 60). */
  attemptsPerName?: number;
  /** Where new name words come from (default: the syllable tables); see nameStyle.ts. */
  style?: NameStyle;
}

/**
 * One syllable-based word of about `len` letters (at least 3): mostly consonant-vowel syllables, an
 * occasional cluster or diphthong, and a closing consonant at the end half of the time.
 */
export function syllableWord(rng: Prng, len: number): string {
  const target = Math.max(3, len);
  let best = "";
  for (let attempt = 0; attempt < 12; attempt++) {
    let w = rng.chance(0.12) ? rng.pick(NUCLEI) : "";
    while (w.length < target - 1) {
      w += rng.chance(0.18) ? rng.pick(CLUSTER_ONSETS) : rng.pick(ONSETS);
      w += rng.chance(0.12) ? rng.pick(DIPHTHONGS) : rng.pick(NUCLEI);
      if (w.length >= 3 && w.length < target - 2 && rng.chance(0.2)) w += rng.pick(["n", "r", "l", "s"]);
    }
    if (w.length < target && rng.chance(0.6)) w += rng.pick(CODAS);
    if (w.length === target && !/(.)\1\1/.test(w)) return w;
    if (!best || Math.abs(w.length - target) < Math.abs(best.length - target)) best = w;
  }
  return best;
}

function applyCase(model: string, word: string): string {
  if (model.length > 1 && model === model.toUpperCase() && /\p{Lu}/u.test(model)) return word.toUpperCase();
  if (/^\p{Lu}/u.test(model)) return word[0].toUpperCase() + word.slice(1).toLowerCase();
  return word.toLowerCase();
}

const CONSONANTS = "BCDFGHJKLMNPRSTVWXZ";

/** A new piece of text with the shape of `piece`: letters, digits, case pattern. */
function reshapePiece(rng: Prng, piece: string, style?: NameStyle): string {
  if (/^\p{N}+$/u.test(piece)) {
    let d = "";
    for (let i = 0; i < piece.length; i++) d += String(i === 0 && piece[0] !== "0" ? 1 + rng.int(9) : rng.int(10));
    return d;
  }
  if (/^\p{Lu}+$/u.test(piece) && piece.length <= 3) {
    // Acronym-like ("X", "GT", "IBM"): random capitals keep the look; longer capitals ("ACME") are words.
    let s = "";
    for (let i = 0; i < piece.length; i++) s += CONSONANTS[rng.int(CONSONANTS.length)];
    return s;
  }
  return applyCase(piece, style?.word(rng, piece.length) ?? syllableWord(rng, piece.length));
}

/** Splits a word into letter runs, digit runs and separators ("X200" -> X,200; "Al-Kuwaiti" -> Al,-,Kuwaiti). */
function pieces(word: string): string[] {
  return word.match(/\p{L}+|\p{N}+|[^\p{L}\p{N}]+/gu) ?? [word];
}

/** A stand-in for one ordinary name word, keeping hyphens, apostrophes, short prefixes (Al-, O', Mc). */
function reshapeWord(rng: Prng, word: string, keepPrefixes = true, style?: NameStyle): string {
  if (/^\p{Lu}\.$/u.test(word)) return CONSONANTS[rng.int(CONSONANTS.length)] + "."; // an initial
  const ps = pieces(word);
  // "McAllister": a short capitalised prefix before another capital keeps its prefix.
  const camel = /^(Mc|Mac|De|Di|Le|La|Van|Von)(\p{Lu}\p{Ll}+)$/u.exec(word);
  if (camel) return camel[1] + reshapePiece(rng, camel[2], style);
  return ps
    .map((p, i) => {
      if (!/[\p{L}\p{N}]/u.test(p)) return p;
      // Short letter prefixes inside a compound ("Al" in "Al-Kuwaiti", "O" in "O'Neil") carry its style.
      // (Not for products: "XJ-900" is a model code, all of it identifying.)
      if (keepPrefixes && ps.length > 1 && /^\p{L}{1,2}$/u.test(p) && i < ps.length - 1) return p;
      return reshapePiece(rng, p, style);
    })
    .join("");
}

function pickSuffix(rng: Prng, original: string): string {
  const fam = legalSuffixFamily(original);
  const family = fam >= 0 && rng.chance(0.6) ? LEGAL_SUFFIX_FAMILIES[fam] : rng.pick(LEGAL_SUFFIX_FAMILIES.slice(0, 6));
  // Short forms read as suffixes; long forms ("Incorporated") only when the original was long.
  const longOriginal = original.replace(/[.\s]/g, "").length > 5;
  const choices = family.filter((s) => s.replace(/[.\s]/g, "").length > 5 === longOriginal);
  let s = rng.pick(choices.length ? choices : family);
  if (/\.$/.test(original) && /^(Inc|Corp|Co|Ltd)$/.test(s)) s += ".";
  if (/^(\p{L}\.)+$/u.test(original) && /^\p{Lu}{2,3}$/u.test(s)) s = s.split("").join(".") + ".";
  return s;
}

/** Words a stand-in keeps verbatim: titles, particles, company and place type words. */
function keepsWord(word: string, kind: EntityKind, index: number, count: number): boolean {
  const low = word.toLowerCase().replace(/\.$/, "");
  if (index === 0 && PERSON_TITLES.has(low) && count > 1) return true;
  if (NAME_PARTICLES.has(word) || (kind !== "work" && NAME_PARTICLES.has(low) && word === low)) return true;
  if (kind === "company" && (COMPANY_WORDS.has(low) || word === "&") && count > 1) return true;
  if (kind === "product" && PRODUCT_WORDS.has(low) && count > 1) return true;
  if (kind === "place" && PLACE_WORDS.has(low) && count > 1) return true;
  return false;
}

function suffixWordCount(words: string[]): number {
  for (let n = Math.min(MAX_SUFFIX_WORDS, words.length - 1); n >= 1; n--) {
    if (legalSuffixFamily(words.slice(words.length - n).join(" ")) >= 0) return n;
  }
  return 0;
}

/** One stand-in for `name` drawn from `rng`. */
export function reshapeName(rng: Prng, name: string, kind: EntityKind, style?: NameStyle): string {
  const words = name.trim().split(/\s+/);
  const nSuffix = kind === "company" ? suffixWordCount(words) : 0;
  const core = words.slice(0, words.length - nSuffix);
  let out: string[];
  if (kind === "work") {
    const content = core.map((w) => !TITLE_FUNCTION_WORDS.has(w.toLowerCase()) && /^\p{Lu}\p{Ll}+$/u.test(w));
    const lastContent = content.lastIndexOf(true);
    const used = new Set<string>();
    out = core.map((w, i) => {
      if (!content[i])
        return TITLE_FUNCTION_WORDS.has(w.toLowerCase()) || /^\p{Ll}/u.test(w) ? w : reshapeWord(rng, w, true, style);
      // A content word before a function word or at the end is a noun ("Echoes of the Desert Sun").
      const next = core[i + 1];
      const noun = i === lastContent || next === undefined || TITLE_FUNCTION_WORDS.has(next.toLowerCase());
      const n = pickUnused(rng, noun ? TITLE_NOUNS : TITLE_ADJECTIVES, used);
      if (!noun) return n;
      return /[^s]s$/.test(w) ? plural(n) : n;
    });
  } else {
    out = core.map((w, i) => (keepsWord(w, kind, i, core.length) ? w : reshapeWord(rng, w, kind !== "product", style)));
  }
  if (nSuffix) out.push(pickSuffix(rng, words.slice(words.length - nSuffix).join(" ")));
  return out.join(" ");
}

/** A word from `list` not used yet in this title (titles repeating a word read as generated). */
function pickUnused(rng: Prng, list: readonly string[], used: Set<string>): string {
  let w = rng.pick(list);
  for (let i = 0; i < 8 && used.has(w); i++) w = rng.pick(list);
  used.add(w);
  return w;
}

function plural(noun: string): string {
  if (/(s|x|ch|sh)$/.test(noun)) return noun + "es";
  if (/[^aeiou]y$/.test(noun)) return noun.slice(0, -1) + "ies";
  return noun + "s";
}

/**
 * The part of a name that carries its identity: its distinctive tokens, without legal suffix, titles,
 * particles and type words (which stand-ins share with the original on purpose).
 */
export function coreOf(name: string): string {
  return nameTokens(name).join(" ");
}

/**
 * `k` fictitious names for `entity` of kind `kind`. Deterministic in (entity, kind, seed, guard);
 * pairwise not near-duplicates; none rejected by the guard (which should hold the dataset's names).
 */
export function generateNames(entity: string, kind: EntityKind, opts: GenerateOptions = {}): string[] {
  const k = opts.k ?? 3;
  const seed = opts.seed ?? 0;
  const guard = opts.guard ?? new NameGuard();
  const attempts = k * (opts.attemptsPerName ?? 60);
  const out: string[] = [];
  const entityCore = coreOf(entity);
  for (let a = 0; a < attempts && out.length < k; a++) {
    const rng = Prng.raw(hashString(`${kind}\u0000${entity}\u0000${a}`, seed));
    const cand = reshapeName(rng, entity, kind, opts.style);
    if (cand === entity || (entityCore ? tooClose(coreOf(cand), entityCore) : tooClose(cand, entity))) continue;
    if (guard.rejects(cand)) continue;
    const core = coreOf(cand);
    if (out.some((o) => tooClose(coreOf(o), core) || (kind === "work" && sharesContentWord(o, cand)))) continue;
    out.push(cand);
  }
  return out;
}

/** Work titles are built from a small vocabulary: two suggestions sharing a content word look alike. */
function sharesContentWord(a: string, b: string): boolean {
  const words = (s: string) => new Set(s.split(/\s+/).filter((w) => !TITLE_FUNCTION_WORDS.has(w.toLowerCase())));
  const wa = words(a);
  for (const w of words(b)) if (wa.has(w)) return true;
  return false;
}
