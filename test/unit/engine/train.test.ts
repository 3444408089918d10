// A small pre-norm attention block (RMSNorm, RoPE, GQA attention, SwiGLU MLP, tied-free LM head) trains
// through onnxruntime: with dense parameters, and with sparse parameters whose frozen entries must stay
// bit-identical. Shape legend: B batch, T time, D model, H heads, Hkv kv heads, Dh head dim, V vocab.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as E from "../../../src/engine";
import { createSession } from "../../../src/runtime";
import { rng } from "./helpers";

const B = 2,
  T = 8,
  D = 16,
  H = 4,
  HKV = 2,
  DH = 4,
  FF = 32,
  V = 16;
const SHAPES: Record<string, number[]> = {
  emb: [V, D],
  n1: [D],
  wq: [H * DH, D],
  wk: [HKV * DH, D],
  wv: [HKV * DH, D],
  wo: [D, H * DH],
  n2: [D],
  wg: [FF, D],
  wu: [FF, D],
  wd: [D, FF],
  nf: [D],
  head: [V, D],
};

function initWeights(seed: number): Record<string, Float32Array> {
  const r = rng(seed);
  const out: Record<string, Float32Array> = {};
  for (const [k, s] of Object.entries(SHAPES)) {
    const n = s.reduce((a, b) => a * b, 1);
    out[k] = k.startsWith("n")
      ? new Float32Array(n).fill(1)
      : Float32Array.from({ length: n }, () => (r() * 2 - 1) * 0.3);
  }
  return out;
}

function block(g: E.Graph, w: Record<string, E.Tensor>, ids: E.Tensor, labels: E.Tensor): E.Tensor {
  const rt = E.ropeTables(T, DH);
  const cos = g.constant("rope.cos", rt.cos),
    sin = g.constant("rope.sin", rt.sin);
  const h = E.embedding(w.emb!, ids); // (B, T, D)
  const x = E.rmsNorm(h, w.n1!);
  const heads = (t: E.Tensor, n: number) => E.transpose(E.reshape(t, [B, T, n, DH]), [0, 2, 1, 3]); // (B, n, T, Dh)
  const q = E.rope(heads(E.linear(x, w.wq!), H), cos, sin);
  const k = E.rope(heads(E.linear(x, w.wk!), HKV), cos, sin);
  const v = heads(E.linear(x, w.wv!), HKV);
  const a = E.reshape(E.transpose(E.attention(q, k, v), [0, 2, 1, 3]), [B, T, H * DH]); // (B, T, H*Dh)
  const h2 = E.add(h, E.linear(a, w.wo!));
  const x2 = E.rmsNorm(h2, w.n2!);
  const h3 = E.add(h2, E.linear(E.swiglu(E.linear(x2, w.wg!), E.linear(x2, w.wu!)), w.wd!));
  const logits = E.linear(E.rmsNorm(h3, w.nf!), w.head!); // (B, T, V)
  return E.crossEntropy(logits, labels).loss;
}

function data(): { ids: E.HostTensor; labels: E.HostTensor } {
  // next-token targets of two fixed sequences; the last position is ignored
  const r = rng(3);
  const ids = Array.from({ length: B * T }, () => Math.floor(r() * V));
  const labels = ids.map((_, i) => ((i + 1) % T === 0 ? -100 : ids[i + 1]!));
  return { ids: E.hostTensor("int64", [B, T], ids), labels: E.hostTensor("int64", [B, T], labels) };
}

const f32 = (x: number) => E.hostTensor("float32", [], [x]);

async function train(mode: "dense" | "sparse", steps: number) {
  const w0 = initWeights(11);
  const g = new E.Graph(`block_${mode}`);
  const ids = g.input("ids", "int64", [B, T]);
  const labels = g.input("labels", "int64", [B, T]);
  const w: Record<string, E.Tensor> = {};
  const params: E.TrainableParam[] = [];
  const state: Record<string, E.HostTensor> = {};
  const positions: Record<string, number[]> = {};
  const r = rng(5);
  for (const [k, s] of Object.entries(SHAPES)) {
    const host = E.hostTensor("float32", s, w0[k]!);
    if (mode === "dense" || k.startsWith("n")) {
      w[k] = g.input(k, "float32", s);
      params.push({ value: w[k]!, noDecay: k.startsWith("n") });
      state[k] = host;
    } else {
      // a random 25% of each matrix is trainable
      const n = w0[k]!.length;
      positions[k] = [...Array(n).keys()].filter(() => r() < 0.25);
      const sp = E.sparseParam(g, k, host, positions[k]!);
      w[k] = sp.weight;
      params.push({ value: sp.values });
      state[sp.values.name!] = E.gatherHost(host, positions[k]!);
      g.output(`effective.${k}`, sp.weight);
    }
  }
  const loss = block(g, w, ids, labels);
  const st = E.trainStep(loss, params, { weightDecay: 0.01, maxGradNorm: 1 });
  const model = E.toOnnx(g);
  const s = await createSession(model, { provider: "cpu" });
  await s.setState({ ...state, ...E.initialOptimizerState(st) });
  const feeds = data();
  const losses: number[] = [];
  for (let t = 1; t <= steps; t++) {
    const out = await s.step({ ...feeds, lr: f32(3e-2), step: f32(t) }, { carry: st.carry, fetch: ["loss"] });
    losses.push((out.loss!.data as Float32Array)[0]!);
  }
  return { s, losses, w0, positions, model };
}

test("attention block trains through onnxruntime with dense parameters", async () => {
  const { s, losses } = await train("dense", 30);
  assert.ok(losses.every(Number.isFinite), `non-finite loss: ${losses}`);
  assert.ok(losses[29]! < 0.5 * losses[0]!, `loss did not fall enough: ${losses[0]} -> ${losses[29]}`);
  await s.release();
});

test("attention block trains with sparse parameters; frozen entries stay bit-identical", async () => {
  const { s, losses, w0, positions } = await train("sparse", 30);
  assert.ok(losses[29]! < 0.8 * losses[0]!, `loss did not fall: ${losses[0]} -> ${losses[29]}`);
  const names = Object.keys(positions);
  const eff = await s.run(
    { ...data(), lr: f32(0), step: f32(1) },
    names.map((k) => `effective.${k}`),
  );
  for (const k of names) {
    const got = new Uint32Array((eff[`effective.${k}`]!.data as Float32Array).slice().buffer);
    const orig = new Uint32Array(w0[k]!.slice().buffer);
    const trainable = new Set(positions[k]);
    let changed = 0;
    for (let i = 0; i < orig.length; i++) {
      if (trainable.has(i)) {
        if (got[i] !== orig[i]) changed++;
      } else assert.equal(got[i], orig[i], `${k}[${i}] is frozen but changed`);
    }
    assert.ok(changed > trainable.size / 2, `${k}: only ${changed} of ${trainable.size} trainable entries moved`);
  }
  await s.release();
});
