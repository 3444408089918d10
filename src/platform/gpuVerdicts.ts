// Where GPU self-test verdicts are kept (one JSON file per user, keyed by machine, provider,
// onnxruntime version and driver). A leaf module without onnxruntime: the extension host reads it to
// say in the Models view why `auto` runs on the CPU or the GPU.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface GpuVerdict {
  provider: string;
  ok: boolean;
  /** Why it is (not) used, for the Models view and the run log. */
  reason: string;
  cpuStepMs?: number;
  gpuStepMs?: number;
  /** Largest relative difference of the losses and updated weights from the CPU run. */
  relDiff?: number;
  key: string;
  at: string;
}

export const VERDICT_CACHE_ENV = "SEAT_GPU_VERDICT_CACHE";

export function verdictCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  const set = env[VERDICT_CACHE_ENV];
  if (set) return set;
  return join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "seat-tuner", "gpu-verdicts.json");
}

export function readVerdicts(file = verdictCacheFile()): Record<string, GpuVerdict> {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, GpuVerdict>;
  } catch {
    return {};
  }
}

export function writeVerdict(key: string, v: GpuVerdict, file = verdictCacheFile()): void {
  try {
    const all = existsSync(file) ? readVerdicts(file) : {};
    all[key] = v;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(all, null, 2) + "\n");
  } catch {
    // an unwritable cache only means the test runs again next time
  }
}
