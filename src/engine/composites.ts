// Composite ops built from primitives (no gradient rules of their own: autodiff differentiates the
// primitives). Shape legend: B batch, T time, H heads, Hkv key/value heads, Dh head dim, D model, V vocab.
import { HostTensor } from "./dtype";
import { Dim, dimMul, Tensor } from "./graph";
import {
  add,
  cast,
  div,
  equal,
  exp,
  lift,
  maximum,
  mul,
  not,
  reciprocal,
  sigmoid,
  sqrt,
  sub,
  where,
} from "./ops/elementwise";
import {
  gather,
  gatherElements,
  gemm,
  logSoftmax,
  matMul,
  restoreLeading,
  softmax,
  softmaxCrossEntropy,
  swapLast,
} from "./ops/nn";
import { reduceSum, reduceSumSquare, sumAll } from "./ops/reduce";
import { concat, expandLike, reshape, slice, squeeze, transpose, unsqueeze } from "./ops/shape";

export { softmax, logSoftmax };

/** RMSNorm (Zhang & Sennrich 2019; Llama): x / sqrt(mean(x^2) + eps) * w over the last axis. */
export function rmsNorm(x: Tensor, w: Tensor, eps = 1e-6): Tensor {
  const d = x.shape[x.rank - 1];
  if (typeof d !== "number") throw new Error(`rmsNorm: last dim of ${x} must be static`);
  // Half-precision inputs are normalized in float32 (as Hugging Face does): a sum of squares over the
  // hidden size overflows float16 (max 65504) once entries reach ~10.
  if (isHalf(x.dtype)) return cast(rmsNorm(cast(x, "float32"), cast(w, "float32"), eps), x.dtype);
  // ReduceSumSquare reads x once; mean(x^2) via x*x then ReduceMean would write and keep an extra x-sized tensor
  const ms = mul(reduceSumSquare(x, [-1], true), 1 / d);
  return mul(mul(x, reciprocal(sqrt(add(ms, eps)))), w);
}

const isHalf = (d: string) => d === "float16" || d === "bfloat16";

/** SiLU / swish: x * sigmoid(x). */
export const silu = (x: Tensor) => mul(x, sigmoid(x));
/** SwiGLU gate (Shazeer 2020): silu(gate) * up. */
export const swiglu = (gate: Tensor, up: Tensor) => mul(silu(gate), up);

/**
 * x @ w^T (+ bias) for a weight stored [out, in] as in Hugging Face checkpoints: one Gemm (transB) over
 * the rows of x flattened to 2-D — no transposed copy of w, and the validated fast backward (weights
 * stay 2-D). Symbolic leading dims come back from x's run-time shape.
 */
export function linear(x: Tensor, w: Tensor, bias?: Tensor): Tensor {
  const [out, inp] = w.shape as [Dim, Dim];
  if (x.shape[x.rank - 1] !== inp) throw new Error(`linear: ${x} does not match weight ${w}`);
  const lead = x.shape.slice(0, -1);
  const rows = lead.reduce<Dim>((a, d) => dimMul(a, d), 1);
  const y2 = gemm(reshape(x, [rows, inp]), w, { transB: true }); // (rows, out)
  const y = lead.every((d) => typeof d === "number") ? reshape(y2, [...lead, out]) : restoreLeading(y2, x);
  return bias ? add(y, bias) : y;
}

/** Embedding lookup: ids [...] -> [..., D]. */
export const embedding = (table: Tensor, ids: Tensor) => gather(table, ids);

/**
 * Rotary position embedding (Su et al. 2021), "rotate half" layout as in HF Llama:
 * x [..., T, Dh]; cos/sin [T, Dh/2] (or broadcastable to [..., T, Dh/2]).
 * out = concat(x1 c - x2 s, x2 c + x1 s) with x1, x2 the two halves of the head dim.
 */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const dh = x.shape[x.rank - 1];
  if (typeof dh !== "number" || dh % 2) throw new Error(`rope: head dim of ${x} must be static and even`);
  const h = dh / 2;
  const x1 = slice(x, [0], [h], [-1]);
  const x2 = slice(x, [h], [dh], [-1]);
  return concat([sub(mul(x1, cos), mul(x2, sin)), add(mul(x2, cos), mul(x1, sin))], -1);
}

/** Host-side RoPE tables [T, Dh/2] for positions offset..offset+T-1 (inv_freq = theta^(-2i/Dh)). */
export function ropeTables(
  T: number,
  headDim: number,
  theta = 10000,
  offset = 0,
  invFreq?: Float64Array,
  dtype: "float32" | "float64" = "float32",
): { cos: HostTensor; sin: HostTensor } {
  const h = headDim / 2;
  const inv = invFreq ?? Float64Array.from({ length: h }, (_, i) => Math.pow(theta, (-2 * i) / headDim));
  const Arr = dtype === "float64" ? Float64Array : Float32Array;
  const c = new Arr(T * h),
    s = new Arr(T * h);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < h; i++) {
      const a = (t + offset) * inv[i]!;
      c[t * h + i] = Math.cos(a);
      s[t * h + i] = Math.sin(a);
    }
  return { cos: { dtype, dims: [T, h], data: c }, sin: { dtype, dims: [T, h], data: s } };
}

/** Bool [Tq, Tk] host mask: query i (at absolute position Tk - Tq + i) may see keys <= its position. */
export function causalMaskData(tq: number, tk: number): HostTensor {
  const m = new Uint8Array(tq * tk);
  for (let i = 0; i < tq; i++) for (let j = 0; j < tk; j++) m[i * tk + j] = j <= i + tk - tq ? 1 : 0;
  return { dtype: "bool", dims: [tq, tk], data: m };
}

export interface AttentionOptions {
  /** Bool, true = may attend; broadcastable to [B, 1, 1, Tq, Tk]. Default: causal (static Tq, Tk only). */
  mask?: Tensor;
  /** Defaults to 1/sqrt(Dh). */
  scale?: number;
  causal?: boolean;
}

/**
 * Scaled dot-product attention with grouped-query heads.
 * q [B, H, Tq, Dh]; k, v [B, Hkv, Tk, Dh] with H = Hkv * rep (query head h uses kv head floor(h/rep)).
 * K and V are never repeated in memory: with static lengths the query heads of a group are folded into
 * the row axis (plain batched MatMuls); with symbolic lengths (generation, KV cache) the group axis is
 * broadcast by MatMul instead. Returns [B, H, Tq, Dh].
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const [B, H, Tq, Dh] = q.shape;
  const [, Hkv, Tk] = k.shape;
  if (typeof H !== "number" || typeof Hkv !== "number" || H % Hkv)
    throw new Error(`attention: heads ${H} not a multiple of kv heads ${Hkv}`);
  if (typeof Dh !== "number") throw new Error("attention: head dim must be static");
  const rep = H / Hkv;
  const scale = opts.scale ?? 1 / Math.sqrt(Dh);
  let mask = opts.mask;
  if (!mask && opts.causal !== false) {
    if (typeof Tq !== "number" || typeof Tk !== "number")
      throw new Error("attention: symbolic lengths need an explicit mask");
    mask = q.graph.constant(`causal_mask_${Tq}x${Tk}_${q.id}`, causalMaskData(Tq, Tk));
  }
  // scores of half-precision q/k are masked and normalized in float32
  const probs = (s: Tensor) => {
    const s32 = isHalf(s.dtype) ? cast(s, "float32") : s;
    const p = softmax(mask ? where(mask, s32, lift(s32, -1e30)) : s32, -1);
    return cast(p, s.dtype);
  };
  if (typeof Tq === "number" && typeof Tk === "number") {
    const qs = reshape(mul(q, scale), [B!, Hkv, rep * Tq, Dh]); // (B, Hkv, rep*Tq, Dh)
    const s = reshape(matMul(qs, swapLast(k)), [B!, Hkv, rep, Tq, Tk]); // (B, Hkv, rep, Tq, Tk)
    const p = reshape(probs(s), [B!, Hkv, rep * Tq, Tk]); // (B, Hkv, rep*Tq, Tk)
    return reshape(matMul(p, v), [B!, H, Tq, Dh]); // (B, H, Tq, Dh)
  }
  const q5 = reshape(mul(q, scale), [B!, Hkv, rep, Tq!, Dh]); // (B, Hkv, rep, Tq, Dh)
  const k5 = unsqueeze(k, [2]),
    v5 = unsqueeze(v, [2]); // (B, Hkv, 1, Tk, Dh)
  const p = probs(matMul(q5, swapLast(k5))); // (B, Hkv, rep, Tq, Tk)
  return reshape(matMul(p, v5), [B!, H, Tq!, Dh]); // (B, H, Tq, Dh)
}

export interface CrossEntropyResult {
  /** Mean NLL over non-ignored positions (0 when none). */
  loss: Tensor;
  /** Per-position NLL (0 at ignored positions), labels' shape. */
  nll: Tensor;
  /** Number of non-ignored positions (float scalar). */
  count: Tensor;
}

/** Cross-entropy of logits [..., V] against int64 labels [...]; labels == ignoreIndex are skipped. */
export function crossEntropy(logits: Tensor, labels: Tensor, ignoreIndex = -100): CrossEntropyResult {
  const V = logits.shape[logits.rank - 1]!;
  const rows = labels.shape.reduce<Dim>((a, d) => dimMul(a, d), 1);
  const { nll: flat } = softmaxCrossEntropy(reshape(logits, [rows, V]), reshape(labels, [rows]), ignoreIndex); // (rows)
  const nll = reshape(flat, labels.shape);
  const count = sumAll(cast(not(equal(labels, ignoreIndex)), logits.dtype));
  return { loss: div(sumAll(nll), maximum(count, 1)), nll, count };
}

/** log p(label) per position from log-probs [..., V] and int32/int64 labels [...] (labels must be in range). */
export const pickLogProbs = (logProbs: Tensor, labels: Tensor) =>
  squeeze(gatherElements(logProbs, unsqueeze(labels, [-1]), -1), [-1]);

/**
 * KL(P || Q) = sum_v exp(logP) (logP - logQ) over the last axis, per position. Pass arguments in the
 * order of the direction wanted: forward KL(base || tuned) = kl(baseLogP, tunedLogP), reverse = kl(tuned, base).
 */
export function kl(logP: Tensor, logQ: Tensor): Tensor {
  return reduceSum(mul(exp(logP), sub(logP, logQ)), [-1]);
}

/** sum(x * mask) / max(sum(mask), 1); mask is a float (or bool) tensor broadcastable to x. */
export function maskedMean(x: Tensor, mask: Tensor): Tensor {
  const m = mask.dtype === "bool" ? cast(mask, x.dtype) : mask;
  const num = sumAll(mul(x, m));
  const den = sumAll(expandLike(m, x));
  return div(num, maximum(den, 1));
}

export { transpose };
