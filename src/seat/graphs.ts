// The graphs a run compiles, all over the model layer's weight views (createModelGraph: frozen
// constants shared by the tuned and the base view; trainable inputs per WeightSpec):
// Training ids, positions, labels and scoring reads are int32: WebGPU lacks int64 kernels for the index work.
//   training: ids [B, T], label_pos/labels [B, A] (+ kl_ids [K, Tk], kl_pos/kl_mask [K, Ak]) -> objective
//             -> backward -> AdamW; logits exist only at the A labelled and Ak KL positions per row;
//   with gradient accumulation the training graph is split in two:
//     gradient: the same forward and objective on one micro-batch, its terms weighted by the
//               micro-batch's share of the step (ce_share, kl_share, ewc_share), backward, and the
//               gradients added into accumulators (X.acc -> X.acc:next);
//     apply:    clipping + AdamW on the accumulated gradients, no model weights at all;
//   scoring:  forward only over the tuned weights on prefix-packed rows (a prompt and all its
//             continuations in one row, model/prefixPack.ts); log p(target) at the read positions only
//             (abstention-opening probabilities for the quick eval).
// The base forward on the perturbed batch reads constants only, so autodiff never differentiates it and
// masked/LoRA runs hold a single copy of the weights. Dense methods with a base term (full+kl, ewc) read
// the frozen constants for the base and their own inputs for the tuned model: one extra model copy.
// Shape legend: B batch (one micro-batch under accumulation), T time, A targets per row, K perturbed
// copies, Tk perturbed length, Ak KL positions per row, V vocab, N scored rows, S reads per row.
import {
  Graph,
  type Tensor,
  type TrainStep,
  type HostTensor,
  type AdamWConfig,
  type GradAccumulation,
  type OptimizerUpdate,
  trainStep,
  accumulateGrad,
  applyGradients,
  logSoftmax,
  pickLogProbs,
  mul,
  reduceSum,
  cast,
  equal,
  where,
  not,
  reduceMax,
  greaterOrEqual,
  lift,
  sub,
  ropeTables,
} from "../engine/index";
import {
  createModelGraph,
  llamaForward,
  ropeInvFreq,
  type ModelGraph,
  type ModelParam,
  type ModelSource,
} from "../model/index";
import type { WeightSpecs } from "../model/index";
import { buildObjective, type ObjectiveOutputs } from "./objective";
import type { SeatConfig } from "./config";

export interface TrainGraph {
  model: ModelGraph;
  step: TrainStep;
  /** Outputs fetched every step. */
  fetch: string[];
}

export interface TrainGraphSpec {
  B: number;
  T: number;
  /** Target slots per row (data.ts maxTargets). */
  A: number;
  kl?: { K: number; Tk: number; Ak: number; lambda: number; direction: "forward" | "reverse" };
  ewc?: { lambda: number; fisher: Map<string, Float32Array> };
  /**
   * Mixed precision (precision.ts; default float32): the model computes in this dtype, logits and the
   * objective in float32, and with lossScale the graphs take a `loss_scale` input (AdamWConfig.lossScale).
   */
  precision?: { compute: "float32" | "float16" | "bfloat16"; lossScale: boolean };
  /**
   * Activation recompute (gradient checkpointing) per decoder layer: only each layer's input is kept for
   * the backward pass, which reruns the layer's forward first (engine grad({recompute})). Decided by the
   * memory plan (train.recompute auto) or the user.
   */
  recompute?: boolean;
}

export function buildTrainGraph(
  src: ModelSource,
  specs: WeightSpecs,
  spec: TrainGraphSpec,
  config: SeatConfig,
): TrainGraph {
  const { model, obj } = buildLoss(src, specs, spec, config, `seat-train-${config.method.replace("+", "-")}`);
  const step = trainStep(
    obj.loss,
    model.params.map((p) => ({ value: p.input, noDecay: p.noDecay })),
    adamWConfig(config, spec),
  );
  return { model, step, fetch: [step.lossOutput, step.gradNormOutput, ...lossFetch(model.graph)] };
}

/** The micro-batch graph of gradient accumulation (see the header). */
export interface GradGraph {
  model: ModelGraph;
  acc: GradAccumulation;
  /** Scalar inputs weighting the loss terms this run has. */
  shareInputs: { ce: string; kl?: string; ewc?: string };
  /** Outputs fetched every micro-batch: the weighted loss, answer_ok and the unweighted terms. */
  fetch: string[];
}

export function buildGradGraph(
  src: ModelSource,
  specs: WeightSpecs,
  spec: TrainGraphSpec,
  config: SeatConfig,
): GradGraph {
  const shareInputs: GradGraph["shareInputs"] = {
    ce: "ce_share",
    ...(spec.kl ? { kl: "kl_share" } : {}),
    ...(spec.ewc ? { ewc: "ewc_share" } : {}),
  };
  const { model, obj } = buildLoss(
    src,
    specs,
    spec,
    config,
    `seat-grad-${config.method.replace("+", "-")}`,
    shareInputs,
  );
  const acc = accumulateGrad(
    obj.loss,
    model.params.map((p) => ({ value: p.input, noDecay: p.noDecay })),
    { lossScale: !!spec.precision?.lossScale, recompute: !!spec.recompute },
  );
  return { model, acc, shareInputs, fetch: [acc.lossOutput, ...lossFetch(model.graph)] };
}

/** The apply graph of gradient accumulation: inputs X and X.acc (as `grad` names them), X.m, X.v, lr, step. */
export function buildApplyGraph(
  params: readonly ModelParam[],
  grad: GradGraph,
  config: SeatConfig,
  spec: Pick<TrainGraphSpec, "precision"> = {},
): { graph: Graph; update: OptimizerUpdate } {
  const graph = new Graph(`seat-apply-${config.method.replace("+", "-")}`);
  const update = applyGradients(
    params.map((p, i) => {
      const a = grad.acc.accInputs[i]!;
      return {
        value: graph.input(p.input.name!, a.dtype, a.dims),
        noDecay: p.noDecay,
        grad: graph.input(a.name, a.dtype, a.dims),
      };
    }),
    adamWConfig(config, spec),
  );
  return { graph, update };
}

function adamWConfig(config: SeatConfig, spec: Pick<TrainGraphSpec, "precision" | "recompute">): AdamWConfig {
  return {
    ...(spec.precision?.lossScale ? { lossScale: true } : {}),
    ...(spec.recompute ? { recompute: true } : {}),
    beta1: config.optim.beta1,
    beta2: config.optim.beta2,
    eps: config.optim.eps,
    weightDecay: config.optim.weightDecay,
    ...(config.optim.clipNorm > 0 ? { maxGradNorm: config.optim.clipNorm } : {}),
  };
}

const lossFetch = (g: Graph) => ["answer_ok", ...g.outputs.map((o) => o.name).filter((n) => n.startsWith("term_"))];

/** Model graph, forward on the batch (and the perturbed batch), objective, answer_ok. */
function buildLoss(
  src: ModelSource,
  specs: WeightSpecs,
  spec: TrainGraphSpec,
  config: SeatConfig,
  name: string,
  shareInputs?: GradGraph["shareInputs"],
): { model: ModelGraph; obj: ObjectiveOutputs } {
  const compute = spec.precision?.compute ?? "float32";
  const model = createModelGraph(src, { name, specs, compute });
  const g = model.graph;
  const f32 = (t: Tensor) => cast(t, "float32"); // logits and the objective stay float32
  const ids = g.input("ids", "int32", [spec.B, spec.T]);
  const labelPos = g.input("label_pos", "int32", [spec.B, spec.A]);
  const labels = g.input("labels", "int32", [spec.B, spec.A]);
  const logits = f32(llamaForward(model.tuned, ids, { select: labelPos }).logits); // (B, A, V)
  let klTerm;
  if (spec.kl) {
    const { K, Tk, Ak } = spec.kl;
    const klIds = g.input("kl_ids", "int32", [K, Tk]);
    const klPos = g.input("kl_pos", "int32", [K, Ak]);
    const klMask = g.input("kl_mask", "float32", [K, Ak]);
    // One set of RoPE tables for both passes over the perturbed batch.
    const tabs = ropeTables(Tk, src.config.headDim, src.config.ropeTheta, 0, ropeInvFreq(src.config, Tk));
    const rope = {
      cos: cast(g.constant("kl_rope_cos", tabs.cos), compute),
      sin: cast(g.constant("kl_rope_sin", tabs.sin), compute),
    };
    klTerm = {
      baseLogits: f32(llamaForward(model.base, klIds, { rope, select: klPos }).logits), // (K, Ak, V), constants only
      tunedLogits: f32(llamaForward(model.tuned, klIds, { rope, select: klPos }).logits),
      mask: klMask,
      lambda: spec.kl.lambda,
      direction: spec.kl.direction,
    };
  }
  let ewcTerm;
  if (spec.ewc) {
    const fisher = spec.ewc.fisher;
    ewcTerm = {
      lambda: spec.ewc.lambda,
      params: model.params
        .filter((p) => p.role === "dense")
        .map((p) => ({
          value: p.input,
          base: f32(model.base.get(p.weightName)),
          fisher: g.constant(`fisher/${p.weightName}`, {
            dtype: "float32",
            dims: p.input.shape as number[],
            data: fisher.get(p.weightName)!,
          }),
        })),
    };
  }
  const scalar = (n: string | undefined) => (n ? g.input(n, "float32", []) : undefined);
  const shares = shareInputs
    ? { ce: scalar(shareInputs.ce)!, kl: scalar(shareInputs.kl), ewc: scalar(shareInputs.ewc) }
    : undefined;
  const obj = buildObjective({ logits, labels, klTerm, ewcTerm, ...(shares ? { shares } : {}) });
  g.output("answer_ok", exactMatchPerRow(logits, labels));
  return { model, obj };
}

/**
 * Per row: 1 when every labelled position has its label as the argmax (greedy decoding would then
 * reproduce the answer exactly, stop token included), 0 otherwise, -1 for rows without labels. (B)
 * logits (B, A, V), labels (B, A).
 */
function exactMatchPerRow(logits: Tensor, labels: Tensor): Tensor {
  const valid = not(equal(labels, -100)); // (B, T)
  const safe = where(valid, labels, 0);
  const lp = logSoftmax(logits, -1);
  const hit = cast(greaterOrEqual(pickLogProbs(lp, safe), reduceMax(lp, [-1])), "float32"); // (B, T)
  const validF = cast(valid, "float32");
  const misses = reduceSum(mul(sub(1, hit), validF), [-1]); // (B)
  const count = reduceSum(validF, [-1]);
  const ok = cast(equal(misses, lift(misses, 0)), "float32");
  return where(equal(count, lift(count, 0)), lift(ok, -1), ok);
}

/**
 * Forward-only graph over the tuned weights (trainable inputs fed from the training session's state)
 * on prefix-packed rows: ids (N, T), rope tables (N, 1, T, Dh/2), an attention mask (N, 1, T, T) from
 * packPrefix, and S reads per row (flat positions n * T + t with their targets):
 * `token_logprob` (N, S) = log p(targets | row up to the read position).
 */
export function buildScoreGraph(src: ModelSource, specs: WeightSpecs, N: number, T: number, S: number): ModelGraph {
  const model = createModelGraph(src, { name: "seat-score", specs });
  const g = model.graph;
  const half = src.config.headDim / 2;
  const ids = g.input("ids", "int64", [N, T]);
  const rope = {
    cos: g.input("rope_cos", "float32", [N, 1, T, half]),
    sin: g.input("rope_sin", "float32", [N, 1, T, half]),
  };
  const mask = g.input("mask", "bool", [N, 1, T, T]);
  const reads = g.input("reads", "int32", [N, S]);
  const targets = g.input("targets", "int32", [N, S]);
  const lp = logSoftmax(llamaForward(model.tuned, ids, { rope, mask, select: reads }).logits, -1); // (N, S, V)
  g.output("token_logprob", pickLogProbs(lp, targets));
  return model;
}

export function hostScalar(v: number): HostTensor {
  return { dtype: "float32", dims: [], data: new Float32Array([v]) };
}
