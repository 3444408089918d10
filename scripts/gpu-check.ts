// One GPU check (run through scripts/gpu-check.sh): which adapters and providers this machine has,
// then a few SEAT and full fine-tuning steps per GPU provider against the same steps on the CPU: loss
// difference, step time, tokens/s, the nodes onnxruntime put on the CPU, where the training state
// lived, device memory (nvidia-smi, where present). Writes gpu-check.json and gpu-check.md.
//   --software   no-GPU mode (CI): WebGPU on SwiftShader, the embedded model, SEAT only
//   --out DIR    where the reports (and, with --keep, the run folders) go (default .cache/gpu-check)
//   --steps N    optimizer steps per run (default 3)
// Each GPU provider whose kernels run float16 (a one-Add probe: SwiftShader has no shader-f16) also
// runs every case with --precision fp16; its loss difference is against the same CPU fp32 run.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { builtProviders, halfPrecisionProblem, vulkanDrivers, webgpuAdapterKind } from "../src/runtime";
import { resolveConfig, train } from "../src/seat/index";
import type { TrainEvent } from "../src/protocol/events";
import { EMBEDDED_MODEL_DIR } from "../src/world/paths";
import { ensureRealShape } from "../test/fixtures/realShapes";

type Gpu = "webgpu" | "cuda";
interface Row {
  model: string;
  method: string;
  provider: string;
  precision: "fp32" | "fp16";
  ok: boolean;
  error?: string;
  losses: number[];
  maxRelLossDiff?: number;
  stepSeconds?: number;
  tokensPerSec?: number;
  fallbacks: string[];
  residency?: string;
  deviceMemoryMiB?: number;
  runDir: string;
}

const args = process.argv.slice(2);
const flag = (n: string) => args.includes(n);
const value = (n: string, d: string) => {
  const i = args.indexOf(n);
  return i >= 0 && args[i + 1] ? args[i + 1]! : d;
};
const software = flag("--software");
const out = resolve(value("--out", ".cache/gpu-check"));
const steps = Number(value("--steps", "3"));
const DATA = resolve("examples/new-people/train.jsonl");

function nvidiaSmi(query: string): string | undefined {
  try {
    return execFileSync("nvidia-smi", [`--query-gpu=${query}`, "--format=csv,noheader,nounits"], {
      encoding: "utf8",
      timeout: 10_000,
    }).trim();
  } catch {
    return undefined;
  }
}

async function runOnce(
  model: string,
  method: string,
  provider: "cpu" | Gpu,
  dir: string,
  precision: Row["precision"] = "fp32",
): Promise<Row> {
  const events: TrainEvent[] = [];
  const row: Row = { model, method, provider, precision, ok: false, losses: [], fallbacks: [], runDir: dir };
  let peakMem = 0;
  try {
    const c = resolveConfig([
      {
        source: "gpu-check",
        layer: {
          model,
          dataset: dataFile,
          outDir: dir,
          method,
          train: { maxSteps: steps, batchSize: 2, maxSeqLen: 48 },
          kl: { maxResponseTokens: 8 },
          eval: { samples: 1, everySteps: steps },
          checkpoint: { everySteps: 0 },
          device: { provider, precision },
        },
      },
    ]).config;
    await train(c, {
      onEvent: (e) => {
        events.push(e);
        if (e.type === "step" && provider === "cuda")
          peakMem = Math.max(peakMem, Number(nvidiaSmi("memory.used")?.split("\n")[0] ?? 0));
      },
    });
    row.ok = true;
  } catch (e) {
    row.error = (e as Error).message.split("\n")[0];
  }
  const st = events.filter((e) => e.type === "step");
  row.losses = st.map((e) => ("loss" in e ? e.loss : NaN));
  const last = st[st.length - 1];
  if (last && "tokensPerSec" in last) row.tokensPerSec = Math.round(last.tokensPerSec * 10) / 10;
  const logs = events.filter((e) => e.type === "log").map((e) => ("message" in e ? String(e.message) : ""));
  row.fallbacks = logs.filter((l) => /nodes fell back to CPU/.test(l));
  row.residency = logs.find((l) => l.startsWith("training state on"));
  if (peakMem) row.deviceMemoryMiB = peakMem;
  try {
    const s = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as { meanStepSeconds?: number };
    if (s.meanStepSeconds) row.stepSeconds = Math.round(s.meanStepSeconds * 1000) / 1000;
  } catch {
    /* the run failed before its summary */
  }
  return row;
}

// A small slice of the example dataset: the check measures steps, not learning.
const dataFile = join(out, "data.jsonl");

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  writeFileSync(dataFile, readFileSync(DATA, "utf8").split("\n").filter(Boolean).slice(0, 4).join("\n") + "\n");
  const built = builtProviders();
  const gpus: Gpu[] = (software ? ["webgpu"] : ["webgpu", "cuda"]).filter((p) => built.includes(p)) as Gpu[];
  // float16 on each GPU provider: measured once, so the fp16 rows run only where they can
  const fp16: Record<string, string> = {};
  for (const p of gpus) fp16[p] = (await halfPrecisionProblem(p, "float16")) ?? "yes";
  const machine = {
    providersBuilt: built,
    fp16,
    webgpuAdapter: webgpuAdapterKind(),
    vulkanDrivers: vulkanDrivers().map((d) => d.library),
    nvidia: nvidiaSmi("name,driver_version,memory.total"),
    mode: software ? "software adapter (no GPU)" : "hardware",
  };
  const models: [string, string][] = [["embedded", EMBEDDED_MODEL_DIR]];
  if (!software) models.push(["qwen2.5-0.5b", ensureRealShape("qwen2.5-0.5b")]);
  const methods = software ? ["seat"] : ["seat", "full"];
  const rows: Row[] = [];
  for (const [name, dir] of models) {
    for (const method of methods) {
      const cpu = await runOnce(dir, method, "cpu", join(out, "runs", `${name}-${method}-cpu`));
      rows.push({ ...cpu, model: name });
      for (const p of gpus) {
        for (const precision of fp16[p] === "yes" ? (["fp32", "fp16"] as const) : (["fp32"] as const)) {
          const tag = precision === "fp32" ? p : `${p}-fp16`;
          const g = await runOnce(dir, method, p, join(out, "runs", `${name}-${method}-${tag}`), precision);
          if (g.losses.length && cpu.losses.length) {
            g.maxRelLossDiff = Math.max(
              ...g.losses.map((l, i) => Math.abs(l - cpu.losses[i]!) / Math.abs(cpu.losses[i]!)),
            );
          }
          rows.push({ ...g, model: name });
        }
      }
    }
  }
  const report = { at: new Date().toISOString(), machine, steps, rows };
  writeFileSync(join(out, "gpu-check.json"), JSON.stringify(report, null, 2) + "\n");
  const md = markdown(report);
  writeFileSync(join(out, "gpu-check.md"), md);
  process.stdout.write(md);
  if (!flag("--keep")) rmSync(join(out, "runs"), { recursive: true, force: true });
  if (rows.some((r) => !r.ok)) process.exitCode = 1;
}

function markdown(r: { at: string; machine: Record<string, unknown>; steps: number; rows: Row[] }): string {
  const m = r.machine;
  const lines = [
    `GPU check ${r.at} (${m.mode}): providers ${String(m.providersBuilt)}; WebGPU adapter ${String(m.webgpuAdapter)} (${(m.vulkanDrivers as string[]).join(", ") || "no Vulkan driver"}); NVIDIA ${m.nvidia ?? "none"}; ${r.steps} steps each`,
    `fp16 kernels: ${
      Object.entries(m.fp16 as Record<string, string>)
        .map(([p, v]) => `${p} ${v}`)
        .join("; ") || "no GPU provider"
    }`,
    "",
    "| model | method | provider | precision | losses | max rel. loss diff vs CPU (fp32) | s/step | tok/s | CPU fallback nodes | training state | device MiB |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const x of r.rows) {
    const fb =
      x.provider === "cpu"
        ? "-"
        : x.fallbacks.length
          ? x.fallbacks.map((f) => f.replace(/^onnxruntime: /, "")).join("<br>")
          : "none";
    lines.push(
      `| ${x.model} | ${x.method} | ${x.provider}${x.ok ? "" : ` (failed: ${x.error})`} | ${x.precision} | ${x.losses.map((l) => l.toFixed(4)).join(", ")} | ${x.maxRelLossDiff?.toExponential(2) ?? "-"} | ${x.stepSeconds ?? "-"} | ${x.tokensPerSec ?? "-"} | ${fb} | ${x.residency?.replace(/^training state on \w+: /, "") ?? "-"} | ${x.deviceMemoryMiB ?? "-"} |`,
    );
  }
  return lines.join("\n") + "\n";
}

main().catch((e) => {
  console.error(`gpu-check: ${(e as Error).message}`);
  process.exit(1);
});
