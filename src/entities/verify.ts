// Checking candidates against the base model: SEAT's KL term only teaches "these names stay unknown"
// if the frozen base model does abstain on the perturbed prompt, so keep the candidates it abstains on.
import type { ChatMessage, PerturbationCandidate, VerifiedCandidate } from "./types";

/**
 * The base model's abstention probability (0..1) on a prompt: the perturbed question, plus the perturbed
 * chat when the record is a conversation. Built from src/model + src/eval by the caller.
 */
export type AbstentionScorer = (
  question: string,
  messages?: readonly ChatMessage[],
  signal?: AbortSignal,
) => Promise<number>;

export interface VerifyOptions {
  /** Minimum abstention probability for "the base model treats it as unknown" (default 0.5). */
  threshold?: number;
  signal?: AbortSignal;
  /** Called after each scored candidate. */
  onProgress?: (done: number, total: number) => void;
}

export interface VerifyResult {
  /** Candidates the base model abstains on, best first. */
  kept: VerifiedCandidate[];
  /** The others, with their scores (shown to the user, not inserted). */
  rejected: VerifiedCandidate[];
}

export const DEFAULT_ABSTENTION_THRESHOLD = 0.5;

export async function verifyUnknown(
  candidates: readonly PerturbationCandidate[],
  scorer: AbstentionScorer,
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const threshold = opts.threshold ?? DEFAULT_ABSTENTION_THRESHOLD;
  const kept: VerifiedCandidate[] = [];
  const rejected: VerifiedCandidate[] = [];
  let done = 0;
  for (const c of candidates) {
    opts.signal?.throwIfAborted();
    const question = c.question ?? "";
    const abstention = await scorer(question, c.messages, opts.signal);
    if (!Number.isFinite(abstention) || abstention < 0 || abstention > 1) {
      throw new Error(
        `abstention scorer returned ${abstention} for "${c.replacement}" (expected a probability in [0, 1])`,
      );
    }
    (abstention >= threshold ? kept : rejected).push({ ...c, abstention });
    opts.onProgress?.(++done, candidates.length);
  }
  kept.sort((a, b) => b.abstention - a.abstention);
  return { kept, rejected };
}
