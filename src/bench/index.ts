// `seat bench` / `npm run bench`: every figure is measured now, on this machine, and every comparison
// is a ratio against a peer measured in the same run. Each case runs in its own child process so peak
// RSS belongs to that case alone and one case's memory arena cannot speed up or slow down the next.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { checkTargets, type BenchReport } from "./report";
import { join, resolve } from "node:path";
import { tmpdir, cpus, loadavg } from "node:os";
import { runJsonChild, type ChildWatch } from "./stats";
import { trainEntry, generateEntry } from "./entries";
import {
  SCALE_TRAIN,
  SCALE_GENERATE,
  SCALE_PROBE,
  isScaleModel,
  scaleCaseKey,
  scaleFolder,
  memAvailableMb,
} from "./scale";
import { runScaleRows } from "./scaleRun";
import { benchOurProbe } from "./probe";
import { matmulCeiling } from "./ceiling";
import { benchOurTraining, modelHf, writeRandomModel, LLAMA_100M, type HfLlamaConfig } from "./train";
import { benchOurGeneration } from "./generate";
import { activationTime } from "./activation";
import { writeBenchDataset, benchValidation } from "./validation";

export const EMBEDDED_MODEL = "models/seat-tiny-world";

/** The embedded model's folder, checked; its config gives the peer the same shapes. */
export function embeddedSource(root: string): { hf: HfLlamaConfig; dir: string } {
  const dir = resolve(root, EMBEDDED_MODEL);
  if (!existsSync(join(dir, "config.json")))
    throw new Error(
      `${dir}/config.json is missing: the embedded model is needed for the benchmark (and as the tokenizer of the 100M model)`,
    );
  return { hf: modelHf(dir), dir };
}

/** The trainer's default mask ratio (mask.ratio), given to the peer so both update the same share. */
const SEAT_MASK_RATIO = 0.05;

export interface BenchPlan {
  quick: boolean;
  /** Run the real-shape rows alone (`--scale`); the full run includes them, `--quick` does not. */
  scale?: boolean;
  /** Real shapes to run (default all). */
  only?: string[];
  threads: number;
  root: string;
}

interface TrainShape {
  B: number;
  T: number;
  steps: number;
  warmup: number;
}

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
  if (isScaleModel(model)) return runScaleCase(kind, model, method, plan);
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
      return withModel((dir, hf) =>
        benchOurTraining({ modelDir: dir, hf, method: method as "seat" | "full", threads: plan.threads, ...shape }),
      );
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

/** The child side of a real-shape case: the fixture folder must exist (the orchestrator writes it). */
async function runScaleCase(
  kind: string,
  model: string,
  method: string | undefined,
  plan: BenchPlan,
): Promise<unknown> {
  if (!isScaleModel(model)) throw new Error(`unknown real-shape model '${model}'`);
  const dir = scaleFolder(plan.root, model);
  if (!existsSync(join(dir, ".fixture-version")))
    throw new Error(
      `${dir} is missing: write it with \`npx tsx scripts/real-shapes.ts\` (the full bench does this itself)`,
    );
  if (kind === "train") {
    const c = SCALE_TRAIN.find((x) => scaleCaseKey(x) === `${model}:${method}`);
    if (!c)
      throw new Error(
        `no real-shape training case '${model}:${method}' (known: ${SCALE_TRAIN.map(scaleCaseKey).join(", ")})`,
      );
    return benchOurTraining({
      modelDir: dir,
      hf: modelHf(dir),
      method: c.method,
      threads: plan.threads,
      B: c.B,
      T: c.T,
      steps: c.steps,
      warmup: c.warmup,
      recompute: c.recompute ?? false,
    });
  }
  if (kind === "generate" && model === SCALE_GENERATE.model)
    return benchOurGeneration({ modelDir: dir, threads: plan.threads, ...SCALE_GENERATE });
  if (kind === "probe" && model === SCALE_PROBE.model)
    return benchOurProbe({
      modelDir: dir,
      root: plan.root,
      threads: plan.threads,
      records: SCALE_PROBE.records,
      neighbours: SCALE_PROBE.neighbours,
    });
  throw new Error(`unknown benchmark case '${kind}:${model}${method ? `:${method}` : ""}'`);
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
export function torchEnv(threads: number, cpuFlags = readCpuFlags()): Record<string, string> {
  const core = process.env.OPENBLAS_CORETYPE ?? openBlasCoreFor(cpuFlags);
  return {
    OMP_WAIT_POLICY: "PASSIVE",
    OMP_NUM_THREADS: String(threads),
    OPENBLAS_NUM_THREADS: String(threads),
    ...(core ? { OPENBLAS_CORETYPE: core } : {}),
  };
}

/**
 * The OpenBLAS kernel family this CPU's instruction set supports. OpenBLAS picks its kernels from the
 * CPUID model number, and on a virtual CPU it does not know (measured: an "Intel(R) Xeon(R) Processor"
 * with AVX-512) it falls back to its generic Prescott (SSE3) kernels: a 512x2048x2048 product ran at
 * 17 GFLOP/s there against 88 with OPENBLAS_CORETYPE=SkylakeX, so the peer was crippled 5x. The flags
 * decide instead (onnxruntime's MLAS dispatches on them too). Undefined: leave OpenBLAS to choose.
 */
export function openBlasCoreFor(flags: ReadonlySet<string>): string | undefined {
  if (["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].every((f) => flags.has(f))) return "SkylakeX";
  if (flags.has("avx2") && flags.has("fma")) return "Haswell";
  if (flags.has("avx")) return "SandyBridge";
  return undefined;
}

function readCpuFlags(): Set<string> {
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    return new Set(m ? m[1]!.trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/** Runs one peer job; refuses a peer on the reference BLAS (a ratio against it would be meaningless). */
async function torchCase(
  plan: BenchPlan,
  job: Record<string, unknown>,
  signal?: AbortSignal,
  watch?: ChildWatch,
): Promise<any> {
  const out = await runJsonChild(
    python(),
    [join(plan.root, "bench", "torch_peer.py")],
    { threads: plan.threads, ...job },
    signal,
    torchEnv(plan.threads),
    watch,
  );
  if (typeof out.blas === "string" && /\/blas\/libblas\.so/.test(out.blas)) {
    throw new Error(
      `the PyTorch peer runs on the reference BLAS (${out.blas}), ~20x slower than an optimized one: install libopenblas0-pthread (Debian) so the comparison means something`,
    );
  }
  return out;
}

/** Orchestrates all cases, each in a child process; `self` is argv to re-run this CLI with `--case`. */
export async function runBench(
  plan: BenchPlan,
  self: string[],
  log: (line: string) => void,
  signal?: AbortSignal,
  checkpoint: (r: BenchReport) => void = () => {},
): Promise<BenchReport> {
  const s = shapes(plan);
  const report: BenchReport = {
    machine: {
      cpus: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      threads: plan.threads,
      node: process.version,
      quick: plan.quick,
      date: new Date().toISOString(),
      loadAverage: loadavg(),
      scale: Boolean(plan.scale) || !plan.quick,
      memAvailableMb: memAvailableMb(),
    },
    models: plan.scale
      ? {}
      : {
          embedded: `${EMBEDDED_MODEL} (the model shipped with the extension)`,
          "100m": "random weights, LLAMA_100M config (src/bench/train.ts)",
        },
    matmulCeilingGflops: null,
    train: {},
    generate: {},
    jsonl: null,
    activationMs: null,
    errors: {},
  };
  const ours = async (id: string, watch?: ChildWatch) => {
    log(`bench: ${id} …`);
    const args = [
      ...self,
      "bench",
      "--case",
      id,
      "--threads",
      String(plan.threads),
      ...(plan.quick ? ["--quick"] : []),
    ];
    return runJsonChild(args[0], args.slice(1), {}, signal, undefined, watch);
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

  if (!plan.scale) {
    await attempt("ceiling", async () => {
      const c = await ours("ceiling");
      report.matmulCeilingGflops = {
        best: c.bestGflops,
        median: c.medianGflops,
        perCpuSecond: c.cpuGflops,
        shape: c.shape,
      };
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
            const torch = await torchCase(
              plan,
              {
                kind: "train",
                config: hf,
                method,
                batch: our.shape.B,
                seq: our.shape.T,
                kl_seq: our.shape.Tk ?? our.shape.T,
                steps: shape.steps,
                warmup: shape.warmup,
                mask_ratio: SEAT_MASK_RATIO,
                kl_lambda: 1,
              },
              signal,
            );
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
          const torch = await torchCase(
            plan,
            {
              kind: "generate",
              config: hf,
              batch: s.gen.B,
              prompt: s.gen.promptLen,
              new_tokens: our.newTokens,
              steps: s.gen.reps,
              warmup: 1,
            },
            signal,
          );
          pairs.push({ our, torch });
        }
        report.generate[model] = generateEntry(model, s.gen, pairs);
      });
    }
    await attempt("jsonl", async () => {
      report.jsonl = await ours("jsonl");
    });
    await attempt("activation", async () => {
      report.activationMs = await ours("activation");
    });
  }
  if (plan.scale || !plan.quick) {
    await runScaleRows({
      root: plan.root,
      report,
      log,
      signal,
      maskRatio: SEAT_MASK_RATIO,
      checkpoint: () => checkpoint(report),
      ...(plan.only ? { only: plan.only } : {}),
      ours,
      peer: (job, watch) => torchCase(plan, job, signal, watch),
    });
  }
  report.targets = checkTargets(report);
  return report;
}

export { benchMarkdown, writeBenchReport, checkTargets, type BenchReport } from "./report";
