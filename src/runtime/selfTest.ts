// `auto` chooses a GPU provider only after that provider, on this machine and driver, has run a small
// training step with the same result as the CPU and faster than it. The verdict is cached per machine,
// provider, onnxruntime version and driver set, in memory and on disk, so the test runs once.
import { readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import * as ort from "onnxruntime-node";
import * as E from "../engine";
import { driverFingerprint, webgpuAdapterKind } from "../platform/vulkanDrivers";
import { createSession, type Provider } from "./session";
import { readVerdicts, writeVerdict, type GpuVerdict } from "../platform/gpuVerdicts";

export type { GpuVerdict } from "../platform/gpuVerdicts";

type Gpu = Exclude<Provider, "auto" | "cpu">;
/** Results must agree this closely (fp32 on both sides; summation order differs). */
export const SELF_TEST_TOLERANCE = 1e-3;

const ortVersion = (): string => ort.env.versions?.node ?? "?";

function nvidiaDriver(): string {
  try {
    return readFileSync("/proc/driver/nvidia/version", "utf8").split("\n")[0]!.trim();
  } catch {
    return "";
  }
}

function libStamp(p: string): string {
  try {
    const s = statSync(p);
    return `${s.size}@${Math.round(s.mtimeMs)}`;
  } catch {
    return "";
  }
}

export function verdictKey(provider: Gpu, cudaLib?: string): string {
  const driver =
    provider === "webgpu" && process.platform === "linux"
      ? driverFingerprint()
      : provider === "cuda"
        ? `${nvidiaDriver()}|${cudaLib ? libStamp(cudaLib) : ""}`
        : "";
  return [hostname(), process.platform, process.arch, `ort ${ortVersion()}`, provider, driver].join("|");
}

const memo = new Map<string, Promise<GpuVerdict>>();

/** The cached verdict for `provider` on this machine, running the self-test the first time. */
export function gpuVerdict(provider: Gpu, cudaLib?: string): Promise<GpuVerdict> {
  const key = verdictKey(provider, cudaLib);
  let v = memo.get(key);
  if (!v) {
    v = (async () => {
      const stored = readVerdicts()[key];
      if (stored) return stored;
      const fresh = await selfTest(provider, key);
      if (fresh.relDiff !== undefined) writeVerdict(key, fresh); // a provider that did not start is retried next time
      return fresh;
    })();
    memo.set(key, v);
  }
  return v;
}

/** Two dense layers (B x D x D, tanh), squared error, AdamW: big enough that a working GPU must win. */
export function selfTestGraph(
  B = 256,
  D = 1024,
): {
  model: E.SerializedModel;
  step: E.TrainStep;
  feeds: Record<string, E.HostTensor>;
  init: Record<string, E.HostTensor>;
} {
  const g = new E.Graph("seat-gpu-self-test");
  const x = g.input("x", "float32", [B, D]);
  const y = g.input("y", "float32", [B, D]);
  const w1 = g.input("w1", "float32", [D, D]);
  const w2 = g.input("w2", "float32", [D, D]);
  const err = E.sub(E.matMul(E.tanh(E.matMul(x, w1)), w2), y);
  const step = E.trainStep(E.reduceMean(E.mul(err, err), [0, 1], false), [{ value: w1 }, { value: w2 }], {
    weightDecay: 0.01,
  });
  let seed = 12345;
  const rnd = (n: number, scale: number) =>
    Float32Array.from({ length: n }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed / 2 ** 32 - 0.5) * 2 * scale;
    });
  const feeds = {
    x: E.hostTensor("float32", [B, D], rnd(B * D, 1)),
    y: E.hostTensor("float32", [B, D], rnd(B * D, 1)),
  };
  const init = {
    w1: E.hostTensor("float32", [D, D], rnd(D * D, 1 / Math.sqrt(D))),
    w2: E.hostTensor("float32", [D, D], rnd(D * D, 1 / Math.sqrt(D))),
    ...E.initialOptimizerState(step),
  };
  return { model: E.toOnnx(g), step, feeds, init };
}

async function runSteps(
  provider: Exclude<Provider, "auto">,
  t: ReturnType<typeof selfTestGraph>,
  steps: number,
): Promise<{ losses: number[]; w2: Float32Array; ms: number }> {
  const s = await createSession(t.model, { provider, label: "GPU self-test", keepOnDevice: Object.keys(t.step.carry) });
  try {
    if (s.provider !== provider) throw new Error(s.fallbackReason ?? `${provider} did not start`);
    await s.setState(t.init);
    const losses: number[] = [];
    let best = Infinity;
    for (let i = 1; i <= steps; i++) {
      const t0 = performance.now();
      const out = await s.step(
        { ...t.feeds, lr: E.hostTensor("float32", [], [1e-3]), step: E.hostTensor("float32", [], [i]) },
        { carry: t.step.carry, fetch: [t.step.lossOutput] },
      );
      if (i > 1) best = Math.min(best, performance.now() - t0); // the first run compiles kernels
      losses.push(Number(out[t.step.lossOutput]!.data[0]));
    }
    const w2 = (await s.getState(["w2"])).w2!.data as Float32Array;
    return { losses, w2, ms: best };
  } finally {
    await s.release();
  }
}

/** `shape` and `allowSoftware` are for tests (a small graph, forced through on SwiftShader). */
export async function selfTest(
  provider: Gpu,
  key = verdictKey(provider),
  shape?: { B: number; D: number; allowSoftware?: boolean },
): Promise<GpuVerdict> {
  const at = new Date().toISOString();
  if (provider === "webgpu" && !shape?.allowSoftware) {
    const kind = webgpuAdapterKind();
    if (kind !== "hardware") {
      return {
        provider,
        ok: false,
        key,
        at,
        reason:
          kind === "software"
            ? "only a software Vulkan driver (SwiftShader/lavapipe) is installed; it runs ~100x slower than the CPU"
            : "no Vulkan driver is installed",
      };
    }
  }
  const t = selfTestGraph(shape?.B, shape?.D);
  let gpu;
  try {
    gpu = await runSteps(provider, t, 4);
  } catch (e) {
    return { provider, ok: false, key, at, reason: `self-test could not run (${(e as Error).message.split("\n")[0]})` };
  }
  const cpu = await runSteps("cpu", t, 4);
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-6);
  let relDiff = Math.max(...gpu.losses.map((l, i) => rel(l, cpu.losses[i]!)));
  let wScale = 0;
  for (const v of cpu.w2) wScale = Math.max(wScale, Math.abs(v));
  for (let i = 0; i < cpu.w2.length; i++) relDiff = Math.max(relDiff, Math.abs(gpu.w2[i]! - cpu.w2[i]!) / wScale);
  const numbers = { cpuStepMs: round(cpu.ms), gpuStepMs: round(gpu.ms), relDiff };
  if (!(relDiff <= SELF_TEST_TOLERANCE)) {
    return {
      provider,
      ok: false,
      key,
      at,
      ...numbers,
      reason: `self-test: a training step differs from the CPU's by ${relDiff.toExponential(2)} (more than ${SELF_TEST_TOLERANCE})`,
    };
  }
  if (!(gpu.ms < cpu.ms)) {
    return {
      provider,
      ok: false,
      key,
      at,
      ...numbers,
      reason: `self-test: a training step took ${numbers.gpuStepMs} ms, the CPU's ${numbers.cpuStepMs} ms`,
    };
  }
  return {
    provider,
    ok: true,
    key,
    at,
    ...numbers,
    reason: `self-test passed: ${numbers.gpuStepMs} ms per step vs CPU ${numbers.cpuStepMs} ms, results within ${relDiff.toExponential(1)}`,
  };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
