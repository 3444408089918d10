// The run folder layout and its event log. Events go to events.jsonl (appended and flushed line by
// line, so a reader tailing the file — the VS Code task, the panel — sees them as they happen) and to
// the caller's onEvent callback.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { formatEvent, makeEvent, type TrainEvent, type TrainEventInit } from "../protocol/events";

export const RUN_FILES = {
  config: "config.json",
  events: "events.jsonl",
  checkpoints: "checkpoints",
  model: "model",
  summary: "summary.json",
  /** Precomputed teacher data (base responses to perturbed prompts), reused on resume. */
  cache: "cache",
} as const;

/** runs/<yyyymmdd-hhmmss>-<method> under cwd, made unique with a suffix if it already exists. */
export function defaultRunDir(cwd: string, method: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const base = join(resolve(cwd), "runs", `${stamp}-${method.replace("+", "-")}`);
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

export class EventSink {
  private readonly file: string;
  constructor(readonly runDir: string, private readonly onEvent?: (e: TrainEvent) => void) {
    mkdirSync(runDir, { recursive: true });
    this.file = join(runDir, RUN_FILES.events);
  }

  emit(init: TrainEventInit): TrainEvent {
    const e = makeEvent(init);
    appendFileSync(this.file, formatEvent(e) + "\n");
    this.onEvent?.(e);
    return e;
  }
}

export function readRunConfig(runDir: string): unknown {
  const p = join(runDir, RUN_FILES.config);
  if (!existsSync(p)) throw new Error(`${runDir}: not a run folder (no ${RUN_FILES.config})`);
  try {
    return JSON.parse(readFileSync(p, "utf8"));
  } catch (e) {
    throw new Error(`${p}: not valid JSON (${(e as Error).message})`);
  }
}
