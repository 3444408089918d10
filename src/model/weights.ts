// The weights of a model folder: model.safetensors or sharded model-XXXXX-of-YYYYY.safetensors with
// model.safetensors.index.json. Every tensor the config implies is asserted (name, shape, float
// dtype) before anything uses it; leftovers that transformers also ignores are reported, anything else
// is an error (it means config.json and the weights disagree).
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { LlamaConfig } from "./config";
import { ModelFormatError } from "./errors";
import { FLOAT_DTYPES, readSafetensorsHeader, readTensorF32, type TensorEntry } from "./safetensors";

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

/** Projection names inside one decoder layer, in HF order. */
export const ATTENTION_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj"] as const;
export const MLP_PROJECTIONS = ["gate_proj", "up_proj", "down_proj"] as const;
export type Projection = (typeof ATTENTION_PROJECTIONS)[number] | (typeof MLP_PROJECTIONS)[number];

/** HF tensor name of a linear weight, e.g. ("q_proj", 3) -> "model.layers.3.self_attn.q_proj.weight". */
export function linearName(proj: Projection, layer: number, kind: "weight" | "bias" = "weight"): string {
  const block = (ATTENTION_PROJECTIONS as readonly string[]).includes(proj) ? "self_attn" : "mlp";
  return `model.layers.${layer}.${block}.${proj}.${kind}`;
}

/** [out, in] shape of a projection's weight (HF stores nn.Linear weights as [out_features, in_features]). */
export function linearShape(c: LlamaConfig, proj: Projection): [number, number] {
  const d = c.hiddenSize,
    q = c.numHeads * c.headDim,
    kv = c.numKvHeads * c.headDim,
    i = c.intermediateSize;
  switch (proj) {
    case "q_proj":
      return [q, d];
    case "k_proj":
    case "v_proj":
      return [kv, d];
    case "o_proj":
      return [d, q];
    case "gate_proj":
    case "up_proj":
      return [i, d];
    case "down_proj":
      return [d, i];
  }
}

/** Every tensor the config requires, in the order HF writes them. */
export function expectedTensors(c: LlamaConfig): ExpectedTensor[] {
  const out: ExpectedTensor[] = [{ name: "model.embed_tokens.weight", shape: [c.vocabSize, c.hiddenSize] }];
  for (let l = 0; l < c.numLayers; l++) {
    out.push({ name: `model.layers.${l}.input_layernorm.weight`, shape: [c.hiddenSize] });
    for (const p of ATTENTION_PROJECTIONS) {
      const shape = linearShape(c, p);
      out.push({ name: linearName(p, l), shape });
      const bias = p === "o_proj" ? c.oBias : c.qkvBias;
      if (bias) out.push({ name: linearName(p, l, "bias"), shape: [shape[0]] });
    }
    out.push({ name: `model.layers.${l}.post_attention_layernorm.weight`, shape: [c.hiddenSize] });
    for (const p of MLP_PROJECTIONS) {
      const shape = linearShape(c, p);
      out.push({ name: linearName(p, l), shape });
      if (c.mlpBias) out.push({ name: linearName(p, l, "bias"), shape: [shape[0]] });
    }
  }
  out.push({ name: "model.norm.weight", shape: [c.hiddenSize] });
  if (!c.tieWordEmbeddings) out.push({ name: "lm_head.weight", shape: [c.vocabSize, c.hiddenSize] });
  return out;
}

/** Tensors transformers itself drops on load: old rotary caches, and lm_head when embeddings are tied. */
function isIgnorable(name: string, c: LlamaConfig): boolean {
  return name.endsWith(".rotary_emb.inv_freq") || (c.tieWordEmbeddings && name === "lm_head.weight");
}

export interface WeightShard {
  /** File name inside the model folder. */
  file: string;
  /** Tensor names in the order they are stored. */
  names: string[];
}

export interface ModelWeights {
  dir: string;
  /** Expected tensors -> where they are stored (dtype, shape, file, byte offset). */
  entries: Map<string, TensorEntry>;
  /** The folder's file layout, so export can write the same files with the same names. */
  shards: WeightShard[];
  sharded: boolean;
  /** Stored tensors that are not used (see isIgnorable). */
  ignored: string[];
}

function shardFiles(dir: string): { files: string[]; weightMap: Map<string, string> | null } {
  const indexPath = join(dir, INDEX_FILE);
  if (existsSync(indexPath)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(indexPath, "utf8"));
    } catch (e) {
      throw new ModelFormatError(indexPath, `invalid JSON: ${(e as Error).message}`);
    }
    const wm = (json as { weight_map?: unknown })?.weight_map;
    if (typeof wm !== "object" || wm === null || Array.isArray(wm))
      throw new ModelFormatError(indexPath, `missing "weight_map" object`);
    const weightMap = new Map<string, string>();
    for (const [name, f] of Object.entries(wm as Record<string, unknown>)) {
      // Shards must be plain files in the folder: an index must not point anywhere else.
      if (typeof f !== "string" || f !== basename(f) || f === ".." || f === "." || !f.endsWith(".safetensors")) {
        throw new ModelFormatError(
          indexPath,
          `weight_map["${name}"] must be a .safetensors file name inside the folder, got ${JSON.stringify(f)}`,
        );
      }
      weightMap.set(name, f);
    }
    return { files: [...new Set(weightMap.values())].sort(), weightMap };
  }
  if (existsSync(join(dir, SINGLE_FILE))) return { files: [SINGLE_FILE], weightMap: null };
  const pt = ["pytorch_model.bin", "model.pt", "consolidated.00.pth"].find((f) => existsSync(join(dir, f)));
  throw new ModelFormatError(
    resolve(dir),
    pt
      ? `only ${pt} found: pickle-based weights are never loaded (they can run code); convert the model to safetensors first`
      : `no ${SINGLE_FILE} or ${INDEX_FILE} in the folder`,
  );
}

/** Reads all headers, asserts every expected tensor's presence, shape and float dtype. */
export function loadWeights(dir: string, config: LlamaConfig): ModelWeights {
  const { files, weightMap } = shardFiles(dir);
  const stored = new Map<string, TensorEntry>();
  const shards: WeightShard[] = [];
  for (const f of files) {
    const header = readSafetensorsHeader(join(dir, f));
    const names = [...header.tensors.values()].sort((a, b) => a.fileOffset - b.fileOffset).map((t) => t.name);
    shards.push({ file: f, names });
    for (const [name, entry] of header.tensors) {
      if (weightMap && weightMap.get(name) !== f) {
        throw new ModelFormatError(
          header.file,
          `tensor "${name}" is stored here but ${INDEX_FILE} maps it to ${JSON.stringify(weightMap.get(name) ?? null)}`,
        );
      }
      stored.set(name, entry);
    }
  }
  if (weightMap) {
    for (const [name, f] of weightMap) {
      if (!stored.has(name))
        throw new ModelFormatError(join(dir, f), `tensor "${name}" listed in ${INDEX_FILE} is missing from this shard`);
    }
  }
  const where = (name: string) =>
    stored.get(name)?.file ?? (weightMap ? join(dir, INDEX_FILE) : join(dir, SINGLE_FILE));
  const entries = new Map<string, TensorEntry>();
  for (const exp of expectedTensors(config)) {
    const e = stored.get(exp.name);
    if (!e)
      throw new ModelFormatError(
        where(exp.name),
        `missing tensor "${exp.name}" (expected shape [${exp.shape.join(", ")}] from config.json)`,
      );
    if (e.shape.length !== exp.shape.length || e.shape.some((d, i) => d !== exp.shape[i])) {
      throw new ModelFormatError(
        e.file,
        `tensor "${exp.name}" has shape [${e.shape.join(", ")}], config.json implies [${exp.shape.join(", ")}]`,
      );
    }
    if (!FLOAT_DTYPES.includes(e.dtype))
      throw new ModelFormatError(e.file, `tensor "${exp.name}" has dtype ${e.dtype}; weights must be F32, F16 or BF16`);
    entries.set(exp.name, e);
  }
  const ignored: string[] = [];
  for (const [name, e] of stored) {
    if (entries.has(name)) continue;
    if (isIgnorable(name, config)) ignored.push(name);
    else
      throw new ModelFormatError(
        e.file,
        `unexpected tensor "${name}" [${e.shape.join(", ")}]: config.json (${config.architecture}, ${config.numLayers} layers) has no such weight`,
      );
  }
  return { dir, entries, shards, sharded: weightMap !== null, ignored };
}

/** Reads one weight as float32 (no cache: callers decide what to keep in memory). */
export function weightF32(w: ModelWeights, name: string): Float32Array {
  const e = w.entries.get(name);
  if (!e) throw new Error(`no weight "${name}" in ${w.dir}`);
  return readTensorF32(e);
}

/** All weights as float32, by name (fine for small models and tests; large ones read per tensor). */
export function allWeightsF32(w: ModelWeights): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const name of w.entries.keys()) out.set(name, weightF32(w, name));
  return out;
}
