// One sentence on what a calibration cost, shared by the panel, the run's log and an export's README.
import type { RunSummary } from "../protocol/events";

type Calibration = Pick<
  NonNullable<RunSummary["calibration"]>,
  "points" | "usedSeconds" | "budgetSeconds" | "runSeconds" | "skipped"
>;

/** "3 candidates in 98 s of a 120 s budget, +29% on the run's own 340 s; 2 left out by the budget" */
export function calibrationCostText(c: Calibration): string {
  const budget = Number.isFinite(c.budgetSeconds) ? `${c.budgetSeconds.toFixed(0)} s` : "–";
  const share =
    c.runSeconds !== undefined && c.runSeconds > 0
      ? `, +${Math.round((100 * c.usedSeconds) / c.runSeconds)}% on the run's own ${c.runSeconds.toFixed(0)} s`
      : "";
  const skipped = c.skipped ? `; ${c.skipped} left out by the budget` : "";
  return `${c.points.length} candidate(s) in ${c.usedSeconds.toFixed(0)} s of a ${budget} budget${share}${skipped}`;
}
