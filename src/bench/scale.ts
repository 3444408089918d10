// The real-shape rows of `seat bench` (`--scale` runs them alone): SEAT, full fine-tuning and LoRA on
// random-weight folders with the published shapes of SmolLM2-135M, Qwen2.5-0.5B and Llama-3.2-1B
// (test/fixtures/realShapes.ts writes them; scripts/real-shapes.ts is its CLI), greedy generation and
// probe throughput at 0.5B. Each case runs in its own child process, like every other case.
//
// A 24 GB machine shared with other work cannot take every case: before each child starts, the
// orchestrator compares an estimate of the case's peak with MemAvailable and records "not run: needs ~X
// GB, Y GB available" instead of starting it; while it runs, a watchdog stops it when MemAvailable falls
// under a floor (src/bench/stats.ts). Either way the machine never reaches the kernel's OOM killer.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HfLlamaConfig } from "./flops";

export const SCALE_MODELS = { "135m": "smollm2-135m", "0.5b": "qwen2.5-0.5b", "1b": "llama-3.2-1b" } as const;
export type ScaleModel = keyof typeof SCALE_MODELS;
export type ScaleMethod = "seat" | "full" | "lora";

export interface ScaleTrainCase {
  model: ScaleModel;
  method: ScaleMethod;
  B: number;
  T: number;
  steps: number;
  warmup: number;
  /**
   * Untimed peer steps before its timed ones (default `warmup`). 0 at 0.5B and 1B, where one step takes
   * minutes on a shared 2-core machine: the peer has no graph to compile, and its first step's extra
   * cost (first touch of its fresh memory) is a second or two of several minutes.
   */
  peerWarmup?: number;
  /**
   * Activation recompute on both sides: ours `train.recompute on`, the peer torch.utils.checkpoint per
   * decoder layer. Rows without it run `train.recompute off`, so a tight machine cannot change them.
   */
  recompute?: boolean;
}

/** A training case's key in the report: `0.5b:seat`, `0.5b:seat+recompute`. */
export function scaleCaseKey(c: Pick<ScaleTrainCase, "model" | "method" | "recompute">): string {
  return `${c.model}:${c.method}${c.recompute ? "+recompute" : ""}`;
}

/**
 * The training rows. 0.5B SEAT at 4 x 256 (+ one perturbed copy per example) is the reference
 * workload; the others use 4 x 128 so one run of all rows stays within tens of minutes on 2 cores
 * (a 1B step is ~4 TFLOP). One measured step after one warm-up step: the first step pays graph
 * compilation and is never timed (src/bench/train.ts).
 */
export const SCALE_TRAIN: readonly ScaleTrainCase[] = [
  { model: "135m", method: "seat", B: 4, T: 128, steps: 2, warmup: 1 },
  { model: "135m", method: "full", B: 4, T: 128, steps: 2, warmup: 1 },
  { model: "0.5b", method: "seat", B: 4, T: 256, steps: 1, warmup: 1, peerWarmup: 0 },
  { model: "0.5b", method: "seat", B: 4, T: 256, steps: 1, warmup: 1, peerWarmup: 0, recompute: true },
  { model: "0.5b", method: "full", B: 4, T: 128, steps: 1, warmup: 1, peerWarmup: 0 },
  { model: "1b", method: "seat", B: 4, T: 128, steps: 1, warmup: 1, peerWarmup: 0 },
  { model: "1b", method: "lora", B: 4, T: 128, steps: 1, warmup: 1, peerWarmup: 0 },
];

/**
 * The order rows run in: the cheap generation row, then the 0.5B reference workload (three targets),
 * then the rest by how many targets they carry; a run cut short keeps the rows it finished.
 */
export const SCALE_ORDER = [
  "generate:0.5b",
  "train:0.5b:seat",
  "train:0.5b:seat+recompute",
  "probe:0.5b",
  "train:135m:seat",
  "train:0.5b:full",
  "train:1b:seat",
  "train:1b:lora",
  "train:135m:full",
] as const;

export const SCALE_GENERATE = { model: "0.5b" as ScaleModel, B: 4, promptLen: 24, newTokens: 32, reps: 2 };
/** Probe rows: records (each with `neighbours` generated look-alike questions), with and without P(abstain). */
export const SCALE_PROBE = { model: "0.5b" as ScaleModel, records: 4, neighbours: 1 };

export function isScaleModel(m: string): m is ScaleModel {
  return Object.hasOwn(SCALE_MODELS, m);
}

/** Where the fixture folder of `model` is cached (the layout test/fixtures/realShapes.ts writes). */
export function scaleFolder(root: string, model: ScaleModel): string {
  return join(root, ".cache", "real-shapes", SCALE_MODELS[model]);
}

/** The folder of `model`, written first by scripts/real-shapes.ts when it is not there yet. */
export function ensureScaleFolder(root: string, model: ScaleModel, log: (line: string) => void): string {
  const dir = scaleFolder(root, model);
  if (existsSync(join(dir, ".fixture-version"))) return dir;
  log(`bench: writing the ${SCALE_MODELS[model]} fixture folder (once, cached in ${dir}) …`);
  const tsx = join(root, "node_modules", ".bin", "tsx");
  const r = spawnSync(tsx, [join(root, "scripts", "real-shapes.ts"), SCALE_MODELS[model]], {
    cwd: root,
    encoding: "utf8",
  });
  if (r.status !== 0 || !existsSync(join(dir, ".fixture-version"))) {
    throw new Error(
      `could not write the ${SCALE_MODELS[model]} fixture (${tsx} scripts/real-shapes.ts): ${(r.stderr || r.error?.message || "").trim().split("\n").pop()}`,
    );
  }
  return dir;
}

/** MemAvailable from the text of /proc/meminfo, in MB (2^20 bytes); undefined when absent. */
export function parseMemAvailableMb(meminfo: string): number | undefined {
  const m = /^MemAvailable:\s+(\d+)\s+kB/m.exec(meminfo);
  return m ? Number(m[1]) / 1024 : undefined;
}

export function memAvailableMb(): number | undefined {
  try {
    return parseMemAvailableMb(readFileSync("/proc/meminfo", "utf8"));
  } catch {
    return undefined;
  }
}

export function paramCounts(hf: HfLlamaConfig, qkvBias = false): { total: number; linear: number } {
  const D = hf.hidden_size;
  const kvD = (D / hf.num_attention_heads) * hf.num_key_value_heads;
  const perLayer = 2 * D * D + 2 * D * kvD + 3 * D * hf.intermediate_size;
  const linear = hf.num_hidden_layers * perLayer;
  const head = hf.vocab_size * D * (hf.tie_word_embeddings ? 1 : 2);
  const small = hf.num_hidden_layers * (2 * D + (qkvBias ? D + 2 * kvD : 0)) + D;
  return { total: linear + head + small, linear };
}

/**
 * A rough fp32 estimate of a training step's peak (MB), the same for both sides: weights, what the
 * method adds (full: gradients + two AdamW moments of everything; SEAT: dense gradients of the linear
 * weights, moments of the masked share; LoRA: nothing of size), activations kept for backward (per
 * token and layer ~12 D + 4 F floats plus the attention probabilities) and the [tokens, V] tensors of
 * the losses (5 live copies). It only decides whether to start a case: the watchdog guards the rest.
 */
export function estimateTrainPeakMb(
  hf: HfLlamaConfig,
  method: ScaleMethod,
  B: number,
  T: number,
  Tk = T,
  maskRatio = 0.05,
): number {
  const { total, linear } = paramCounts(hf);
  const D = hf.hidden_size;
  const F = hf.intermediate_size;
  const perTokenLayer = (t: number) => 12 * D + 4 * F + hf.num_attention_heads * t;
  const grad = (tokens: number, t: number) => tokens * hf.num_hidden_layers * perTokenLayer(t);
  let floats = total;
  if (method === "full") floats += 3 * total;
  if (method === "seat") floats += linear + 3 * maskRatio * linear;
  floats += grad(B * T, T) + 5 * B * T * hf.vocab_size;
  if (method === "seat") floats += grad(B * Tk, Tk) + 5 * B * Tk * hf.vocab_size;
  return (4 * floats) / 2 ** 20 + 400; // + the runtime itself
}

/** Inference (generation, probing): the fp32 weights and the runtime. */
export function estimateInferencePeakMb(hf: HfLlamaConfig): number {
  return (4 * paramCounts(hf).total) / 2 ** 20 + 600;
}

/** MemAvailable must stay above this while a case runs; the watchdog stops the case below it. */
export const MEM_FLOOR_MB = 1536;

/** Why a case must not start (null: it may), given its estimated need and what is available now. */
export function memoryRefusal(needMb: number, availableMb: number | undefined): string | null {
  if (availableMb === undefined) return null;
  if (needMb + MEM_FLOOR_MB <= availableMb) return null;
  return `not run: needs ~${(needMb / 1024).toFixed(1)} GB, ${(availableMb / 1024).toFixed(1)} GB available (keeping ${(MEM_FLOOR_MB / 1024).toFixed(1)} GB free)`;
}
