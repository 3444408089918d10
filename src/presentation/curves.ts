// Training curves (loss, CE, KL, held-out abstention probability) of runs, built from the trainer's
// typed events: from a finished run's events.jsonl, or one live event at a time. Shared by the panel
// host and the webview.
import type { RunSummary, TrainEvent } from "../protocol/events";
import type { CurveSeries, RunOutcome } from "./webview";

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
      delete s.outcome;
      break;
    case "step":
      s.steps.push({ step: e.step, loss: e.loss, ce: e.ce, kl: e.kl });
      s.totalSteps = e.totalSteps;
      break;
    case "quick-eval":
      s.quickEval.push({ step: e.step, abstentionProb: e.abstentionProb, answerAccuracy: e.answerAccuracy });
      break;
    case "early-stop":
      s.outcome = { ...s.outcome, earlyStop: { reason: e.reason, step: e.step, detail: e.detail } };
      break;
    case "done":
      s.state = "finished";
      s.outcome = { ...s.outcome, ...outcomeOfSummary(e.summary) };
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

const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const str = (v: unknown): v is string => typeof v === "string";
const obj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The parts of a run summary the panel shows, kept only where they have the documented shape: the event
 * parser checks a `done` event's summary is an object, not what is in it, and events.jsonl is a file
 * anyone can edit.
 */
export function outcomeOfSummary(summary: unknown): RunOutcome {
  if (!obj(summary)) return {};
  const out: RunOutcome = {};
  if (num(summary["steps"])) out.steps = summary["steps"];
  if (num(summary["epochs"])) out.epochs = summary["epochs"];
  if (num(summary["trainSeconds"])) out.trainSeconds = summary["trainSeconds"];
  const a = summary["epochsAuto"];
  if (
    obj(a) &&
    (a["outcome"] === "facts-learned" || a["outcome"] === "abstention-floor" || a["outcome"] === "max-epochs") &&
    num(a["step"]) &&
    num(a["epoch"]) &&
    str(a["detail"])
  )
    out.epochsAuto = { outcome: a["outcome"], step: a["step"], epoch: a["epoch"], detail: a["detail"] };
  const c = summary["calibration"];
  if (obj(c) && obj(c["chosen"]) && Array.isArray(c["points"])) {
    const chosen = c["chosen"];
    const points = c["points"].filter(
      (p): p is NonNullable<RunSummary["calibration"]>["points"][number] =>
        obj(p) &&
        num(p["lambda"]) &&
        num(p["ratio"]) &&
        num(p["answerAccuracy"]) &&
        num(p["abstentionProb"]) &&
        num(p["seconds"]),
    );
    if (num(chosen["lambda"]) && num(chosen["ratio"]) && num(c["usedSeconds"]) && num(c["budgetSeconds"]))
      out.calibration = {
        chosen: { lambda: chosen["lambda"], ratio: chosen["ratio"] },
        reason: str(c["reason"]) ? c["reason"] : "",
        points: points.map((p) => ({
          lambda: p.lambda,
          ratio: p.ratio,
          answerAccuracy: p.answerAccuracy,
          abstentionProb: p.abstentionProb,
          ...(num(p.abstentionSamples) ? { abstentionSamples: p.abstentionSamples } : {}),
          seconds: p.seconds,
          ...(num(p.wallSeconds) ? { wallSeconds: p.wallSeconds } : {}),
        })),
        usedSeconds: c["usedSeconds"],
        budgetSeconds: c["budgetSeconds"],
        ...(num(c["runSeconds"]) ? { runSeconds: c["runSeconds"] } : {}),
        ...(num(c["minAccuracy"]) ? { minAccuracy: c["minAccuracy"] } : {}),
        ...(num(c["skipped"]) ? { skipped: c["skipped"] } : {}),
        ...(num(c["trainEntities"]) ? { trainEntities: c["trainEntities"] } : {}),
        ...(num(c["heldoutEntities"]) ? { heldoutEntities: c["heldoutEntities"] } : {}),
      };
  }
  return out;
}

/** Curves of one run from its whole event log. */
export function seriesFromEvents(runDir: string, label: string, events: readonly TrainEvent[]): CurveSeries {
  const list: CurveSeries[] = [{ runDir, label, state: "running", totalSteps: 0, steps: [], quickEval: [] }];
  for (const e of events) applyTrainEvent(list, runDir, label, e);
  return list[0];
}
