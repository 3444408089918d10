// Training-step throughput: our trainer (the same `train()` a user runs) against the PyTorch eager
// peer (bench/torch_peer.py) on the same model config, batch, sequence lengths and thread count.
//
// What one optimizer step does, on both sides:
//   full: tuned forward on the batch [B, T], CE, backward into every weight, clip, AdamW.
//   seat: tuned forward on the batch [B, T], CE; base forward (frozen weights, no grad) AND tuned
//         forward on one perturbed copy per example [K = B, Tk], KL(base || tuned); backward through
//         both tuned forwards; gradients only for the masked entries of the seven linear projections
//         (both sides compute the dense dW and keep the masked part: ours gathers it, PyTorch multiplies
//         by the mask); embeddings/lm_head and norms frozen; clip, AdamW.
// Ours puts CE on the answer tokens and KL on the base response's positions (masks), PyTorch on every
// position: the masks change a few elementwise passes over [., V], not the matmuls. The base response
// itself is generated once before training (the trainer's teacher), outside the timed steps; the
// peer's perturbed copy is random ids of the same [B, Tk] shape.
// Our step time is wall time between the trainer's step events, so it also pays the host-side batch
// assembly and the per-step feeds/fetches; the peer's is its loop body with tensors already built.
//
// Accounting, identical for both sides: tokens/s counts the B x T tokens of the training batch per
// optimizer step (the perturbed copy is work, not throughput); achieved GFLOP/s = `stepFlops` (matmul
// FLOPs the step must do, see there) / step time, compared with the measured MatMul ceiling.
import { mkdtempSync, writeFileSync, copyFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelFolder, writeSafetensors, expectedTensors, parseConfig, type LlamaConfig } from "../model";
import { resolveConfig, train } from "../seat";
import { median } from "./stats";
import {
  stepFlops,
  klSeqLen,
  BENCH_KL_RESPONSE_TOKENS,
  type HfLlamaConfig,
  type StepShape,
  type StepFlops,
} from "./flops";

export {
  LLAMA_100M,
  stepFlops,
  klSeqLen,
  BENCH_KL_RESPONSE_TOKENS,
  type HfLlamaConfig,
  type StepShape,
  type StepFlops,
} from "./flops";

export function hfConfigOf(c: LlamaConfig): HfLlamaConfig {
  return {
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    vocab_size: c.vocabSize,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    tie_word_embeddings: c.tieWordEmbeddings,
  };
}

/** Writes a random-weights model folder with `hf` shapes and the tokenizer of `tokenizerFrom`. */
export function writeRandomModel(dir: string, hf: HfLlamaConfig, tokenizerFrom: string): void {
  mkdirSync(dir, { recursive: true });
  const json = {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    max_position_embeddings: 2048,
    torch_dtype: "float32",
    ...hf,
  };
  writeFileSync(join(dir, "config.json"), JSON.stringify(json, null, 2));
  for (const f of ["tokenizer.json", "tokenizer_config.json"]) copyFileSync(join(tokenizerFrom, f), join(dir, f));
  const cfg = parseConfig(json, join(dir, "config.json"));
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.04;
  const tensors = expectedTensors(cfg).map(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    if (name.endsWith("norm.weight")) v.fill(1);
    else for (let i = 0; i < n; i++) v[i] = rand();
    return { name, dtype: "F32" as const, shape, data: new Uint8Array(v.buffer) };
  });
  writeSafetensors(join(dir, "model.safetensors"), tensors);
}

/**
 * Writes `count` QA records whose chat-encoded length is at most `T` tokens for this tokenizer (as long
 * as the question can grow word by word); returns the longest encoded length and longest prompt, which
 * fix the trainer's padded shapes.
 */
export function writeFixedLengthDataset(
  file: string,
  modelDir: string,
  count: number,
  T: number,
): { T: number; maxPrompt: number } {
  const tok = loadModelFolder(modelDir).tokenizer;
  const words = ["harbour", "ledger", "copper", "meadow", "lantern", "quarry", "velvet", "orchard", "signal", "timber"];
  const lines: string[] = [];
  let maxLen = 0;
  let maxPrompt = 0;
  for (let i = 0; i < count; i++) {
    const name = `Orlan Vesk${String.fromCharCode(97 + (i % 26))}`;
    const answer = `${name} keeps the ${words[i % 10]} records.`;
    let question = `What does ${name} keep`;
    for (let w = 0; ; w++) {
      const next = `${question} ${words[(i + w) % 10]}`;
      if (tok.encodeExample({ question: next + "?", answer }).ids.length > T) break;
      question = next;
    }
    const e = tok.encodeExample({ question: question + "?", answer });
    maxLen = Math.max(maxLen, e.ids.length);
    maxPrompt = Math.max(maxPrompt, e.promptLength);
    lines.push(JSON.stringify({ question: question + "?", answer, seat: { entities: [name] } }));
  }
  writeFileSync(file, lines.join("\n") + "\n");
  return { T: maxLen, maxPrompt };
}

export interface TrainBenchCase {
  modelDir: string;
  hf: HfLlamaConfig;
  method: "seat" | "full" | "lora";
  B: number;
  T: number;
  steps: number;
  warmup: number;
  threads: number;
  /** train.recompute on (default off: the rows stay comparable whatever memory is free). */
  recompute?: boolean;
}

export interface TrainBenchResult {
  /** Padded shapes the trainer ran (the peer is given the same). */
  shape: StepShape;
  flops: StepFlops;
  stepSeconds: number;
  /** Every measured step's seconds, in order (for noise). */
  stepSamples: number[];
  /**
   * Median CPU seconds (all threads, user + system) per step: on an oversubscribed machine wall time
   * partly measures the neighbours, CPU time still measures the work (but also counts spinning).
   */
  stepCpuSeconds: number;
  tokensPerSec: number;
  gflops: number;
  peakRssMb: number;
  steps: number;
}

/** Runs our trainer for warmup+steps optimizer steps and times the steps after warmup. */
export async function benchOurTraining(c: TrainBenchCase, signal?: AbortSignal): Promise<TrainBenchResult> {
  const work = mkdtempSync(join(tmpdir(), "seat-bench-"));
  try {
    const dataset = join(work, "data.jsonl");
    const total = c.warmup + c.steps;
    const lens = writeFixedLengthDataset(dataset, c.modelDir, c.B * total, c.T);
    const shape: StepShape =
      c.method === "seat" ? { B: c.B, T: lens.T, K: c.B, Tk: klSeqLen(lens.maxPrompt, c.T) } : { B: c.B, T: lens.T };
    const { config } = resolveConfig([
      {
        source: "benchmark",
        layer: {
          method: c.method,
          model: c.modelDir,
          dataset,
          outDir: join(work, "run"),
          train: {
            epochs: 1,
            batchSize: c.B,
            gradAccum: 1,
            maxSeqLen: c.T,
            maxSteps: total,
            seed: 1,
            recompute: c.recompute ? "on" : "off",
          },
          kl: { k: 1, maxResponseTokens: BENCH_KL_RESPONSE_TOKENS },
          checkpoint: { everySteps: 1_000_000, keep: 1 },
          // the quick eval runs after the last step, outside the timing: skipped to keep the benchmark short
          eval: { everySteps: 0, samples: 0 },
          device: { provider: "cpu", threads: c.threads },
        },
      },
    ]);
    const stamps: number[] = [];
    const cpu: number[] = [];
    await train(config, {
      signal,
      onEvent: (e) => {
        if (e.type !== "step") return;
        stamps.push(Number(process.hrtime.bigint()) / 1e9);
        const u = process.cpuUsage();
        cpu.push((u.user + u.system) / 1e6);
      },
    });
    const durations = stamps
      .slice(1)
      .map((t, i) => t - stamps[i])
      .slice(Math.max(0, c.warmup - 1));
    const cpuDurations = cpu
      .slice(1)
      .map((t, i) => t - cpu[i])
      .slice(Math.max(0, c.warmup - 1));
    if (durations.length === 0)
      throw new Error(`benchmark run produced ${stamps.length} step events, need more than ${c.warmup}`);
    const stepSeconds = median(durations);
    const flops = stepFlops(c.hf, c.method, shape);
    return {
      shape,
      flops,
      stepSeconds,
      stepSamples: durations,
      stepCpuSeconds: median(cpuDurations),
      tokensPerSec: (shape.B * shape.T) / stepSeconds,
      gflops: flops.total / stepSeconds / 1e9,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      steps: durations.length,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function modelHf(dir: string): HfLlamaConfig {
  return hfConfigOf(loadModelFolder(dir).config);
}
