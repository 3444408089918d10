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
}

export interface TrainEntry {
  model: string;
  method: string;
  batch: number;
  seq: number;
  /** SEAT: padded length of the perturbed copy (one per example). */
  klSeq?: number;
  ours: { stepSeconds: number; stepCpuSeconds?: number; tokensPerSec: number; gflops: number; peakRssMb: number; [k: string]: unknown };
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

export interface BenchReport {
  machine: { cpus: string; cores: number; threads: number; node: string; quick: boolean; date: string; loadAverage?: number[] };
  /** What "embedded" and "100m" were in this run (the embedded one may be a labelled stand-in). */
  models: Record<string, string>;
  /** perCpuSecond: GFLOP per CPU-second of all threads (see src/bench/ceiling.ts). */
  matmulCeilingGflops: {
    best: number; median: number; perCpuSecond?: number; shape: number[];
    /** The same MatMul through the PyTorch peer's BLAS. */
    peer?: { median: number; best: number; perCpuSecond: number };
  } | null;
  train: Record<string, TrainEntry>;
  generate: Record<string, GenerateEntry>;
  jsonl: JsonlEntry | null;
  activationMs: { medianMs: number; requireMs: number; activateMs: number; reps: number } | null;
  errors: Record<string, string>;
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
  const at = (v: number | undefined, ok: (v: number) => boolean) => (v === undefined || !Number.isFinite(v) ? undefined : ok(v));
  for (const [key, e] of Object.entries(r.train)) {
    if (e.method === "seat") {
      out.push({ target: `${key}: SEAT step >= 1.2x PyTorch eager tokens/s`, value: e.ratioVsTorch, met: at(e.ratioVsTorch, (v) => v >= 1.2), detail: `${fmt(e.ratioVsTorch, 2)}x (CPU-time ratio ${fmt(e.cpuRatioVsTorch, 2)}x)` });
    }
    if (e.model === "100m") {
      out.push({ target: `${key}: >= 50% of the MatMul ceiling`, value: e.ceilingFraction, met: at(e.ceilingFraction, (v) => v >= 0.5), detail: `${pct(e.ceilingFraction)} (CPU-time basis ${pct(e.cpuCeilingFraction)})` });
    }
  }
  for (const [key, e] of Object.entries(r.generate)) {
    out.push({ target: `generate ${key}: >= PyTorch eager tokens/s`, value: e.ratioVsTorch, met: at(e.ratioVsTorch, (v) => v >= 1), detail: `${fmt(e.ratioVsTorch, 2)}x (CPU-time ratio ${fmt(e.cpuRatioVsTorch, 2)}x)` });
  }
  if (r.jsonl) {
    const growth = (r.jsonl.peakRssBytes - r.jsonl.startRssBytes) / 2 ** 20;
    out.push({
      target: `JSONL validation >= 200 MB/s, flat memory (peak RSS growth <= ${FLAT_RSS_GROWTH_MB} MB)`, value: r.jsonl.mbPerSec,
      met: r.jsonl.mbPerSec >= 200 && growth <= FLAT_RSS_GROWTH_MB,
      detail: `${fmt(r.jsonl.mbPerSec)} MB/s wall, ${fmt(r.jsonl.mbPerCpuSec)} MB per CPU-second, RSS +${fmt(growth, 0)} MB${r.jsonl.threads ? `, ${r.jsonl.threads} threads` : ""}`,
    });
  }
  if (r.activationMs) {
    out.push({ target: "activation < 150 ms", value: r.activationMs.medianMs, met: r.activationMs.medianMs < 150, detail: `${fmt(r.activationMs.medianMs)} ms` });
  }
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
  if (peer) lines.push(`- PyTorch peer: torch ${peer.torch} eager, BLAS ${peer.blas ?? "unknown"}`);
  lines.push(
    "",
    `MatMul ceiling (fp32 ${r.matmulCeilingGflops?.shape.join("×") ?? "?"} through onnxruntime): median ${fmt(r.matmulCeilingGflops?.median)} GFLOP/s, best ${fmt(r.matmulCeilingGflops?.best)}, ${fmt(r.matmulCeilingGflops?.perCpuSecond)} GFLOP per CPU-second${r.matmulCeilingGflops?.peer ? `; the same product through PyTorch's BLAS: median ${fmt(r.matmulCeilingGflops.peer.median)} GFLOP/s, ${fmt(r.matmulCeilingGflops.peer.perCpuSecond)} per CPU-second` : ""}.`,
    "",
    "| training step | batch×seq (+ perturbed) | ours tok/s | PyTorch tok/s | ours/PyTorch | same, CPU time | ours GFLOP/s | of ceiling (CPU time) | ours peak RSS MB | PyTorch peak RSS MB |",
    "|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const [key, e] of Object.entries(r.train)) {
    const shape = `${e.batch}×${e.seq}${e.klSeq ? ` (+ ${e.batch}×${e.klSeq})` : ""}`;
    lines.push(`| ${cell(key)} | ${shape} | ${fmt(e.ours.tokensPerSec, 0)} | ${fmt(e.torch?.tokensPerSec, 0)} | ${fmt(e.ratioVsTorch, 2)}× | ${fmt(e.cpuRatioVsTorch, 2)}× | ${fmt(e.ours.gflops)} | ${pct(e.ceilingFraction)} (${pct(e.cpuCeilingFraction)}) | ${fmt(e.ours.peakRssMb, 0)} | ${fmt(e.torch?.peakRssMb, 0)} |`);
  }
  if (Object.keys(r.generate).length) {
    lines.push("", "| generation (KV cache, greedy) | batch, prompt → new | ours tok/s | PyTorch tok/s | ours/PyTorch | same, CPU time |", "|---|---|---|---|---|---|");
    for (const [key, e] of Object.entries(r.generate)) {
      lines.push(`| ${cell(key)} | ${e.batch}, ${e.prompt} → ${e.newTokens} | ${fmt(e.ours.tokensPerSec, 0)} | ${fmt(e.torch?.tokensPerSec, 0)} | ${fmt(e.ratioVsTorch, 2)}× | ${fmt(e.cpuRatioVsTorch, 2)}× |`);
    }
  }
  if (r.jsonl) {
    const j = r.jsonl;
    const run = (x: JsonlRun) => `${fmt(x.mbPerSec)} MB/s (${fmt(x.mbPerCpuSec)} MB per CPU-second), peak RSS ${fmt(x.peakRssBytes / 2 ** 20, 0)} MB (start ${fmt(x.startRssBytes / 2 ** 20, 0)} MB)`;
    lines.push("", `JSONL validation: ${j.lines.toLocaleString("en")} lines, ${(j.bytes / 1e6).toFixed(0)} MB${j.threads ? ` on ${j.threads} worker threads` : ""} at ${run(j)}${j.sequential ? `; on one thread, same run: ${run(j.sequential)}` : ""}.`);
  }
  if (r.activationMs) {
    lines.push("", `Extension activation (require + activate() of dist/extension.js, stub host, no folder open): median ${fmt(r.activationMs.medianMs)} ms over ${r.activationMs.reps} runs (require ${fmt(r.activationMs.requireMs)} ms, activate ${fmt(r.activationMs.activateMs)} ms).`);
  }
  const targets = r.targets ?? checkTargets(r);
  if (targets.length) {
    lines.push("", "| target | measured | met |", "|---|---|---|");
    for (const t of targets) lines.push(`| ${cell(t.target)} | ${cell(t.detail)} | ${t.met === undefined ? "not measured" : t.met ? "yes" : "**no**"} |`);
  }
  for (const [k, e] of Object.entries(r.errors)) lines.push("", `**${k} failed:** ${e.split("\n")[0]}`);
  return lines.join("\n") + "\n";
}

export function writeBenchReport(r: BenchReport, dir: string): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "latest.json");
  const md = join(dir, "latest.md");
  writeFileSync(json, JSON.stringify({ ...r, targets: r.targets ?? checkTargets(r) }, null, 2) + "\n");
  writeFileSync(md, benchMarkdown(r));
  return { json, md };
}
