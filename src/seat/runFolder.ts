// The run folder layout and its event log. Events go to events.jsonl (appended and flushed line by
// line, so a reader tailing the file — the VS Code task, the panel — sees them as they happen) and to
// the caller's onEvent callback.
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
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
  /** Held (pid, host, start time) while a process trains the run; see acquireRunLock. */
  lock: "run.lock",
} as const;

/** A folder that is not a usable run (no or damaged config.json), or a run another process holds. */
export class RunFolderError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = "RunFolderError";
  }
}

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
  constructor(
    readonly runDir: string,
    private readonly onEvent?: (e: TrainEvent) => void,
  ) {
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
  if (!existsSync(p)) throw new RunFolderError(`${runDir}: not a run folder (no ${RUN_FILES.config})`, p);
  let text: string;
  try {
    text = readFileSync(p, "utf8");
  } catch (e) {
    throw new RunFolderError(`${p}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, p);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RunFolderError(`${p}: not valid JSON (${(e as Error).message}); this run's config is damaged`, p);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new RunFolderError(
      `${p}: expected a JSON object (the run's config), got ${Array.isArray(value) ? "an array" : JSON.stringify(value)}`,
      p,
    );
  return value;
}

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

/** A lock file younger than this with no readable owner is one being written right now. */
const FRESH_LOCK_MS = 10_000;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the run's lock (run.lock, created with O_EXCL and holding our pid) so that two trainers never
 * write one run folder at once; returns the release function. A lock whose process is gone (a kill -9,
 * a crash) is stale and taken over. Throws RunFolderError naming the holder otherwise.
 */
export function acquireRunLock(runDir: string): () => void {
  const path = join(runDir, RUN_FILES.lock);
  const mine = JSON.stringify({
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
  } satisfies LockInfo);
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      let text = "";
      try {
        text = readFileSync(path, "utf8");
      } catch {
        continue; /* released meanwhile: try again */
      }
      let held: LockInfo | undefined;
      try {
        held = JSON.parse(text) as LockInfo;
      } catch {
        held = undefined;
      }
      if (!held || !Number.isInteger(held.pid)) {
        let age = Infinity;
        try {
          age = Date.now() - statSync(path).mtimeMs;
        } catch {
          continue;
        }
        if (age < FRESH_LOCK_MS)
          throw new RunFolderError(
            `${runDir} is being opened by another training process right now (${path}); try again in a moment`,
            path,
          );
      } else if (held.host !== hostname() || pidAlive(held.pid)) {
        throw new RunFolderError(
          `${runDir} is in use by another training process (pid ${held.pid} on ${held.host}, since ${held.started}); wait for it to finish or stop it. If no such process runs, delete ${path}`,
          path,
        );
      }
      // Stale: its owner died without releasing it. Re-read just before removing so that a lock another
      // process has taken over meanwhile is left alone.
      try {
        if (readFileSync(path, "utf8") === text) unlinkSync(path);
      } catch {
        /* gone already */
      }
      continue;
    }
    try {
      writeSync(fd, mine);
    } finally {
      closeSync(fd);
    }
    return () => {
      try {
        if (readFileSync(path, "utf8") === mine) unlinkSync(path);
      } catch {
        /* already removed */
      }
    };
  }
  throw new RunFolderError(`${runDir}: could not take the run lock ${path} (other processes keep taking it)`, path);
}
