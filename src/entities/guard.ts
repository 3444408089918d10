// Which generated names are acceptable: not equal or close to any name of the dataset (or any name
// already chosen), and not a well-known real name. Token-level closeness uses single-deletion
// neighbourhoods, so checking a candidate costs O(token length) however many names the dataset holds.
import {
  BLOCKED_NAMES,
  COMPANY_WORDS,
  NAME_PARTICLES,
  PERSON_TITLES,
  PLACE_WORDS,
  PRODUCT_WORDS,
  TITLE_FUNCTION_WORDS,
  legalSuffixFamily,
} from "./lexicon";

/**
 * Distinctive lower-case tokens of a name: words of 3+ letters that are not particles, legal suffixes,
 * titles or type words ("Port", "Holdings"), which stand-ins deliberately share with the original.
 */
const SHARED_WORDS: ReadonlySet<string>[] = [
  NAME_PARTICLES,
  COMPANY_WORDS,
  PLACE_WORDS,
  PRODUCT_WORDS,
  PERSON_TITLES,
  TITLE_FUNCTION_WORDS,
];

export function nameTokens(name: string): string[] {
  return name
    .split(/[\s\-'’/]+/u)
    .map((w) => w.replace(/[.,]/g, "").toLowerCase())
    .filter(
      (w) => w.length >= 3 && /\p{L}/u.test(w) && !SHARED_WORDS.some((set) => set.has(w)) && legalSuffixFamily(w) < 0,
    );
}

function deletions(token: string): string[] {
  const out = [token];
  for (let i = 0; i < token.length; i++) out.push(token.slice(0, i) + token.slice(i + 1));
  return out;
}

export class NameGuard {
  private readonly full = new Set<string>();
  private readonly variants = new Set<string>();

  constructor(names: Iterable<string> = [], blocklist: Iterable<string> = BLOCKED_NAMES) {
    for (const b of blocklist) this.addToken(b.toLowerCase());
    for (const n of names) this.add(n);
  }

  add(name: string): void {
    this.full.add(name.toLowerCase().replace(/\s+/g, " ").trim());
    for (const t of nameTokens(name)) this.addToken(t);
  }

  private addToken(t: string): void {
    for (const d of deletions(t)) this.variants.add(d);
  }

  /**
   * True when `name` equals a known name, or one of its tokens is within one edit (insertion, deletion,
   * substitution or an adjacent swap, via shared single deletions) of a known token.
   */
  rejects(name: string): boolean {
    if (this.full.has(name.toLowerCase().replace(/\s+/g, " ").trim())) return true;
    for (const t of nameTokens(name)) {
      for (const d of deletions(t)) if (this.variants.has(d)) return true;
    }
    return false;
  }
}
