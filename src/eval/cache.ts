// Probe results cached per (model content hash, dataset content hash) so the panel opens instantly on a
// second visit. JSON result + a Float32 sidecar for hidden states. Writes go to a temp file and are
// renamed into place, so a crash never leaves a half-written cache entry that would be trusted later.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../util/files";
import type { HiddenStates } from "./suite";
import { PROBE_SCHEMA_VERSION, type ModelProbeResult } from "./types";

/** sha256 over labelled parts; labels keep ("ab","c") and ("a","bc") apart. */
export function contentHash(parts: readonly (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) {
    const bytes = typeof p === "string" ? Buffer.from(p, "utf8") : p;
    h.update(`${bytes.length}:`);
    h.update(bytes);
  }
  return h.digest("hex");
}

export function cacheEntryPath(cacheDir: string, modelHash: string, datasetHash: string): string {
  return join(cacheDir, `probe-${modelHash.slice(0, 16)}-${datasetHash.slice(0, 16)}.json`);
}

export function encodeHidden(states: HiddenStates, layers: number, dim: number): Uint8Array {
  const out = new Float32Array(states.length * layers * dim);
  states.forEach((q, i) => {
    if (q.length !== layers) throw new Error(`hidden states: query ${i} has ${q.length} layers, expected ${layers}`);
    q.forEach((v, l) => {
      if (v.length !== dim)
        throw new Error(`hidden states: query ${i} layer ${l} has size ${v.length}, expected ${dim}`);
      out.set(v, (i * layers + l) * dim);
    });
  });
  return new Uint8Array(out.buffer);
}

export function decodeHidden(
  bytes: Uint8Array,
  queries: number,
  layers: number,
  dim: number,
  file = "<hidden>",
): HiddenStates {
  const want = queries * layers * dim * 4;
  if (bytes.byteLength !== want)
    throw new Error(
      `${file}: ${bytes.byteLength} bytes, expected ${want} (${queries} queries x ${layers} layers x ${dim} floats)`,
    );
  const copy = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(copy.buffer).set(bytes);
  const out: HiddenStates = [];
  for (let i = 0; i < queries; i++) {
    const layersOut: Float32Array[] = [];
    for (let l = 0; l < layers; l++) layersOut.push(copy.subarray((i * layers + l) * dim, (i * layers + l + 1) * dim));
    out.push(layersOut);
  }
  return out;
}

/** Writes a result (and its hidden states, when any) to `file`; fills `result.hidden.file`. */
export function writeProbeResult(file: string, result: ModelProbeResult, hidden?: HiddenStates): void {
  const r: ModelProbeResult = { ...result };
  if (r.hidden && hidden && hidden.length > 0) {
    const side = basename(file).replace(/\.json$/, "") + ".hidden.f32";
    r.hidden = { ...r.hidden, file: side };
    writeFileAtomic(join(dirname(file), side), encodeHidden(hidden, r.hidden.layers, r.hidden.dim));
  } else {
    delete r.hidden;
  }
  writeFileAtomic(file, JSON.stringify(r, null, 1) + "\n");
}

/** Reads a result written by writeProbeResult; throws a located error when it is not one. */
export function readProbeResult(file: string): ModelProbeResult {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not a probe result (${(e as Error).message})`);
  }
  const r = data as Partial<ModelProbeResult>;
  if (r?.kind !== "seat-probe-result") throw new Error(`${file}: not a probe result (kind ${JSON.stringify(r?.kind)})`);
  if (r.schema !== PROBE_SCHEMA_VERSION)
    throw new Error(`${file}: probe result schema ${r.schema}, this version reads ${PROBE_SCHEMA_VERSION}`);
  if (!Array.isArray(r.records) || !Array.isArray(r.unknown) || !r.summary || !r.model || !r.dataset)
    throw new Error(`${file}: probe result is missing records/unknown/summary/model/dataset`);
  return r as ModelProbeResult;
}

/** Hidden states stored next to a result file, or null when it has none or the sidecar is gone. */
export function readHiddenFor(resultFile: string, result: ModelProbeResult): HiddenStates | null {
  const h = result.hidden;
  if (!h || !h.file) return null;
  const side = join(dirname(resultFile), basename(h.file));
  if (!existsSync(side)) return null;
  return decodeHidden(readFileSync(side), h.queries.length, h.layers, h.dim, side);
}

/** The cached result for (model, dataset), or null on a miss or an unreadable entry (it is recomputed). */
export function readCached(
  cacheDir: string,
  modelHash: string,
  datasetHash: string,
): { file: string; result: ModelProbeResult } | null {
  const file = cacheEntryPath(cacheDir, modelHash, datasetHash);
  if (!existsSync(file)) return null;
  try {
    const result = readProbeResult(file);
    if (result.model.hash !== modelHash || result.dataset.hash !== datasetHash) return null;
    return { file, result };
  } catch {
    return null;
  }
}
