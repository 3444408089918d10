// Learning rate per optimizer step, fed to the in-graph AdamW as an input so the schedule never forces a
// graph rebuild. Linear warmup from 0, then constant, or linear or cosine decay: the first step after
// warmup takes the full rate and the decay reaches 0 one step after the last (the last step still
// learns; a one-step run is not a no-op).

export interface LrSchedule {
  lr: number;
  warmupSteps: number;
  schedule: "constant" | "linear" | "cosine";
}

/** `step` is the 1-based optimizer step being taken; `total` the run's total optimizer steps. */
export function lrAt(s: LrSchedule, step: number, total: number): number {
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  if (s.schedule === "constant") return s.lr;
  const span = Math.max(1, total - s.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - s.warmupSteps - 1) / span));
  if (s.schedule === "linear") return s.lr * (1 - progress);
  return s.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
}
