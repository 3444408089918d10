// Opening onnxruntime sessions for model graphs whose frozen weights point into the folder's
// .safetensors files. onnxruntime resolves external data relative to the model file and refuses
// absolute paths, `..` and symlinks, so the graph is written to a private temporary folder next to
// hard links of the shards (no copy, the user's files untouched) and loaded from there; when hard links
// are impossible (another file system) the shard bytes are handed over in memory instead.
// The temporary folder is removed once the session holds its weights.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { SerializedModel } from "../engine";
import { createSession, createWorkerSession, linkExternal, writeModel, type Session, type SessionOptions } from "../runtime";
import type { ModelWeights } from "./weights";

export interface ModelSessionOptions extends SessionOptions {
  /** Run the session on a worker thread (required on the VS Code extension host: run() blocks its thread). */
  worker?: boolean;
}

/**
 * Above this much weight data, sessions run without onnxruntime's memory arena unless told otherwise:
 * the arena's power-of-two growth then costs gigabytes for no measurable speed (see
 * SessionOptions.memArena); below it the arena's reuse is what keeps small graphs fast.
 */
export const ARENA_MAX_WEIGHT_BYTES = 64 * 2 ** 20;

export function weightBytes(weights: ModelWeights): number {
  const size: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
  let total = 0;
  for (const e of weights.entries.values()) total += e.shape.reduce((a, b) => a * b, 1) * (size[e.dtype] ?? 4);
  return total;
}

export async function openModelSession(m: SerializedModel, weights: ModelWeights, options: ModelSessionOptions = {}): Promise<Session> {
  const { worker, ...given } = options;
  const opts: SessionOptions = { ...given, memArena: given.memArena ?? weightBytes(weights) <= ARENA_MAX_WEIGHT_BYTES };
  const create = worker ? createWorkerSession : createSession;
  const shardByName = new Map(weights.shards.map((s) => [basename(s.file), join(weights.dir, s.file)]));
  const needed = m.externalLocations.filter((loc) => shardByName.has(loc));
  const dir = mkdtempSync(join(tmpdir(), "seat-model-"));
  try {
    try {
      for (const loc of needed) linkExternal(dir, loc, shardByName.get(loc)!);
    } catch (e) {
      opts.log?.(`model files cannot be hard-linked (${(e as Error).message}); loading the weights through memory`);
      const externalData = needed.map((loc) => ({ path: loc, data: new Uint8Array(readFileSync(shardByName.get(loc)!)) }));
      return await create(m, { ...opts, externalData: [...(opts.externalData ?? []), ...externalData], modelDir: dir });
    }
    const path = writeModel(dir, "model.onnx", m);
    return await create(path, opts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
