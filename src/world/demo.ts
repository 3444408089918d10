// `seat demo`: the whole story on the embedded model in minutes. Fine-tune the base model on an example
// dataset with each method, probe every model (facts learned? still abstains on look-alike and
// held-out unknowns?), print a table and write runs/demo/report.json + report.html.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { reportToHtml, reportToJson } from "../presentation/index";
import {
  loadAbstentionLists,
  probeDataset,
  runtimeProbeLoader,
  type AbstentionRates,
  type ProbeReport,
  type RunComparison,
} from "../eval/index";
import type { TrainEvent } from "../protocol/events";
import { resolveConfig, train, type ConfigLayer, type Method } from "../seat/index";

export const DEMO_METHODS: readonly Method[] = ["full", "lora", "sparse", "full+kl", "seat", "ewc", "replay"];

/**
 * Settings shared by every method of the demo (each method's own preset still sets its learning rate):
 * the same data, epochs, batch and seed, so the table compares methods and nothing else.
 */
const DEMO_TRAIN = { epochs: 12, batchSize: 8, maxSeqLen: 48, seed: 0 };
export const DEMO_TRAINING: ConfigLayer = {
  train: DEMO_TRAIN,
  checkpoint: { everySteps: 0, keep: 1 },
  eval: { everySteps: 0, samples: 0 },
};

/**
 * Learning rates of the demo, measured on the embedded model with examples/new-people (12 epochs, batch
 * 8): each is the rate at which that parametrisation learns the 60 new facts (FT score 1.0), so the
 * table compares what each method does to abstention, not whether it learned. Dense updates: 3e-4
 * (1e-4 left FT at 0.73); LoRA r=8: 3e-3; SEAT's 5% random mask: 1e-2 (1e-3 left FT at 0.10).
 */
export const DEMO_LEARNING_RATES: Record<Method, number> = {
  full: 3e-4,
  "full+kl": 3e-4,
  ewc: 3e-4,
  replay: 3e-4,
  lora: 3e-3,
  sparse: 1e-2,
  seat: 1e-2,
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
  threads?: number;
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

function stepLogger(method: string, log: (l: string) => void): (e: TrainEvent) => void {
  let last = 0;
  return (e) => {
    if (e.type === "step") {
      const now = Date.now();
      if (now - last < 3000 && e.step !== e.totalSteps) return;
      last = now;
      const kl = e.kl ? `  kl ${e.kl.toFixed(4)}` : "";
      log(
        `  [${method}] step ${e.step}/${e.totalSteps}  epoch ${e.epoch}  ce ${e.ce.toFixed(4)}${kl}  eta ${Math.round(e.etaSeconds)}s`,
      );
    } else if (e.type === "phase" && e.phase !== "train") log(`  [${method}] ${e.message}`);
    else if (e.type === "log" && e.level !== "info") log(`  [${method}] ${e.level}: ${e.message}`);
  };
}

export async function runDemo(opts: DemoOptions): Promise<DemoReport> {
  const t0 = Date.now();
  const log = opts.log;
  const outDir = resolve(opts.outDir);
  mkdirSync(outDir, { recursive: true });
  const runsDir = join(outDir, "runs");
  const trained: DemoTrainedModel[] = [...(opts.trained ?? [])];

  for (const [i, method] of (opts.trained ? [] : opts.methods).entries()) {
    opts.signal?.throwIfAborted();
    const runDir = join(runsDir, method.replace("+", "-"));
    // The demo owns runs/demo: each invocation replaces its previous runs.
    rmSync(runDir, { recursive: true, force: true });
    const { config, warnings } = resolveConfig([
      {
        source: "demo",
        layer: {
          method,
          model: opts.model,
          dataset: opts.data,
          outDir: runDir,
          device: { provider: "cpu", threads: opts.threads ?? 0 },
          ...(opts.training ?? DEMO_TRAINING),
        },
      },
      { source: "demo learning rates", layer: { optim: { lr: DEMO_LEARNING_RATES[method] } } },
      ...(opts.common ? [{ source: "demo options", layer: opts.common }] : []),
      ...(opts.perMethod?.[method] ? [{ source: `demo ${method} settings`, layer: opts.perMethod[method]! }] : []),
    ]);
    log(`[${i + 1}/${opts.methods.length}] training ${method} (lr ${config.optim.lr}, ${config.train.epochs} epochs)`);
    const res = await train(config, { signal: opts.signal, warnings, onEvent: stepLogger(method, log) });
    if (res.status === "cancelled") throw new Error(`cancelled while training ${method}`);
    const seconds = res.summary?.trainSeconds ?? 0;
    log(
      `[${i + 1}/${opts.methods.length}] ${method}: ${res.step} steps in ${seconds.toFixed(1)} s, final CE ${res.summary?.finalCe.toFixed(4) ?? "?"}`,
    );
    trained.push({
      method,
      dir: join(res.runDir, res.summary?.modelDir ?? "model"),
      seconds,
      steps: res.step,
      lr: config.optim.lr,
    });
  }

  log(
    `probing base + ${trained.length} tuned models (training questions, look-alike neighbours, held-out unknowns, fictitious concepts)`,
  );
  let lastProbe = 0;
  const probeData =
    opts.probeEvery && opts.probeEvery > 1 ? probeSample(opts.data, opts.probeEvery, outDir) : opts.data;
  const { report } = await probeDataset({
    data: probeData,
    unknown: opts.unknown,
    base: { dir: opts.model, label: "base" },
    models: trained.map((t) => ({ dir: t.dir, label: t.method, method: t.method })),
    lists: loadAbstentionLists(),
    neighbours: opts.neighbours ?? 1,
    settings: DEMO_PROBE_SETTINGS,
    loadModel: runtimeProbeLoader({ provider: "cpu", intraOpThreads: opts.threads, batchSize: 16 }),
    signal: opts.signal,
    onProgress: (p) => {
      const now = Date.now();
      if (p.done === p.total || now - lastProbe > 3000) {
        lastProbe = now;
        log(`  [probe ${p.model}] ${p.done}/${p.total}${p.cached ? " (cached)" : ""}`);
      }
    },
    onWarning: (m) => log(`  warning: ${m}`),
  });

  const methods: Record<string, DemoMethodRow> = {};
  if (report.base) methods["base"] = rowFor(report.base.summary, null, 0);
  report.comparisons.forEach((cmp, i) => {
    const t = trained[i];
    methods[t.method] = { ...rowFor(cmp.summary, cmp, t.seconds), trainSteps: t.steps, lr: t.lr };
  });
  const demo: DemoReport = {
    model: opts.model,
    dataset: opts.data,
    ...(opts.unknown ? { unknown: opts.unknown } : {}),
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
  };
  writeDemoFiles(outDir, demo, report);
  return demo;
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
