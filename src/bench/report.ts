// The benchmark report: its JSON shape, the issue's targets checked against it, and the markdown table
// the README shows. Pure (no onnxruntime, no child processes) so it is unit-tested directly.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface PeerTrain {
  stepSeconds: number;
  stepCpuSeconds?: number;
  tokensPerSec: number;
  peakRssMb: number;
  gflops?: number;
  torch?: string;
  blas?: string;
  /** OpenBLAS's kernel family in the peer (openblas_get_corename), e.g. SkylakeX; Prescott = generic. */
  blasCore?: string;
}

export interface TrainEntry {
  model: string;
  method: string;
  batch: number;
  seq: number;
  /** SEAT: padded length of the perturbed copy (one per example). */
  klSeq?: number;
  ours: {
    stepSeconds: number;
    stepCpuSeconds?: number;
    tokensPerSec: number;
    gflops: number;
    peakRssMb: number;
    [k: string]: unknown;
  };
  torch?: PeerTrain;
  /** ours / PyTorch tokens per second (wall clock). */
  ratioVsTorch?: number;
  /** PyTorch CPU seconds per step / ours: the same ratio in CPU time, less sensitive to neighbours. */
  cpuRatioVsTorch?: number;
  /** Achieved GFLOP/s / median MatMul ceiling. */
  ceilingFraction?: number;
  /** The same in CPU time: step GFLOP per CPU-second / the ceiling's GFLOP per CPU-second. */
  cpuCeilingFraction?: number;
  /** Each ours/peer pair measured back to back (tokens/s and CPU seconds per step). */
  rounds?: { ours: number; torch: number; oursCpuSeconds: number; torchCpuSeconds: number }[];
}

export interface GenerateEntry {
  model: string;
  batch: number;
  prompt: number;
  newTokens: number;
  ours: { seconds: number; tokensPerSec: number; peakRssMb: number; cpuSeconds?: number };
  torch?: { seconds: number; tokensPerSec: number; peakRssMb: number; cpuSeconds?: number };
  ratioVsTorch?: number;
  /** PyTorch CPU seconds / ours for the same decoding. */
  cpuRatioVsTorch?: number;
}

/** The validator with `threads` workers; `sequential`: the same file on one thread, in the same process. */
export interface JsonlEntry extends JsonlRun {
  bytes: number;
  lines: number;
  threads?: number;
  sequential?: JsonlRun;
}

export interface JsonlRun {
  mbPerSec: number;
  mbPerCpuSec?: number;
  peakRssBytes: number;
  startRssBytes: number;
}

/** A real-shape row where only the peer ran (ours failed or was not started). */
export interface PeerOnlyEntry {
  model: string;
  method: string;
  batch: number;
  seq: number;
  klSeq?: number;
  torch: PeerTrain;
}

/** Probe throughput without and with P(abstain), one loaded model (src/bench/probe.ts). */
export interface ProbeEntry {
  model: string;
  records: number;
  without: { seconds: number; cpuSeconds: number; queries: number; queriesPerSec: number };
  with: { seconds: number; cpuSeconds: number; queries: number; queriesPerSec: number };
  abstainTimeRatio: number;
  /** with / without CPU seconds (the target's measure: the runs are minutes apart on a shared machine). */
  abstainCpuRatio?: number;
  peakRssMb: number;
}

export interface BenchReport {
  /** scale: the real-shape rows ran (their targets are listed even when a row failed). */
  machine: {
    cpus: string;
    cores: number;
    threads: number;
    node: string;
    quick: boolean;
    date: string;
    loadAverage?: number[];
    scale?: boolean;
    memAvailableMb?: number;
  };
  /** What "embedded" and "100m" were in this run (the embedded one may be a labelled stand-in). */
  models: Record<string, string>;
  /** perCpuSecond: GFLOP per CPU-second of all threads (see src/bench/ceiling.ts). */
  matmulCeilingGflops: {
    best: number;
    median: number;
    perCpuSecond?: number;
    shape: number[];
    /** The same MatMul through the PyTorch peer's BLAS. */
    peer?: { median: number; best: number; perCpuSecond: number };
  } | null;
  train: Record<string, TrainEntry>;
  generate: Record<string, GenerateEntry>;
  jsonl: JsonlEntry | null;
  activationMs: { medianMs: number; requireMs: number; activateMs: number; reps: number } | null;
  errors: Record<string, string>;
  /** Real-shape peers whose own side has no numbers, keyed like `train`. */
  peers?: Record<string, PeerOnlyEntry>;
  probe?: Record<string, ProbeEntry>;
  /** Cases not started, with the reason ("not run: needs ~X GB, Y GB available"). */
  skipped?: Record<string, string>;
  targets?: TargetCheck[];
}

export interface TargetCheck {
  target: string;
  /** The measured value in the target's unit, undefined when the case did not run. */
  value: number | undefined;
  met: boolean | undefined;
  detail: string;
}

/** Peak RSS growth over the starting RSS that still counts as flat memory for JSONL validation. */
export const FLAT_RSS_GROWTH_MB = 64;

/** The issue's targets, each checked against this report (undefined = not measured in this run). */
export function checkTargets(r: BenchReport): TargetCheck[] {
  const out: TargetCheck[] = [];
  const at = (v: number | undefined, ok: (v: number) => boolean) =>
    v === undefined || !Number.isFinite(v) ? undefined : ok(v);
  for (const [key, e] of Object.entries(r.train)) {
    if (SCALE_KEYS.has(key)) continue; // the real-shape rows' targets are the issue's list below
    if (e.method === "seat") {
      out.push({
        target: `${key}: SEAT step >= 1.2x PyTorch eager tokens/s`,
        value: e.ratioVsTorch,
        met: at(e.ratioVsTorch, (v) => v >= 1.2),
        detail: `${fmt(e.ratioVsTorch, 2)}x (CPU-time ratio ${fmt(e.cpuRatioVsTorch, 2)}x)`,
      });
    }
    if (e.model === "100m") {
      out.push({
        target: `${key}: >= 50% of the MatMul ceiling`,
        value: e.ceilingFraction,
        met: at(e.ceilingFraction, (v) => v >= 0.5),
        detail: `${pct(e.ceilingFraction)} (CPU-time basis ${pct(e.cpuCeilingFraction)})`,
      });
    }
  }
  for (const [key, e] of Object.entries(r.generate)) {
    if (SCALE_KEYS.has(`generate:${key}`)) continue;
    out.push({
      target: `generate ${key}: >= PyTorch eager tokens/s`,
      value: e.ratioVsTorch,
      met: at(e.ratioVsTorch, (v) => v >= 1),
      detail: `${fmt(e.ratioVsTorch, 2)}x (CPU-time ratio ${fmt(e.cpuRatioVsTorch, 2)}x)`,
    });
  }
  if (r.jsonl) {
    const growth = (r.jsonl.peakRssBytes - r.jsonl.startRssBytes) / 2 ** 20;
    out.push({
      target: `JSONL validation >= 200 MB/s, flat memory (peak RSS growth <= ${FLAT_RSS_GROWTH_MB} MB)`,
      value: r.jsonl.mbPerSec,
      met: r.jsonl.mbPerSec >= 200 && growth <= FLAT_RSS_GROWTH_MB,
      detail: `${fmt(r.jsonl.mbPerSec)} MB/s wall, ${fmt(r.jsonl.mbPerCpuSec)} MB per CPU-second, RSS +${fmt(growth, 0)} MB${r.jsonl.threads ? `, ${r.jsonl.threads} threads` : ""}`,
    });
  }
  if (r.machine.scale) out.push(...scaleTargets(r));
  if (r.activationMs) {
    out.push({
      target: "activation < 150 ms",
      value: r.activationMs.medianMs,
      met: r.activationMs.medianMs < 150,
      detail: `${fmt(r.activationMs.medianMs)} ms`,
    });
  }
  return out;
}

/** Rows whose targets come from the real-size list (issue 15), not from the generic per-row rules. */
const SCALE_KEYS = new Set([
  "135m:seat",
  "135m:full",
  "0.5b:seat",
  "0.5b:seat+recompute",
  "0.5b:full",
  "1b:seat",
  "1b:lora",
  "generate:0.5b",
]);

const GB = 1024; // MB per GB in the targets (2^30 bytes)

/** Why a row has no figure: its recorded error or skip reason, first line. */
function missing(r: BenchReport, ...keys: string[]): string {
  for (const k of keys) {
    const why = r.errors[k] ?? r.skipped?.[k];
    if (why) return `${k}: ${why.split("\n")[0]}`;
  }
  return "not measured in this run";
}

/** The real-size targets of issue 15, each listed whether or not its row produced numbers. */
export function scaleTargets(r: BenchReport): TargetCheck[] {
  const out: TargetCheck[] = [];
  const ratio = (key: string, min: number) => {
    const e = r.train[key];
    const v = e?.ratioVsTorch;
    const ok = v !== undefined && Number.isFinite(v);
    out.push({
      target: `${key}: ${e?.method === "full" || key.endsWith(":full") ? "full FT" : "SEAT"} step >= ${min.toFixed(1)}x PyTorch eager tokens/s`,
      value: ok ? v : undefined,
      met: ok ? v >= min : undefined,
      detail: ok
        ? `${fmt(v, 2)}x (CPU-time ratio ${fmt(e.cpuRatioVsTorch, 2)}x)`
        : missing(r, `train:${key}`, `train:${key} (ours)`, `train:${key} (PyTorch)`),
    });
  };
  // the 0.5B reference workload, as is and with activation recompute on both sides
  for (const key of ["0.5b:seat", "0.5b:seat+recompute"]) {
    const seat05 = r.train[key];
    const peer05 = seat05?.torch ?? r.peers?.[key]?.torch;
    const rss = seat05?.ours.peakRssMb;
    const why = () => missing(r, `train:${key}`, `train:${key} (ours)`);
    out.push({
      target: `${key} (4 x 256 + perturbed copies): peak RSS <= 8 GB`,
      value: rss,
      met: rss === undefined ? undefined : rss <= 8 * GB,
      detail: rss === undefined ? why() : `${fmt(rss / GB, 2)} GB`,
    });
    const rel = rss !== undefined && peer05 ? rss / peer05.peakRssMb : undefined;
    out.push({
      target: `${key}: peak RSS <= 0.8x PyTorch's${key.endsWith("+recompute") ? " (PyTorch with torch.utils.checkpoint per layer)" : ""}`,
      value: rel,
      met: rel === undefined ? undefined : rel <= 0.8,
      detail:
        rel === undefined
          ? missing(r, `train:${key}`, `train:${key} (ours)`, `train:${key} (PyTorch)`)
          : `${fmt(rel, 2)}x (${fmt(rss! / GB, 2)} vs ${fmt(peer05!.peakRssMb / GB, 2)} GB)`,
    });
  }
  ratio("135m:seat", 1.2);
  ratio("0.5b:seat", 1.2);
  const rss1b = r.train["1b:seat"]?.ours.peakRssMb;
  out.push({
    target: "1b:seat: peak RSS <= 14 GB",
    value: rss1b,
    met: rss1b === undefined ? undefined : rss1b <= 14 * GB,
    detail: rss1b === undefined ? missing(r, "train:1b:seat", "train:1b:seat (ours)") : `${fmt(rss1b / GB, 2)} GB`,
  });
  ratio("0.5b:full", 1.0);
  const full = r.train["0.5b:full"];
  const fullRel = full?.torch ? full.ours.peakRssMb / full.torch.peakRssMb : undefined;
  out.push({
    target: "0.5b:full: peak RSS <= PyTorch's",
    value: fullRel,
    met: fullRel === undefined ? undefined : fullRel <= 1,
    detail:
      fullRel === undefined
        ? missing(r, "train:0.5b:full", "train:0.5b:full (ours)", "train:0.5b:full (PyTorch)")
        : `${fmt(fullRel, 2)}x (${fmt(full!.ours.peakRssMb / GB, 2)} vs ${fmt(full!.torch!.peakRssMb / GB, 2)} GB)`,
  });
  const gen = r.generate["0.5b"];
  out.push({
    target: "generate 0.5b: >= PyTorch eager tokens/s",
    value: gen?.ratioVsTorch,
    met: gen?.ratioVsTorch === undefined ? undefined : gen.ratioVsTorch >= 1,
    detail:
      gen?.ratioVsTorch === undefined
        ? missing(r, "generate:0.5b", "generate:0.5b (ours)", "generate:0.5b (PyTorch)")
        : `${fmt(gen.ratioVsTorch, 2)}x (CPU-time ratio ${fmt(gen.cpuRatioVsTorch, 2)}x)`,
  });
  const probe = r.probe?.["0.5b"];
  const added = probe ? (probe.abstainCpuRatio ?? probe.abstainTimeRatio) : undefined;
  out.push({
    target: "probe 0.5b: P(abstain) adds <= 50% to the probe's time (CPU time)",
    value: added,
    met: added === undefined ? undefined : added <= 1.5,
    detail: probe
      ? `+${fmt(100 * (added! - 1), 0)}% CPU time (${fmt(probe.with.cpuSeconds)} vs ${fmt(probe.without.cpuSeconds)} CPU-s); wall ${fmt(probe.with.seconds)} s vs ${fmt(probe.without.seconds)} s`
      : missing(r, "probe:0.5b"),
  });
  return out;
}

export function fmt(x: number | undefined, digits = 1): string {
  return x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(digits);
}

function pct(x: number | undefined): string {
  return x === undefined || !Number.isFinite(x) ? "–" : `${(100 * x).toFixed(0)}%`;
}

/** Escapes what would break a markdown table cell. */
function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** The markdown the README shows. */
export function benchMarkdown(r: BenchReport): string {
  const m = r.machine;
  const lines = [
    `Measured ${m.date.slice(0, 16).replace("T", " ")} UTC on ${m.cores} × ${m.cpus}, ${m.threads} threads, Node ${m.node}${m.loadAverage ? `, load average ${m.loadAverage.map((x) => x.toFixed(1)).join(" / ")}` : ""}${m.quick ? " (--quick)" : ""}.`,
  ];
  for (const [k, v] of Object.entries(r.models)) lines.push(`- \`${k}\`: ${v}`);
  const peer = Object.values(r.train).find((e) => e.torch?.torch)?.torch;
  if (peer)
    lines.push(
      `- PyTorch peer: torch ${peer.torch} eager, BLAS ${peer.blas ?? "unknown"}${peer.blasCore ? ` (OpenBLAS kernels: ${peer.blasCore})` : ""}`,
    );
  lines.push(
    ...(r.matmulCeilingGflops
      ? [
          "",
          `MatMul ceiling (fp32 ${r.matmulCeilingGflops.shape.join("×")} through onnxruntime): median ${fmt(r.matmulCeilingGflops.median)} GFLOP/s, best ${fmt(r.matmulCeilingGflops.best)}, ${fmt(r.matmulCeilingGflops.perCpuSecond)} GFLOP per CPU-second${r.matmulCeilingGflops.peer ? `; the same product through PyTorch's BLAS: median ${fmt(r.matmulCeilingGflops.peer.median)} GFLOP/s, ${fmt(r.matmulCeilingGflops.peer.perCpuSecond)} per CPU-second` : ""}.`,
        ]
      : []),
    "",
    "| training step | batch×seq (+ perturbed) | ours tok/s | PyTorch tok/s | ours/PyTorch | same, CPU time | ours GFLOP/s | of ceiling (CPU time) | ours peak RSS MB | PyTorch peak RSS MB |",
    "|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const [key, e] of Object.entries(r.train)) {
    const shape = `${e.batch}×${e.seq}${e.klSeq ? ` (+ ${e.batch}×${e.klSeq})` : ""}`;
    lines.push(
      `| ${cell(key)} | ${shape} | ${fmt(e.ours.tokensPerSec, 0)} | ${fmt(e.torch?.tokensPerSec, 0)} | ${fmt(e.ratioVsTorch, 2)}× | ${fmt(e.cpuRatioVsTorch, 2)}× | ${fmt(e.ours.gflops)} | ${pct(e.ceilingFraction)} (${pct(e.cpuCeilingFraction)}) | ${fmt(e.ours.peakRssMb, 0)} | ${fmt(e.torch?.peakRssMb, 0)} |`,
    );
  }
  for (const [key, e] of Object.entries(r.peers ?? {})) {
    const shape = `${e.batch}×${e.seq}${e.klSeq ? ` (+ ${e.batch}×${e.klSeq})` : ""}`;
    const why = r.errors[`train:${key}`] || r.errors[`train:${key} (ours)`] ? "failed" : "not run";
    lines.push(
      `| ${cell(key)} | ${shape} | ${why} | ${fmt(e.torch.tokensPerSec, 0)} | – | – | – | – | ${why} | ${fmt(e.torch.peakRssMb, 0)} |`,
    );
  }
  if (Object.keys(r.generate).length) {
    lines.push(
      "",
      "| generation (KV cache, greedy) | batch, prompt → new | ours tok/s | PyTorch tok/s | ours/PyTorch | same, CPU time |",
      "|---|---|---|---|---|---|",
    );
    for (const [key, e] of Object.entries(r.generate)) {
      lines.push(
        `| ${cell(key)} | ${e.batch}, ${e.prompt} → ${e.newTokens} | ${fmt(e.ours.tokensPerSec, 0)} | ${fmt(e.torch?.tokensPerSec, 0)} | ${fmt(e.ratioVsTorch, 2)}× | ${fmt(e.cpuRatioVsTorch, 2)}× |`,
      );
    }
  }
  if (Object.keys(r.probe ?? {}).length) {
    lines.push(
      "",
      "| probe (greedy answers + verdicts + hidden states) | records, questions | without P(abstain) | with P(abstain) | added (CPU time) | added (wall) | peak RSS MB |",
      "|---|---|---|---|---|---|---|",
    );
    for (const [key, e] of Object.entries(r.probe ?? {})) {
      const run = (x: ProbeEntry["with"]) =>
        `${fmt(x.seconds)} s (${fmt(x.queriesPerSec, 2)} questions/s, ${fmt(x.cpuSeconds)} CPU-s)`;
      const pctOf = (x: number | undefined) =>
        x === undefined ? "–" : `${x >= 1 ? "+" : ""}${fmt(100 * (x - 1), 0)}%`;
      lines.push(
        `| ${cell(key)} | ${e.records}, ${e.with.queries} | ${run(e.without)} | ${run(e.with)} | ${pctOf(e.abstainCpuRatio)} | ${pctOf(e.abstainTimeRatio)} | ${fmt(e.peakRssMb, 0)} |`,
      );
    }
  }
  if (r.jsonl) {
    const j = r.jsonl;
    const run = (x: JsonlRun) =>
      `${fmt(x.mbPerSec)} MB/s (${fmt(x.mbPerCpuSec)} MB per CPU-second), peak RSS ${fmt(x.peakRssBytes / 2 ** 20, 0)} MB (start ${fmt(x.startRssBytes / 2 ** 20, 0)} MB)`;
    lines.push(
      "",
      `JSONL validation: ${j.lines.toLocaleString("en")} lines, ${(j.bytes / 1e6).toFixed(0)} MB${j.threads ? ` on ${j.threads} worker threads` : ""} at ${run(j)}${j.sequential ? `; on one thread, same run: ${run(j.sequential)}` : ""}.`,
    );
  }
  if (r.activationMs) {
    lines.push(
      "",
      `Extension activation (require + activate() of dist/extension.js, stub host, no folder open): median ${fmt(r.activationMs.medianMs)} ms over ${r.activationMs.reps} runs (require ${fmt(r.activationMs.requireMs)} ms, activate ${fmt(r.activationMs.activateMs)} ms).`,
    );
  }
  const targets = r.targets ?? checkTargets(r);
  if (targets.length) {
    lines.push("", "| target | measured | met |", "|---|---|---|");
    for (const t of targets)
      lines.push(
        `| ${cell(t.target)} | ${cell(t.detail)} | ${t.met === undefined ? "not measured" : t.met ? "yes" : "**no**"} |`,
      );
  }
  for (const [k, e] of Object.entries(r.errors)) lines.push("", `**${k} failed:** ${e.split("\n")[0]}`);
  for (const [k, e] of Object.entries(r.skipped ?? {})) lines.push("", `**${k}** ${e}`);
  return lines.join("\n") + "\n";
}

/** Writes `<name>.json` + `<name>.md` (`latest` for a full or quick run, `scale` for `--scale`). */
export function writeBenchReport(r: BenchReport, dir: string, name = "latest"): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${name}.json`);
  const md = join(dir, `${name}.md`);
  writeFileSync(json, JSON.stringify({ ...r, targets: r.targets ?? checkTargets(r) }, null, 2) + "\n");
  writeFileSync(md, benchMarkdown(r));
  return { json, md };
}
