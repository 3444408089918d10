// Graphs with symbolic batch/sequence dims (scoring and generation graphs) run at several sizes and
// match the reference interpreter.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as E from "../../../src/engine";
import { maxAbs, maxAbsDiff, rng, session } from "./helpers";

test("a symbolic-length attention scorer runs at two sequence lengths and matches the reference", async () => {
  const D = 8,
    H = 2,
    DH = 4,
    V = 11;
  const r = rng(9);
  const w = (n: string, s: number[]) =>
    E.hostTensor(
      "float64",
      s,
      Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => r() - 0.5),
    );
  const g = new E.Graph("scorer");
  const ids = g.input("ids", "int64", ["B", "T"]);
  const mask = g.input("mask", "bool", ["T", "T"]);
  const cos = g.input("cos", "float64", ["T", DH / 2]);
  const sin = g.input("sin", "float64", ["T", DH / 2]);
  const emb = g.constant("emb", w("emb", [V, D]));
  // grouped-query: 2 query heads share 1 kv head
  const wq = g.constant("wq", w("wq", [D, D])),
    wk = g.constant("wk", w("wk", [DH, D])),
    wv = g.constant("wv", w("wv", [DH, D]));
  const h = E.rmsNorm(E.embedding(emb, ids), g.constant("n", w("n", [D]))); // (B, T, D)
  const heads = (t: E.Tensor, n: number) => E.transpose(E.reshape(t, ["B", "T", n, DH]), [0, 2, 1, 3]); // (B, n, T, Dh)
  const a = E.attention(
    E.rope(heads(E.linear(h, wq), H), cos, sin),
    E.rope(heads(E.linear(h, wk), 1), cos, sin),
    heads(E.linear(h, wv), 1),
    { mask },
  );
  const back = E.reshape(E.transpose(a, [0, 2, 1, 3]), ["B", "T", D]); // (B, T, D)
  const lp = E.logSoftmax(E.linear(back, emb), -1); // tied head (B, T, V)
  g.output("logprobs", lp);
  g.output("hidden", back);
  const s = await session(g);
  const staticLogprobs = (feeds: Record<string, E.HostTensor>) => {
    const gs = new E.Graph("scorer-static");
    const idsS = gs.input("ids", "int64", [2, 5]);
    const [cosS, sinS] = [gs.input("cos", "float64", [5, DH / 2]), gs.input("sin", "float64", [5, DH / 2])];
    const made = new Map<E.Tensor, E.Tensor>();
    const c = (t: E.Tensor) =>
      made.get(t) ?? made.set(t, gs.constant(t.name!, (t.constData as { value: E.HostTensor }).value)).get(t)!;
    const hs = E.rmsNorm(E.embedding(c(emb), idsS), c(g.constants.find((t) => t.name === "n")!));
    const hd = (t: E.Tensor, n: number) => E.transpose(E.reshape(t, [2, 5, n, DH]), [0, 2, 1, 3]);
    const as = E.attention(
      E.rope(hd(E.linear(hs, c(wq)), H), cosS, sinS),
      E.rope(hd(E.linear(hs, c(wk)), 1), cosS, sinS),
      hd(E.linear(hs, c(wv)), 1),
    );
    const out = E.logSoftmax(E.linear(E.reshape(E.transpose(as, [0, 2, 1, 3]), [2, 5, D]), c(emb)), -1);
    gs.output("lp", out);
    return E.evaluate(gs, feeds)[0]!.data;
  };
  for (const T of [3, 5]) {
    const rt = E.ropeTables(T, DH, 10000, 0, undefined, "float64");
    const feeds = {
      ids: E.hostTensor(
        "int64",
        [2, T],
        Array.from({ length: 2 * T }, (_, i) => (i * 7) % V),
      ),
      mask: E.causalMaskData(T, T),
      cos: rt.cos,
      sin: rt.sin,
    };
    const out = await s.run(feeds);
    assert.deepEqual(out.logprobs!.dims, [2, T, V]);
    const ref = E.evaluate(g, feeds);
    const got = out.logprobs!.data as Float64Array;
    assert.ok(maxAbsDiff(got, ref[0]!.data) < 1e-9 * (1 + maxAbs(got)), `T=${T}: logprobs differ from the reference`);
    // the same weights in a static-shape graph (folded GQA path) give the same numbers
    if (T === 5)
      assert.ok(
        maxAbsDiff(got, staticLogprobs(feeds)) < 1e-9 * (1 + maxAbs(got)),
        "symbolic and static attention paths differ",
      );
  }
  await s.release();
});
