// The run's final model: the base folder's layout (same shard files, same tensor names, same dtypes,
// config and tokenizer files copied) with the changed tensors replaced. Tensors the run never changed
// are copied byte for byte, so a sparse run's export differs from the base only where the mask allows.
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { float32ToBytes, readTensorBytes, writeSafetensors, INDEX_FILE, type ModelFolder, type TensorToWrite } from "../model/index";

/** Non-weight files of a model folder that belong in an exported copy. */
const COPY = /^(config\.json|generation_config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|chat_template\.jinja|vocab\.json|merges\.txt|README\.md)$/;

export function exportMergedModel(folder: ModelFolder, changed: ReadonlyMap<string, Float32Array>, dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(folder.dir)) if (COPY.test(f)) copyFileSync(join(folder.dir, f), join(dir, f));
  if (existsSync(join(folder.dir, INDEX_FILE))) copyFileSync(join(folder.dir, INDEX_FILE), join(dir, INDEX_FILE));
  for (const shard of folder.weights.shards) {
    const tensors: TensorToWrite[] = [];
    for (const name of shard.names) {
      const e = folder.weights.entries.get(name);
      if (!e) continue; // stored but unused (e.g. rotary caches): transformers drops them too
      const v = changed.get(name);
      tensors.push({ name, dtype: e.dtype, shape: e.shape, data: v ? float32ToBytes(e.dtype, v) : readTensorBytes(e) });
    }
    writeSafetensors(join(dir, shard.file), tensors, { format: "pt" });
  }
  writeFileSync(join(dir, "seat-export.json"), JSON.stringify({ base: folder.dir, changedTensors: [...changed.keys()] }, null, 2) + "\n");
}
