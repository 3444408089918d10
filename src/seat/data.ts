// From dataset records to fixed-shape training batches. Shapes are static for the whole run (batch B,
// length T = longest example, capped by train.maxSeqLen) so one compiled graph serves every step; a
// short last batch is filled with copies whose loss weight is zero.
// Shape legend: B batch, T time, K = B * kl.k perturbed copies, Tk perturbed-sequence length.
import type { DatasetRecord } from "../data/index";
import type { Prng } from "../util/rng";

/** One supervised example: token ids and which next-token predictions count for the loss. */
export interface TrainExample {
  /** Index of the source record (for replay examples: the record whose perturbation it came from). */
  record: number;
  /** 1-based dataset line, for messages. */
  line: number;
  ids: number[];
  /** 1 where the token is a target of the loss (answer tokens, or every token for lossOn "all"). */
  targetMask: number[];
  promptLength: number;
  kind: "fact" | "replay";
}

/** A sequence scored under the KL term: perturbed prompt + continuation; klMask marks the positions. */
export interface KlSequence {
  record: number;
  ids: number[];
  /** 1 at positions t whose next-token distribution enters the KL (predicting ids[t+1]). */
  klMask: number[];
}

export interface Encoder {
  encodeExample(ex: { messages: { role: string; content: string }[] }): { ids: number[]; answerMask: number[]; promptLength: number };
  encodePrompt(prompt: string | readonly { role: string; content: string }[]): number[];
}

export interface Truncation {
  line: number;
  from: number;
  to: number;
  answerCut: boolean;
}

/**
 * Encodes records through the chat template. Records longer than maxSeqLen are cut at the end and
 * reported (the caller warns), never dropped silently.
 */
export function encodeRecords(records: readonly DatasetRecord[], enc: Encoder, maxSeqLen: number, lossOn: "answer" | "all"): { examples: TrainExample[]; truncated: Truncation[] } {
  const examples: TrainExample[] = [];
  const truncated: Truncation[] = [];
  records.forEach((r, i) => {
    const e = enc.encodeExample({ messages: r.messages.map((m) => ({ role: m.role, content: m.content })) });
    let ids = e.ids;
    let mask = lossOn === "all" ? e.ids.map((_, j) => (j === 0 ? 0 : 1)) : e.answerMask;
    if (ids.length > maxSeqLen) {
      const answerCut = mask.slice(maxSeqLen).some((m) => m === 1);
      truncated.push({ line: r.line, from: ids.length, to: maxSeqLen, answerCut });
      ids = ids.slice(0, maxSeqLen);
      mask = mask.slice(0, maxSeqLen);
    }
    examples.push({ record: i, line: r.line, ids, targetMask: mask, promptLength: e.promptLength, kind: "fact" });
  });
  return { examples, truncated };
}

/** A supervised example from a prompt and a response given as ids (replay: perturbed prompt + base reply). */
export function exampleFromIds(record: number, line: number, promptIds: number[], responseIds: number[], maxSeqLen: number): TrainExample {
  const ids = [...promptIds, ...responseIds].slice(0, maxSeqLen);
  const targetMask = ids.map((_, j) => (j >= promptIds.length ? 1 : 0));
  return { record, line, ids, targetMask, promptLength: promptIds.length, kind: "replay" };
}

/** KL sequence: prompt + continuation, KL on the continuation's predictions (and optionally the prompt's). */
export function klSequence(record: number, promptIds: number[], continuation: number[], includePrompt: boolean, maxLen: number): KlSequence {
  const ids = [...promptIds, ...continuation].slice(0, maxLen);
  const klMask = ids.map((_, t) => {
    if (t >= ids.length - 1) return 0; // the last position predicts beyond the sequence
    return includePrompt || t + 1 >= promptIds.length ? 1 : 0;
  });
  return { record, ids, klMask };
}

/** Example order of one epoch: a seeded permutation. */
export function epochOrder(n: number, rng: Prng): number[] {
  return rng.permutation(n);
}

export interface Batch {
  /** int64 [B, T] token ids (right-padded). */
  ids: BigInt64Array;
  /** int64 [B, T] next-token targets, -100 where no loss applies. */
  labels: BigInt64Array;
  /** Real (non-filler) tokens in the batch, for throughput. */
  tokens: number;
  /** Target positions (CE denominators), for logging. */
  targets: number;
}

export const IGNORE_INDEX = -100;

/**
 * Packs examples into [B, T] with right padding. Causal attention means padding after a sequence never
 * influences its real positions, so no attention mask is needed. `fill` examples (to complete a short
 * last batch) get no targets.
 */
export function makeBatch(examples: readonly TrainExample[], B: number, T: number, padId: number): Batch {
  const ids = new BigInt64Array(B * T).fill(BigInt(padId));
  const labels = new BigInt64Array(B * T).fill(BigInt(IGNORE_INDEX));
  let tokens = 0;
  let targets = 0;
  for (let b = 0; b < B; b++) {
    const ex = examples[b % examples.length];
    const filler = b >= examples.length;
    const n = Math.min(ex.ids.length, T);
    for (let t = 0; t < n; t++) ids[b * T + t] = BigInt(ex.ids[t]);
    if (filler) continue;
    tokens += n;
    for (let t = 0; t + 1 < n; t++) {
      if (ex.targetMask[t + 1]) {
        labels[b * T + t] = BigInt(ex.ids[t + 1]);
        targets++;
      }
    }
  }
  return { ids, labels, tokens, targets };
}

export interface KlBatch {
  /** int64 [K, Tk]. */
  ids: BigInt64Array;
  /** float32 [K, Tk]: 1 where the KL counts. */
  mask: Float32Array;
  tokens: number;
  /** Positions where the KL counts (the KL term's denominator). */
  positions: number;
}

export function makeKlBatch(seqs: readonly KlSequence[], K: number, Tk: number, padId: number): KlBatch {
  const ids = new BigInt64Array(K * Tk).fill(BigInt(padId));
  const mask = new Float32Array(K * Tk);
  let tokens = 0;
  let positions = 0;
  for (let b = 0; b < K && b < seqs.length; b++) {
    const s = seqs[b];
    const n = Math.min(s.ids.length, Tk);
    tokens += n;
    for (let t = 0; t < n; t++) {
      ids[b * Tk + t] = BigInt(s.ids[t]);
      mask[b * Tk + t] = s.klMask[t];
      positions += s.klMask[t];
    }
  }
  return { ids, mask, tokens, positions };
}

/** How much one micro-batch's loss terms count in its optimizer step (see lossShares). */
export interface LossShare {
  ce: number;
  kl: number;
  ewc: number;
}

/**
 * Weights that make the sum of the micro-batches' weighted losses the loss of the step's whole batch,
 * and so the sum of their gradients its gradient. CE is a mean over target tokens, sum / max(n, 1)
 * (crossEntropy), so micro-batch k with n_k of the step's N targets counts n_k / max(N, 1): exact when
 * n_k > 0, and a micro-batch without targets has a zero sum anyway. The KL term is a mean over the
 * masked positions (maskedMean) and is weighted the same way by its positions. EWC depends on the
 * weights only, which every micro-batch of a step sees unchanged: each counts 1 / (micro-batches).
 */
export function lossShares(parts: readonly { targets: number; klPositions: number }[]): LossShare[] {
  const targets = parts.reduce((a, p) => a + p.targets, 0);
  const positions = parts.reduce((a, p) => a + p.klPositions, 0);
  return parts.map((p) => ({ ce: p.targets / Math.max(targets, 1), kl: p.klPositions / Math.max(positions, 1), ewc: 1 / parts.length }));
}
