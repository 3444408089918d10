// `seat bench` / `npm run bench`: every figure is measured now, on this machine, and every comparison
// is a ratio against a peer measured in the same run. Each case runs in its own child process so peak
// RSS belongs to that case alone and one case's memory arena cannot speed up or slow down the next.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { checkTargets, type BenchReport, type TrainEntry, type GenerateEntry } from "./report";
import { join, resolve } from "node:path";
import { tmpdir, cpus, loadavg } from "node:os";
import { runJsonChild, median } from "./stats";
import { matmulCeiling } from "./ceiling";
import { benchOurTraining, modelHf, writeRandomModel, LLAMA_100M, type HfLlamaConfig } from "./train";
import { benchOurGeneration } from "./generate";
import { activationTime } from "./activation";
import { writeBenchDataset, benchValidation } from "../data/bench";

export const EMBEDDED_MODEL = "models/seat-tiny-world";

/** The embedded model's folder, checked; its config gives the peer the same shapes. */
export function embeddedSource(root: string): { hf: HfLlamaConfig; dir: string } {
  const dir = resolve(root, EMBEDDED_MODEL);
  if (!existsSync(join(dir, "config.json"))) throw new Error(`${dir}/config.json is missing: the embedded model is needed for the benchmark (and as the tokenizer of the 100M model)`);
  return { hf: modelHf(dir), dir };
}

/** The trainer's default mask ratio (mask.ratio), given to the peer so both update the same share. */
const SEAT_MASK_RATIO = 0.05;

export interface BenchPlan {
  quick: boolean;
  threads: number;
  root: string;
}

interface TrainShape { B: number; T: number; steps: number; warmup: number }

function shapes(plan: BenchPlan) {
  return {
    embedded: { B: 8, T: 64, steps: plan.quick ? 4 : 10, warmup: 2 } as TrainShape,
    // 4 x 64 keeps a 100M SEAT step (~0.35 TFLOP with the perturbed copy) to seconds on 2 cores
    big: { B: 4, T: 64, steps: 3, warmup: 1 } as TrainShape,
    gen: { B: 4, promptLen: 24, newTokens: plan.quick ? 16 : 48, reps: plan.quick ? 2 : 4 },
    jsonlLines: plan.quick ? 100_000 : 1_000_000,
  };
}

/** Runs one case in this process and returns its JSON result (the child side of `--case`). */
export async function runCase(id: string, plan: BenchPlan): Promise<unknown> {
  const s = shapes(plan);
  const [kind, model, method] = id.split(":");
  const withModel = async <T>(fn: (dir: string, hf: HfLlamaConfig) => Promise<T>): Promise<T> => {
    const embedded = embeddedSource(plan.root);
    if (model === "embedded") return fn(embedded.dir, embedded.hf);
    const dir = mkdtempSync(join(tmpdir(), "seat-bench-model-"));
    try {
      writeRandomModel(dir, LLAMA_100M, embedded.dir);
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
        // one thread first, as the comparison row measured on the same file in the same process
        const sequential = await benchValidation(file, { threads: 1 });
        return { ...(await benchValidation(file, { threads: plan.threads })), sequential };
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

/**
 * The peer's threading matches ours: `threads` workers that sleep instead of spinning when idle (ours
 * run with onnxruntime's spinning off). With libgomp's default active wait, two spinning OpenMP
 * threads on this oversubscribed 2-core machine made a step 15-25x slower (measured: 2.2 s vs 0.13 s
 * for embedded:full), which would turn the ratio into a measure of the neighbours.
 */
export function torchEnv(threads: number): Record<string, string> {
  return { OMP_WAIT_POLICY: "PASSIVE", OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
}

/** Runs one peer job; refuses a peer on the reference BLAS (a ratio against it would be meaningless). */
async function torchCase(plan: BenchPlan, job: Record<string, unknown>, signal?: AbortSignal): Promise<any> {
  const out = await runJsonChild(python(), [join(plan.root, "bench", "torch_peer.py")], { threads: plan.threads, ...job }, signal, torchEnv(plan.threads));
  if (typeof out.blas === "string" && /\/blas\/libblas\.so/.test(out.blas)) {
    throw new Error(`the PyTorch peer runs on the reference BLAS (${out.blas}), ~20x slower than an optimized one: install libopenblas0-pthread (Debian) so the comparison means something`);
  }
  return out;
}

/** Orchestrates all cases, each in a child process; `self` is argv to re-run this CLI with `--case`. */
export async function runBench(plan: BenchPlan, self: string[], log: (line: string) => void, signal?: AbortSignal): Promise<BenchReport> {
  const s = shapes(plan);
  const report: BenchReport = {
    machine: { cpus: cpus()[0]?.model ?? "unknown", cores: cpus().length, threads: plan.threads, node: process.version, quick: plan.quick, date: new Date().toISOString(), loadAverage: loadavg() },
    models: { embedded: `${EMBEDDED_MODEL} (the model shipped with the extension)`, "100m": "random weights, LLAMA_100M config (src/bench/train.ts)" },
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
    report.matmulCeilingGflops = { best: c.bestGflops, median: c.medianGflops, perCpuSecond: c.cpuGflops, shape: c.shape };
    // the same product through the peer's BLAS: where the kernels themselves differ
    const p = await torchCase(plan, { kind: "matmul", shape: c.shape, reps: plan.quick ? 5 : 15 }, signal);
    report.matmulCeilingGflops.peer = { median: p.medianGflops, best: p.bestGflops, perCpuSecond: p.cpuGflops };
  });
  // Ours and the peer alternate, round after round: the neighbours' load drifts over minutes, so a
  // pair measured back to back shares it; the reported ratio is the median of the per-round ratios.
  const rounds = plan.quick ? 1 : 2;
  const models = plan.quick ? ["embedded"] : ["embedded", "100m"];
  for (const model of models) {
    const shape = model === "embedded" ? s.embedded : s.big;
    const hf = model === "embedded" ? embeddedSource(plan.root).hf : LLAMA_100M;
    for (const method of ["seat", "full"]) {
      const key = `${model}:${method}`;
      await attempt(`train:${key}`, async () => {
        const pairs: { our: any; torch: any }[] = [];
        for (let round = 0; round < rounds; round++) {
          const our = await ours(`train:${model}:${method}`);
          log(`bench: torch train ${key} …`);
          // the peer runs the shapes our trainer actually padded to (see src/bench/train.ts)
          const torch = await torchCase(plan, {
            kind: "train", config: hf, method, batch: our.shape.B, seq: our.shape.T, kl_seq: our.shape.Tk ?? our.shape.T,
            steps: shape.steps, warmup: shape.warmup, mask_ratio: SEAT_MASK_RATIO, kl_lambda: 1,
          }, signal);
          pairs.push({ our, torch });
        }
        report.train[key] = trainEntry(model, method, pairs, report.matmulCeilingGflops);
      });
    }
    await attempt(`generate:${model}`, async () => {
      const pairs: { our: any; torch: any }[] = [];
      for (let round = 0; round < rounds; round++) {
        const our = await ours(`generate:${model}`);
        log(`bench: torch generate ${model} …`);
        const torch = await torchCase(plan, { kind: "generate", config: hf, batch: s.gen.B, prompt: s.gen.promptLen, new_tokens: our.newTokens, steps: s.gen.reps, warmup: 1 }, signal);
        pairs.push({ our, torch });
      }
      report.generate[model] = generateEntry(model, s.gen, pairs);
    });
  }
  await attempt("jsonl", async () => { report.jsonl = await ours("jsonl"); });
  await attempt("activation", async () => { report.activationMs = await ours("activation"); });
  report.targets = checkTargets(report);
  return report;
}

/** Medians over rounds: per-side figures, and the ratio as the median of per-round ratios. */
function trainEntry(model: string, method: string, pairs: { our: any; torch: any }[], ceiling: BenchReport["matmulCeilingGflops"]): TrainEntry {
  const last = pairs[pairs.length - 1];
  const med = (f: (p: { our: any; torch: any }) => number) => median(pairs.map(f));
  const ours = { ...last.our, stepSeconds: med((p) => p.our.stepSeconds), stepCpuSeconds: med((p) => p.our.stepCpuSeconds), tokensPerSec: med((p) => p.our.tokensPerSec), gflops: med((p) => p.our.gflops), peakRssMb: Math.max(...pairs.map((p) => p.our.peakRssMb)) };
  const flops = last.our.flops.total as number;
  const torch = { ...last.torch, stepSeconds: med((p) => p.torch.stepSeconds), stepCpuSeconds: med((p) => p.torch.stepCpuSeconds), tokensPerSec: med((p) => p.torch.tokensPerSec), peakRssMb: Math.max(...pairs.map((p) => p.torch.peakRssMb)) };
  torch.gflops = flops / torch.stepSeconds / 1e9;
  const entry: TrainEntry = {
    model, method, batch: last.our.shape.B, seq: last.our.shape.T, ours, torch,
    ratioVsTorch: med((p) => p.our.tokensPerSec / p.torch.tokensPerSec),
    cpuRatioVsTorch: med((p) => p.torch.stepCpuSeconds / p.our.stepCpuSeconds),
    rounds: pairs.map((p) => ({ ours: p.our.tokensPerSec, torch: p.torch.tokensPerSec, oursCpuSeconds: p.our.stepCpuSeconds, torchCpuSeconds: p.torch.stepCpuSeconds })),
  };
  if (last.our.shape.Tk) entry.klSeq = last.our.shape.Tk;
  if (ceiling) {
    entry.ceilingFraction = ours.gflops / ceiling.median;
    if (ceiling.perCpuSecond) entry.cpuCeilingFraction = flops / ours.stepCpuSeconds / 1e9 / ceiling.perCpuSecond;
  }
  return entry;
}

function generateEntry(model: string, gen: { B: number; promptLen: number }, pairs: { our: any; torch: any }[]): GenerateEntry {
  const last = pairs[pairs.length - 1];
  const med = (f: (p: { our: any; torch: any }) => number) => median(pairs.map(f));
  return {
    model, batch: gen.B, prompt: gen.promptLen, newTokens: last.our.newTokens,
    ours: { ...last.our, seconds: med((p) => p.our.seconds), cpuSeconds: med((p) => p.our.cpuSeconds), tokensPerSec: med((p) => p.our.tokensPerSec) },
    torch: { ...last.torch, seconds: med((p) => p.torch.seconds), cpuSeconds: med((p) => p.torch.cpuSeconds), tokensPerSec: med((p) => p.torch.tokensPerSec) },
    ratioVsTorch: med((p) => p.our.tokensPerSec / p.torch.tokensPerSec),
    cpuRatioVsTorch: med((p) => p.torch.cpuSeconds / p.our.cpuSeconds),
  };
}

export { benchMarkdown, writeBenchReport, checkTargets, type BenchReport } from "./report";
