// Probing a dataset end to end, as the CLI and the panel's child process do it: read the dataset(s),
// fill in neighbour questions where records have none, probe the base model and each tuned model (or
// reuse cached results keyed by model and dataset content), and assemble the report.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readDataset, type DatasetRecord } from "../data/index";
import { suggestForDataset } from "../entities/index";
import { makeAbstentionDetector } from "./abstention";
import { cacheEntryPath, contentHash, readCached, readHiddenFor, writeProbeResult } from "./cache";
import { buildReport } from "./compare";
import { probeInputs } from "./inputs";
import { modelContentHash } from "./modelHash";
import type { AbstentionLists } from "./phrases";
import { runProbeSuite, type HiddenStates, type ProbeModel, type ProbeProgress } from "./suite";
import {
  DEFAULT_PROBE_SETTINGS,
  PROBE_SCHEMA_VERSION,
  type ModelProbeResult,
  type ModelRef,
  type ProbeReport,
  type ProbeRecordInput,
  type ProbeSettings,
} from "./types";

/** Opens a model folder for probing; the returned model is disposed after its suite ran. */
export type ProbeModelLoader = (
  ref: ModelRef,
  signal?: AbortSignal,
) => Promise<ProbeModel & { dispose?(): Promise<void> | void }>;

export interface ProbeDatasetOptions {
  data: string;
  unknown?: string;
  /** Tuned model folders, each a column. */
  models: readonly { dir: string; label: string; method?: string }[];
  base?: { dir: string; label: string };
  lists: AbstentionLists;
  settings?: Partial<ProbeSettings>;
  /** Neighbour questions generated per record that has no stored perturbations (0 = none). */
  neighbours?: number;
  /** Cache folder; undefined = no cache (always recompute, nothing written). */
  cacheDir?: string;
  loadModel: ProbeModelLoader;
  signal?: AbortSignal;
  onProgress?(p: ProbeProgress & { model: string; cached?: boolean }): void;
  /** Problems worth telling the user (skipped records, data-file warnings). */
  onWarning?(message: string): void;
}

export interface ProbeDatasetResult {
  report: ProbeReport;
  /** Where each model's result lives in the cache (absent without a cache). */
  files: Record<string, string>;
}

/** A dataset that cannot be probed (unreadable, no valid records): the message is located and user-facing. */
export class ProbeInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProbeInputError";
  }
}

async function readRecords(path: string, warn: (m: string) => void): Promise<DatasetRecord[]> {
  let ds;
  try {
    ds = await readDataset(path);
  } catch (e) {
    // File-system failures are the user's to fix; anything else is a bug and keeps its stack.
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string") throw new ProbeInputError(`${path}: cannot read: ${code}`);
    throw e;
  }
  const errors = ds.problems.filter((p) => p.severity === "error");
  if (ds.records.length === 0) {
    const first = errors[0];
    throw new ProbeInputError(
      first ? `${path}:${first.line}:${first.column}: ${first.message}` : `${path}: no records`,
    );
  }
  if (errors.length > 0)
    warn(
      `${path}: ${errors.length} record(s) with errors were skipped (first at line ${errors[0].line}: ${errors[0].message})`,
    );
  return ds.records;
}

/** Stored perturbations win; records without any get `k` generated look-alikes (seeded: same dataset, same neighbours). */
export function addGeneratedNeighbours(
  dataRecords: readonly DatasetRecord[],
  inputs: ProbeRecordInput[],
  k: number,
): void {
  if (k <= 0) return;
  const byLine = new Map(dataRecords.map((r) => [r.line, r]));
  const need = inputs.filter((r) => r.perturbations.length === 0);
  if (need.length === 0) return;
  const views = need.map((r) => {
    const d = byLine.get(r.line)!;
    return { question: d.question, answer: d.answer, seat: { entities: d.entities } };
  });
  const suggestions = suggestForDataset(views, { k, seed: 1 });
  suggestions.forEach((s, i) => {
    for (const c of s.candidates)
      if (c.question && c.question !== need[i].question)
        need[i].perturbations.push({ question: c.question, entity: c.replacement });
  });
}

export async function probeDataset(opts: ProbeDatasetOptions): Promise<ProbeDatasetResult> {
  const warn = opts.onWarning ?? (() => {});
  const settings: ProbeSettings = { ...DEFAULT_PROBE_SETTINGS, ...opts.settings };
  const dataRecords = await readRecords(opts.data, warn);
  const unknownRecords = opts.unknown ? await readRecords(opts.unknown, warn) : [];
  const inputs = probeInputs(dataRecords, unknownRecords);
  addGeneratedNeighbours(dataRecords, inputs.records, opts.neighbours ?? 0);
  if (inputs.records.length === 0 && inputs.unknown.length === 0)
    throw new ProbeInputError(`${opts.data}: nothing to probe`);

  const datasetHash = contentHash([
    `seat-probe-schema-${PROBE_SCHEMA_VERSION}`,
    readFileSync(opts.data),
    opts.unknown ? readFileSync(opts.unknown) : "",
    JSON.stringify(settings),
    `neighbours:${opts.neighbours ?? 0}`,
    ...opts.lists.phrases,
    "|",
    ...opts.lists.openings,
  ]);
  const dataset = opts.unknown
    ? { path: opts.data, hash: datasetHash, unknownPath: opts.unknown }
    : { path: opts.data, hash: datasetHash };
  const detector = makeAbstentionDetector(opts.lists.phrases);
  const memo = opts.cacheDir ? join(opts.cacheDir, "model-hashes.json") : undefined;

  const files: Record<string, string> = {};
  const hiddenOf = new Map<ModelProbeResult, HiddenStates>();
  const probeOne = async (m: { dir: string; label: string; method?: string }): Promise<ModelProbeResult> => {
    const ref: ModelRef = { dir: m.dir, label: m.label, hash: await modelContentHash(m.dir, memo, opts.signal) };
    if (m.method) ref.method = m.method;
    if (opts.cacheDir) {
      const hit = readCached(opts.cacheDir, ref.hash, datasetHash);
      if (hit) {
        files[m.label] = hit.file;
        // The cache is keyed by content: the same weights may sit under another name or method label now.
        const result = { ...hit.result, model: ref };
        const h = readHiddenFor(hit.file, hit.result);
        if (h) hiddenOf.set(result, h);
        opts.onProgress?.({ done: 1, total: 1, message: "cached", model: m.label, cached: true });
        return result;
      }
    }
    const model = await opts.loadModel(ref, opts.signal);
    try {
      const { result, hidden } = await runProbeSuite(
        model,
        { dataset, ...inputs },
        {
          detector,
          openings: opts.lists.openings,
          settings,
          signal: opts.signal,
          onProgress: (p) => opts.onProgress?.({ ...p, model: m.label }),
        },
      );
      if (opts.cacheDir) {
        const file = cacheEntryPath(opts.cacheDir, ref.hash, datasetHash);
        writeProbeResult(file, result, hidden);
        files[m.label] = file;
      }
      if (hidden.length > 0) hiddenOf.set(result, hidden);
      return result;
    } finally {
      await model.dispose?.();
    }
  };

  const base = opts.base ? await probeOne(opts.base) : null;
  const runs: ModelProbeResult[] = [];
  for (const m of opts.models) runs.push(await probeOne(m));
  return { report: buildReport(base, runs, (r) => hiddenOf.get(r) ?? null), files };
}
