// Random training feeds for the stepper tests (precision, recompute): `rows` answer rows of T tokens
// with A target slots (row i's targets start i tokens later) and, with `kl`, as many perturbed rows of
// TK tokens with AK KL slots. Seeded: the same (V, rows, seed) gives the same feeds.
import type * as E from "../../../src/engine";
import { batchFeeds, klFeeds, makeBatch, makeKlBatch } from "../../../src/seat/data";
import { Prng } from "../../../src/util/rng";

export const T = 12,
  TK = 10,
  A = 6,
  AK = 5;

export function randomBatch(V: number, rows: number, seed: number, kl = true): Record<string, E.HostTensor> {
  const r = new Prng(seed, 5);
  const ids = () => Array.from({ length: T }, () => r.int(V));
  const exs = Array.from({ length: rows }, (_, i) => {
    const e = ids();
    return {
      record: i,
      line: i + 1,
      ids: e,
      targetMask: e.map((_, t) => (t >= T - A + i ? 1 : 0)),
      promptLength: 6,
      kind: "fact" as const,
    };
  });
  const kls = Array.from({ length: rows }, (_, i) => {
    const e = ids().slice(0, TK);
    return { record: i, ids: e, klMask: e.map((_, t) => (t >= 1 && t <= AK - i ? 1 : 0)) };
  });
  return {
    ...batchFeeds(makeBatch(exs, rows, T, A, 0), rows, T, A),
    ...(kl ? klFeeds(makeKlBatch(kls, rows, TK, AK, 0), rows, TK, AK) : {}),
  };
}
