// Orchestrates the real-shape rows (see src/bench/scale.ts): for every case, ours then the peer, each in
// its own child process, each started only when its estimated peak fits in the available memory and
// watched while it runs. A side that fails or is not started is recorded with its one-line reason and
// the other side still runs, so a row shows what was measured and why the rest is missing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchReport, PeerTrain } from "./report";
import { trainEntry, generateEntry, peakOf } from "./entries";
import { klSeqLen, type HfLlamaConfig, type StepShape } from "./flops";
import { modelHf, writeFixedLengthDataset } from "./train";
import { loadModelFolder } from "../model";
import type { ChildWatch } from "./stats";
import {
  SCALE_TRAIN,
  SCALE_GENERATE,
  SCALE_PROBE,
  SCALE_ORDER,
  MEM_FLOOR_MB,
  ensureScaleFolder,
  estimateTrainPeakMb,
  estimateInferencePeakMb,
  memAvailableMb,
  memoryRefusal,
  scaleCaseKey,
  type ScaleModel,
  type ScaleTrainCase,
} from "./scale";

export interface ScaleContext {
  root: string;
  report: BenchReport;
  log: (line: string) => void;
  /** Runs our side of case `id` in a child process. */
  ours: (id: string, watch: ChildWatch) => Promise<any>;
  /** Runs a peer job in a child process. */
  peer: (job: Record<string, unknown>, watch: ChildWatch) => Promise<any>;
  /** Called after each case, so a long run leaves its partial report behind. */
  checkpoint: () => void;
  signal?: AbortSignal;
  maskRatio: number;
  /** Real shapes to run (default all). */
  only?: readonly string[];
}

const WATCH: ChildWatch = { floorMb: MEM_FLOOR_MB, memAvailableMb };

/** A child's failure as one line: its exit status and the first line it printed on stderr. */
export function oneLine(e: unknown): string {
  const msg = (e as Error).message ?? String(e);
  const m = /exited with (\S+): ([\s\S]*)$/.exec(msg);
  const text = m
    ? `exit ${m[1]}: ${
        m[2]
          .split("\n")
          .map((l) => l.trim())
          .find((l) => l.length > 0) ?? "(no message)"
      }`
    : msg.split("\n")[0];
  return text.length > 300 ? text.slice(0, 297) + "..." : text;
}

/** The padded shapes our trainer runs for this case (the same dataset rule as src/bench/train.ts). */
function plannedShape(dir: string, c: ScaleTrainCase): StepShape {
  const work = mkdtempSync(join(tmpdir(), "seat-bench-shape-"));
  try {
    const lens = writeFixedLengthDataset(join(work, "d.jsonl"), dir, c.B * (c.steps + c.warmup), c.T);
    return c.method === "seat"
      ? { B: c.B, T: lens.T, K: c.B, Tk: klSeqLen(lens.maxPrompt, c.T) }
      : { B: c.B, T: lens.T };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function runScaleRows(ctx: ScaleContext): Promise<void> {
  const { report, log } = ctx;
  report.peers ??= {};
  report.skipped ??= {};
  report.probe ??= {};
  const folders = new Map<ScaleModel, { dir: string; hf: HfLlamaConfig; qkvBias: boolean }>();
  const folder = (m: ScaleModel) => {
    let f = folders.get(m);
    if (!f) {
      const dir = ensureScaleFolder(ctx.root, m, log);
      f = { dir, hf: modelHf(dir), qkvBias: loadModelFolder(dir).config.qkvBias };
      folders.set(m, f);
      report.models[m] =
        `${dir.slice(ctx.root.length + 1)} (random bf16 weights, published config; test/fixtures/realShapes.ts)`;
    }
    return f;
  };
  /** Runs one side when it fits: its result, or undefined with the reason recorded under `key`. */
  const side = async (key: string, needMb: number, fn: () => Promise<any>): Promise<any> => {
    const refusal = memoryRefusal(needMb, memAvailableMb());
    if (refusal) {
      report.skipped![key] = refusal;
      log(`bench: ${key} ${refusal}`);
      return undefined;
    }
    try {
      return await fn();
    } catch (e) {
      if (ctx.signal?.aborted) throw e;
      report.errors[key] = oneLine(e);
      log(`bench: ${key} failed: ${report.errors[key]}`);
      return undefined;
    }
  };

  const trainRow = async (c: ScaleTrainCase) => {
    const key = scaleCaseKey(c);
    let f;
    try {
      f = folder(c.model);
    } catch (e) {
      report.errors[`train:${key}`] = oneLine(e);
      return;
    }
    const need = estimateTrainPeakMb(f.hf, c.method, c.B, c.T);
    const our = await side(`train:${key} (ours)`, need, () => ctx.ours(`train:${key}`, WATCH));
    const shape: StepShape = our?.shape ?? plannedShape(f.dir, c);
    log(`bench: torch train ${key} …`);
    const torch = await side(
      `train:${key} (PyTorch)`,
      estimateTrainPeakMb(f.hf, c.method, shape.B, shape.T, shape.Tk),
      () =>
        ctx.peer(
          {
            kind: "train",
            config: f.hf,
            qkv_bias: f.qkvBias,
            model_dir: f.dir,
            method: c.method,
            batch: shape.B,
            seq: shape.T,
            kl_seq: shape.Tk ?? shape.T,
            steps: c.steps,
            warmup: c.peerWarmup ?? c.warmup,
            mask_ratio: ctx.maskRatio,
            kl_lambda: 1,
            lora_r: 8,
            lora_alpha: 32,
            ...(c.recompute ? { recompute: true } : {}),
          },
          WATCH,
        ),
    );
    if (our && torch) report.train[key] = trainEntry(c.model, c.method, [{ our, torch }], report.matmulCeilingGflops);
    else if (torch) {
      const t: PeerTrain = { ...torch, peakRssMb: peakOf(torch) };
      report.peers![key] = {
        model: c.model,
        method: c.method,
        batch: shape.B,
        seq: shape.T,
        ...(shape.Tk ? { klSeq: shape.Tk } : {}),
        torch: t,
      };
    }
  };
  const generateRow = async () => {
    const g = SCALE_GENERATE;
    try {
      const f = folder(g.model);
      const need = estimateInferencePeakMb(f.hf);
      const our = await side(`generate:${g.model} (ours)`, need, () => ctx.ours(`generate:${g.model}`, WATCH));
      log(`bench: torch generate ${g.model} …`);
      const torch = await side(`generate:${g.model} (PyTorch)`, need, () =>
        ctx.peer(
          {
            kind: "generate",
            config: f.hf,
            qkv_bias: f.qkvBias,
            model_dir: f.dir,
            batch: g.B,
            prompt: g.promptLen,
            new_tokens: our?.newTokens ?? g.newTokens,
            steps: g.reps,
            warmup: 1,
          },
          WATCH,
        ),
      );
      if (our && torch) report.generate[g.model] = generateEntry(g.model, g, [{ our, torch }]);
    } catch (e) {
      report.errors[`generate:${g.model}`] = oneLine(e);
    }
  };
  const probeRow = async () => {
    try {
      const f = folder(SCALE_PROBE.model);
      const our = await side(`probe:${SCALE_PROBE.model}`, estimateInferencePeakMb(f.hf) + 1024, () =>
        ctx.ours(`probe:${SCALE_PROBE.model}`, WATCH),
      );
      if (our) report.probe![SCALE_PROBE.model] = { model: SCALE_PROBE.model, ...our, peakRssMb: peakOf(our) };
    } catch (e) {
      report.errors[`probe:${SCALE_PROBE.model}`] = oneLine(e);
    }
  };

  // Most of the targets first, so a run cut short (its report is rewritten after every row) has them.
  const wanted = (m: string) => !ctx.only || ctx.only.includes(m);
  for (const row of SCALE_ORDER) {
    const [kind, model, method] = row.split(":");
    if (!wanted(model)) continue;
    if (kind === "train") await trainRow(SCALE_TRAIN.find((c) => scaleCaseKey(c) === `${model}:${method}`)!);
    else if (kind === "generate") await generateRow();
    else await probeRow();
    ctx.checkpoint();
  }
}
