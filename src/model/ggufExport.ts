// A model folder (with fine-tuned weights in place of stored ones) -> one GGUF file llama.cpp and Ollama
// load. The tensor names and metadata keys are those of llama.cpp's "llama" and "qwen2" architectures
// (gguf-py's constants list them). Two things differ from the Hugging Face layout beyond names:
//   - ggml lists dims innermost first, so a [out, in] matrix is written with dims [in, out] (same bytes);
//   - llama.cpp's "llama" rope rotates adjacent pairs (x[2i], x[2i+1]) while transformers rotates halves
//     (x[i], x[i + Dh/2]), so q_proj/k_proj rows are permuted per head to make the two agree. Qwen2's
//     rope in llama.cpp already rotates halves (NEOX style): no permutation.
// Llama 3's rope scaling travels as a `rope_freqs.weight` tensor of per-frequency divisors.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ropeInvFreq, type LlamaConfig } from "./config";
import { ModelFormatError } from "./errors";
import type { ModelFolder } from "./folder";
import {
  encodeF16,
  encodeF32,
  quantizeQ8_0,
  Q8_0_BLOCK,
  writeGguf,
  type GgmlType,
  type GgufTensor,
  type GgufValue,
} from "./gguf";
import { ggufTokenizerMetadata } from "./ggufTokenizer";
import { readTensorF32 } from "./safetensors";
import { expectedTensors } from "./weights";

export type GgufFileType = "f16" | "q8_0";

export interface GgufExportOptions {
  type: GgufFileType;
  /** Fine-tuned float32 weights by HF name, replacing the stored ones. */
  merged?: ReadonlyMap<string, Float32Array>;
  /** general.name (default: the folder's name). */
  name?: string;
  onTensor?: (done: number, total: number, name: string) => void;
  signal?: AbortSignal;
}

/** general.file_type values (llama.h `llama_ftype`): mostly F16, mostly Q8_0. */
const FILE_TYPE: Record<GgufFileType, number> = { f16: 1, q8_0: 7 };

function ggufArch(c: LlamaConfig, where: string): "llama" | "qwen2" {
  if (c.slidingWindow !== null && c.slidingWindow < c.maxPositions) {
    throw new ModelFormatError(
      where,
      `GGUF export: sliding-window attention (window ${c.slidingWindow}) has no equivalent in llama.cpp's llama architecture`,
    );
  }
  if (c.architecture === "Qwen2ForCausalLM") {
    if (c.oBias || c.mlpBias)
      throw new ModelFormatError(
        where,
        "GGUF export: a Qwen2 model with o_proj or MLP biases does not fit llama.cpp's qwen2 architecture",
      );
    return "qwen2";
  }
  if (c.qkvBias !== c.oBias)
    throw new ModelFormatError(
      where,
      "GGUF export: llama.cpp's llama architecture takes biases on all four attention projections or none",
    );
  return "llama";
}

/** The GGUF name of an HF tensor name (null for tensors the file does not carry). */
export function ggufTensorName(hf: string): string {
  const fixed: Record<string, string> = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
  };
  if (fixed[hf]) return fixed[hf];
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hf);
  const part: Record<string, string> = {
    input_layernorm: "attn_norm",
    post_attention_layernorm: "ffn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
  };
  if (!m || !part[m[2]!]) throw new Error(`GGUF export: no GGUF name for tensor "${hf}"`);
  return `blk.${m[1]}.${part[m[2]!]}.${m[3]}`;
}

/** Rows of a [heads * Dh, ...] q/k weight (or bias) reordered from rotate-half to adjacent-pair rope. */
export function permuteForPairRope(x: Float32Array, heads: number, headDim: number): Float32Array {
  const cols = x.length / (heads * headDim),
    half = headDim / 2;
  const out = new Float32Array(x.length);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (let j = 0; j < 2; j++) {
        const from = h * headDim + j * half + i,
          to = h * headDim + 2 * i + j;
        out.set(x.subarray(from * cols, (from + 1) * cols), to * cols);
      }
  return out;
}

function architectureMetadata(c: LlamaConfig, arch: string, where: string): Map<string, GgufValue> {
  const u = (value: number): GgufValue => ({ type: "u32", value });
  const md = new Map<string, GgufValue>([
    [`${arch}.context_length`, u(c.maxPositions)],
    [`${arch}.embedding_length`, u(c.hiddenSize)],
    [`${arch}.block_count`, u(c.numLayers)],
    [`${arch}.feed_forward_length`, u(c.intermediateSize)],
    [`${arch}.attention.head_count`, u(c.numHeads)],
    [`${arch}.attention.head_count_kv`, u(c.numKvHeads)],
    [`${arch}.attention.key_length`, u(c.headDim)],
    [`${arch}.attention.value_length`, u(c.headDim)],
    [`${arch}.attention.layer_norm_rms_epsilon`, { type: "f32", value: c.rmsNormEps }],
    [`${arch}.rope.freq_base`, { type: "f32", value: c.ropeTheta }],
    [`${arch}.rope.dimension_count`, u(c.headDim)],
    [`${arch}.vocab_size`, u(c.vocabSize)],
  ]);
  const rs = c.ropeScaling;
  if (rs.type === "linear") {
    md.set(`${arch}.rope.scaling.type`, { type: "string", value: "linear" });
    md.set(`${arch}.rope.scaling.factor`, { type: "f32", value: rs.factor });
  } else if (rs.type === "dynamic") {
    throw new ModelFormatError(
      where,
      "GGUF export: dynamic NTK rope scaling has no GGUF equivalent (llama.cpp scales rope statically)",
    );
  }
  return md;
}

/** Llama 3 scaling as llama.cpp applies it: each base frequency divided by a stored factor. */
function ropeFreqFactors(c: LlamaConfig): Float32Array {
  const base = ropeInvFreq({ ...c, ropeScaling: { type: "none" } });
  const scaled = ropeInvFreq(c);
  return Float32Array.from(base, (b, i) => b / scaled[i]!);
}

/** Writes `outFile` (GGUF v3). Returns the metadata keys written, for reports and tests. */
export function exportGguf(folder: ModelFolder, outFile: string, opts: GgufExportOptions): string[] {
  const c = folder.config;
  const where = join(folder.dir, "config.json");
  const arch = ggufArch(c, where);
  const tokenizerJson = JSON.parse(readFileSync(join(folder.dir, "tokenizer.json"), "utf8")) as Record<string, unknown>;
  let tokenizerConfig: Record<string, unknown> = {};
  try {
    tokenizerConfig = JSON.parse(readFileSync(join(folder.dir, "tokenizer_config.json"), "utf8")) as Record<
      string,
      unknown
    >;
  } catch {
    /* optional file */
  }
  const md = new Map<string, GgufValue>([
    ["general.architecture", { type: "string", value: arch }],
    ["general.name", { type: "string", value: opts.name ?? folder.dir.split(/[\\/]/).pop() ?? "model" }],
    ["general.file_type", { type: "u32", value: FILE_TYPE[opts.type] }],
    ["general.quantization_version", { type: "u32", value: 2 }],
    ...architectureMetadata(c, arch, where),
    ...ggufTokenizerMetadata(folder.dir, folder.tokenizer, tokenizerJson, tokenizerConfig, c.vocabSize),
  ]);

  const values = (hf: string): Float32Array => {
    const v = opts.merged?.get(hf) ?? readTensorF32(folder.weights.entries.get(hf)!);
    if (arch !== "llama") return v;
    if (hf.endsWith("self_attn.q_proj.weight") || hf.endsWith("self_attn.q_proj.bias"))
      return permuteForPairRope(v, c.numHeads, c.headDim);
    if (hf.endsWith("self_attn.k_proj.weight") || hf.endsWith("self_attn.k_proj.bias"))
      return permuteForPairRope(v, c.numKvHeads, c.headDim);
    return v;
  };
  const tensors: GgufTensor[] = [];
  if (c.ropeScaling.type === "llama3") {
    const f = ropeFreqFactors(c);
    tensors.push({ name: "rope_freqs.weight", dims: [f.length], type: "F32", data: () => encodeF32(f) });
  }
  for (const t of expectedTensors(c)) {
    const dims = [...t.shape].reverse();
    // Norms and biases stay float32, as llama.cpp's converter keeps them; matrices take the file type
    // (Q8_0 only where rows split into whole blocks).
    const type: GgmlType =
      dims.length === 1 ? "F32" : opts.type === "q8_0" && dims[0]! % Q8_0_BLOCK === 0 ? "Q8_0" : "F16";
    const encode = type === "F32" ? encodeF32 : type === "F16" ? encodeF16 : quantizeQ8_0;
    tensors.push({ name: ggufTensorName(t.name), dims, type, data: () => encode(values(t.name)) });
  }
  writeGguf(outFile, md, tensors, { onTensor: opts.onTensor, signal: opts.signal });
  return [...md.keys()];
}
