// `seat bench` / `npm run bench`: every figure is measured now, on this machine, and every comparison
// is a ratio against a peer measured in the same run. Each case runs in its own child process so peak
// RSS belongs to that case alone and one case's memory arena cannot speed up or slow down the next.
import { existsSync, mkdirSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { tmpdir, cpus } from "node:os";
import { runJsonChild } from "./stats";
import { matmulCeiling } from "./ceiling";
import { benchOurTraining, modelHf, writeRandomModel, LLAMA_100M, type HfLlamaConfig } from "./train";
import { benchOurGeneration } from "./generate";
import { activationTime } from "./activation";
import { writeBenchDataset, benchValidation } from "../data/bench";

export const EMBEDDED_MODEL = "models/seat-tiny-world";

export interface BenchPlan {
  quick: boolean;
  threads: number;
  root: string;
}

interface TrainShape { B: number; T: number; steps: number; warmup: number }

function shapes(plan: BenchPlan) {
  return {
    embedded: { B: 8, T: 64, steps: plan.quick ? 4 : 10, warmup: 2 } as TrainShape,
    big: { B: 4, T: 128, steps: 3, warmup: 2 } as TrainShape,
    gen: { B: 4, promptLen: 24, newTokens: plan.quick ? 16 : 48, reps: plan.quick ? 2 : 4 },
    jsonlLines: plan.quick ? 100_000 : 1_000_000,
  };
}

/** Runs one case in this process and returns its JSON result (the child side of `--case`). */
export async function runCase(id: string, plan: BenchPlan): Promise<unknown> {
  const s = shapes(plan);
  const [kind, model, method] = id.split(":");
  const embedded = resolve(plan.root, EMBEDDED_MODEL);
  const withModel = async <T>(fn: (dir: string, hf: HfLlamaConfig) => Promise<T>): Promise<T> => {
    if (model === "embedded") return fn(embedded, modelHf(embedded));
    const dir = mkdtempSync(join(tmpdir(), "seat-bench-model-"));
    try {
      writeRandomModel(dir, LLAMA_100M, embedded);
      return await fn(dir, LLAMA_100M);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  switch (kind) {
    case "ceiling":
      return matmulCeiling({ threads: plan.threads, reps: plan.quick ? 5 : 15 });
    case "train": {
      const shape = model === "embedded" ? s.embedded : s.big;
      return withModel((dir, hf) => benchOurTraining({ modelDir: dir, hf, method: method as "seat" | "full", threads: plan.threads, ...shape }));
    }
    case "generate":
      return withModel((dir) => benchOurGeneration({ modelDir: dir, threads: plan.threads, ...s.gen }));
    case "jsonl": {
      const dir = mkdtempSync(join(tmpdir(), "seat-bench-jsonl-"));
      try {
        const file = join(dir, "bench.jsonl");
        await writeBenchDataset(file, s.jsonlLines);
        return await benchValidation(file);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    case "activation":
      return activationTime(plan.root, plan.quick ? 3 : 7);
    default:
      throw new Error(`unknown benchmark case '${id}'`);
  }
}

function python(): string {
  return existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
}

async function torchCase(plan: BenchPlan, job: Record<string, unknown>): Promise<any> {
  return runJsonChild(python(), [join(plan.root, "bench", "torch_peer.py")], { threads: plan.threads, ...job });
}

export interface BenchReport {
  machine: { cpus: string; cores: number; threads: number; node: string; quick: boolean; date: string };
  matmulCeilingGflops: { best: number; median: number; shape: number[] } | null;
  train: Record<string, any>;
  generate: Record<string, any>;
  jsonl: any;
  activationMs: any;
  errors: Record<string, string>;
}

/** Orchestrates all cases, each in a child process; `self` is argv to re-run this CLI with `--case`. */
export async function runBench(plan: BenchPlan, self: string[], log: (line: string) => void, signal?: AbortSignal): Promise<BenchReport> {
  const s = shapes(plan);
  const report: BenchReport = {
    machine: { cpus: cpus()[0]?.model ?? "unknown", cores: cpus().length, threads: plan.threads, node: process.version, quick: plan.quick, date: new Date().toISOString() },
    matmulCeilingGflops: null, train: {}, generate: {}, jsonl: null, activationMs: null, errors: {},
  };
  const ours = async (id: string) => {
    log(`bench: ${id} …`);
    const args = [...self, "bench", "--case", id, "--threads", String(plan.threads), ...(plan.quick ? ["--quick"] : [])];
    return runJsonChild(args[0], args.slice(1), {}, signal);
  };
  const attempt = async (key: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      if (signal?.aborted) throw e;
      report.errors[key] = (e as Error).message;
      log(`bench: ${key} failed: ${(e as Error).message.split("\n")[0]}`);
    }
  };

  await attempt("ceiling", async () => {
    const c = await ours("ceiling");
    report.matmulCeilingGflops = { best: c.bestGflops, median: c.medianGflops, shape: c.shape };
  });
  const models = plan.quick ? ["embedded"] : ["embedded", "100m"];
  for (const model of models) {
    const shape = model === "embedded" ? s.embedded : s.big;
    const hf = model === "embedded" ? modelHf(resolve(plan.root, EMBEDDED_MODEL)) : LLAMA_100M;
    for (const method of ["seat", "full"]) {
      const key = `${model}:${method}`;
      await attempt(`train:${key}`, async () => {
        const our = await ours(`train:${model}:${method}`);
        const entry: any = { model, method, batch: shape.B, seq: shape.T, ours: our };
        report.train[key] = entry;
        log(`bench: torch train ${key} …`);
        const torch = await torchCase(plan, { kind: "train", config: hf, method, batch: shape.B, seq: shape.T, steps: shape.steps, warmup: shape.warmup, mask_ratio: 0.01, kl_lambda: 1 });
        const flopsPerStep = our.gflops * our.stepSeconds;
        entry.torch = { ...torch, gflops: flopsPerStep / torch.stepSeconds };
        entry.ratioVsTorch = our.tokensPerSec / torch.tokensPerSec;
        if (report.matmulCeilingGflops) entry.ceilingFraction = our.gflops / report.matmulCeilingGflops.median;
      });
    }
    await attempt(`generate:${model}`, async () => {
      const our = await ours(`generate:${model}`);
      const entry: any = { model, batch: s.gen.B, prompt: s.gen.promptLen, newTokens: s.gen.newTokens, ours: our };
      report.generate[model] = entry;
      log(`bench: torch generate ${model} …`);
      const torch = await torchCase(plan, { kind: "generate", config: hf, batch: s.gen.B, prompt: s.gen.promptLen, new_tokens: s.gen.newTokens, steps: s.gen.reps, warmup: 1 });
      entry.torch = torch;
      entry.ratioVsTorch = our.tokensPerSec / torch.tokensPerSec;
    });
  }
  await attempt("jsonl", async () => { report.jsonl = await ours("jsonl"); });
  await attempt("activation", async () => { report.activationMs = await ours("activation"); });
  return report;
}

const f = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(d));

/** The markdown table the README shows. */
export function benchMarkdown(r: BenchReport): string {
  const lines = [
    `Measured ${r.machine.date.slice(0, 10)} on ${r.machine.cores} × ${r.machine.cpus}, ${r.machine.threads} threads, Node ${r.machine.node}${r.machine.quick ? " (--quick)" : ""}.`,
    "",
    `MatMul ceiling (fp32 ${r.matmulCeilingGflops?.shape.join("×") ?? "?"} through onnxruntime): median ${f(r.matmulCeilingGflops?.median)} GFLOP/s, best ${f(r.matmulCeilingGflops?.best)}.`,
    "",
    "| training step | batch×seq | ours tok/s | PyTorch tok/s | ours/PyTorch | ours GFLOP/s | of ceiling | ours peak RSS MB | PyTorch peak RSS MB |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [key, e] of Object.entries(r.train)) {
    lines.push(`| ${key} | ${e.batch}×${e.seq} | ${f(e.ours?.tokensPerSec, 0)} | ${f(e.torch?.tokensPerSec, 0)} | ${f(e.ratioVsTorch, 2)}× | ${f(e.ours?.gflops)} | ${e.ceilingFraction === undefined ? "–" : (100 * e.ceilingFraction).toFixed(0) + "%"} | ${f(e.ours?.peakRssMb, 0)} | ${f(e.torch?.peakRssMb, 0)} |`);
  }
  lines.push("", "| generation (KV cache, greedy) | batch, prompt → new | ours tok/s | PyTorch tok/s | ours/PyTorch |", "|---|---|---|---|---|");
  for (const [key, e] of Object.entries(r.generate)) {
    lines.push(`| ${key} | ${e.batch}, ${e.prompt} → ${e.newTokens} | ${f(e.ours?.tokensPerSec, 0)} | ${f(e.torch?.tokensPerSec, 0)} | ${f(e.ratioVsTorch, 2)}× |`);
  }
  if (r.jsonl) {
    lines.push("", `JSONL validation: ${r.jsonl.lines.toLocaleString("en")} lines, ${(r.jsonl.bytes / 1e6).toFixed(0)} MB at ${f(r.jsonl.mbPerSec)} MB/s, peak RSS ${f(r.jsonl.peakRssBytes / 2 ** 20, 0)} MB (start ${f(r.jsonl.startRssBytes / 2 ** 20, 0)} MB).`);
  }
  if (r.activationMs) {
    lines.push("", `Extension activation (require + activate() of dist/extension.js, stub host): median ${f(r.activationMs.medianMs)} ms over ${r.activationMs.reps} runs.`);
  }
  for (const [k, e] of Object.entries(r.errors)) lines.push("", `**${k} failed:** ${e.split("\n")[0]}`);
  return lines.join("\n") + "\n";
}

export function writeBenchReport(r: BenchReport, dir: string): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "latest.json");
  const md = join(dir, "latest.md");
  writeFileSync(json, JSON.stringify(r, null, 2) + "\n");
  writeFileSync(md, benchMarkdown(r));
  return { json, md };
}
