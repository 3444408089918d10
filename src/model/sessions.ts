// Opening onnxruntime sessions for model graphs whose frozen weights point into the folder's
// .safetensors files. onnxruntime resolves external data relative to the model file and refuses
// absolute paths, `..` and symlinks, so the graph is written to a private temporary folder next to
// hard links of the shards (no copy, the user's files untouched) and loaded from there; when hard links
// are impossible (another file system) the shards are copied there instead (streamed by the OS, never
// through this process's memory). The temporary folder is removed once the session holds its weights.
// Memory: onnxruntime maps external weights from the files rather than reading them, so sessions over
// the same folder share one copy of its weights (the page cache of the .safetensors files), as long as
// nothing turns a weight into a private copy. onnxruntime's constant folding does exactly that to the
// bf16/fp16 -> fp32 Cast of every frozen weight (measured on the 135M shape: +1.0 GB per session with
// folding, +0.04 GB without), so it is off for real-size models: the Cast then runs inside each run.
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { SerializedModel } from "../engine";
import {
  createSession,
  createWorkerSession,
  linkExternal,
  writeModel,
  type Session,
  type SessionOptions,
} from "../runtime";
import type { ModelWeights } from "./weights";

export interface ModelSessionOptions extends SessionOptions {
  /** Run the session on a worker thread (required on the VS Code extension host: run() blocks its thread). */
  worker?: boolean;
  /**
   * Let onnxruntime fold constant subgraphs, which gives the session a private fp32 copy of every
   * weight stored narrower (bf16/fp16). Default: only for models up to ARENA_MAX_WEIGHT_BYTES.
   */
  foldWeights?: boolean;
}

/**
 * Above this much weight data, sessions run without onnxruntime's memory arena unless told otherwise:
 * the arena's power-of-two growth then costs gigabytes for no measurable speed (see
 * SessionOptions.memArena); below it the arena's reuse is what keeps small graphs fast. The memory
 * pattern goes with it (SessionOptions.memPattern): its one planned block per run is a fragmented
 * first-fit packing of the run's intermediates, 1.4x their peak on the 135M shape's SEAT step.
 */
export const ARENA_MAX_WEIGHT_BYTES = 64 * 2 ** 20;

export function weightBytes(weights: ModelWeights): number {
  const size: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
  let total = 0;
  for (const e of weights.entries.values()) total += e.shape.reduce((a, b) => a * b, 1) * (size[e.dtype] ?? 4);
  return total;
}

export async function openModelSession(
  m: SerializedModel,
  weights: ModelWeights,
  options: ModelSessionOptions = {},
): Promise<Session> {
  const { worker, foldWeights, ...given } = options;
  const small = weightBytes(weights) <= ARENA_MAX_WEIGHT_BYTES;
  const opts: SessionOptions = {
    ...given,
    memArena: given.memArena ?? small,
    memPattern: given.memPattern ?? small,
    ...((foldWeights ?? small)
      ? {}
      : { config: { "optimization.disable_specified_optimizers": "ConstantFolding", ...given.config } }),
  };
  const create = worker ? createWorkerSession : createSession;
  const shardByName = new Map(weights.shards.map((s) => [basename(s.file), join(weights.dir, s.file)]));
  const needed = m.externalLocations.filter((loc) => shardByName.has(loc));
  const dir = mkdtempSync(join(tmpdir(), "seat-model-"));
  try {
    try {
      for (const loc of needed) linkExternal(dir, loc, shardByName.get(loc)!);
    } catch (e) {
      const bytes = needed.reduce((a, loc) => a + statSync(shardByName.get(loc)!).size, 0);
      opts.log?.(
        `model files cannot be hard-linked into ${tmpdir()} (${(e as Error).message}); copying ${(bytes / 2 ** 30).toFixed(2)} GB of weights there for this session (set TMPDIR to a folder on the model's file system to avoid the copy)`,
      );
      // shards linked before the failure are left as they are: copying onto a hard link would truncate
      // the user's own file
      for (const loc of needed) if (!existsSync(join(dir, loc))) copyFileSync(shardByName.get(loc)!, join(dir, loc));
    }
    const path = writeModel(dir, "model.onnx", m);
    return await create(path, opts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
