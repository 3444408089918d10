// Training-step throughput: our trainer (the same `train()` a user runs) against the PyTorch eager
// peer (bench/torch_peer.py) on the same model config, batch, sequence length and thread count.
//
// Accounting, identical for both sides: tokens/s counts the B x T tokens of the training batch per
// optimizer step; achieved GFLOP/s uses the matmul FLOPs the step must do (below). SEAT steps also run
// one perturbed copy per example (base forward + tuned forward/backward), which both sides do.
import { mkdtempSync, writeFileSync, copyFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModelFolder, writeSafetensors, expectedTensors, parseConfig, type LlamaConfig } from "../model";
import { resolveConfig, train, type Method } from "../seat";
import { median } from "./stats";

/** HF config.json fields for a random-weights Llama used only for speed. */
export interface HfLlamaConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  vocab_size: number;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings: boolean;
}

/** ~100M parameters, SmolLM/TinyLlama-like proportions. */
export const LLAMA_100M: HfLlamaConfig = {
  hidden_size: 768, intermediate_size: 2048, num_hidden_layers: 12, num_attention_heads: 12,
  num_key_value_heads: 4, vocab_size: 32000, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true,
};

export function hfConfigOf(c: LlamaConfig): HfLlamaConfig {
  return {
    hidden_size: c.hiddenSize, intermediate_size: c.intermediateSize, num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads, num_key_value_heads: c.numKvHeads, vocab_size: c.vocabSize,
    rms_norm_eps: c.rmsNormEps, rope_theta: c.ropeTheta, tie_word_embeddings: c.tieWordEmbeddings,
  };
}

/** Writes a random-weights model folder with `hf` shapes and the tokenizer of `tokenizerFrom`. */
export function writeRandomModel(dir: string, hf: HfLlamaConfig, tokenizerFrom: string): void {
  mkdirSync(dir, { recursive: true });
  const json = { architectures: ["LlamaForCausalLM"], model_type: "llama", max_position_embeddings: 2048, torch_dtype: "float32", ...hf };
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

/** Writes `count` QA records whose chat-encoded length is just under `T` tokens for this tokenizer. */
export function writeFixedLengthDataset(file: string, modelDir: string, count: number, T: number): void {
  const tok = loadModelFolder(modelDir).tokenizer;
  const words = ["harbour", "ledger", "copper", "meadow", "lantern", "quarry", "velvet", "orchard", "signal", "timber"];
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `Orlan Vesk${String.fromCharCode(97 + (i % 26))}`;
    const answer = `${name} keeps the ${words[i % 10]} records.`;
    let question = `What does ${name} keep`;
    for (let w = 0; ; w++) {
      const next = `${question} ${words[(i + w) % 10]}`;
      if (tok.encodeExample({ question: next + "?", answer }).ids.length >= T) break;
      question = next;
    }
    lines.push(JSON.stringify({ question: question + "?", answer, seat: { entities: [name] } }));
  }
  writeFileSync(file, lines.join("\n") + "\n");
}

/** Matmul FLOPs of one optimizer step (see the file comment), per the model config. */
export function stepFlops(hf: HfLlamaConfig, method: Method, B: number, T: number): number {
  const D = hf.hidden_size;
  const hd = D / hf.num_attention_heads;
  const kvD = hd * hf.num_key_value_heads;
  const perLayer = D * D * 2 + D * kvD * 2 + 3 * D * hf.intermediate_size;
  const N = hf.num_hidden_layers * perLayer + D * hf.vocab_size;
  const attn = hf.num_hidden_layers * 4 * T * D; // QK^T and AV per token, forward
  const fwd = B * T * (2 * N + attn);
  if (method === "seat") return fwd * 3 + fwd /* base forward */ + fwd * 3 /* tuned fwd+bwd on the copy */;
  return fwd * 3;
}

export interface TrainBenchCase {
  modelDir: string;
  hf: HfLlamaConfig;
  method: Method;
  B: number;
  T: number;
  steps: number;
  warmup: number;
  threads: number;
}

export interface TrainBenchResult {
  stepSeconds: number;
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
    writeFixedLengthDataset(dataset, c.modelDir, c.B * total, c.T);
    const { config } = resolveConfig([{
      source: "benchmark",
      layer: {
        method: c.method, model: c.modelDir, dataset, outDir: join(work, "run"),
        train: { epochs: 1, batchSize: c.B, gradAccum: 1, maxSeqLen: c.T, maxSteps: total, seed: 1 },
        kl: { k: 1, maxResponseTokens: 8 },
        checkpoint: { everySteps: 1_000_000, keep: 1 },
        eval: { everySteps: 0 },
        device: { provider: "cpu", threads: c.threads },
      },
    }]);
    const stamps: number[] = [];
    await train(config, {
      signal,
      onEvent: (e) => { if (e.type === "step") stamps.push(Number(process.hrtime.bigint()) / 1e9); },
    });
    const durations = stamps.slice(1).map((t, i) => t - stamps[i]).slice(Math.max(0, c.warmup - 1));
    if (durations.length === 0) throw new Error(`benchmark run produced ${stamps.length} step events, need more than ${c.warmup}`);
    const stepSeconds = median(durations);
    return {
      stepSeconds,
      tokensPerSec: (c.B * c.T) / stepSeconds,
      gflops: stepFlops(c.hf, c.method, c.B, c.T) / stepSeconds / 1e9,
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
