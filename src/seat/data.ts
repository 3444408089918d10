// From dataset records to fixed-shape training batches. Shapes are static for the whole run (batch B,
// length T = longest example, capped by train.maxSeqLen) so one compiled graph serves every step; a
// short last batch is filled with copies whose loss weight is zero.
// Shape legend: B batch, T time, A targets per row, K = B * kl.k perturbed copies, Tk perturbed-sequence
// length, Ak KL positions per perturbed row.
import type { DatasetRecord } from "../data/index";
import type { HostTensor } from "../engine/index";
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
  encodeExample(ex: { messages: { role: string; content: string }[] }): {
    ids: number[];
    answerMask: number[];
    promptLength: number;
  };
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
export function encodeRecords(
  records: readonly DatasetRecord[],
  enc: Encoder,
  maxSeqLen: number,
  lossOn: "answer" | "all",
): { examples: TrainExample[]; truncated: Truncation[] } {
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
export function exampleFromIds(
  record: number,
  line: number,
  promptIds: number[],
  responseIds: number[],
  maxSeqLen: number,
): TrainExample {
  const ids = [...promptIds, ...responseIds].slice(0, maxSeqLen);
  const targetMask = ids.map((_, j) => (j >= promptIds.length ? 1 : 0));
  return { record, line, ids, targetMask, promptLength: promptIds.length, kind: "replay" };
}

/** KL sequence: prompt + continuation, KL on the continuation's predictions (and optionally the prompt's). */
export function klSequence(
  record: number,
  promptIds: number[],
  continuation: number[],
  includePrompt: boolean,
  maxLen: number,
): KlSequence {
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
  /** int32 [B, T] token ids (right-padded). */
  ids: Int32Array;
  /**
   * int32 [B, A] flat positions b * T + t whose next-token prediction is a target: the graphs compute
   * logits only there (A = the most targets of any example; unused slots point at position b * T).
   * Ids, positions and labels are int32: WebGPU has no int64 kernels for the Equal, Where and Reshape
   * the objective and the embedding gradient run on them, so int64 ones ran on the CPU.
   */
  labelPos: Int32Array;
  /** int32 [B, A] the targets at labelPos, -100 in unused slots. */
  labels: Int32Array;
  /** Real (non-filler) tokens in the batch, for throughput. */
  tokens: number;
  /** Target positions (CE denominators), for logging. */
  targets: number;
}

export const IGNORE_INDEX = -100;

/** Most loss targets of any example: the A of [B, A] (at least 1, so shapes are never empty). */
export function maxTargets(examples: readonly TrainExample[]): number {
  let a = 1;
  for (const ex of examples) {
    let n = 0;
    for (let t = 1; t < ex.ids.length; t++) n += ex.targetMask[t] ? 1 : 0;
    a = Math.max(a, n);
  }
  return a;
}

/**
 * Packs examples into [B, T] with right padding. Causal attention means padding after a sequence never
 * influences its real positions, so no attention mask is needed. `fill` examples (to complete a short
 * last batch) get no targets. Targets are listed per row in [B, A] (see Batch.labelPos).
 */
export function makeBatch(examples: readonly TrainExample[], B: number, T: number, A: number, padId: number): Batch {
  const ids = new Int32Array(B * T).fill(padId);
  const labelPos = new Int32Array(B * A);
  const labels = new Int32Array(B * A).fill(IGNORE_INDEX);
  let tokens = 0;
  let targets = 0;
  for (let b = 0; b < B; b++) {
    const ex = examples[b % examples.length];
    const filler = b >= examples.length;
    const n = Math.min(ex.ids.length, T);
    for (let t = 0; t < n; t++) ids[b * T + t] = ex.ids[t]!;
    for (let a = 0; a < A; a++) labelPos[b * A + a] = b * T;
    if (filler) continue;
    tokens += n;
    let a = 0;
    for (let t = 0; t + 1 < n; t++) {
      if (!ex.targetMask[t + 1]) continue;
      if (a >= A) throw new Error(`makeBatch: example of line ${ex.line} has more than ${A} targets`);
      labelPos[b * A + a] = b * T + t;
      labels[b * A + a] = ex.ids[t + 1]!;
      a++;
      targets++;
    }
  }
  return { ids, labelPos, labels, tokens, targets };
}

/** The graph feeds of a training batch (names as graphs.ts declares them). */
export function batchFeeds(b: Batch, B: number, T: number, A: number): Record<string, HostTensor> {
  return {
    ids: { dtype: "int32", dims: [B, T], data: b.ids },
    label_pos: { dtype: "int32", dims: [B, A], data: b.labelPos },
    labels: { dtype: "int32", dims: [B, A], data: b.labels },
  };
}

export interface KlBatch {
  /** int32 [K, Tk]. */
  ids: Int32Array;
  /** int32 [K, Ak] flat positions k * Tk + t where the KL counts (unused slots: k * Tk, mask 0). */
  pos: Int32Array;
  /** float32 [K, Ak]: 1 where the slot is a KL position. */
  mask: Float32Array;
  tokens: number;
  /** Positions where the KL counts (the KL term's denominator). */
  positions: number;
}

/** Most KL positions of any sequence (the Ak of [K, Ak]; at least 1). */
export function maxKlPositions(seqs: readonly KlSequence[]): number {
  let a = 1;
  for (const s of seqs)
    a = Math.max(
      a,
      s.klMask.reduce((x, y) => x + y, 0),
    );
  return a;
}

export function makeKlBatch(seqs: readonly KlSequence[], K: number, Tk: number, Ak: number, padId: number): KlBatch {
  const ids = new Int32Array(K * Tk).fill(padId);
  const pos = new Int32Array(K * Ak);
  const mask = new Float32Array(K * Ak);
  let tokens = 0;
  let positions = 0;
  for (let b = 0; b < K; b++) {
    for (let a = 0; a < Ak; a++) pos[b * Ak + a] = b * Tk;
    if (b >= seqs.length) continue;
    const s = seqs[b];
    const n = Math.min(s.ids.length, Tk);
    tokens += n;
    let a = 0;
    for (let t = 0; t < n; t++) {
      ids[b * Tk + t] = s.ids[t]!;
      if (!s.klMask[t] || a >= Ak) continue; // past Ak: the look-alike reply ran longer than planned
      pos[b * Ak + a] = b * Tk + t;
      mask[b * Ak + a] = 1;
      a++;
      positions++;
    }
  }
  return { ids, pos, mask, tokens, positions };
}

export function klFeeds(kb: KlBatch, K: number, Tk: number, Ak: number): Record<string, HostTensor> {
  return {
    kl_ids: { dtype: "int32", dims: [K, Tk], data: kb.ids },
    kl_pos: { dtype: "int32", dims: [K, Ak], data: kb.pos },
    kl_mask: { dtype: "float32", dims: [K, Ak], data: kb.mask },
  };
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
  return parts.map((p) => ({
    ce: p.targets / Math.max(targets, 1),
    kl: p.klPositions / Math.max(positions, 1),
    ewc: 1 / parts.length,
  }));
}
