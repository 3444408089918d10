// The run's memory plan: an estimate of what each part of a training run holds at its peak, from the
// model's shapes and the run's batch shapes, checked against the memory the machine has before
// anything large is allocated (a refusal with a suggestion beats the kernel's OOM killer).
// What the parts are (see README "Memory plan"):
//   weights file   the frozen weights as stored (bf16: 2 bytes/param), mapped from the .safetensors file
//                  and shared by every session of the run (model/sessions.ts)
//   fp32 weights   frozen weights stored narrower than fp32 are widened inside each step; the widened
//                  copy lives from the forward pass to its use in the backward pass
//   masked copies  a masked tensor is a dense fp32 copy with the trainable entries scattered in (written in
//                  place over a widening of its own, so the base pass's copy is transient)
//   trainable      values + AdamW moments, each step written over them (the values only with clipping
//                  on: without it they are held once more as the step's output buffer)
//   gradients      dense weight gradients of what trains (masked: one tensor at a time)
//   activations    saved for the backward pass: per layer and token ~ (10 D + 3 I) floats plus the
//                  attention scores and probabilities (H x T x T per row); with activation recompute
//                  each layer's input (D floats per token), one layer's worth rerun in the backward
//                  pass, and a calibrated share of the rest (see planMemory)
//   vocab          logits only at the read positions (A per row, Ak per perturbed row), ~4 copies
//                  (logits, log-softmax, its gradient, the fused CE/KL buffers)
//   teacher        before training only: a private fp32 copy of the weights for fast decoding
// Measured against this estimate on the real shapes (README table) and calibrated to err high, so
// that a run it admits is not killed.
import { readFileSync } from "node:fs";
import { freemem } from "node:os";
import type { LlamaConfig } from "../model/index";
import { methodParts, type SeatConfig } from "./config";

export interface MemoryPart {
  name: string;
  bytes: number;
}

export interface MemoryPlan {
  parts: MemoryPart[];
  /** Peak of the training stage (the teacher stage is earlier and smaller than or equal to it). */
  peakBytes: number;
  teacherBytes: number;
}

export interface PlanShapes {
  B: number;
  T: number;
  A: number;
  kl?: { K: number; Tk: number; Ak: number };
}

export interface PlanModel {
  config: LlamaConfig;
  /** Stored bytes of all weights and the total parameter count. */
  fileBytes: number;
  params: number;
  /** Parameters per tensor name (to size masked and dense tensors). */
  numel: ReadonlyMap<string, number>;
  /** Bytes per stored parameter (2 for bf16/fp16, 4 for fp32). */
  storedBytesPerParam: number;
}

const F32 = 4;

export function planMemory(
  config: SeatConfig,
  m: PlanModel,
  shapes: PlanShapes,
  trainable: { names: readonly string[]; params: number },
  opts: { recompute?: boolean } = {},
): MemoryPlan {
  const parts = methodParts(config.method);
  const c = m.config;
  const D = c.hiddenSize,
    I = c.intermediateSize,
    H = c.numHeads,
    L = c.numLayers,
    V = c.vocabSize;
  const out: MemoryPart[] = [];
  const add = (name: string, bytes: number) => {
    if (bytes > 0) out.push({ name, bytes: Math.round(bytes) });
  };
  add("weights file (mapped, shared by all sessions)", m.fileBytes);
  if (m.storedBytesPerParam < F32) add("fp32 copies of frozen weights during a step", F32 * m.params);
  const trainedTensors = trainable.names.map((n) => m.numel.get(n) ?? 0);
  const maskedCopies = parts.params === "masked" ? F32 * trainedTensors.reduce((a, b) => a + b, 0) : 0;
  add("dense fp32 copies of masked tensors", maskedCopies);
  // Written over their inputs (stepper.ts): the moments always, the values with clipping on.
  add(
    `trainable values + AdamW moments${config.optim.clipNorm > 0 ? "" : " (values x2: step outputs)"}`,
    F32 * (config.optim.clipNorm > 0 ? 3 : 4) * trainable.params,
  );
  // onnxruntime-node returns every fetched output as a new array, a preallocated one too (measured: the
  // buffer written in place and the returned data differ); the copies are garbage at once but live
  // until the next collection.
  add("copy of the carried state returned after each step (transient)", F32 * 3 * trainable.params);
  const grads =
    parts.params === "masked"
      ? Math.max(0, ...trainedTensors)
      : parts.params === "dense"
        ? trainable.params
        : trainable.params;
  add("weight gradients", F32 * grads * (config.train.gradAccum > 1 ? 3 : 1));
  if (parts.ewc) add("EWC Fisher + base copy", F32 * 2 * trainable.params);
  const layer = (B: number, T: number) => B * T * ((10 * D + 3 * I) * F32 + 2 * H * T * F32);
  // With recompute: every layer's input, one layer's activations rerun in the backward pass, and a
  // calibrated 30% of the plain estimate. Measured at Qwen2.5-0.5B, SEAT 4 x 256 (+ 4 x 256), whole
  // process: 8.10 GB with recompute (the derived parts alone planned 6.4 GB), 9.78 GB without (planned
  // 12.1): the plain estimate errs high, and the backward pass holds more than one layer's worth.
  const rows = (B: number, T: number) =>
    opts.recompute ? L * B * T * D * F32 + layer(B, T) + 0.3 * L * layer(B, T) : L * layer(B, T);
  add(
    opts.recompute
      ? "activations saved for backward (recompute: layer inputs, one layer, calibrated rest)"
      : "activations saved for backward",
    rows(shapes.B, shapes.T) + (shapes.kl ? rows(shapes.kl.K, shapes.kl.Tk) : 0),
  );
  add(
    "vocab-sized buffers at read positions",
    4 * F32 * V * (shapes.B * shapes.A + (shapes.kl ? 2 * shapes.kl.K * shapes.kl.Ak : 0)),
  );
  // Calibrated, not derived: what the executor holds beyond the parts above (transient widened copies
  // the base pass reads, per-node scratch). Measured peaks (README table, whole `seat train`) against
  // the plan with this row: 135M SEAT 2.76 GB vs ~3.0, 0.5B SEAT 6.46 vs ~6.6, 1B SEAT (batch 4) 13.97
  // vs 14.7, 135M full 6.05 vs ~7.1.
  add("executor scratch (calibrated: 10% of the step's parts)", 0.1 * out.reduce((a, p) => a + p.bytes, 0));
  add("runtime, tokenizer, host copies", 0.6 * 2 ** 30);
  const peakBytes = out.reduce((a, p) => a + p.bytes, 0);
  const teacherBytes = m.fileBytes + F32 * m.params + 0.6 * 2 ** 30;
  return { parts: out, peakBytes, teacherBytes };
}

const GB = (b: number) => `${(b / 2 ** 30).toFixed(1)} GB`;

/** One line per part, largest first, for the run log. */
export function describePlan(p: MemoryPlan): string {
  const parts = [...p.parts].sort((a, b) => b.bytes - a.bytes).map((x) => `${x.name} ${GB(x.bytes)}`);
  return `memory plan: peak ~${GB(Math.max(p.peakBytes, p.teacherBytes))} (${parts.join("; ")}${p.teacherBytes > 0 ? `; teacher stage ${GB(p.teacherBytes)}` : ""})`;
}

/**
 * Undefined when the plan fits in `available` bytes, else the one-line refusal: what it needs, what
 * there is, and what to change (largest part first).
 */
export function planRefusal(p: MemoryPlan, available: number, config: SeatConfig): string | undefined {
  const need = Math.max(p.peakBytes, p.teacherBytes);
  if (need <= available) return undefined;
  const largest = [...p.parts].sort((a, b) => b.bytes - a.bytes)[0];
  const tips: string[] = [];
  const act = p.parts.find((x) => x.name.startsWith("activations"))?.bytes ?? 0;
  if (act > 0.2 * need && config.train.batchSize > 1)
    tips.push(
      `--batch ${Math.max(1, Math.floor(config.train.batchSize / 2))} --grad-accum ${config.train.gradAccum * 2} (same step, half the activations)`,
    );
  if (act > 0.2 * need) tips.push(`--max-seq-len ${Math.max(64, Math.floor(config.train.maxSeqLen / 2))}`);
  if (act > 0.2 * need && config.train.recompute === "off") tips.push("--recompute on (activation recompute)");
  const parts = methodParts(config.method);
  if (parts.params === "dense") tips.push("--method seat or lora (optimizer state only for the trainable entries)");
  const job = "export a job for a bigger machine (seat export-job)";
  return `this run needs about ${GB(need)} of memory and ${GB(available)} is available (largest part: ${largest?.name ?? "?"} ${GB(largest?.bytes ?? 0)}); ${tips.length ? `try ${tips.join(", ")}, or ${job}` : job}`;
}

/**
 * train.recompute resolved against the plan: on/off as set; auto recomputes only when the plan without
 * it does not fit in `available` (it costs a third more compute). `reason` says why auto turned it on.
 */
export function chooseRecompute(
  mode: SeatConfig["train"]["recompute"],
  plan: (recompute: boolean) => MemoryPlan,
  available: number,
  config: SeatConfig,
): { recompute: boolean; plan: MemoryPlan; reason?: string } {
  if (mode !== "auto") return { recompute: mode === "on", plan: plan(mode === "on") };
  const without = plan(false);
  if (!planRefusal(without, available, config)) return { recompute: false, plan: without };
  return {
    recompute: true,
    plan: plan(true),
    reason: `activation recompute on (train.recompute auto): without it the plan needs ~${GB(Math.max(without.peakBytes, without.teacherBytes))} and ${GB(available)} is available`,
  };
}

/** Memory the system can give this process now: Linux's MemAvailable, else the free memory. */
export function availableMemory(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not Linux */
  }
  return freemem();
}

/** Set to 1 to train even when the plan says the run will not fit (the estimate errs high). */
export const SKIP_MEMORY_CHECK_ENV = "SEAT_SKIP_MEMORY_CHECK";
