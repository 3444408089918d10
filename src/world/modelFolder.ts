// The embedded model as a Hugging Face folder: its architecture, a seeded random initialisation, and
// the writer that lays out config.json, model.safetensors, tokenizer files and generation_config.json.
import { mkdirSync } from "node:fs";
import { writeFileAtomic } from "../util/files";
import { join } from "node:path";
import { configToJson, type LlamaConfig } from "../model/config";
import { float32ToBytes, writeSafetensors, type SafetensorsDType } from "../model/safetensors";
import { expectedTensors } from "../model/weights";
import { Prng } from "../util/rng";
import type { TokenizerFiles } from "./tokenizer";

export const MODEL_NAME = "seat-tiny-world";

/**
 * Llama, tiny. Sizes chosen by measurement on the world (see models/seat-tiny-world/README.md): hidden
 * 128 with 4 layers memorises the ~280 facts and generalises abstention to never-seen names; GQA (4
 * query heads, 2 KV heads) and tied embeddings keep the same code paths as real Llama/Qwen models.
 */
export function tinyConfig(vocabSize: number, eosId: number): LlamaConfig {
  return {
    architecture: "LlamaForCausalLM",
    hiddenSize: 128,
    numLayers: 4,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 32,
    intermediateSize: 384,
    vocabSize,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: { type: "none" },
    maxPositions: 128,
    tieWordEmbeddings: true,
    qkvBias: false,
    oBias: false,
    mlpBias: false,
    slidingWindow: null,
    bosTokenId: null,
    eosTokenIds: [eosId],
    torchDtype: "float32",
  };
}

/** Parameter count (tied embeddings counted once). */
export function parameterCount(c: LlamaConfig): number {
  return expectedTensors(c).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * GPT-2-style initialisation: N(0, 0.02) for embeddings and projections, the residual-output
 * projections (o_proj, down_proj) scaled by 1/sqrt(2 * layers) so the residual stream starts at unit
 * scale, RMSNorm gains 1.
 */
export function randomInit(c: LlamaConfig, seed: number): Map<string, Float32Array> {
  const rng = Prng.named(seed, "init");
  const gauss = (): number => {
    const u = Math.max(rng.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  };
  const out = new Map<string, Float32Array>();
  for (const t of expectedTensors(c)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(n);
    if (t.name.endsWith("norm.weight")) w.fill(1);
    else {
      const std = /o_proj|down_proj/.test(t.name) ? 0.02 / Math.sqrt(2 * c.numLayers) : 0.02;
      for (let i = 0; i < n; i++) w[i] = gauss() * std;
    }
    out.set(t.name, w);
  }
  return out;
}

export interface ModelFolderFiles {
  config: LlamaConfig;
  weights: Map<string, Float32Array>;
  tokenizer: TokenizerFiles;
  dtype?: SafetensorsDType;
  /** Markdown model card (README.md); omitted when undefined. */
  card?: string;
  /** Extra files (name -> text), e.g. world.json. */
  extra?: Record<string, string>;
}

/** Writes (or overwrites) a complete model folder; every file is written atomically. */
export function writeModelFolder(dir: string, f: ModelFolderFiles): void {
  mkdirSync(dir, { recursive: true });
  const dtype = f.dtype ?? "F32";
  const cfgJson = {
    ...configToJson(f.config),
    torch_dtype: dtype === "F16" ? "float16" : "float32",
    pad_token_id: f.config.eosTokenIds[0],
  };
  writeFileAtomic(join(dir, "config.json"), JSON.stringify(cfgJson, null, 2) + "\n");
  writeFileAtomic(
    join(dir, "generation_config.json"),
    JSON.stringify(
      {
        eos_token_id: f.config.eosTokenIds[0],
        pad_token_id: f.config.eosTokenIds[0],
        do_sample: false,
        max_new_tokens: 32,
      },
      null,
      2,
    ) + "\n",
  );
  writeFileAtomic(join(dir, "tokenizer.json"), JSON.stringify(f.tokenizer.tokenizer) + "\n");
  writeFileAtomic(join(dir, "tokenizer_config.json"), JSON.stringify(f.tokenizer.config, null, 2) + "\n");
  const tensors = expectedTensors(f.config).map((t) => {
    const w = f.weights.get(t.name);
    if (!w) throw new Error(`writeModelFolder: weight "${t.name}" is missing`);
    return { name: t.name, dtype, shape: t.shape, data: float32ToBytes(dtype, w) };
  });
  writeSafetensors(join(dir, "model.safetensors"), tensors, { format: "pt" });
  if (f.card !== undefined) writeFileAtomic(join(dir, "README.md"), f.card);
  for (const [name, text] of Object.entries(f.extra ?? {})) writeFileAtomic(join(dir, name), text);
}
