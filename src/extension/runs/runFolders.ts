// Reads the runs folder: each subfolder with an events.jsonl is a run. Its state comes from the last
// lifecycle event: done -> finished, error -> failed, cancelled -> cancelled; with none of these the
// run is running if a process is still writing it, else it was interrupted (killed, crashed) and is
// shown as failed and resumable. No vscode import: unit-tested directly.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseEventLog, type TrainEvent, type RunStartEvent, type StepEvent } from "../../protocol/events";
import type { RunSummary } from "../shell";

export const EVENTS_FILE = "events.jsonl";

export interface RunDetails extends RunSummary {
  /** Why the run failed or where it was cancelled, for the tree item's description. */
  detail?: string;
  lastStep?: StepEvent;
  start?: RunStartEvent;
  checkpoints: string[];
  /** Final model folder (absolute) when finished. */
  modelDir?: string;
  /** Lines of events.jsonl that did not parse, with their line numbers. */
  problems: string[];
  mtimeMs: number;
}

export interface RunStateOptions {
  /** Run folders a process started by this window is writing right now. */
  active?: ReadonlySet<string>;
  /** Without a live process, a run whose events changed this recently still counts as running (another window or the CLI). */
  freshMs?: number;
  now?: number;
}

export function readRun(dir: string, opts: RunStateOptions = {}): RunDetails | undefined {
  const file = path.join(dir, EVENTS_FILE);
  let text: string;
  let mtimeMs: number;
  try {
    text = fs.readFileSync(file, "utf8");
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
  const { events, errors } = parseEventLog(text, file);
  return summarize(dir, events, errors, mtimeMs, opts);
}

export function summarize(dir: string, events: TrainEvent[], problems: string[], mtimeMs: number, opts: RunStateOptions = {}): RunDetails {
  const run: RunDetails = { dir, name: path.basename(dir), state: "running", checkpoints: [], problems, mtimeMs };
  let ended: TrainEvent | undefined;
  for (const e of events) {
    switch (e.type) {
      case "run-start":
        run.start = e;
        run.method = e.method;
        run.model = e.model;
        run.dataset = e.dataset;
        ended = undefined; // a resumed run appends a new start after its earlier cancel/error
        break;
      case "step":
        run.lastStep = e;
        break;
      case "checkpoint":
        run.checkpoints.push(e.path);
        break;
      case "done":
      case "error":
      case "cancelled":
        ended = e;
        break;
    }
  }
  const now = opts.now ?? Date.now();
  if (ended?.type === "done") {
    run.state = "finished";
    run.modelDir = path.resolve(dir, ended.summary.modelDir);
    run.detail = `${ended.summary.steps} steps, loss ${fmt(ended.summary.finalLoss)}`;
  } else if (ended?.type === "error") {
    run.state = "failed";
    run.detail = ended.step !== undefined ? `step ${ended.step}: ${ended.message}` : ended.message;
  } else if (ended?.type === "cancelled") {
    run.state = "cancelled";
    // Resumable from the checkpoint written at cancel, or else from the last periodic one.
    run.detail = `cancelled at step ${ended.step}${ended.checkpoint || run.checkpoints.length ? " (resumable)" : ""}`;
  } else if (opts.active?.has(dir) || now - mtimeMs < (opts.freshMs ?? 30_000)) {
    run.state = "running";
    run.detail = run.lastStep ? `step ${run.lastStep.step}/${run.lastStep.totalSteps}` : "starting";
  } else {
    run.state = "failed";
    run.detail = `interrupted${run.lastStep ? ` after step ${run.lastStep.step}` : ""}${run.checkpoints.length ? " (resumable)" : ""}`;
  }
  return run;
}

/** All runs under root, newest first. A missing root is an empty list. */
export function listRunFolders(root: string, opts: RunStateOptions = {}): RunDetails[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const runs: RunDetails[] = [];
  for (const name of names) {
    const dir = path.join(root, name);
    const run = readRun(dir, opts);
    if (run) runs.push(run);
  }
  return runs.sort((a, b) => b.mtimeMs - a.mtimeMs);
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : String(x);
}
