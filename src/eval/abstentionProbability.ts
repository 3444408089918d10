// A sampling-free abstention score: the model's own probability that its answer BEGINS with an
// abstention opening ("I don't know", "I'm not familiar", ...).
//
// Definition. Let O be the token sequences of the opening texts (each tokenized as it would be appended
// after the chat prompt, no BOS), de-duplicated, and O* the prefix-free reduction of O: a sequence that
// has another member of O as a proper prefix is dropped, because "starts with `I don't`" already contains
// "starts with `I don't know`". For prompt x,
//
//     P_abstain(x) = sum over o in O* of  prod_t p_theta(o_t | x, o_<t)
//
// The events "the greedy-free continuation starts with o" for prefix-free o are disjoint, so P_abstain is
// a probability in [0, 1] and "the rest" (answering, or abstaining in words not listed) is
// 1 - P_abstain. It counts only the canonical tokenization of each opening, so it is a lower bound on the
// probability of those texts; list the spellings a model really uses (resources/abstention-openings.txt).

/** Log-probability of each continuation after `prompt` (sum over its tokens of log p(token | prefix)). */
export type ContinuationScorer = (
  prompt: readonly number[],
  continuations: readonly (readonly number[])[],
  signal?: AbortSignal,
) => Promise<number[]>;

/** Log-softmax over the vocabulary for the token following `ids`. */
export type NextTokenLogProbs = (ids: readonly number[], signal?: AbortSignal) => Promise<ArrayLike<number>>;

const key = (s: readonly number[]) => s.join(",");

/** De-duplicates and drops every sequence that has another one as a proper prefix; order kept. Empty sequences are rejected. */
export function prefixFree(seqs: readonly (readonly number[])[]): number[][] {
  for (const s of seqs) if (s.length === 0) throw new Error("an abstention opening tokenized to no tokens");
  const uniq = new Map<string, number[]>();
  for (const s of seqs) if (!uniq.has(key(s))) uniq.set(key(s), [...s]);
  const all = [...uniq.values()];
  const keys = new Set(all.map(key));
  return all.filter((s) => {
    for (let n = 1; n < s.length; n++) if (keys.has(key(s.slice(0, n)))) return false;
    return true;
  });
}

/** log(sum(exp(x))) without overflow; -Infinity for an empty list. */
export function logSumExp(xs: readonly number[]): number {
  if (xs.length === 0) return -Infinity;
  const m = Math.max(...xs);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** P_abstain from the log-probabilities of the prefix-free openings (clamped to [0, 1] against rounding). */
export function abstentionProbabilityFromLogProbs(openingLogProbs: readonly number[]): number {
  const p = Math.exp(logSumExp(openingLogProbs));
  return Math.min(1, Math.max(0, p));
}

/** P_abstain(prompt) for already-tokenized openings (reduced to prefix-free here). */
export async function abstentionProbability(
  score: ContinuationScorer,
  prompt: readonly number[],
  openings: readonly (readonly number[])[],
  signal?: AbortSignal,
): Promise<number> {
  const lps = await score(prompt, prefixFree(openings), signal);
  return abstentionProbabilityFromLogProbs(lps);
}

/**
 * A ContinuationScorer built from a next-token distribution: walks the trie of the continuations so each
 * distinct prefix costs one model call (openings share "I", "I'm", ... so this is far fewer than the sum
 * of their lengths).
 */
export function scorerFromNextToken(next: NextTokenLogProbs): ContinuationScorer {
  return async (prompt, continuations, signal) => {
    const memo = new Map<string, ArrayLike<number>>();
    const out: number[] = [];
    for (const cont of continuations) {
      let lp = 0;
      for (let t = 0; t < cont.length; t++) {
        signal?.throwIfAborted();
        const k = key(cont.slice(0, t));
        let dist = memo.get(k);
        if (!dist) {
          dist = await next([...prompt, ...cont.slice(0, t)], signal);
          memo.set(k, dist);
        }
        const v = dist[cont[t]];
        if (v === undefined) throw new Error(`token id ${cont[t]} is outside the model's vocabulary (${dist.length})`);
        lp += v;
      }
      out.push(lp);
    }
    return out;
  };
}
