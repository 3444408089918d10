// `seat export`: the merged model (Hugging Face layout) of any checkpoint of a run, without a session:
// the run's parametrisation is rebuilt from its config and the checkpoint's masks, and the trained
// values are merged into the base weights on the host.
import { join, resolve } from "node:path";
import type { HostTensor } from "../engine/index";
import { loadModelFolder, createModelGraph, mergeTrainedLazy } from "../model/index";
import { readCheckpoint, checkpointName } from "./checkpoint";
import { resolveConfig, methodParts } from "./config";
import { exportMergedModel } from "../model/index";
import { RUN_FILES, readRunConfig } from "./runFolder";
import { weightSpecs, maskFromCheckpoint } from "./specs";
import { latestCheckpoint } from "./trainer";

export interface ExportOptions {
  /** Checkpoint step to export (default: the newest). */
  step?: number;
  /** Output folder (default: <run>/model). */
  out?: string;
}

export function exportRun(runDir: string, opts: ExportOptions = {}): { modelDir: string; step: number } {
  const dir = resolve(runDir);
  const { config } = resolveConfig([{ source: join(dir, RUN_FILES.config), layer: readRunConfig(dir) as Record<string, unknown> }]);
  const ckpt = opts.step !== undefined ? join(dir, RUN_FILES.checkpoints, checkpointName(opts.step)) : latestCheckpoint(dir);
  if (!ckpt) throw new Error(`${dir}: the run has no checkpoint yet`);
  const { state, tensors } = readCheckpoint(ckpt);
  const folder = loadModelFolder(config.model);
  const mask = methodParts(config.method).params === "masked" ? maskFromCheckpoint(tensors) : undefined;
  const model = createModelGraph(folder, { name: "seat-export", specs: weightSpecs(config, folder, mask) });
  const values: Record<string, HostTensor> = {};
  for (const p of model.params) {
    const t = tensors.get(`state/${p.input.name}`);
    if (!t) throw new Error(`${ckpt}: no trained values for "${p.input.name}"`);
    values[p.input.name!] = { dtype: "float32", dims: t.shape, data: t.data as Float32Array };
  }
  const out = resolve(opts.out ?? join(dir, RUN_FILES.model));
  exportMergedModel(folder, mergeTrainedLazy(folder, model.params, values), out);
  return { modelDir: out, step: state.step };
}
