// What the Models view shows about a model folder, read cheaply: config.json and the safetensors
// headers (a few KiB each), never the weights. No vscode import: unit-tested directly.
import * as fs from "node:fs";
import * as path from "node:path";
// Leaf modules, not ../../model/index: that barrel reaches the runtime (onnxruntime-node), which must
// never load on the extension host.
import { loadConfig, type LlamaConfig } from "../../model/config";
import { readSafetensorsHeader, numel } from "../../model/safetensors";
import type { GpuVerdict } from "../../platform/gpuVerdicts";

export interface ModelInfo {
  dir: string;
  name: string;
  config?: LlamaConfig;
  /** Sum of the .safetensors file sizes. */
  bytes: number;
  params: number;
  /** Storage dtypes of the weights, most common first (e.g. ["BF16"]). */
  dtypes: string[];
  tokenizer: "tokenizer.json" | "missing";
  chatTemplate: boolean;
  /** Why the folder cannot be used, naming the file; undefined when it looks loadable. */
  error?: string;
}

export function isModelFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, "config.json"));
}

/** Expands each source: a model folder itself, or a folder whose subfolders are model folders. */
export function discoverModelFolders(sources: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (d: string) => {
    const key = path.resolve(d);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(key);
    }
  };
  for (const src of sources) {
    if (isModelFolder(src)) {
      add(src);
      continue;
    }
    let names: string[] = [];
    try {
      names = fs.readdirSync(src).sort();
    } catch {
      continue;
    }
    for (const n of names) if (isModelFolder(path.join(src, n))) add(path.join(src, n));
  }
  return out;
}

export function inspectModelFolder(dir: string): ModelInfo {
  const info: ModelInfo = { dir, name: path.basename(dir), bytes: 0, params: 0, dtypes: [], tokenizer: "missing", chatTemplate: false };
  try {
    info.config = loadConfig(dir);
  } catch (err) {
    info.error = err instanceof Error ? err.message : String(err);
    return info;
  }
  info.tokenizer = fs.existsSync(path.join(dir, "tokenizer.json")) ? "tokenizer.json" : "missing";
  info.chatTemplate = hasChatTemplate(dir);
  const shards = fs.readdirSync(dir).filter((f) => f.endsWith(".safetensors")).sort();
  if (shards.length === 0) {
    info.error = `${path.join(dir, "model.safetensors")}: no .safetensors weights in the folder`;
    return info;
  }
  const dtypeCount = new Map<string, number>();
  try {
    for (const shard of shards) {
      const file = path.join(dir, shard);
      info.bytes += fs.statSync(file).size;
      const header = readSafetensorsHeader(file);
      for (const t of header.tensors.values()) {
        const n = numel(t.shape);
        info.params += n;
        dtypeCount.set(t.dtype, (dtypeCount.get(t.dtype) ?? 0) + n);
      }
    }
  } catch (err) {
    info.error = err instanceof Error ? err.message : String(err);
  }
  info.dtypes = [...dtypeCount.entries()].sort((a, b) => b[1] - a[1]).map(([d]) => d);
  if (!info.error && info.tokenizer === "missing") info.error = `${path.join(dir, "tokenizer.json")}: missing (training needs the model's tokenizer)`;
  return info;
}

function hasChatTemplate(dir: string): boolean {
  if (fs.existsSync(path.join(dir, "chat_template.jinja"))) return true;
  try {
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
    return typeof cfg.chat_template === "string" || Array.isArray(cfg.chat_template);
  } catch {
    return false;
  }
}

/** "135M", "1.2B", "88K" */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(n >= 1e10 ? 0 : 1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}K`;
  return String(n);
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/**
 * Which execution providers this install can offer, judged from the onnxruntime binaries on disk
 * (the extension host never loads onnxruntime): cpu and webgpu are built into the binding; cuda needs
 * its provider libraries beside it (see SEAT: Set Up GPU Execution Provider).
 */
export function installedProviders(ortBinDir: string | undefined, platform = process.platform): string[] {
  const eps = ["cpu"];
  if (!ortBinDir || !fs.existsSync(ortBinDir)) return eps;
  const files = new Set(fs.readdirSync(ortBinDir));
  if (platform === "linux" || platform === "win32") eps.push("webgpu");
  if (platform === "win32") eps.push("dml");
  if (platform === "darwin") eps.push("coreml");
  // cuda needs both provider libraries (shared + cuda) beside the binding
  const lib = (n: string) => files.has(platform === "win32" ? `onnxruntime_providers_${n}.dll` : `libonnxruntime_providers_${n}.so`);
  if (lib("cuda") && lib("shared")) eps.push("cuda");
  return eps;
}

/**
 * What `auto` does here, from the installed GPU providers, the self-test verdicts the trainer cached
 * (src/runtime/verdictCache.ts) and the kind of Vulkan driver: "auto: webgpu (self-test passed: ...)"
 * or "auto: cpu (webgpu: ...; cuda: ...)".
 */
export function autoProviderText(gpus: readonly string[], verdicts: Record<string, GpuVerdict>, webgpuKind: "hardware" | "software" | "none"): string {
  const latest = new Map<string, GpuVerdict>();
  for (const v of Object.values(verdicts)) {
    const prev = latest.get(v.provider);
    if (!prev || prev.at < v.at) latest.set(v.provider, v);
  }
  const why: string[] = [];
  for (const p of gpus) {
    if (p === "webgpu" && webgpuKind !== "hardware") {
      why.push(webgpuKind === "software" ? "webgpu: only a software Vulkan driver (~100x slower than CPU)" : "webgpu: no Vulkan driver");
      continue;
    }
    const v = latest.get(p);
    if (v?.ok) return `auto: ${p} (${v.reason})`;
    why.push(v ? `${p}: ${v.reason}` : `${p}: not self-tested yet (the first training or inference session tests it)`);
  }
  return `auto: cpu (${why.join("; ") || "no GPU provider installed"})`;
}
