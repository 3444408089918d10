// `seat export`: a checkpoint of a run in the format a user takes it to, without a session: the run's
// parametrisation is rebuilt from its config and the checkpoint's masks, and the trained values are
// merged into the base weights on the host.
//   hf       the base folder's layout with the merged weights, every tokenizer file, a README of the run
//   gguf     one GGUF file (f16 or q8_0) for llama.cpp / Ollama / LM Studio, with an Ollama Modelfile
//   adapter  LoRA runs: the adapter alone in PEFT's layout (adapter_config.json, adapter_model.safetensors)
//   onnx     the inference graph our engine runs, float32 weights in a data file beside it
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { HostTensor } from "../engine/index";
import {
  loadModelFolder,
  createModelGraph,
  mergeTrained,
  mergeTrainedLazy,
  exportGguf,
  exportMergedModel,
  exportOnnx,
  ollamaModelfile,
  type ModelFolder,
  type ModelParam,
  type GgufFileType,
} from "../model/index";
import { readCheckpoint, checkpointName } from "./checkpoint";
import { resolveConfig, methodParts, type SeatConfig } from "./config";
import { exportPeftAdapter } from "./exportAdapter";
import { runReadme } from "./exportReadme";
import { RUN_FILES, readRunConfig } from "./runFolder";
import { weightSpecs, maskFromCheckpoint } from "./specs";
import { latestCheckpoint } from "./trainer";

export const EXPORT_FORMATS = ["hf", "gguf", "adapter", "onnx"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
  /** Checkpoint step to export (default: the newest). */
  step?: number;
  /** Output folder (default: <run>/model for hf, <run>/export-<format> otherwise). */
  out?: string;
  format?: ExportFormat;
  /** GGUF tensor type (default f16). */
  quant?: GgufFileType;
  /** Progress lines ("writing tensor 12/147"). */
  onProgress?: (message: string, fraction?: number) => void;
  signal?: AbortSignal;
}

export interface ExportResult {
  /** The folder written. */
  modelDir: string;
  step: number;
  format: ExportFormat;
  /** The main files written (the GGUF and Modelfile, the adapter files, the ONNX model...). */
  files: string[];
}

/** A format the run cannot be written in (e.g. an adapter of a run that trained no LoRA factors). */
export class ExportFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExportFormatError";
  }
}

interface LoadedRun {
  dir: string;
  config: SeatConfig;
  folder: ModelFolder;
  params: ModelParam[];
  values: Record<string, HostTensor>;
  step: number;
}

function loadRun(runDir: string, step?: number): LoadedRun {
  const dir = resolve(runDir);
  const { config } = resolveConfig([
    { source: join(dir, RUN_FILES.config), layer: readRunConfig(dir) as Record<string, unknown> },
  ]);
  const ckpt = step !== undefined ? join(dir, RUN_FILES.checkpoints, checkpointName(step)) : latestCheckpoint(dir);
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
  return { dir, config, folder, params: model.params, values, step: state.step };
}

/** A run's tuned model without writing it: the base folder and the merged weights of a checkpoint. */
export function runTunedWeights(
  runDir: string,
  step?: number,
): { folder: ModelFolder; merged: Map<string, Float32Array>; step: number; method: string } {
  const run = loadRun(runDir, step);
  return {
    folder: run.folder,
    merged: mergeTrained(run.folder, run.params, run.values),
    step: run.step,
    method: run.config.method,
  };
}

/** The base model folder a run was trained from (its config's `model`). */
export function runBaseModel(runDir: string): string {
  const dir = resolve(runDir);
  const { config } = resolveConfig([
    { source: join(dir, RUN_FILES.config), layer: readRunConfig(dir) as Record<string, unknown> },
  ]);
  return resolve(config.model);
}

function readJsonOr(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function exportRun(runDir: string, opts: ExportOptions = {}): ExportResult {
  const format = opts.format ?? "hf";
  const run = loadRun(runDir, opts.step);
  const defaultOut = format === "hf" ? join(run.dir, RUN_FILES.model) : join(run.dir, `export-${format}`);
  const out = resolve(opts.out ?? defaultOut);
  const progress = opts.onProgress ?? (() => undefined);
  if (format === "adapter") {
    if (methodParts(run.config.method).params !== "lora") {
      throw new ExportFormatError(
        `${join(run.dir, RUN_FILES.config)}: method "${run.config.method}" trains no LoRA factors; an adapter exists only for method "lora" runs (export --format hf or gguf instead)`,
      );
    }
    mkdirSync(out, { recursive: true });
    const files = exportPeftAdapter(run.folder, run.params, run.values, out, run.config);
    writeFileSync(
      join(out, "README.md"),
      runReadme({ runDir: run.dir, config: run.config, step: run.step, format, base: run.folder.dir }),
    );
    return { modelDir: out, step: run.step, format, files };
  }
  mkdirSync(out, { recursive: true });
  // hf streams: each tensor is merged as it is written (one merged tensor in memory at a time)
  const merged = () => {
    progress("merging the trained values into the base weights", 0);
    const m = mergeTrained(run.folder, run.params, run.values);
    opts.signal?.throwIfAborted();
    return m;
  };
  const readme = () =>
    writeFileSync(
      join(out, "README.md"),
      runReadme({
        runDir: run.dir,
        config: run.config,
        step: run.step,
        format,
        base: run.folder.dir,
        quant: opts.quant,
      }),
    );
  switch (format) {
    case "hf": {
      progress("writing safetensors", 0.1);
      exportMergedModel(run.folder, mergeTrainedLazy(run.folder, run.params, run.values), out);
      readme();
      return { modelDir: out, step: run.step, format, files: [out] };
    }
    case "gguf": {
      const quant = opts.quant ?? "f16";
      const gguf = `model-${quant}.gguf`;
      exportGguf(run.folder, join(out, gguf), {
        type: quant,
        merged: merged(),
        name: `${run.folder.dir.split(/[\\/]/).pop()}-seat-${run.config.method}`,
        signal: opts.signal,
        onTensor: (done, total, name) => progress(`tensor ${done}/${total} ${name}`, done / total),
      });
      const modelfile = ollamaModelfile({
        gguf,
        tokenizer: run.folder.tokenizer,
        generation: readJsonOr(join(run.folder.dir, "generation_config.json")),
        description: `SEAT Tuner export of ${run.dir} (step ${run.step}, method ${run.config.method}).\nollama create NAME -f Modelfile`,
      });
      writeFileSync(join(out, "Modelfile"), modelfile);
      readme();
      return { modelDir: out, step: run.step, format, files: [join(out, gguf), join(out, "Modelfile")] };
    }
    case "onnx": {
      progress("building and writing the ONNX inference model", 0.2);
      const file = exportOnnx(run.folder, join(out, "model.onnx"), merged());
      readme();
      return { modelDir: out, step: run.step, format, files: [file, `${file}.data`] };
    }
  }
}
