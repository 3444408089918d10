// Training curves (loss, CE, KL, held-out abstention probability) of runs, built from the trainer's
// typed events: from a finished run's events.jsonl, or one live event at a time. Shared by the panel
// host and the webview.
import type { TrainEvent } from "../protocol/events";
import type { CurveSeries } from "./webview";

/** Appends one training event to the series of its run (creating it); returns the series list. */
export function applyTrainEvent(series: CurveSeries[], runDir: string, label: string, e: TrainEvent): CurveSeries[] {
  let s = series.find((x) => x.runDir === runDir);
  if (!s) {
    s = { runDir, label, state: "running", totalSteps: 0, steps: [], quickEval: [] };
    series.push(s);
  }
  switch (e.type) {
    case "run-start":
      s.totalSteps = e.totalSteps;
      s.state = "running";
      // A resumed run restarts from its checkpoint: drop points past it so the curve does not double back.
      if (e.resumedFromStep !== undefined) {
        const from = e.resumedFromStep;
        s.steps = s.steps.filter((p) => p.step <= from);
        s.quickEval = s.quickEval.filter((p) => p.step <= from);
      } else {
        s.steps = [];
        s.quickEval = [];
      }
      break;
    case "step":
      s.steps.push({ step: e.step, loss: e.loss, ce: e.ce, kl: e.kl });
      s.totalSteps = e.totalSteps;
      break;
    case "quick-eval":
      s.quickEval.push({ step: e.step, abstentionProb: e.abstentionProb, answerAccuracy: e.answerAccuracy });
      break;
    case "done":
      s.state = "finished";
      break;
    case "error":
      s.state = "failed";
      break;
    case "cancelled":
      s.state = "cancelled";
      break;
    default:
      break;
  }
  return series;
}

/** Curves of one run from its whole event log. */
export function seriesFromEvents(runDir: string, label: string, events: readonly TrainEvent[]): CurveSeries {
  const list: CurveSeries[] = [{ runDir, label, state: "running", totalSteps: 0, steps: [], quickEval: [] }];
  for (const e of events) applyTrainEvent(list, runDir, label, e);
  return list[0];
}
