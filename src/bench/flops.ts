// FLOP accounting of one optimizer step (see src/bench/train.ts for what a step does on each side).
// Pure: shared by the benchmark, its report and the unit tests.

/** HF config.json fields for a random-weights Llama used only for speed. */
export interface HfLlamaConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  vocab_size: number;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings: boolean;
}

/** ~100M parameters, SmolLM/TinyLlama-like proportions. */
export const LLAMA_100M: HfLlamaConfig = {
  hidden_size: 768,
  intermediate_size: 2048,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_key_value_heads: 4,
  vocab_size: 32000,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
};

/** Response tokens the benchmark's teacher may generate per perturbed prompt (config kl.maxResponseTokens). */
export const BENCH_KL_RESPONSE_TOKENS = 8;

/**
 * The perturbed batch's padded length, as the trainer sizes it (src/seat/prepare.ts: longest prompt +
 * 16 tokens of slack for look-alike names + the response budget, capped at the sequence limit).
 */
export function klSeqLen(maxPrompt: number, maxSeqLen: number, responseTokens = BENCH_KL_RESPONSE_TOKENS): number {
  return Math.min(maxSeqLen, maxPrompt + 16 + responseTokens);
}

/** The shapes one optimizer step runs on: batch [B, T] and, for SEAT, the perturbed batch [K, Tk]. */
export interface StepShape {
  B: number;
  T: number;
  K?: number;
  Tk?: number;
}

export interface StepFlops {
  /** Forward matmuls of the tuned model on the batch. */
  forward: number;
  /** Backward matmuls on the batch (input gradients, attention, weight gradients of what trains). */
  backward: number;
  /** SEAT: frozen base forward on the perturbed batch. */
  baseForward: number;
  /** SEAT: tuned forward + backward on the perturbed batch. */
  perturbed: number;
  total: number;
}

/**
 * Matmul FLOPs of one optimizer step (2 per multiply-add). Per token and layer the projections cost
 * 2 x their weights; attention's QK^T and AV cost 4 x T x D (all T keys: neither side skips the masked
 * half). The tied lm_head costs 2 x D x V. Backward = input gradients (same as forward) + attention's
 * second half (same as forward attention) + weight gradients of what is trained (2 x weights per
 * token): full trains everything, SEAT the linear projections only (dense dW, masked afterwards), LoRA
 * no base weight at all (its rank-r adapters, under 1 % of the work at r = 8, are not counted).
 * Elementwise work (norms, softmax, losses, AdamW) is not counted: it is memory-bound, not FLOPs.
 */
export function stepFlops(hf: HfLlamaConfig, method: "seat" | "full" | "lora", shape: StepShape): StepFlops {
  const D = hf.hidden_size;
  const hd = D / hf.num_attention_heads;
  const kvD = hd * hf.num_key_value_heads;
  const L = hf.num_hidden_layers;
  const linear = L * (2 * D * D + 2 * D * kvD + 3 * D * hf.intermediate_size);
  const head = D * hf.vocab_size;
  const fwdTok = (T: number) => 2 * linear + 2 * head + L * 4 * T * D;
  const bwdTok = (T: number, trainHead: boolean, trainLinear = true) =>
    fwdTok(T) + L * 4 * T * D + (trainLinear ? 2 * linear : 0) + (trainHead ? 2 * head : 0);
  const seat = method === "seat";
  const forward = shape.B * shape.T * fwdTok(shape.T);
  const backward = shape.B * shape.T * bwdTok(shape.T, method === "full", method !== "lora");
  let baseForward = 0;
  let perturbed = 0;
  if (seat) {
    const K = shape.K ?? shape.B;
    const Tk = shape.Tk ?? shape.T;
    baseForward = K * Tk * fwdTok(Tk);
    perturbed = K * Tk * (fwdTok(Tk) + bwdTok(Tk, false));
  }
  return { forward, backward, baseForward, perturbed, total: forward + backward + baseForward + perturbed };
}
