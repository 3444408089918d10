// A whole Hugging Face model folder: config + weights (headers only; tensors are read on demand) +
// tokenizer, cross-checked against each other.
import { resolve } from "node:path";
import { existsSync, statSync } from "node:fs";
import { loadConfig, type LlamaConfig } from "./config";
import { ModelFormatError } from "./errors";
import { ModelTokenizer } from "./tokenizer";
import { loadWeights, type ModelWeights } from "./weights";

export interface ModelFolder {
  dir: string;
  config: LlamaConfig;
  weights: ModelWeights;
  tokenizer: ModelTokenizer;
}

export function loadModelFolder(dir: string): ModelFolder {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory())
    throw new ModelFormatError(
      abs,
      "not a folder (expected a Hugging Face model folder with config.json, *.safetensors and tokenizer.json)",
    );
  const config = loadConfig(abs);
  const weights = loadWeights(abs, config);
  const tokenizer = ModelTokenizer.fromDir(abs);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new ModelFormatError(
      resolve(abs, "tokenizer.json"),
      `has token ids up to ${tokenizer.vocabSize - 1} but config.json vocab_size is ${config.vocabSize}`,
    );
  }
  return { dir: abs, config, weights, tokenizer };
}
