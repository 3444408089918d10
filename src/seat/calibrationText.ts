// One sentence on what a calibration cost, shared by the panel, the run's log and an export's README.
import type { RunSummary } from "../protocol/events";

type Calibration = Pick<
  NonNullable<RunSummary["calibration"]>,
  "points" | "usedSeconds" | "budgetSeconds" | "runSeconds" | "skipped"
>;

/**
 * "2 candidates in 82 s of a 121 s budget, +24% on the run's own 343 s; 3 left out by the budget". The
 * defaults' candidate always runs: when it alone is over the budget, the sentence says so.
 */
export function calibrationCostText(c: Calibration): string {
  const n = c.points.length;
  const budget = Number.isFinite(c.budgetSeconds) ? `${c.budgetSeconds.toFixed(0)} s` : "–";
  const head =
    n === 1 && c.usedSeconds > c.budgetSeconds
      ? `the defaults' candidate alone (it always runs) took ${c.usedSeconds.toFixed(0)} s, over the ${budget} budget`
      : `${n} candidate${n === 1 ? "" : "s"} in ${c.usedSeconds.toFixed(0)} s of a ${budget} budget`;
  const share =
    c.runSeconds !== undefined && c.runSeconds > 0
      ? `, +${Math.round((100 * c.usedSeconds) / c.runSeconds)}% on the run's own ${c.runSeconds.toFixed(0)} s`
      : "";
  const skipped = c.skipped ? `; ${c.skipped} left out by the budget` : "";
  return `${head}${share}${skipped}`;
}

/** A candidate's seconds for a table: "wall (steps)", or the steps alone where no wall time was recorded. */
export function candidateSecondsText(p: { seconds: number; wallSeconds?: number }): string {
  return p.wallSeconds !== undefined ? `${p.wallSeconds.toFixed(0)} (${p.seconds.toFixed(0)})` : p.seconds.toFixed(0);
}
