// Graphs with symbolic batch/sequence dims (scoring and generation graphs) run at several sizes and
// match the reference interpreter.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as E from "../../../src/engine";
import { maxAbs, maxAbsDiff, rng, session } from "./helpers";

test("a symbolic-length attention scorer runs at two sequence lengths and matches the reference", async () => {
  const D = 8, H = 2, DH = 4, V = 11;
  const r = rng(9);
  const w = (n: string, s: number[]) => E.hostTensor("float64", s, Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => r() - 0.5));
  const g = new E.Graph("scorer");
  const ids = g.input("ids", "int64", ["B", "T"]);
  const mask = g.input("mask", "bool", ["T", "T"]);
  const cos = g.input("cos", "float64", ["T", DH / 2]);
  const sin = g.input("sin", "float64", ["T", DH / 2]);
  const emb = g.constant("emb", w("emb", [V, D]));
  const wq = g.constant("wq", w("wq", [D, D])), wk = g.constant("wk", w("wk", [D, D])), wv = g.constant("wv", w("wv", [D, D]));
  const h = E.rmsNorm(E.embedding(emb, ids), g.constant("n", w("n", [D]))); // (B, T, D)
  const heads = (t: E.Tensor) => E.transpose(E.reshape(t, ["B", "T", H, DH]), [0, 2, 1, 3]); // (B, H, T, Dh)
  const a = E.attention(E.rope(heads(E.linear(h, wq)), cos, sin), E.rope(heads(E.linear(h, wk)), cos, sin), heads(E.linear(h, wv)), { mask });
  const back = E.reshape(E.transpose(a, [0, 2, 1, 3]), ["B", "T", D]); // (B, T, D)
  const lp = E.logSoftmax(E.linear(back, emb), -1); // tied head (B, T, V)
  g.output("logprobs", lp);
  g.output("hidden", back);
  const s = await session(g);
  for (const T of [3, 5]) {
    const rt = E.ropeTables(T, DH, 10000, 0, undefined, "float64");
    const feeds = {
      ids: E.hostTensor("int64", [2, T], Array.from({ length: 2 * T }, (_, i) => (i * 7) % V)),
      mask: E.causalMaskData(T, T), cos: rt.cos, sin: rt.sin,
    };
    const out = await s.run(feeds);
    assert.deepEqual(out.logprobs!.dims, [2, T, V]);
    const ref = E.evaluate(g, feeds);
    const got = out.logprobs!.data as Float64Array;
    assert.ok(maxAbsDiff(got, ref[0]!.data) < 1e-9 * (1 + maxAbs(got)), `T=${T}: logprobs differ from the reference`);
  }
  await s.release();
});
