// Bringing a run folder back from another machine: check that it is one of ours (config.json that
// resolves against the schema, events.jsonl whose every line is a typed event, a finished run with
// summary.json and a loadable model/), then copy it under the local runs folder, where the Runs view,
// the probes panel and `seat probe` find it. The source is never modified.
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseEventLog, type RunSummary } from "../protocol/events";
// Direct module imports (not the layers' index files): the editor calls this in its host process,
// which must never load the runtime layer.
import { resolveConfig, ConfigError } from "../seat/config";
import { RUN_FILES } from "../seat/runFolder";
import { loadModelFolder } from "../model/folder";

export class RunImportError extends Error {}

export interface ImportedRun {
  dir: string;
  method: string;
  steps: number;
  summary: RunSummary;
}

/** The problems that make `dir` unusable as a run folder, as one message; returns the run's facts. */
export function checkRunFolder(dir: string): Omit<ImportedRun, "dir"> {
  const at = (f: string) => join(dir, f);
  if (!existsSync(at(RUN_FILES.config))) throw new RunImportError(`${dir}: not a run folder (no ${RUN_FILES.config})`);
  let stored: Record<string, unknown>;
  try {
    stored = JSON.parse(readFileSync(at(RUN_FILES.config), "utf8"));
  } catch (e) {
    throw new RunImportError(`${at(RUN_FILES.config)}: not valid JSON (${(e as Error).message})`);
  }
  try {
    resolveConfig([{ source: at(RUN_FILES.config), layer: stored }]);
  } catch (e) {
    if (e instanceof ConfigError)
      throw new RunImportError(`${at(RUN_FILES.config)}: not a valid run config:\n${e.message}`);
    throw e;
  }
  if (!existsSync(at(RUN_FILES.events)))
    throw new RunImportError(`${dir}: no ${RUN_FILES.events}; was the job's run folder copied completely?`);
  const { events, errors } = parseEventLog(readFileSync(at(RUN_FILES.events), "utf8"), at(RUN_FILES.events));
  if (errors.length)
    throw new RunImportError(`${errors[0]}${errors.length > 1 ? ` (and ${errors.length - 1} more bad line(s))` : ""}`);
  const start = events.find((e) => e.type === "run-start");
  if (!start || start.type !== "run-start")
    throw new RunImportError(`${at(RUN_FILES.events)}: no run-start event; the job never began training`);
  const failed = events.find((e) => e.type === "error");
  const done = events.find((e) => e.type === "done");
  if (!done || done.type !== "done") {
    throw new RunImportError(
      `${at(RUN_FILES.events)}: the run did not finish${failed && failed.type === "error" ? ` (error: ${failed.message})` : ""}; bring back a finished run`,
    );
  }
  if (!existsSync(at(RUN_FILES.summary))) throw new RunImportError(`${dir}: no ${RUN_FILES.summary}`);
  loadModelFolder(at(RUN_FILES.model)); // throws a ModelFormatError naming the file when model/ is not usable
  return { method: start.method, steps: done.summary.steps, summary: done.summary };
}

/**
 * Checks `src` and copies it to `<runsDir>/<name>` (made unique); returns the copy. A job's run names
 * the dataset and model by their paths on the machine that ran it; when the job recorded where they
 * came from (job.json's origin) and those files exist here, the copy's config.json and run-start event
 * name them instead, so the Runs view and the probes panel tie the run to the dataset it learned.
 */
export function importRun(src: string, runsDir: string): ImportedRun {
  const from = resolve(src);
  const facts = checkRunFolder(from);
  const base = join(
    resolve(runsDir),
    basename(from) === "run" ? `${basename(resolve(from, ".."))}-run` : basename(from),
  );
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  cpSync(from, dir, { recursive: true, filter: (s) => basename(s) !== RUN_FILES.lock });
  relinkOrigin(dir);
  return { dir, ...facts };
}

function relinkOrigin(dir: string): void {
  let origin: { dataset?: unknown; model?: unknown } | undefined;
  try {
    origin = (JSON.parse(readFileSync(join(dir, "job.json"), "utf8")) as { origin?: typeof origin }).origin;
  } catch {
    return; // not a job's run (or no origin recorded): nothing to relink
  }
  const local = (p: unknown) => (typeof p === "string" && existsSync(p) ? p : undefined);
  const dataset = local(origin?.dataset),
    model = local(origin?.model);
  if (!dataset && !model) return;
  const cfgPath = join(dir, RUN_FILES.config);
  const cfg = JSON.parse(readFileSync(cfgPath, "utf8")) as Record<string, unknown>;
  writeFileSync(
    cfgPath,
    JSON.stringify({ ...cfg, ...(dataset ? { dataset } : {}), ...(model ? { model } : {}), outDir: dir }, null, 2) +
      "\n",
  );
  const evPath = join(dir, RUN_FILES.events);
  const lines = readFileSync(evPath, "utf8")
    .split("\n")
    .map((line) => {
      if (!line.includes('"run-start"')) return line;
      const e = JSON.parse(line) as Record<string, unknown>;
      return e.type === "run-start"
        ? JSON.stringify({ ...e, runDir: dir, ...(dataset ? { dataset } : {}), ...(model ? { model } : {}) })
        : line;
    });
  writeFileSync(evPath, lines.join("\n"));
}
