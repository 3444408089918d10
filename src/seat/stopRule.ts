// When a run stops before its planned steps: `train.epochs auto` (train until the facts are learned,
// give up when abstention is being lost) and the explicit `earlyStop.enabled`. One pure function, so the
// rule can be tested on a scripted sequence of quick evals without training anything.
import type { EarlyStopReason } from "../protocol/events";

/** What a quick eval tells the rule (see quickEval.ts). */
export interface StopInput {
  /** Teacher-forced answer correctness over the last epoch's training examples. */
  answerAccuracy: number;
  accuracySamples: number;
  /** Mean abstention probability on held-out perturbed prompts. */
  abstentionProb: number;
  abstentionSamples: number;
}

export interface StopThresholds {
  accuracy: number;
  abstentionFloor: number;
  /** Consecutive quick evals below the floor before the floor stops a run (1 = the first one). */
  patience: number;
  /** The answer accuracy below which the floor does not count (default FLOOR_MIN_ACCURACY). */
  floorAfterAccuracy?: number;
}

/**
 * How far above the lowest eval of its streak below the floor a run must read to count as recovering
 * (held-out abstention is a mean probability over eval.samples prompts: a rise of 0.05 is more than
 * the drift between evals of a collapsing run, which falls toward 0).
 */
export const RECOVERY_MARGIN = 0.05;

/** earlyStop.floorAfterAccuracy's default: the answer accuracy below which the floor does not count. */
export const FLOOR_MIN_ACCURACY = 0.5;

export interface StopDecision {
  reason: EarlyStopReason;
  detail: string;
}

/**
 * The stopping rule, checked after each quick eval: the facts first (a run that has learned them is done
 * even if abstention sits below the floor at that moment, since more steps cannot raise it), then the
 * floor, which needs `patience` consecutive evals below it: held-out abstention dips in the first epochs
 * while the answers start to move and then recovers as the KL term catches up (measured on the embedded
 * world: 0.23 after epoch 1, 0.9+ from epoch 4), so one low eval is not a trend; nor is a run below the
 * floor that is climbing back (more than RECOVERY_MARGIN above the lowest eval of its streak): at SEAT's
 * current defaults new-people seed 2 read 0.20, 0.36, 0.39 at epochs 2-4 and 0.56-0.86 from epoch 5,
 * where a plain fine-tuning run's abstention only falls. `belowFloor` is how many evals in a row before
 * this one were below the floor and `floorLow` the lowest of them (the trainer keeps both, checkpoints
 * included).
 */
export function stopDecision(
  q: StopInput,
  t: StopThresholds,
  belowFloor = 0,
  floorLow = Infinity,
): { decision?: StopDecision; belowFloor: number; floorLow: number } {
  if (q.accuracySamples > 0 && q.answerAccuracy >= t.accuracy)
    return {
      belowFloor: 0,
      floorLow: Infinity,
      decision: {
        reason: "facts-learned",
        detail: `answer accuracy ${q.answerAccuracy.toFixed(3)} >= ${t.accuracy} on ${q.accuracySamples} sampled training questions`,
      },
    };
  if (!(q.abstentionSamples > 0 && q.abstentionProb < t.abstentionFloor)) return { belowFloor: 0, floorLow: Infinity };
  // Before half the sampled answers are right there is nothing worth stopping for: the run would end
  // with the base model's ignorance and less of its abstention (a user's calibrated run on the harder
  // set stopped at epoch 3 with FT 0.02 on evals of 0.37, 0.45, 0.38, the early dip).
  if (q.accuracySamples > 0 && q.answerAccuracy < (t.floorAfterAccuracy ?? FLOOR_MIN_ACCURACY))
    return { belowFloor: 0, floorLow: Infinity };
  const below = belowFloor + 1;
  const low = Math.min(floorLow, q.abstentionProb);
  if (below < Math.max(1, t.patience)) return { belowFloor: below, floorLow: low };
  if (below > 1 && q.abstentionProb > floorLow + RECOVERY_MARGIN) return { belowFloor: below, floorLow: low };
  return {
    belowFloor: below,
    floorLow: low,
    decision: {
      reason: "abstention-floor",
      detail: `held-out abstention probability ${q.abstentionProb.toFixed(3)} < ${t.abstentionFloor} on ${q.abstentionSamples} prompts${below > 1 ? `, ${below} evals in a row` : ""}`,
    },
  };
}

/** How an `epochs auto` run ended, for the run summary and the panel. */
export interface AutoEpochsOutcome {
  outcome: EarlyStopReason | "max-epochs";
  step: number;
  epoch: number;
  detail: string;
}

/** One line for people: which rule ended an `epochs auto` run, and when. */
export function autoEpochsLine(a: AutoEpochsOutcome): string {
  switch (a.outcome) {
    case "facts-learned":
      return `epochs auto: facts learned at epoch ${a.epoch} (step ${a.step}): ${a.detail}`;
    case "abstention-floor":
      return `epochs auto: stopped at epoch ${a.epoch} (step ${a.step}) to keep abstention: ${a.detail}`;
    case "max-epochs":
      return `epochs auto: reached train.maxEpochs (${a.epoch} epochs, step ${a.step}) without meeting either rule: ${a.detail}`;
  }
}
