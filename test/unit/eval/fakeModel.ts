// A hand-written ProbeModel for suite/report tests: answers, abstention probabilities and hidden states
// come from tables, so every expected number in the tests can be worked out by hand.
import type { ProbeModel } from "../../../src/eval/index";

export interface FakeTables {
  answers: Record<string, string>;
  /** P(answer starts with an abstention opening) per question; spread evenly over the openings. */
  pAbstain?: Record<string, number>;
  /** Hidden states per question: [layer][dim]. */
  hidden?: Record<string, number[][]>;
}

export function fakeModel(label: string, t: FakeTables): ProbeModel & { calls: string[] } {
  const vocab = new Map<string, number>();
  const words: string[] = [];
  const tok = (text: string) =>
    text
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => {
        if (!vocab.has(w)) {
          vocab.set(w, words.length);
          words.push(w);
        }
        return vocab.get(w)!;
      });
  const questionOf = (ids: readonly number[]) =>
    ids
      .slice(1)
      .map((i) => words[i])
      .join(" ");
  const calls: string[] = [];
  return {
    calls,
    ref: { dir: `/fake/${label}`, label, hash: `hash-${label}` },
    encodePrompt: (q) => [...tok("<prompt>"), ...tok(typeof q === "string" ? q : q.map((m) => m.content).join(" "))],
    encodeContinuation: (text) => tok(text),
    async generate(prompt, maxNewTokens) {
      const q = questionOf(prompt);
      calls.push(`generate:${q}:${maxNewTokens}`);
      const a = t.answers[q];
      if (a === undefined) throw new Error(`fake model ${label} has no answer for ${JSON.stringify(q)}`);
      return ` ${a} `;
    },
    async scoreContinuations(prompt, conts) {
      const p = t.pAbstain?.[questionOf(prompt)] ?? 0;
      return conts.map(() => Math.log(p / conts.length));
    },
    ...(t.hidden
      ? {
          async lastTokenHiddenStates(prompt: readonly number[]) {
            const h = t.hidden![questionOf(prompt)];
            if (!h) throw new Error(`no hidden state for ${questionOf(prompt)}`);
            return h.map((v) => Float32Array.from(v));
          },
        }
      : {}),
  };
}
