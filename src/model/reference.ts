// Float64 plain-loop Llama-family forward pass: the independent reference the ONNX graphs are checked
// against (golden logits/losses). Deliberately naive — no engine, no ONNX, no shared helpers beyond
// the config — and written from the transformers modeling_llama / modeling_qwen2 semantics:
//   x = embed[ids]; per layer: x += o_proj(attn(rope(q), rope(k), v)); x += down(silu(gate) * up)
//   with pre-RMSNorm, rotate_half RoPE, grouped-query attention, causal (optionally sliding) mask.
// Shapes: T time, D model, H heads, KV kv-heads, Dh head dim, I intermediate, V vocab.
import { ropeInvFreq, type LlamaConfig } from "./config";

export type WeightLookup = (name: string) => ArrayLike<number>;

export interface ReferenceOutput {
  /** (T, V) row-major. */
  logits: Float64Array;
  /**
   * HF `output_hidden_states` convention: L+1 entries of (T, D); [0] is the embedding output, [l] the
   * output of layer l, and the last one is taken after the final RMSNorm.
   */
  hiddenStates: Float64Array[];
}

function rmsNorm(x: Float64Array, T: number, D: number, w: ArrayLike<number>, eps: number): Float64Array {
  const out = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let d = 0; d < D; d++) ss += x[t * D + d]! ** 2;
    const inv = 1 / Math.sqrt(ss / D + eps);
    for (let d = 0; d < D; d++) out[t * D + d] = x[t * D + d]! * inv * w[d]!;
  }
  return out;
}

/** y = x W^T + b with W stored [out, in] (nn.Linear). */
function linear(
  x: Float64Array,
  T: number,
  inDim: number,
  w: ArrayLike<number>,
  outDim: number,
  b?: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(T * outDim);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < outDim; o++) {
      let s = b ? b[o]! : 0;
      for (let i = 0; i < inDim; i++) s += x[t * inDim + i]! * w[o * inDim + i]!;
      y[t * outDim + o] = s;
    }
  }
  return y;
}

/** In-place rotate_half RoPE on (T, nHeads, Dh): pairs are (j, j + Dh/2), angle = pos * invFreq[j]. */
function applyRope(
  x: Float64Array,
  T: number,
  nHeads: number,
  Dh: number,
  positions: readonly number[],
  invFreq: Float64Array,
): void {
  const half = Dh / 2;
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < nHeads; h++) {
      const base = (t * nHeads + h) * Dh;
      for (let j = 0; j < half; j++) {
        const a = positions[t]! * invFreq[j]!;
        const c = Math.cos(a),
          s = Math.sin(a);
        const x1 = x[base + j]!,
          x2 = x[base + j + half]!;
        x[base + j] = x1 * c - x2 * s;
        x[base + j + half] = x2 * c + x1 * s;
      }
    }
  }
}

export interface ReferenceOptions {
  /** Absolute position of each token (default 0..T-1). */
  positions?: readonly number[];
}

/** Forward pass of one sequence. `w` returns a weight by its HF name (any float array type). */
export function referenceForward(
  c: LlamaConfig,
  w: WeightLookup,
  ids: readonly number[],
  opts: ReferenceOptions = {},
): ReferenceOutput {
  const T = ids.length,
    D = c.hiddenSize,
    H = c.numHeads,
    KV = c.numKvHeads,
    Dh = c.headDim,
    I = c.intermediateSize,
    V = c.vocabSize;
  const positions = opts.positions ?? ids.map((_, i) => i);
  const invFreq = ropeInvFreq(c, Math.max(...positions) + 1);
  const emb = w("model.embed_tokens.weight");
  let x = new Float64Array(T * D);
  for (let t = 0; t < T; t++) {
    const id = ids[t]!;
    if (!(id >= 0 && id < V))
      throw new Error(`referenceForward: token id ${id} at position ${t} is outside the vocabulary (0..${V - 1})`);
    for (let d = 0; d < D; d++) x[t * D + d] = emb[id * D + d]!;
  }
  const hidden: Float64Array[] = [x.slice()];
  const group = H / KV;
  const scale = 1 / Math.sqrt(Dh);

  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    // --- attention ---
    const hn = rmsNorm(x, T, D, w(p + "input_layernorm.weight"), c.rmsNormEps);
    const q = linear(
      hn,
      T,
      D,
      w(p + "self_attn.q_proj.weight"),
      H * Dh,
      c.qkvBias ? w(p + "self_attn.q_proj.bias") : undefined,
    ); // (T, H, Dh)
    const k = linear(
      hn,
      T,
      D,
      w(p + "self_attn.k_proj.weight"),
      KV * Dh,
      c.qkvBias ? w(p + "self_attn.k_proj.bias") : undefined,
    ); // (T, KV, Dh)
    const v = linear(
      hn,
      T,
      D,
      w(p + "self_attn.v_proj.weight"),
      KV * Dh,
      c.qkvBias ? w(p + "self_attn.v_proj.bias") : undefined,
    ); // (T, KV, Dh)
    applyRope(q, T, H, Dh, positions, invFreq);
    applyRope(k, T, KV, Dh, positions, invFreq);
    const att = new Float64Array(T * H * Dh); // (T, H, Dh)
    const scores = new Float64Array(T);
    for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / group);
      for (let i = 0; i < T; i++) {
        let max = -Infinity;
        for (let j = 0; j < T; j++) {
          const visible =
            positions[j]! <= positions[i]! &&
            (c.slidingWindow === null || positions[i]! - positions[j]! < c.slidingWindow);
          if (!visible) {
            scores[j] = -Infinity;
            continue;
          }
          let s = 0;
          for (let d = 0; d < Dh; d++) s += q[(i * H + h) * Dh + d]! * k[(j * KV + kh) * Dh + d]!;
          scores[j] = s * scale;
          if (scores[j]! > max) max = scores[j]!;
        }
        let z = 0;
        for (let j = 0; j < T; j++) {
          scores[j] = scores[j] === -Infinity ? 0 : Math.exp(scores[j]! - max);
          z += scores[j]!;
        }
        for (let d = 0; d < Dh; d++) {
          let s = 0;
          for (let j = 0; j < T; j++) s += scores[j]! * v[(j * KV + kh) * Dh + d]!;
          att[(i * H + h) * Dh + d] = s / z;
        }
      }
    }
    const o = linear(
      att,
      T,
      H * Dh,
      w(p + "self_attn.o_proj.weight"),
      D,
      c.oBias ? w(p + "self_attn.o_proj.bias") : undefined,
    );
    for (let i = 0; i < T * D; i++) x[i]! += o[i]!;
    // --- MLP (SwiGLU) ---
    const hm = rmsNorm(x, T, D, w(p + "post_attention_layernorm.weight"), c.rmsNormEps);
    const g = linear(hm, T, D, w(p + "mlp.gate_proj.weight"), I, c.mlpBias ? w(p + "mlp.gate_proj.bias") : undefined);
    const u = linear(hm, T, D, w(p + "mlp.up_proj.weight"), I, c.mlpBias ? w(p + "mlp.up_proj.bias") : undefined);
    for (let i = 0; i < T * I; i++) g[i] = (g[i]! / (1 + Math.exp(-g[i]!))) * u[i]!;
    const dn = linear(g, T, I, w(p + "mlp.down_proj.weight"), D, c.mlpBias ? w(p + "mlp.down_proj.bias") : undefined);
    x = x.slice();
    for (let i = 0; i < T * D; i++) x[i]! += dn[i]!;
    hidden.push(x.slice());
  }
  const xn = rmsNorm(x, T, D, w("model.norm.weight"), c.rmsNormEps);
  hidden[hidden.length - 1] = xn;
  const head = w(c.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight");
  return { logits: linear(xn, T, D, head, V), hiddenStates: hidden };
}

/** log-softmax of each row of a (T, V) matrix. */
export function logSoftmaxRows(logits: Float64Array, V: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / V; r++) {
    let max = -Infinity;
    for (let j = 0; j < V; j++) max = Math.max(max, logits[r * V + j]!);
    let z = 0;
    for (let j = 0; j < V; j++) z += Math.exp(logits[r * V + j]! - max);
    const lz = max + Math.log(z);
    for (let j = 0; j < V; j++) out[r * V + j] = logits[r * V + j]! - lz;
  }
  return out;
}

/**
 * Mean next-token cross-entropy over the positions whose *target* is masked in: logits row t predicts
 * ids[t+1] and counts when mask[t+1] is 1 (the answer-mask convention of encodeExample).
 */
export function referenceMaskedCE(
  logits: Float64Array,
  V: number,
  ids: readonly number[],
  mask: readonly number[],
): number {
  const lp = logSoftmaxRows(logits, V);
  let sum = 0,
    n = 0;
  for (let t = 0; t + 1 < ids.length; t++) {
    if (!mask[t + 1]) continue;
    sum -= lp[t * V + ids[t + 1]!]!;
    n++;
  }
  return n ? sum / n : 0;
}
