// Export of a fine-tuned model: (1) the same Hugging Face layout as the source folder — same shard
// files, tensor names, order and dtypes (changed tensors narrowed back to their stored dtype, untouched
// ones copied byte for byte) — so it loads here and in transformers; (2) an ONNX inference model with
// its weights in a data file beside it. The source folder is never written to. Training runs and
// `seat export` write their final model through exportMergedModel too.
import { existsSync, mkdirSync, realpathSync, renameSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import * as E from "../engine";
import { writeModel } from "../runtime";
import type { ModelSource } from "./graph";
import { buildInferenceGraph } from "./inference";
import {
  float32ToBytes,
  readSafetensorsHeader,
  readTensorBytes,
  writeSafetensors,
  type TensorToWrite,
} from "./safetensors";
import { INDEX_FILE } from "./weights";
import { copyFileAtomic, writeFileAtomic } from "../util/files";

/**
 * Files copied unchanged when present: everything a loader needs besides the weights (every tokenizer
 * file, since loaders differ in which they read), and the card (`seat export` replaces it with one
 * describing the run).
 */
const SIDE_FILES = [
  "config.json",
  "generation_config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "special_tokens_map.json",
  "added_tokens.json",
  "chat_template.jinja",
  "chat_template.json",
  "vocab.json",
  "vocab.txt",
  "merges.txt",
  "tokenizer.model",
  "spiece.model",
  "README.md",
  INDEX_FILE,
];

/** Merged weights by HF name: a Map, or a lazy view that merges a tensor only when it is read. */
export interface MergedWeights {
  keys(): Iterable<string>;
  has(name: string): boolean;
  get(name: string): Float32Array | undefined;
}

/** Written beside the export: which folder it came from and which tensors differ from it. */
export const EXPORT_RECORD = "seat-export.json";

function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/**
 * Writes `outDir` as a copy of the source folder with `merged` weights (HF name -> float32) in place of
 * the stored ones, and EXPORT_RECORD. Refuses the source folder as output and merged tensors the model
 * does not have or of the wrong size. Stored tensors the model does not use (e.g. rotary caches) are
 * copied byte for byte, so the folder's weight index stays true. Returns the files written.
 */
export function exportMergedModel(src: ModelSource, merged: MergedWeights, outDir: string): string[] {
  const srcDir = src.weights.dir;
  if (existsSync(outDir) && sameDir(srcDir, outDir))
    throw new Error(
      `export: the output folder ${outDir} is the source model folder; choose another folder (the source is never overwritten)`,
    );
  for (const name of merged.keys()) {
    if (!src.weights.entries.has(name)) throw new Error(`export: "${name}" is not a weight of the model in ${srcDir}`);
  }
  // Each tensor is merged, narrowed and written in turn, so at most one merged tensor is in memory
  // (a 1B model's merged linear weights are 4 GB as fp32).
  const bytesOf = (name: string, dtype: TensorToWrite["dtype"], shape: number[]) => {
    const values = merged.get(name)!;
    const n = shape.reduce((a, b) => a * b, 1);
    if (values.length !== n)
      throw new Error(`export: "${name}" has ${values.length} values, shape [${shape.join(", ")}] needs ${n}`);
    return float32ToBytes(dtype, values);
  };
  mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const shard of src.weights.shards) {
    const header = readSafetensorsHeader(join(srcDir, shard.file));
    const tensors: TensorToWrite[] = shard.names.map((name) => {
      const e = header.tensors.get(name)!;
      return {
        name,
        dtype: e.dtype,
        shape: e.shape,
        data: merged.has(name) ? () => bytesOf(name, e.dtype, e.shape) : () => readTensorBytes(e),
      };
    });
    const out = join(outDir, shard.file);
    writeSafetensors(out, tensors, { format: "pt", ...header.metadata });
    written.push(out);
  }
  for (const f of SIDE_FILES) {
    if (!existsSync(join(srcDir, f))) continue;
    copyFileAtomic(join(srcDir, f), join(outDir, f));
    written.push(join(outDir, f));
  }
  const record = join(outDir, EXPORT_RECORD);
  writeFileAtomic(record, JSON.stringify({ base: srcDir, changedTensors: [...merged.keys()] }, null, 2) + "\n");
  written.push(record);
  return written;
}

/**
 * Writes an ONNX inference model (the graph LlamaModel runs: ids, mask, rope tables, select, KV cache
 * in; logits, hidden states, KV cache out) with float32 weights in `<file>.data`. Returns its path.
 */
export function exportOnnx(src: ModelSource, outFile: string, merged?: ReadonlyMap<string, Float32Array>): string {
  const g = buildInferenceGraph(src, { external: false, overrides: merged });
  const name = basename(outFile);
  const dir = resolve(outFile, "..");
  const m = E.toOnnx(g, { externalThreshold: 1024, externalFile: `${name}.data` });
  const tmpName = `${name}.tmp-${process.pid}`;
  // The model file is written under a temporary name and renamed last, so a reader never sees a model
  // whose data file is missing; the data file name is fixed by the model's references.
  writeModel(dir, tmpName, m);
  renameSync(join(dir, tmpName), join(dir, name));
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ inputs: m.inputs, outputs: m.outputs }, null, 2) + "\n");
  return join(dir, name);
}
