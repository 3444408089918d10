// Content hash of a model folder (the model half of the probe cache key). Hashing gigabytes of weights
// on every panel open would be slow, so each file's digest is remembered by (path, size, mtime) in the
// cache folder; a changed file gets re-read.
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { contentHash } from "./cache";
import { writeFileAtomic } from "../util/files";

/** Files that define a model's behaviour (weights, config, tokenizer, chat template). */
export function modelFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new Error(`cannot read model folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const keep = names.filter((n) => /\.(safetensors|json|jinja|model|txt)$/.test(n) && !n.startsWith("."));
  if (!keep.some((n) => n.endsWith(".safetensors")))
    throw new Error(`${dir}: no .safetensors weights in this model folder`);
  return keep.sort();
}

async function fileDigest(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
    signal?.throwIfAborted();
    h.update(chunk as Buffer);
  }
  return h.digest("hex");
}

type Memo = Record<string, { size: number; mtimeMs: number; sha256: string }>;

export async function modelContentHash(dir: string, memoFile?: string, signal?: AbortSignal): Promise<string> {
  let memo: Memo = {};
  if (memoFile && existsSync(memoFile)) {
    try {
      memo = JSON.parse(readFileSync(memoFile, "utf8")) as Memo;
    } catch {
      memo = {}; // a damaged memo only costs a re-hash
    }
  }
  const parts: string[] = [];
  let changed = false;
  for (const name of modelFiles(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    const m = memo[p];
    let sha = m && m.size === st.size && m.mtimeMs === st.mtimeMs ? m.sha256 : undefined;
    if (!sha) {
      sha = await fileDigest(p, signal);
      memo[p] = { size: st.size, mtimeMs: st.mtimeMs, sha256: sha };
      changed = true;
    }
    parts.push(name, sha);
  }
  if (memoFile && changed) writeFileAtomic(memoFile, JSON.stringify(memo));
  return contentHash(parts);
}
