// `seat demo`: the whole story on the embedded model in minutes. Fine-tune the base model on an example
// dataset with each method, probe every model (facts learned? still abstains on look-alike and
// held-out unknowns?), print a table and write runs/demo/report.json + report.html. Every run is a job;
// the jobs of all example sets share the cores (runDemoSets), one per core on worker threads.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { reportToHtml, reportToJson } from "../presentation/index";
import {
  loadAbstentionLists,
  probeDataset,
  runtimeProbeLoader,
  type AbstentionRates,
  type ProbeModelLoader,
  type ProbeReport,
  type RunComparison,
} from "../eval/index";
import type { TrainEvent } from "../protocol/events";
import {
  methodParts,
  prefetchKlTeacher,
  resolveConfig,
  seedTeacherCache,
  train,
  type ConfigLayer,
  type Method,
  type SeatConfig,
} from "../seat/index";
import { workerScript } from "../util/workerScript";

export const DEMO_METHODS: readonly Method[] = ["full", "lora", "sparse", "full+kl", "seat", "ewc", "replay"];

/**
 * Settings shared by every method of the demo (each method's own preset still sets its learning rate):
 * the same data, epochs, batch and seed, so the table compares methods and nothing else.
 */
const DEMO_TRAIN = { epochs: 12, batchSize: 8, maxSeqLen: 48, seed: 0 };
export const DEMO_TRAINING: ConfigLayer = {
  train: DEMO_TRAIN,
  // One schedule for every method: seat and sparse decay theirs by default (their preset), measured
  // for runs long enough to learn their facts; over the demo's 12 epochs the decay halves their mean
  // step (contract-register SEAT FT 0.39 -> 0.15, new-people IDK-SM 0.98 -> 0.92; SWEEP.md).
  optim: { schedule: "constant" },
  checkpoint: { everySteps: 0, keep: 1 },
  eval: { everySteps: 0, samples: 0 },
};

/**
 * Learning rates of the demo, measured on the embedded model with examples/new-people (12 epochs, batch
 * 8): each is the rate at which that parametrisation learns the 60 new facts (FT score 1.0), so the
 * table compares what each method does to abstention, not whether it learned. Dense updates: 3e-4
 * (1e-4 left FT at 0.73); LoRA r=8: 3e-3; SEAT's random mask: 3e-3 at its default ratio 0.2 (at the
 * earlier 0.05, 1e-2; 1e-3 left FT at 0.10). See src/seat/SWEEP.md.
 */
export const DEMO_LEARNING_RATES: Record<Method, number> = {
  full: 3e-4,
  "full+kl": 3e-4,
  ewc: 3e-4,
  replay: 3e-4,
  lora: 3e-3,
  sparse: 3e-3,
  seat: 3e-3,
};

/**
 * The harder example set (examples/contract-register, 320 records of up to 55 tokens): longer sequences,
 * the same epochs, batch and seed, so its table compares the methods under the first table's recipe.
 */
export const DEMO_HARD_TRAINING: ConfigLayer = {
  ...DEMO_TRAINING,
  train: { ...DEMO_TRAIN, maxSeqLen: 64 },
};

/** The demo's example sets, in table order: each with its training layer and how many records to probe. */
export const DEMO_DATASETS: readonly { name: string; training: ConfigLayer; probeEvery?: number }[] = [
  { name: "new-people", training: DEMO_TRAINING },
  // Probing all 320 records (and one neighbour each) with 8 models alone takes ~4 minutes on 2 cores:
  // the demo probes every third record (relations rotate across companies, so every relation is in).
  { name: "contract-register", training: DEMO_HARD_TRAINING, probeEvery: 3 },
];

/** Probe budget: the world's answers are under 20 tokens; 32 bounds a rambling model's cost. */
export const DEMO_PROBE_SETTINGS = { maxNewTokens: 32, hiddenStateQueries: 32 };

export interface DemoTrainedModel {
  method: Method;
  /** The merged model folder. */
  dir: string;
  seconds: number;
  steps: number;
  lr: number;
}

export interface DemoOptions {
  model: string;
  data: string;
  unknown?: string;
  methods: readonly Method[];
  outDir: string;
  /** Per-method config layers applied after DEMO_TRAINING (e.g. a tuned lr). */
  perMethod?: Partial<Record<Method, ConfigLayer>>;
  /** The dataset's training layer (default DEMO_TRAINING), applied before the learning rates. */
  training?: ConfigLayer;
  /** Probe about every Nth training record only (1 or undefined = all); see probeSample. */
  probeEvery?: number;
  /** Models already trained (e.g. by an earlier demo run) to probe instead of training `methods`. */
  trained?: readonly DemoTrainedModel[];
  /** Overrides for every method (e.g. epochs from the command line). */
  common?: ConfigLayer;
  /** CPU threads of each run's sessions (default: onnxruntime's, all cores). */
  threads?: number;
  /**
   * Jobs (one method trained and probed, the base probed, a share of the KL runs' teacher replies) at
   * once, each on its own worker thread (default 1: one after another on the calling thread). The
   * results do not depend on it (for a given `threads`).
   */
  jobs?: number;
  /** Neighbour (look-alike) questions generated per training record for the probes. */
  neighbours?: number;
  signal?: AbortSignal;
  log: (line: string) => void;
}

export interface DemoMethodRow {
  ftScore: number;
  exactMatch: number;
  /** Abstention (phrase match) on unknown queries the base model abstained on; for base: on all unknown queries. */
  idkSM: number | null;
  /** Automated IDK-HA stand-in (abstains AND names the entity), same queries as idkSM. */
  idkGrounded: number | null;
  /** Abstains but names something other than the entity (a garbled name), same queries as idkSM. */
  idkMisnamed: number | null;
  abstentionProb: number | null;
  overRefusal: number;
  /** Mean relative L2 shift of the final layer's last-prompt-token hidden state on unknown queries (0 for base). */
  displacement: number | null;
  trainSeconds: number;
  /** Look-alike neighbours of the training entities only (base-abstained), the paper's perturbed queries. */
  neighbourIdkSM: number | null;
  heldOutAbstain: number;
  fictitiousAbstain: number;
  unknownQueries: number;
  trainSteps?: number;
  lr?: number;
}

export interface DemoReport {
  model: string;
  dataset: string;
  unknown?: string;
  createdAt: string;
  totalSeconds: number;
  /** Training questions probed (all of the dataset's, or the demo's sample of them). */
  probedRecords?: number;
  notes: string[];
  methods: Record<string, DemoMethodRow>;
  /** How the runs were scheduled: runs at once, CPU threads each (0 = onnxruntime's default). */
  schedule?: { jobs: number; threads: number };
  /** Where each run's time went (DemoTimings), by row. */
  timings?: Record<string, DemoTimings>;
}

function rateOrNull(
  r: AbstentionRates | null | undefined,
  k: "abstain" | "grounded" | "misnamed" | "meanAbstentionProb",
): number | null {
  if (!r || r.n === 0) return null;
  return r[k] ?? null;
}

function rowFor(summary: RunComparison["summary"], cmp: RunComparison | null, trainSeconds: number): DemoMethodRow {
  const unk = cmp ? cmp.unknownOnBaseAbstained : summary.unknown;
  const disp = cmp?.displacement;
  return {
    ftScore: summary.ftScore,
    exactMatch: summary.exactMatch,
    idkSM: rateOrNull(unk, "abstain"),
    idkGrounded: rateOrNull(unk, "grounded"),
    idkMisnamed: rateOrNull(unk, "misnamed"),
    abstentionProb: rateOrNull(unk, "meanAbstentionProb"),
    overRefusal: summary.overRefusal,
    displacement: cmp ? (disp && disp.length ? disp[disp.length - 1].meanRelativeShift : null) : 0,
    trainSeconds,
    neighbourIdkSM: rateOrNull(cmp ? cmp.neighbourOnBaseAbstained : summary.neighbour, "abstain"),
    heldOutAbstain: summary.heldOut.abstain,
    fictitiousAbstain: summary.fictitious.abstain,
    unknownQueries: unk?.n ?? 0,
  };
}

export function formatDemoTable(r: DemoReport): string {
  const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? "  -  " : x.toFixed(d));
  const head = [
    "method",
    "FT score",
    "exact",
    "IDK-SM",
    "IDK-grounded",
    "misnamed",
    "P(abstain)",
    "neighbour IDK",
    "unseen IDK",
    "over-refusal",
    "displacement",
    "train s",
  ];
  const rows = Object.entries(r.methods).map(([m, x]) => [
    m,
    f(x.ftScore),
    f(x.exactMatch),
    f(x.idkSM),
    f(x.idkGrounded),
    f(x.idkMisnamed),
    f(x.abstentionProb),
    f(x.neighbourIdkSM),
    f(x.heldOutAbstain),
    f(x.overRefusal),
    f(x.displacement, 3),
    x.trainSeconds.toFixed(0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function stepLogger(log: (l: string) => void): (e: TrainEvent) => void {
  let last = 0;
  return (e) => {
    if (e.type === "step") {
      const now = Date.now();
      if (now - last < 3000 && e.step !== e.totalSteps) return;
      last = now;
      const kl = e.kl ? `  kl ${e.kl.toFixed(4)}` : "";
      log(
        `step ${e.step}/${e.totalSteps}  epoch ${e.epoch}  ce ${e.ce.toFixed(4)}${kl}  eta ${Math.round(e.etaSeconds)}s`,
      );
    } else if (e.type === "phase" && e.phase !== "train") log(phaseText(e));
    else if (e.type === "log" && e.level !== "info") log(`${e.level}: ${e.message}`);
  };
}

/**
 * Where a demo run's time goes, in seconds: a training run's phases (from its phase events: prepare =
 * loading, encoding, the mask, EWC's Fisher pass; teacher = the base model's replies for KL targets and
 * replay; compile = building the training graph and opening its sessions; train = the optimizer steps;
 * export = the merged model), then its probe (probeLoad = building and opening the inference session;
 * generate = the greedy answers; pAbstain = scoring the abstention openings, the P(abstain) column;
 * hidden = the hidden states for displacement; probeOther = the rest: hashing, judging answers, the
 * cache file). `run` is the whole job, wall clock.
 */
export interface DemoTimings {
  prepare?: number;
  teacher?: number;
  compile?: number;
  train?: number;
  export?: number;
  probeLoad?: number;
  generate?: number;
  pAbstain?: number;
  hidden?: number;
  probeOther?: number;
  run: number;
}
type DemoPhase = Exclude<keyof DemoTimings, "run">;

/** A phase event's message, with its progress when it has one. */
function phaseText(e: Extract<TrainEvent, { type: "phase" }>): string {
  return `${e.message}${e.progress !== undefined ? ` (${Math.round(e.progress * 100)}%)` : ""}`;
}

const PHASE_OF: Record<Extract<TrainEvent, { type: "phase" }>["phase"], DemoPhase> = {
  load: "prepare",
  perturb: "prepare",
  mask: "prepare",
  fisher: "prepare",
  teacher: "teacher",
  compile: "compile",
  train: "train",
  export: "export",
};

/** Adds the time from one phase event to the next to the phase it opened. */
class PhaseClock {
  readonly t: Partial<Record<DemoPhase, number>> = {};
  private current: DemoPhase | undefined;
  private since = 0;
  add(p: DemoPhase, seconds: number): void {
    this.t[p] = (this.t[p] ?? 0) + seconds;
  }
  enter(p: DemoPhase | undefined): void {
    const now = performance.now();
    if (this.current) this.add(this.current, (now - this.since) / 1000);
    this.current = p;
    this.since = now;
  }
}

/** The loader with its model's batched calls timed into `clock` (the suite prefers the batched forms). */
function timedLoader(inner: ProbeModelLoader, clock: PhaseClock): ProbeModelLoader {
  return async (ref, signal) => {
    const t0 = performance.now();
    const m = await inner(ref, signal);
    clock.add("probeLoad", (performance.now() - t0) / 1000);
    const timed = <A extends unknown[], R>(p: DemoPhase, f: ((...a: A) => Promise<R>) | undefined) =>
      f &&
      (async (...a: A): Promise<R> => {
        const s = performance.now();
        try {
          return await f(...a);
        } finally {
          clock.add(p, (performance.now() - s) / 1000);
        }
      });
    return {
      ...m,
      generateMany: timed("generate", m.generateMany),
      scoreMany: timed("pAbstain", m.scoreMany),
      hiddenMany: timed("hidden", m.hiddenMany),
    };
  };
}

/**
 * One unit of the demo's work, plain data (it crosses to a worker thread): train one method on one set
 * (unless `model` names a folder that is already trained or the base), then probe that model into the
 * set's probe cache, from which the set's report is assembled once all its jobs are done. Or: generate
 * a share of the base model's replies that the set's KL runs use as targets (`teacher`), once for all
 * of them, where each run would otherwise generate the same replies itself.
 */
export interface DemoJob {
  /** Index of the set in runDemoSets' `sets`. */
  set: number;
  /** "base", the method, or "teacher k/n": the report's row. */
  label: string;
  method?: Method;
  train?: { config: SeatConfig; warnings: string[] };
  /** Teacher folders (teacher jobs' `dir`) whose replies this run starts with in its cache. */
  teacherFrom?: string[];
  teacher?: { config: SeatConfig; part: { index: number; of: number }; dir: string };
  /** The model folder to probe when nothing is trained here. */
  model?: string;
  trained?: DemoTrainedModel;
  probe?: { data: string; unknown?: string; neighbours: number; cacheDir: string; threads?: number };
  /** Relative cost, for scheduling. */
  cost: number;
  /** Jobs (indices) that must be done first. */
  after?: number[];
}

export interface DemoJobResult {
  trained?: DemoTrainedModel;
  timings: DemoTimings;
}

/** Runs one job on this thread (the demo's worker thread runs the same function). */
export async function runDemoJob(
  job: DemoJob,
  ctx: { signal?: AbortSignal; log: (line: string) => void },
): Promise<DemoJobResult> {
  const t0 = performance.now();
  const { log, signal } = ctx;
  const clock = new PhaseClock();
  let trained = job.trained;
  if (job.teacher) {
    const { config, part, dir } = job.teacher;
    rmSync(dir, { recursive: true, force: true });
    const epochs = await prefetchKlTeacher(config, dir, {
      signal: signal ?? new AbortController().signal,
      part,
      onEvent: (e) => {
        if (e.type === "phase") {
          clock.enter(PHASE_OF[e.phase]);
          log(phaseText(e));
        }
      },
    });
    clock.enter(undefined);
    log(`base model replies for epochs ${epochs.map((e) => e + 1).join(", ")}`);
    return { timings: { ...clock.t, run: (performance.now() - t0) / 1000 } };
  }
  if (job.train) {
    const { config, warnings } = job.train;
    // The demo owns its output folder: each invocation replaces its previous runs.
    rmSync(config.outDir!, { recursive: true, force: true });
    if (job.teacherFrom) seedTeacherCache(job.teacherFrom, config.outDir!);
    log(`training ${job.label} (lr ${config.optim.lr}, ${config.train.epochs} epochs)`);
    const steps = stepLogger(log);
    const res = await train(config, {
      ...(signal ? { signal } : {}),
      warnings,
      onEvent: (e) => {
        if (e.type === "phase") clock.enter(PHASE_OF[e.phase]);
        else if (e.type === "done") clock.enter(undefined);
        steps(e);
      },
    });
    clock.enter(undefined);
    if (res.status === "cancelled") throw new Error(`cancelled while training ${job.label}`);
    const seconds = res.summary?.trainSeconds ?? 0;
    log(`${res.step} steps in ${seconds.toFixed(1)} s, final CE ${res.summary?.finalCe.toFixed(4) ?? "?"}`);
    trained = {
      method: config.method,
      dir: join(res.runDir, res.summary?.modelDir ?? "model"),
      seconds,
      steps: res.step,
      lr: config.optim.lr,
    };
  }
  const dir = trained?.dir ?? job.model;
  if (!dir || !job.probe) throw new Error(`internal: demo job ${job.label} has no model to probe`);
  const p0 = performance.now();
  let lastProbe = 0;
  await probeDataset({
    data: job.probe.data,
    ...(job.probe.unknown ? { unknown: job.probe.unknown } : {}),
    models: [{ dir, label: job.label, ...(job.method ? { method: job.method } : {}) }],
    lists: loadAbstentionLists(),
    neighbours: job.probe.neighbours,
    settings: DEMO_PROBE_SETTINGS,
    cacheDir: job.probe.cacheDir,
    loadModel: timedLoader(
      runtimeProbeLoader({ provider: "cpu", intraOpThreads: job.probe.threads, batchSize: 16 }),
      clock,
    ),
    ...(signal ? { signal } : {}),
    onProgress: (p) => {
      const now = Date.now();
      if (p.done === p.total || now - lastProbe > 3000) {
        lastProbe = now;
        log(`probe ${p.done}/${p.total}`);
      }
    },
  });
  const probeSeconds = (performance.now() - p0) / 1000;
  const parts = (["probeLoad", "generate", "pAbstain", "hidden"] as const).reduce((a, k) => a + (clock.t[k] ?? 0), 0);
  clock.add("probeOther", Math.max(0, probeSeconds - parts));
  return { ...(trained ? { trained } : {}), timings: { ...clock.t, run: (performance.now() - t0) / 1000 } };
}

/** What the demo's worker thread posts back. */
export type DemoWorkerMessage =
  | { type: "log"; line: string }
  | { type: "done"; result: DemoJobResult }
  | { type: "error"; error: { name: string; message: string } };

/** runDemoJob on a fresh worker thread (demoWorker.ts); aborting `signal` cancels it there. */
export function runDemoJobInWorker(
  job: DemoJob,
  ctx: { signal?: AbortSignal; log: (line: string) => void },
): Promise<DemoJobResult> {
  const entry = workerScript(__dirname, "demoWorker", "demo worker");
  const w = new Worker(entry.code, { eval: entry.eval, workerData: job });
  return new Promise((resolve, reject) => {
    let outcome: { result: DemoJobResult } | { error: Error } | undefined;
    const cancel = () => w.postMessage({ type: "cancel" });
    ctx.signal?.addEventListener("abort", cancel, { once: true });
    const finish = () => {
      ctx.signal?.removeEventListener("abort", cancel);
      if (outcome && "result" in outcome) resolve(outcome.result);
      else reject(outcome?.error ?? new Error(`the demo's worker for ${job.label} stopped without a result`));
    };
    w.on("message", (m: DemoWorkerMessage) => {
      if (m.type === "log") ctx.log(m.line);
      else {
        outcome =
          m.type === "done"
            ? { result: m.result }
            : { error: Object.assign(new Error(m.error.message), { name: m.error.name }) };
        // The job has released its sessions; nothing the thread still holds is needed.
        void w.terminate();
      }
    });
    w.on("error", (e) => (outcome ??= { error: e }));
    w.on("exit", finish);
    if (ctx.signal?.aborted) cancel();
  });
}

/**
 * Runs `jobs` at most `concurrency` at a time, each through `run`, a job only once the jobs in its
 * `after` (indices of earlier jobs) are done; of the jobs ready, the one with the longest chain of costs
 * ahead of it (its own plus its most costly dependants') first. The results come in the order of `jobs`.
 * The first failure (or an abort of `signal`) cancels the running jobs and starts no more; it is thrown
 * once every running job has stopped.
 */
export async function runJobPool<J extends { cost: number; after?: readonly number[] }, R>(
  jobs: readonly J[],
  concurrency: number,
  run: (job: J, index: number, signal: AbortSignal) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  jobs.forEach((j, i) => {
    for (const d of j.after ?? [])
      if (!Number.isInteger(d) || d < 0 || d >= i)
        throw new Error(`internal: job ${i} waits for job ${d}, not an earlier one`);
  });
  const rank = jobs.map((j) => j.cost);
  for (let i = jobs.length - 1; i >= 0; i--)
    for (const d of jobs[i].after ?? []) rank[d] = Math.max(rank[d], jobs[d].cost + rank[i]);
  const pending = jobs.map((_, i) => i).sort((a, b) => rank[b] - rank[a] || a - b);
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort();
  const results: R[] = new Array(jobs.length);
  const done = new Set<number>();
  let failure: { error: unknown } | undefined;
  // Lanes with nothing ready wait here until some job ends.
  let wake: () => void = () => {};
  let ended = new Promise<void>((r) => (wake = r));
  const lane = async () => {
    while (pending.length > 0 && !stop.signal.aborted) {
      const k = pending.findIndex((i) => (jobs[i].after ?? []).every((d) => done.has(d)));
      if (k < 0) {
        await ended;
        continue;
      }
      const [i] = pending.splice(k, 1);
      try {
        results[i] = await run(jobs[i], i, stop.signal);
        done.add(i);
      } catch (e) {
        failure ??= { error: e };
        stop.abort(e);
      } finally {
        const w = wake;
        ended = new Promise<void>((r) => (wake = r));
        w();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, jobs.length)) }, lane));
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (signal?.aborted) signal.throwIfAborted();
  if (failure) throw failure.error;
  return results;
}

/** One example set of a demo run. */
export interface DemoSet {
  /** The set's name in progress lines (e.g. "contract-register"). */
  name: string;
  data: string;
  unknown?: string;
  outDir: string;
  /** The set's training layer (default DEMO_TRAINING), applied before the learning rates. */
  training?: ConfigLayer;
  /** Probe about every Nth training record only (1 or undefined = all); see probeSample. */
  probeEvery?: number;
}

export interface DemoSetsOptions extends Omit<DemoOptions, "data" | "unknown" | "outDir" | "training" | "probeEvery"> {
  sets: readonly DemoSet[];
}

/**
 * Relative cost per record of each method's training steps on the embedded model (seconds of the
 * optimizer steps on contract-register, full = 1), of probing one model, and of the KL runs' teacher
 * replies: only the order in which the demo's jobs start depends on them.
 */
const METHOD_COST: Record<Method, number> = {
  full: 1,
  lora: 0.9,
  sparse: 0.8,
  "full+kl": 2.3,
  seat: 3.1,
  ewc: 2.1,
  replay: 2.3,
};
const PROBE_COST = 0.5;
const TEACHER_COST = 1.3;

/**
 * The demo on several example sets: every (set, method) run and every base probe is one job; `jobs` of
 * them run at once (default 1: one after another on this thread; more: each on its own worker thread,
 * with `threads` CPU threads each), longest first across all sets. A CPU run computes the same for a
 * given thread count wherever it runs, so the reports do not depend on `jobs`. One report per set.
 */
export async function runDemoSets(opts: DemoSetsOptions): Promise<DemoReport[]> {
  const t0 = Date.now();
  const jobs: DemoJob[] = [];
  const concurrency = Math.max(1, opts.jobs ?? 1);
  const prepared = opts.sets.map((set, s) => {
    const outDir = resolve(set.outDir);
    mkdirSync(outDir, { recursive: true });
    const runsDir = join(outDir, "runs");
    // Probe results pass from the jobs to the report through this cache; a previous demo's entries go.
    const cacheDir = join(runsDir, "probe-cache");
    rmSync(cacheDir, { recursive: true, force: true });
    const probeData = set.probeEvery && set.probeEvery > 1 ? probeSample(set.data, set.probeEvery, outDir) : set.data;
    const probe = {
      data: probeData,
      ...(set.unknown ? { unknown: set.unknown } : {}),
      neighbours: opts.neighbours ?? 1,
      cacheDir,
      ...(opts.threads ? { threads: opts.threads } : {}),
    };
    const records = readFileSync(set.data, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "").length;
    jobs.push({ set: s, label: "base", model: opts.model, probe, cost: records * PROBE_COST });
    for (const t of opts.trained ?? [])
      jobs.push({
        set: s,
        label: t.method,
        method: t.method,
        model: t.dir,
        trained: t,
        probe,
        cost: records * PROBE_COST,
      });
    const runs = (opts.trained ? [] : opts.methods).map((method) => ({
      method,
      ...resolveConfig([
        {
          source: "demo",
          layer: {
            method,
            model: opts.model,
            dataset: set.data,
            outDir: join(runsDir, method.replace("+", "-")),
            device: { provider: "cpu", threads: opts.threads ?? 0 },
            ...(set.training ?? DEMO_TRAINING),
          },
        },
        { source: "demo learning rates", layer: { optim: { lr: DEMO_LEARNING_RATES[method] } } },
        // The comparison runs SEAT with fixed knobs; a user's SEAT run calibrates them (calibrate.enabled).
        ...(method === "seat" ? [{ source: "demo", layer: { calibrate: { enabled: false } } }] : []),
        ...(opts.common ? [{ source: "demo options", layer: opts.common }] : []),
        ...(opts.perMethod?.[method] ? [{ source: `demo ${method} settings`, layer: opts.perMethod[method]! }] : []),
      ]),
    }));
    // The KL runs of a set ask the base model the same perturbed prompts (the same records, seed and KL
    // settings): teacher jobs generate the replies once, in `parts` shares that can run at once, and
    // each such run starts with them in its cache (prefetchKlTeacher: as the run would generate them).
    const teacherRoot = join(runsDir, "teacher");
    rmSync(teacherRoot, { recursive: true, force: true });
    const groups = new Map<string, number[]>();
    runs.forEach((r, i) => {
      const parts = methodParts(r.method);
      if (!parts.kl || parts.replay || r.config.kl.positions !== "base-response") return;
      const { kl, train: t, device, model, dataset, lossOn } = r.config;
      const key = JSON.stringify({ kl, t, device, model, dataset, lossOn });
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const teacherOf = new Map<number, { dirs: string[]; jobs: number[] }>();
    [...groups.values()].forEach((members, g) => {
      const parts = Math.max(1, concurrency);
      if (members.length < 2 && parts < 2) return;
      const dirs: string[] = [];
      const ids: number[] = [];
      for (let index = 0; index < parts; index++) {
        const dir = join(teacherRoot, `${g + 1}-${index + 1}`);
        dirs.push(dir);
        ids.push(jobs.length);
        jobs.push({
          set: s,
          label: `teacher ${index + 1}/${parts}`,
          teacher: { config: runs[members[0]].config, part: { index, of: parts }, dir },
          cost: (records * TEACHER_COST) / parts,
        });
      }
      for (const m of members) teacherOf.set(m, { dirs, jobs: ids });
    });
    runs.forEach(({ method, config, warnings }, i) => {
      const teacher = teacherOf.get(i);
      jobs.push({
        set: s,
        label: method,
        method,
        train: { config, warnings },
        ...(teacher ? { teacherFrom: teacher.dirs, after: teacher.jobs } : {}),
        probe,
        cost: records * (METHOD_COST[method] + PROBE_COST),
      });
    });
    return { set, outDir, cacheDir, probeData };
  });

  const many = opts.sets.length > 1;
  const tag = (j: DemoJob) => `${many ? `${opts.sets[j.set].name} ` : ""}${j.label}`;
  let started = 0;
  let finished = 0;
  opts.log(
    `${jobs.length} jobs, ${concurrency} at a time, ${opts.threads ? `${opts.threads} CPU thread(s)` : "all CPU threads"} each`,
  );
  const results = await runJobPool(
    jobs,
    concurrency,
    async (job, _i, signal) => {
      const k = ++started;
      const log = (line: string) => opts.log(`  [${tag(job)}] ${line}`);
      const what = job.teacher ? "the KL runs' teacher replies" : job.train ? "training, then probing" : "probing";
      opts.log(`[${k}/${jobs.length}] ${tag(job)}: ${what}`);
      const run = concurrency > 1 ? runDemoJobInWorker : runDemoJob;
      const r = await run(job, { signal, log });
      opts.log(
        `[${k}/${jobs.length}] ${tag(job)}: done in ${r.timings.run.toFixed(0)} s (${++finished} of ${jobs.length} done)`,
      );
      return r;
    },
    opts.signal,
  );

  const reports: DemoReport[] = [];
  for (const [s, { set, outDir, cacheDir, probeData }] of prepared.entries()) {
    const mine = jobs.map((j, i) => ({ j, r: results[i] })).filter((x) => x.j.set === s);
    const trained = mine.filter((x) => x.r.trained).map((x) => x.r.trained!);
    // Every model was probed by its job; this reads the results back (a miss would probe it here).
    const { report } = await probeDataset({
      data: probeData,
      ...(set.unknown ? { unknown: set.unknown } : {}),
      base: { dir: opts.model, label: "base" },
      models: trained.map((t) => ({ dir: t.dir, label: t.method, method: t.method })),
      lists: loadAbstentionLists(),
      neighbours: opts.neighbours ?? 1,
      settings: DEMO_PROBE_SETTINGS,
      cacheDir,
      loadModel: runtimeProbeLoader({ provider: "cpu", intraOpThreads: opts.threads, batchSize: 16 }),
      ...(opts.signal ? { signal: opts.signal } : {}),
      onProgress: (p) => {
        if (!p.cached && p.done === p.total) opts.log(`  [probe ${p.model}] ${p.done}/${p.total} (not in the cache)`);
      },
      onWarning: (m) => opts.log(`  warning: ${m}`),
    });
    rmSync(cacheDir, { recursive: true, force: true });

    const methods: Record<string, DemoMethodRow> = {};
    if (report.base) methods["base"] = rowFor(report.base.summary, null, 0);
    report.comparisons.forEach((cmp, i) => {
      const t = trained[i];
      methods[t.method] = { ...rowFor(cmp.summary, cmp, t.seconds), trainSteps: t.steps, lr: t.lr };
    });
    const demo: DemoReport = {
      model: opts.model,
      dataset: set.data,
      ...(set.unknown ? { unknown: set.unknown } : {}),
      createdAt: new Date().toISOString(),
      totalSeconds: (Date.now() - t0) / 1000,
      probedRecords: report.base?.summary.records ?? report.comparisons[0]?.summary.records,
      notes: [
        "idkSM / idkGrounded / abstentionProb: tuned models on the unknown queries (look-alike neighbours + held-out entities + fictitious concepts) that the base model abstained on; base: on all unknown queries.",
        "idkGrounded is an AUTOMATED stand-in for the paper's human IDK-HA: the response abstains AND names the queried entity, and no other name; misnamed: it abstains but names something else (a garbled spelling of the name, another entity), an abstention that is not grounded.",
        "unseen IDK: abstention on the held-out unknown entities alone (all of them, not only where the base abstained): entities never in training, mostly of the training entities' kind.",
        "displacement: mean relative L2 shift of the final layer's hidden state at the last prompt token on unknown queries, tuned vs base.",
      ],
      methods,
      schedule: { jobs: concurrency, threads: opts.threads ?? 0 },
      timings: Object.fromEntries(mine.map((x) => [x.j.label, x.r.timings])),
    };
    writeDemoFiles(outDir, demo, report);
    reports.push(demo);
  }
  return reports;
}

/** The demo on one example set (see runDemoSets). */
export async function runDemo(opts: DemoOptions): Promise<DemoReport> {
  const { data, unknown, outDir, training, probeEvery, ...rest } = opts;
  const set: DemoSet = {
    name: basename(resolve(data, "..")),
    data,
    ...(unknown ? { unknown } : {}),
    outDir,
    ...(training ? { training } : {}),
    ...(probeEvery ? { probeEvery } : {}),
  };
  return (await runDemoSets({ ...rest, sets: [set] }))[0];
}

const TIMING_COLUMNS: readonly [DemoPhase | "run", string][] = [
  ["prepare", "prepare"],
  ["teacher", "teacher"],
  ["compile", "compile"],
  ["train", "train"],
  ["export", "export"],
  ["probeLoad", "probe load"],
  ["generate", "generate"],
  ["pAbstain", "P(abstain)"],
  ["hidden", "hidden"],
  ["probeOther", "probe other"],
  ["run", "run"],
];

/** Seconds per phase of each of the report's runs, and their sum (see DemoTimings). */
export function formatDemoTimings(r: DemoReport): string {
  const timings = r.timings ?? {};
  const labels = Object.keys(timings);
  const sum = (k: DemoPhase | "run") => labels.reduce((a, l) => a + (timings[l][k] ?? 0), 0);
  const cell = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(1));
  const head = ["model", ...TIMING_COLUMNS.map(([, h]) => h)];
  const rows = [
    ...labels.map((l) => [l, ...TIMING_COLUMNS.map(([k]) => cell(timings[l][k]))]),
    ["sum", ...TIMING_COLUMNS.map(([k]) => cell(sum(k)))],
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/**
 * Writes about every Nth record of a JSONL dataset to <outDir>/probe-sample.jsonl: record i is kept when
 * i mod N equals (i div 8) mod N, which shifts the kept positions from one group of 8 (one company's
 * facts in contract-register) to the next, so the sample holds every relation. (An offset added to i
 * instead, (i + i div 8) mod 3, keeps only positions 0, 3 and 6: 9 is a multiple of 3.)
 */
export function probeSample(data: string, every: number, outDir: string): string {
  const lines = readFileSync(data, "utf8")
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "");
  const kept = lines.filter((_, i) => i % every === Math.floor(i / 8) % every);
  const file = join(outDir, "probe-sample.jsonl");
  writeFileSync(file, kept.join("\n") + "\n");
  return file;
}

export function writeDemoFiles(outDir: string, demo: DemoReport, report: ProbeReport): void {
  if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, "report.json"), JSON.stringify(demo, null, 2) + "\n");
  writeFileSync(join(outDir, "probe-report.json"), reportToJson(report));
  writeFileSync(
    join(outDir, "report.html"),
    reportToHtml(report, "SEAT Tuner demo: the embedded model on " + demo.dataset),
  );
}
