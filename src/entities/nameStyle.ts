// Stand-in words in the dataset's own spelling style: a character model of the distinctive words of the
// dataset's names. A fine-tuned model taught "abstain on these stand-ins" by the KL term can otherwise
// learn the stand-in generator's spelling (its syllable tables) instead of "only the trained names are
// known", and keep abstaining on names of that spelling while answering for new names spelled like the
// training entities (measured in src/seat/SWEEP.md, "the generator's spelling").
import type { Prng } from "../util/rng";
import { nameTokens } from "./guard";

/** A source of stand-in words of about a given length; undefined when it cannot make one. */
export interface NameStyle {
  word(rng: Prng, len: number): string | undefined;
}

const START = "\u0002";
const END = "\u0003";
/** Letters of context (a trigram model over letters). */
const ORDER = 2;
/** Fewer distinct words than this say too little about a style: the caller's generator is used. */
export const MIN_STYLE_WORDS = 12;

/**
 * A letter-trigram model of words, backing off to shorter contexts where a context was seen once. Words
 * are lower case; the caller applies the original's capitalisation.
 */
export class CharStyle implements NameStyle {
  /** context (up to ORDER letters) -> next letter -> count */
  private readonly next = new Map<string, Map<string, number>>();
  readonly words: number;

  private constructor(words: ReadonlySet<string>) {
    this.words = words.size;
    for (const w of words) {
      const s = START.repeat(ORDER) + w + END;
      for (let i = ORDER; i < s.length; i++) {
        for (let n = 0; n <= ORDER; n++) {
          const ctx = s.slice(i - n, i);
          let m = this.next.get(ctx);
          if (!m) this.next.set(ctx, (m = new Map()));
          m.set(s[i], (m.get(s[i]) ?? 0) + 1);
        }
      }
    }
  }

  /** The style of `names`' distinctive words (see nameTokens); undefined when there are too few. */
  static fromNames(names: Iterable<string>, minWords = MIN_STYLE_WORDS): CharStyle | undefined {
    const words = new Set<string>();
    for (const n of names) for (const t of nameTokens(n)) if (/^\p{Ll}+$/u.test(t)) words.add(t);
    return words.size >= minWords ? new CharStyle(words) : undefined;
  }

  private draw(rng: Prng, ctx: string): string {
    // The longest context seen with more than one continuation, else the longest seen at all: a context
    // seen once would copy its only word back letter by letter.
    let m: Map<string, number> | undefined;
    for (let n = ORDER; n >= 0; n--) {
      const c = this.next.get(ctx.slice(ctx.length - n));
      if (!c) continue;
      m ??= c;
      if (c.size > 1) {
        m = c;
        break;
      }
    }
    let total = 0;
    for (const v of m!.values()) total += v;
    let r = rng.next() * total;
    for (const [ch, v] of m!) {
      r -= v;
      if (r < 0) return ch;
    }
    return END;
  }

  word(rng: Prng, len: number): string | undefined {
    const lo = Math.max(3, len - 2);
    const hi = Math.max(lo, len + 2);
    for (let attempt = 0; attempt < 16; attempt++) {
      let ctx = START.repeat(ORDER);
      let w = "";
      while (w.length <= hi) {
        const ch = this.draw(rng, ctx);
        if (ch === END) break;
        w += ch;
        ctx = ctx.slice(1) + ch;
      }
      if (w.length >= lo && w.length <= hi && !/(.)\1\1/u.test(w)) return w;
    }
    return undefined;
  }
}
