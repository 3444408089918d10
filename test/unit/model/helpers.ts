// Shared helpers for the model-layer tests: fixture paths, scratch copies of fixture folders (tests
// that damage a folder work on a copy), the real tokenizers from test/fixtures/models/tokenizers.
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { ModelTokenizer } from "../../../src/model/tokenizer";

export const FIXTURES = join(__dirname, "..", "..", "fixtures", "models");
export const LLAMA = join(FIXTURES, "tiny-llama");
export const QWEN2 = join(FIXTURES, "tiny-qwen2");

/** A scratch copy of a fixture folder, removed by the returned cleanup. */
export function scratchCopy(fixture: string): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "seat-model-test-"));
  const dir = join(root, "model");
  cpSync(fixture, dir, { recursive: true });
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function scratchDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "seat-model-test-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const realCache = new Map<string, ModelTokenizer>();
/** A real tokenizer shipped (gzip-compressed) under test/fixtures/models/tokenizers/<name>. */
export function realTokenizer(name: "sp-bpe-32k" | "qwen3" | "llama3"): ModelTokenizer {
  let t = realCache.get(name);
  if (!t) {
    const dir = join(FIXTURES, "tokenizers", name);
    t = new ModelTokenizer({
      tokenizerJson: JSON.parse(gunzipSync(readFileSync(join(dir, "tokenizer.json.gz"))).toString("utf8")),
      tokenizerConfig: JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
      origin: join(dir, "tokenizer.json"),
    });
    realCache.set(name, t);
  }
  return t;
}

export function rawVocab(name: "sp-bpe-32k" | "qwen3"): Record<string, number> {
  const dir = join(FIXTURES, "tokenizers", name);
  return JSON.parse(gunzipSync(readFileSync(join(dir, "tokenizer.json.gz"))).toString("utf8")).model.vocab;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
