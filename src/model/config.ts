// config.json of a Hugging Face Llama-family decoder -> a typed, validated LlamaConfig.
// Field names and defaults follow transformers' LlamaConfig / Qwen2Config / MistralConfig so that a
// folder that loads there loads here with the same meaning.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ModelFormatError } from "./errors";

export const SUPPORTED_ARCHITECTURES = ["LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"] as const;
export type Architecture = (typeof SUPPORTED_ARCHITECTURES)[number];

/** How rotary frequencies are rescaled for long contexts (config.json `rope_scaling`). */
export type RopeScaling =
  | { type: "none" }
  /** Position interpolation: every frequency divided by `factor`. */
  | { type: "linear"; factor: number }
  /** Llama 3.1: low frequencies divided by `factor`, high ones kept, a smooth ramp between. */
  | { type: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositions: number }
  /** NTK-aware: theta grows only once a sequence exceeds maxPositions (so short sequences are unscaled). */
  | { type: "dynamic"; factor: number };

export interface LlamaConfig {
  architecture: Architecture;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling;
  maxPositions: number;
  tieWordEmbeddings: boolean;
  /** Bias on q/k/v projections (Qwen2 always; Llama when attention_bias). */
  qkvBias: boolean;
  /** Bias on o_proj (Llama attention_bias only; Qwen2 has none). */
  oBias: boolean;
  /** Bias on gate/up/down (Llama mlp_bias). */
  mlpBias: boolean;
  /** Mistral sliding-window attention width; null = full causal attention. */
  slidingWindow: number | null;
  bosTokenId: number | null;
  eosTokenIds: number[];
  /** Storage dtype the folder declares (torch_dtype / dtype), informational only. */
  torchDtype: string | null;
}

type Json = Record<string, unknown>;

function num(cfg: Json, key: string, file: string, fallback?: number, integer = true): number {
  const v = cfg[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ModelFormatError(file, `missing required field "${key}"`);
  }
  if (typeof v !== "number" || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < 0) {
    throw new ModelFormatError(
      file,
      `field "${key}" must be a ${integer ? "non-negative integer" : "non-negative number"}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function bool(cfg: Json, key: string, file: string, fallback: boolean): boolean {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== "boolean")
    throw new ModelFormatError(file, `field "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function parseRopeScaling(cfg: Json, file: string, maxPositions: number): RopeScaling {
  const rs = cfg["rope_scaling"];
  if (rs === undefined || rs === null) return { type: "none" };
  if (typeof rs !== "object" || Array.isArray(rs))
    throw new ModelFormatError(file, `"rope_scaling" must be an object or null`);
  const r = rs as Json;
  // transformers renamed "type" to "rope_type"; both spellings are in the wild.
  const kind = (r["rope_type"] ?? r["type"]) as unknown;
  const where = `${file}: rope_scaling`;
  switch (kind) {
    case "default":
      return { type: "none" };
    case "linear":
      return { type: "linear", factor: num(r, "factor", where, undefined, false) };
    case "dynamic":
      return { type: "dynamic", factor: num(r, "factor", where, undefined, false) };
    case "llama3":
      return {
        type: "llama3",
        factor: num(r, "factor", where, undefined, false),
        lowFreqFactor: num(r, "low_freq_factor", where, 1, false),
        highFreqFactor: num(r, "high_freq_factor", where, 4, false),
        originalMaxPositions: num(r, "original_max_position_embeddings", where, maxPositions),
      };
    default:
      throw new ModelFormatError(
        file,
        `rope_scaling type ${JSON.stringify(kind)} is not supported (supported: linear, dynamic, llama3)`,
      );
  }
}

/** Validates a parsed config.json object; `file` names it in errors. */
export function parseConfig(json: unknown, file = "config.json"): LlamaConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new ModelFormatError(file, "expected a JSON object");
  const cfg = json as Json;
  const archs = cfg["architectures"];
  const arch = Array.isArray(archs)
    ? archs.find((a): a is Architecture => (SUPPORTED_ARCHITECTURES as readonly string[]).includes(a as string))
    : undefined;
  if (!arch) {
    throw new ModelFormatError(
      file,
      `unsupported architecture ${JSON.stringify(archs ?? cfg["model_type"] ?? null)}; supported: ${SUPPORTED_ARCHITECTURES.join(", ")}`,
    );
  }
  const act = cfg["hidden_act"] ?? "silu";
  if (act !== "silu")
    throw new ModelFormatError(
      file,
      `hidden_act ${JSON.stringify(act)} is not supported (Llama-family models use "silu")`,
    );

  const hiddenSize = num(cfg, "hidden_size", file);
  const numHeads = num(cfg, "num_attention_heads", file);
  // Older Llama configs omit num_key_value_heads: that means plain multi-head attention.
  const numKvHeads = num(cfg, "num_key_value_heads", file, numHeads);
  const headDim = num(cfg, "head_dim", file, numHeads > 0 ? Math.floor(hiddenSize / numHeads) : 0);
  if (numHeads === 0 || numKvHeads === 0 || numHeads % numKvHeads !== 0) {
    throw new ModelFormatError(
      file,
      `num_attention_heads (${numHeads}) must be a positive multiple of num_key_value_heads (${numKvHeads})`,
    );
  }
  if (headDim === 0 || headDim % 2 !== 0)
    throw new ModelFormatError(file, `head dimension must be even and positive, got ${headDim}`);
  const maxPositions = num(cfg, "max_position_embeddings", file, 2048);
  const isQwen = arch === "Qwen2ForCausalLM";
  const attentionBias = bool(cfg, "attention_bias", file, false);
  const sw = cfg["sliding_window"];
  const useSw =
    arch === "MistralForCausalLM" ? sw !== null && sw !== undefined : bool(cfg, "use_sliding_window", file, false);
  const eos = cfg["eos_token_id"];
  const eosTokenIds = Array.isArray(eos)
    ? eos.filter((x): x is number => typeof x === "number")
    : typeof eos === "number"
      ? [eos]
      : [];
  const bos = cfg["bos_token_id"];

  const config: LlamaConfig = {
    architecture: arch,
    hiddenSize,
    numLayers: num(cfg, "num_hidden_layers", file),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: num(cfg, "intermediate_size", file),
    vocabSize: num(cfg, "vocab_size", file),
    // Defaults: LlamaConfig 1e-6, Qwen2Config 1e-6, MistralConfig 1e-6.
    rmsNormEps: num(cfg, "rms_norm_eps", file, 1e-6, false),
    ropeTheta: num(cfg, "rope_theta", file, 10000, false),
    ropeScaling: parseRopeScaling(cfg, file, maxPositions),
    maxPositions,
    tieWordEmbeddings: bool(cfg, "tie_word_embeddings", file, false),
    qkvBias: isQwen || attentionBias,
    oBias: !isQwen && attentionBias,
    mlpBias: bool(cfg, "mlp_bias", file, false),
    slidingWindow: useSw && typeof sw === "number" ? sw : null,
    bosTokenId: typeof bos === "number" ? bos : null,
    eosTokenIds,
    torchDtype:
      typeof (cfg["torch_dtype"] ?? cfg["dtype"]) === "string" ? String(cfg["torch_dtype"] ?? cfg["dtype"]) : null,
  };
  if (config.numLayers === 0 || config.vocabSize === 0 || config.intermediateSize === 0) {
    throw new ModelFormatError(file, "num_hidden_layers, vocab_size and intermediate_size must be positive");
  }
  return config;
}

export function loadConfig(dir: string): LlamaConfig {
  const file = join(dir, "config.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ModelFormatError(file, `cannot read: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(file, `invalid JSON: ${(e as Error).message}`);
  }
  return parseConfig(json, file);
}

/** The config.json object for a LlamaConfig (used by fixtures and export to write a loadable folder). */
export function configToJson(c: LlamaConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {
    architectures: [c.architecture],
    model_type:
      c.architecture === "Qwen2ForCausalLM" ? "qwen2" : c.architecture === "MistralForCausalLM" ? "mistral" : "llama",
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    intermediate_size: c.intermediateSize,
    vocab_size: c.vocabSize,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    max_position_embeddings: c.maxPositions,
    tie_word_embeddings: c.tieWordEmbeddings,
    hidden_act: "silu",
  };
  if (c.architecture === "LlamaForCausalLM") {
    out["attention_bias"] = c.qkvBias;
    out["mlp_bias"] = c.mlpBias;
  }
  if (c.ropeScaling.type === "linear" || c.ropeScaling.type === "dynamic")
    out["rope_scaling"] = { rope_type: c.ropeScaling.type, factor: c.ropeScaling.factor };
  if (c.ropeScaling.type === "llama3") {
    out["rope_scaling"] = {
      rope_type: "llama3",
      factor: c.ropeScaling.factor,
      low_freq_factor: c.ropeScaling.lowFreqFactor,
      high_freq_factor: c.ropeScaling.highFreqFactor,
      original_max_position_embeddings: c.ropeScaling.originalMaxPositions,
    };
  }
  if (c.slidingWindow !== null) out["sliding_window"] = c.slidingWindow;
  if (c.bosTokenId !== null) out["bos_token_id"] = c.bosTokenId;
  if (c.eosTokenIds.length) out["eos_token_id"] = c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds;
  if (c.torchDtype) out["torch_dtype"] = c.torchDtype;
  return out;
}

/**
 * Inverse rotary frequencies per pair index (length headDim/2) after rope scaling, for a sequence of
 * `seqLen` positions (only "dynamic" depends on it). Formulas: transformers modeling_rope_utils.
 */
export function ropeInvFreq(c: LlamaConfig, seqLen = 0): Float64Array {
  const half = c.headDim / 2;
  let theta = c.ropeTheta;
  const rs = c.ropeScaling;
  if (rs.type === "dynamic" && seqLen > c.maxPositions) {
    theta = theta * Math.pow((rs.factor * seqLen) / c.maxPositions - (rs.factor - 1), c.headDim / (c.headDim - 2));
  }
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / c.headDim);
  if (rs.type === "linear") for (let i = 0; i < half; i++) inv[i]! /= rs.factor;
  if (rs.type === "llama3") {
    const lowWavelen = rs.originalMaxPositions / rs.lowFreqFactor;
    const highWavelen = rs.originalMaxPositions / rs.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const f = inv[i]!;
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > lowWavelen) inv[i] = f / rs.factor;
      else if (wavelen >= highWavelen) {
        const smooth = (rs.originalMaxPositions / wavelen - rs.lowFreqFactor) / (rs.highFreqFactor - rs.lowFreqFactor);
        inv[i] = (1 - smooth) * (f / rs.factor) + smooth * f;
      }
    }
  }
  return inv;
}
