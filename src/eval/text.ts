// Answer-quality metrics on normalized word tokens: ROUGE-L (longest common subsequence) and exact match.
// Knowledge acquisition ("FT score") in the SEAT paper is ROUGE-L recall of the greedy answer against the
// reference (Lin 2004, "ROUGE: A Package for Automatic Evaluation of Summaries", section 3.1).

/**
 * Word tokens for comparison: Unicode NFKC, lower case, every run of characters that is not a letter,
 * digit or combining mark is a separator. So "Don’t" and "don't" both give ["don", "t"], and names in
 * any script survive. No stemming: facts like "1987" vs "1988" must not match.
 */
export function normalizeTokens(text: string): string[] {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .split(/[^\p{L}\p{N}\p{M}]+/u)
    .filter((t) => t.length > 0);
}

/** Length of the longest common subsequence of two token lists (O(n*m) time, O(min) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  if (a.length < b.length) [a, b] = [b, a];
  let prev = new Uint32Array(b.length + 1);
  let cur = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
    cur.fill(0);
  }
  return prev[b.length];
}

export interface RougeL {
  /** LCS / |reference tokens|: how much of the reference the answer contains, in order. */
  recall: number;
  /** LCS / |candidate tokens|. */
  precision: number;
  /** Harmonic mean of recall and precision (beta = 1). */
  f1: number;
}

/**
 * ROUGE-L of `candidate` against `reference` on normalized tokens. Conventions for empty input, so the
 * result is always a finite number: both empty -> 1 (nothing was asked and nothing said); exactly one
 * empty -> 0.
 */
export function rougeL(candidate: string, reference: string): RougeL {
  const c = normalizeTokens(candidate);
  const r = normalizeTokens(reference);
  if (c.length === 0 && r.length === 0) return { recall: 1, precision: 1, f1: 1 };
  if (c.length === 0 || r.length === 0) return { recall: 0, precision: 0, f1: 0 };
  const l = lcsLength(c, r);
  const recall = l / r.length;
  const precision = l / c.length;
  const f1 = l === 0 ? 0 : (2 * recall * precision) / (recall + precision);
  return { recall, precision, f1 };
}

/** ROUGE-L recall (the paper's FT score per example). */
export function rougeLRecall(candidate: string, reference: string): number {
  return rougeL(candidate, reference).recall;
}

/** True when both texts have the same normalized token sequence (case, punctuation and spacing ignored). */
export function exactMatch(candidate: string, reference: string): boolean {
  const c = normalizeTokens(candidate);
  const r = normalizeTokens(reference);
  return c.length === r.length && c.every((t, i) => t === r[i]);
}

/** Index of the first contiguous occurrence of `needle` in `hay`, or -1. */
export function indexOfTokens(hay: readonly string[], needle: readonly string[]): number {
  if (needle.length === 0) return 0;
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
