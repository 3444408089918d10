// The one inference graph used for generation (prefill and decode with a KV cache), scoring and hidden
// states: symbolic batch B, new tokens T, cached tokens P, and K selected positions. A single graph
// means a single session, so the weights are held once per loaded model (onnxruntime keeps a private
// copy of external weights per session). Row-dependent things (positions after left padding, masks)
// are host-computed inputs, which keeps the graph free of shape arithmetic.
//   inputs:  ids int64 (B, T); mask bool (B, 1, T, P+T); rope_cos/rope_sin (B, 1, T, Dh/2);
//            select int32 (B, K) positions in 0..T-1 whose logits/hidden states are returned (int32:
//            WebGPU has no int64 Reshape/Expand kernels, so int64 indices would run on the CPU);
//            past_key.<l>/past_value.<l> (B, KV, P, Dh)
//   outputs: logits (B, K, V); hidden (B, K, (L+1)*D) (layer l at columns l*D..); present_key.<l>/present_value.<l> (B, KV, P+T, Dh)
import * as E from "../engine";
import type { HostTensor, Tensor } from "../engine";
import type { LlamaConfig } from "./config";
import { ropeFeeds } from "./prefixPack";
import { createModelGraph, llamaForward, type ModelSource, type WeightOptions } from "./graph";

export const INFERENCE_INPUTS = {
  ids: "ids",
  mask: "mask",
  cos: "rope_cos",
  sin: "rope_sin",
  select: "select",
} as const;
export const pastName = (kind: "key" | "value", l: number) => `past_${kind}.${l}`;
export const presentName = (kind: "key" | "value", l: number) => `present_${kind}.${l}`;

export function buildInferenceGraph(src: ModelSource, opts: WeightOptions = {}): E.Graph {
  const m = createModelGraph(src, { ...opts, name: "llama_inference" });
  const g = m.graph,
    c = src.config;
  const half = c.headDim / 2;
  const ids = g.input(INFERENCE_INPUTS.ids, "int64", ["B", "T"]);
  const mask = g.input(INFERENCE_INPUTS.mask, "bool", ["B", 1, "T", "P+T"]);
  const cos = g.input(INFERENCE_INPUTS.cos, "float32", ["B", 1, "T", half]);
  const sin = g.input(INFERENCE_INPUTS.sin, "float32", ["B", 1, "T", half]);
  const select = g.input(INFERENCE_INPUTS.select, "int32", ["B", "K"]);
  const past = Array.from({ length: c.numLayers }, (_, l) => ({
    k: g.input(pastName("key", l), "float32", ["B", c.numKvHeads, "P", c.headDim]),
    v: g.input(pastName("value", l), "float32", ["B", c.numKvHeads, "P", c.headDim]),
  }));
  const out = llamaForward(m.base, ids, { rope: { cos, sin }, mask, past });
  const idx = E.expand(E.unsqueeze(select, [2]), ["B", "K", c.hiddenSize]); // (B, K, D)
  const pick = (h: Tensor) => E.gatherElements(h, idx, 1); // (B, K, D)
  const finalPicked = pick(out.hidden[out.hidden.length - 1]!);
  const head = c.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
  g.output("logits", E.linear(finalPicked, m.base.get(head))); // (B, K, V)
  // Layers side by side on the last axis: (B, K, (L+1)*D) needs no reshape of symbolic dims.
  g.output(
    "hidden",
    E.concat(
      out.hidden.map((h) => pick(h)),
      2,
    ),
  ); // (B, K, (L+1)*D)
  out.present.forEach((p, l) => {
    g.output(presentName("key", l), p.k);
    g.output(presentName("value", l), p.v);
  });
  return g;
}

/** Host-side feeds for one run: rows of new ids with their absolute positions and key visibility. */
export interface StepRows {
  /** (B, T) new token ids. */
  ids: number[][];
  /** (B, T) absolute position of each new token (pads: anything, they are masked). */
  positions: number[][];
  /** (B, P+T) whether each key (cached ones, then the new ones) is a real token. */
  keyValid: boolean[][];
  /** (B, K) positions in 0..T-1 to return. */
  select: number[][];
  /**
   * Replaces the causal rule: whether new token t of row b may attend to key column j (prefix-packed
   * rows, see prefixPack.ts). keyValid still applies.
   */
  visible?: (b: number, t: number, j: number) => boolean;
}

/**
 * Feeds for one run. `past`: the previous run's outputs (present_* become past_*), null for an empty
 * cache, or "held" when the session already holds the cache (carried from the previous step).
 */
export function inferenceFeeds(
  c: LlamaConfig,
  rows: StepRows,
  past: Record<string, HostTensor> | null | "held",
): Record<string, HostTensor> {
  const B = rows.ids.length,
    T = rows.ids[0]!.length,
    S = rows.keyValid[0]!.length,
    P = S - T,
    K = rows.select[0]!.length;
  const rope = ropeFeeds(c, rows.positions);
  const mask = new Uint8Array(B * T * S);
  for (let b = 0; b < B; b++) {
    const keyPos = c.slidingWindow === null || rows.visible ? null : positionsOfKeys(rows, b, P);
    for (let t = 0; t < T; t++) {
      const pos = rows.positions[b]![t]!;
      // Query t sits at key column P + t: it sees valid keys up to itself (and within Mistral's window).
      for (let j = 0; j <= P + t; j++) {
        const ok =
          rows.keyValid[b]![j]! &&
          (rows.visible ? rows.visible(b, t, j) : keyPos === null || pos - keyPos[j]! < c.slidingWindow!);
        mask[(b * T + t) * S + j] = ok ? 1 : 0;
      }
    }
  }
  const feeds: Record<string, HostTensor> = {
    [INFERENCE_INPUTS.ids]: E.hostTensor("int64", [B, T], rows.ids.flat()),
    [INFERENCE_INPUTS.mask]: { dtype: "bool", dims: [B, 1, T, S], data: mask },
    [INFERENCE_INPUTS.cos]: rope.cos,
    [INFERENCE_INPUTS.sin]: rope.sin,
    [INFERENCE_INPUTS.select]: E.hostTensor("int32", [B, K], rows.select.flat()),
  };
  if (past === "held") return feeds;
  for (let l = 0; l < c.numLayers; l++) {
    for (const kind of ["key", "value"] as const) {
      feeds[pastName(kind, l)] = past?.[presentName(kind, l)] ?? emptyCache(c, B);
    }
  }
  const held = past ? past[presentName("key", 0)]!.dims[2] : 0;
  if (held !== P) throw new Error(`inferenceFeeds: the cache holds ${held} positions, the rows say ${P}`);
  return feeds;
}

export function emptyCache(c: LlamaConfig, B: number): HostTensor {
  return E.hostTensor("float32", [B, c.numKvHeads, 0, c.headDim]);
}

/** present_* -> past_* for Session.step: the KV cache stays inside the session between decode steps. */
export function cacheCarry(c: LlamaConfig): Record<string, string> {
  const carry: Record<string, string> = {};
  for (let l = 0; l < c.numLayers; l++)
    for (const kind of ["key", "value"] as const) carry[presentName(kind, l)] = pastName(kind, l);
  return carry;
}

/**
 * Absolute positions of all keys of row b: cached keys count up from 0 over valid ones; only needed
 * for the sliding window, where distance is measured in positions rather than columns.
 */
function positionsOfKeys(rows: StepRows, b: number, P: number): number[] {
  const out: number[] = [];
  let n = 0;
  for (let j = 0; j < P; j++) out.push(rows.keyValid[b]![j] ? n++ : 0);
  for (const p of rows.positions[b]!) out.push(p);
  return out;
}
