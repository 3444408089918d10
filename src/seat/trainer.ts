// The training loop shared by SEAT and every baseline: prepare (load, encode, perturb, teacher, masks),
// then optimizer steps (forward + loss + backward + AdamW in one compiled graph, or with gradient
// accumulation train.gradAccum micro-batch gradient runs and one update, see stepper.ts), with events,
// atomic checkpoints at step boundaries, cancellation (between steps and between micro-batches),
// NaN/Inf detection naming the term, quick evals, early stopping, and the final merged model. `resume`
// restores everything the loop depends on from the newest checkpoint, so a resumed CPU run ends
// bit-identical to an uninterrupted one.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { TrainEvent, RunSummary, LossTerm, EarlyStopReason } from "../protocol/events";
import { resolveConfig, methodParts, ConfigError, epochBudget, type SeatConfig } from "./config";
import { stopDecision, type AutoEpochsOutcome } from "./stopRule";
import { calibrate, calibrationApplies, type CalibrationResult } from "./calibrate";
import { calibrationCostText } from "./calibrationText";
import { Prng } from "../util/rng";
import { writeFileAtomic } from "../util/files";
import { lrAt } from "./schedule";
import { seedTeacherCache } from "./targets";
import {
  writeCheckpoint,
  readCheckpoint,
  listCheckpoints,
  checkpointName,
  CheckpointError,
  type CheckpointState,
  type CkptTensor,
} from "./checkpoint";
import { EventSink, RUN_FILES, defaultRunDir, readRunConfig, acquireRunLock, RunFolderError } from "./runFolder";
import { batchFeeds, epochOrder, klFeeds, lossShares, makeBatch, makeKlBatch } from "./data";
import { memoryLog, prepareRun, type PrepareContext, type PreparedRun } from "./prepare";
import type { MicroBatch, StepOutputs } from "./stepper";

export interface TrainOptions {
  /**
   * Aborting stops after the current step (under gradient accumulation: after the current micro-batch,
   * dropping the step's partial sums), writes a resumable checkpoint and resolves "cancelled".
   */
  signal?: AbortSignal;
  onEvent?: (e: TrainEvent) => void;
  /** Base for relative paths and the default run folder (default: process.cwd()). */
  cwd?: string;
  /** Non-fatal remarks from config resolution, logged as warn events at the start. */
  warnings?: string[];
  /** Set by train() after calibration, for the summary. */
  calibration?: CalibrationResult;
  /** Set by train() when calibrate.enabled was on but the run was not calibrated: why, for the log. */
  calibrationSkipped?: string[];
  /** resume only: run on this execution provider instead of the run's own (e.g. cpu after a GPU failure). */
  provider?: SeatConfig["device"]["provider"];
  /**
   * Calibration candidates: quick evals before the last one skip the held-out abstention score (the
   * facts rule reads only the accuracy; the abstention floor then never fires, as a candidate runs
   * without earlyStop).
   */
  heldoutAtEndOnly?: boolean;
  /**
   * Calibration candidates: only the summary is read, so the run ends without a final checkpoint or an
   * exported model (on a real-size model, gigabytes written for nothing).
   */
  summaryOnly?: boolean;
  /** Tests only: the stepper's test switches (PrepareContext.stepper, e.g. fp16 graphs on the CPU). */
  stepper?: PrepareContext["stepper"];
}

export type RunStatus = "done" | "cancelled" | "early-stop";

export interface TrainResult {
  runDir: string;
  status: RunStatus;
  /** Optimizer steps completed. */
  step: number;
  summary?: RunSummary;
  /** Latest checkpoint (absolute path). */
  checkpoint?: string;
}

/** A training failure with the step and the loss term it came from (NaN/Inf). */
export class TrainError extends Error {
  constructor(
    message: string,
    readonly step?: number,
    readonly term?: LossTerm,
  ) {
    super(message);
    this.name = "TrainError";
  }
}

/** Starts a new run in config.outDir (default runs/<date>-<method>). */
export async function train(config: SeatConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const cwd = opts.cwd ?? process.cwd();
  const runDir = config.outDir ? resolve(cwd, config.outDir) : defaultRunDir(cwd, config.method);
  mkdirSync(runDir, { recursive: true });
  // Locked before the "already a run" check, so two trains into one folder cannot both pass it.
  const release = acquireRunLock(runDir);
  try {
    if (existsSync(join(runDir, RUN_FILES.config))) {
      throw new TrainError(
        `${runDir} already holds a run; continue it with \`seat resume ${runDir}\` or choose another --out`,
      );
    }
    let stored: SeatConfig = {
      ...config,
      model: resolve(cwd, config.model),
      dataset: resolve(cwd, config.dataset),
      outDir: runDir,
    };
    let calibration: CalibrationResult | undefined;
    let calibrationSkipped: string[] | undefined;
    if (calibrationApplies(stored)) {
      const cal = await calibrateRun(stored, runDir, opts);
      calibration = cal.result;
      if (calibration)
        stored = {
          ...stored,
          kl: { ...stored.kl, lambda: calibration.chosen.lambda },
          mask: { ...stored.mask, ratio: calibration.chosen.ratio },
        };
      else calibrationSkipped = cal.log;
    } else if (stored.method === "seat" && stored.calibrate.enabled) {
      calibrationSkipped = [
        `calibration skipped: train.maxSteps ${stored.train.maxSteps} caps the run; it trains with kl.lambda ${stored.kl.lambda} and mask.ratio ${stored.mask.ratio}`,
      ];
    }
    writeFileAtomic(join(runDir, RUN_FILES.config), JSON.stringify(stored, null, 2) + "\n");
    return await runLoop(runDir, stored, undefined, { ...opts, calibration, calibrationSkipped });
  } finally {
    release();
  }
}

/** Calibration before the run (calibrate.ts); candidates train quietly under <run>/calibration/. */
async function calibrateRun(
  config: SeatConfig,
  runDir: string,
  opts: TrainOptions,
): Promise<{ result?: CalibrationResult; log: string[] }> {
  // The run's event log opens later (runLoop); the lines are kept and written there first.
  const lines: string[] = [];
  const log = (message: string) => lines.push(message);
  const earlier: string[] = [];
  const result = await calibrate(config, join(runDir, "calibration"), {
    log,
    async run(c) {
      // Every candidate asks the base model the same perturbed prompts (same split, seed and KL
      // settings; λ and the ratio change only the training): the earlier candidates' replies go first.
      // The first candidate's cache holds them all: later ones would only add the same replies again.
      if (c.outDir && earlier.length) seedTeacherCache(earlier, c.outDir);
      else if (c.outDir) earlier.push(c.outDir);
      const r = await train(c, { signal: opts.signal, heldoutAtEndOnly: true, summaryOnly: true });
      if (r.status === "cancelled") throw new Error("cancelled during calibration");
      const q = r.summary?.lastQuickEval;
      return {
        answerAccuracy: q?.answerAccuracy ?? 0,
        abstentionProb: q?.abstentionProb ?? 0,
        ...(q?.abstentionSamples !== undefined ? { abstentionSamples: q.abstentionSamples } : {}),
        seconds: r.summary?.trainSeconds ?? 0,
      };
    },
  });
  if (result) {
    result.log = lines;
    writeFileAtomic(join(runDir, "calibration.json"), JSON.stringify(result, null, 2) + "\n");
    log(
      `calibration chose lambda ${result.chosen.lambda}, ratio ${result.chosen.ratio} (${result.reason}); ${calibrationCostText(result)}`,
    );
  }
  return { result, log: lines };
}

/** The newest complete checkpoint of a run folder, if any (not checked; see resume for that). */
export function latestCheckpoint(runDir: string): string | undefined {
  const steps = listCheckpoints(join(runDir, RUN_FILES.checkpoints));
  return steps.length ? join(runDir, RUN_FILES.checkpoints, checkpointName(steps[steps.length - 1])) : undefined;
}

type Restored = { state: CheckpointState; tensors: Map<string, CkptTensor> };

/**
 * The newest checkpoint that reads back intact, and a warning for each newer one that does not (a
 * disk error or a hand-edited file). Damaged checkpoints are left in place: the run replaces each when
 * it reaches that step again. Throws a CheckpointError when checkpoints exist but none is intact.
 */
function newestIntactCheckpoint(runDir: string): { restored?: Restored; warnings: string[] } {
  const dir = join(runDir, RUN_FILES.checkpoints);
  const steps = listCheckpoints(dir);
  const warnings: string[] = [];
  let first: CheckpointError | undefined;
  for (const step of [...steps].reverse()) {
    try {
      const restored = readCheckpoint(join(dir, checkpointName(step)));
      return { restored, warnings };
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      first ??= e;
      warnings.push(`checkpoint ${checkpointName(step)} is damaged and skipped: ${e.message}`);
    }
  }
  if (first) throw new CheckpointError(`no intact checkpoint to resume from: ${warnings.join("; ")}`, first.file);
  return { warnings };
}

/**
 * What a setting added after a run was made means for that run (its config.json lacks the key): the
 * behaviour it was made with, not the new default, so a resumed run goes on as it started.
 */
export const RUN_CONFIG_BEFORE_SETTING: Record<string, unknown> = {
  kl: { names: "generic" },
  earlyStop: { patience: 1 },
};

/** The config a run is resumed with: its config.json over RUN_CONFIG_BEFORE_SETTING. */
export function resumeConfig(dir: string): SeatConfig {
  const configFile = join(dir, RUN_FILES.config);
  try {
    return resolveConfig([
      { source: "settings that runs older than them went without", layer: RUN_CONFIG_BEFORE_SETTING },
      { source: configFile, layer: readRunConfig(dir) as Record<string, unknown> },
    ]).config;
  } catch (e) {
    // A setting missing from the run's config is reported against the defaults layer; say which file.
    if (e instanceof ConfigError)
      throw new RunFolderError(
        `${configFile}: not a valid run config (was it edited?):
${e.message}`,
        configFile,
      );
    throw e;
  }
}

/** Continues a run from its newest intact checkpoint (or from the start when it has none). */
export async function resume(runDir: string, opts: TrainOptions = {}): Promise<TrainResult> {
  const dir = resolve(opts.cwd ?? process.cwd(), runDir);
  let config = resumeConfig(dir);
  const release = acquireRunLock(dir);
  try {
    const { restored, warnings } = newestIntactCheckpoint(dir);
    // The CPU trains in fp32: a mixed-precision run continued there goes on from its fp32 master weights.
    if (opts.provider)
      config = {
        ...config,
        device: {
          ...config.device,
          provider: opts.provider,
          ...(opts.provider === "cpu" ? { precision: "fp32" } : {}),
        },
      };
    return await runLoop(dir, config, restored, { ...opts, warnings: [...(opts.warnings ?? []), ...warnings] });
  } finally {
    release();
  }
}

async function cancelled(
  runDir: string,
  sink: EventSink,
  step: number,
  path: string | undefined,
): Promise<TrainResult> {
  const rel = path ? relative(runDir, path) : undefined;
  sink.emit({ type: "cancelled", step, ...(rel ? { checkpoint: rel } : {}) });
  return { runDir, status: "cancelled", step, ...(path ? { checkpoint: path } : {}) };
}

const TERMS: { term: LossTerm; of: (o: StepOutputs) => number | undefined }[] = [
  { term: "ce", of: (o) => o.ce },
  { term: "kl", of: (o) => o.kl },
  { term: "ewc", of: (o) => o.ewc },
];

/**
 * A step's examples as micro-batches of `rows` (the last ones may be short; none is empty), each with
 * its perturbed batch and its share of the step's loss; with gradAccum 1, the step's one batch.
 */
async function microBatches(
  run: PreparedRun,
  idx: number[],
  epoch: number,
  rows: number,
  kl: boolean,
): Promise<{ batches: MicroBatch[]; tokens: number }> {
  const built: { feeds: MicroBatch["feeds"]; targets: number; klPositions: number }[] = [];
  let tokens = 0;
  for (let at = 0; at < idx.length; at += rows) {
    const part = idx.slice(at, at + rows);
    const batch = makeBatch(
      part.map((i) => run.examples[i]),
      rows,
      run.seqLen,
      run.targetSlots,
      run.padId,
    );
    const feeds: MicroBatch["feeds"] = batchFeeds(batch, rows, run.seqLen, run.targetSlots);
    tokens += batch.tokens;
    let klPositions = 0;
    if (kl && run.klShape) {
      const { K, Tk, Ak } = run.klShape;
      const kb = makeKlBatch(await run.klSequencesFor(epoch, part), K, Tk, Ak, run.padId);
      Object.assign(feeds, klFeeds(kb, K, Tk, Ak));
      tokens += kb.tokens;
      klPositions = kb.positions;
    }
    built.push({ feeds, targets: batch.targets, klPositions });
  }
  const shares = lossShares(built);
  return { batches: built.map((b, i) => ({ feeds: b.feeds, share: shares[i] })), tokens };
}

async function runLoop(
  runDir: string,
  config: SeatConfig,
  restored: Restored | undefined,
  opts: TrainOptions,
): Promise<TrainResult> {
  const sink = new EventSink(runDir, opts.onEvent);
  const signal = opts.signal ?? new AbortController().signal;
  const started = performance.now();
  for (const w of opts.warnings ?? []) sink.emit({ type: "log", level: "warn", message: w });
  for (const m of opts.calibration?.log ?? []) sink.emit({ type: "log", level: "info", message: m });
  for (const m of opts.calibrationSkipped ?? []) sink.emit({ type: "log", level: "info", message: m });
  let step = restored?.state.step ?? 0;
  let run: PreparedRun | undefined;
  // Replaced once the loop's state exists by one that writes the cancel checkpoint at the last
  // finished step; before that, the checkpoint being resumed from is the last finished step.
  const restoredPath = restored ? join(runDir, RUN_FILES.checkpoints, checkpointName(restored.state.step)) : undefined;
  let checkpointOnCancel = async (): Promise<string | undefined> => restoredPath;
  try {
    run = await prepareRun(config, {
      runDir,
      sink,
      signal,
      restored,
      ...(opts.stepper ? { stepper: opts.stepper } : {}),
    });
    const parts = methodParts(config.method);
    const c = config.train;
    // Examples per optimizer step; each graph run sees train.batchSize of them.
    const B = c.batchSize * c.gradAccum;
    const nEx = run.examples.length;
    const stepsPerEpoch = Math.ceil(nEx / B);
    const epochs = epochBudget(c);
    const total = c.maxSteps > 0 ? Math.min(c.maxSteps, epochs * stepsPerEpoch) : epochs * stepsPerEpoch;
    // `epochs auto` applies the stopping rule whether or not earlyStop.enabled is set.
    const auto = c.epochs === "auto";
    const stopping = config.earlyStop.enabled || auto;
    if (auto && config.eval.samples === 0)
      sink.emit({
        type: "log",
        level: "warn",
        message: `train.epochs auto needs quick evals (eval.samples > 0) to decide; this run trains train.maxEpochs (${c.maxEpochs})`,
      });

    // Everything below that a resumed run must reproduce comes from the checkpoint when there is one.
    const st: CheckpointState = restored?.state ?? {
      version: 1,
      step: 0,
      epoch: 0,
      batchInEpoch: 0,
      dataOrder: [],
      trainSeconds: 0,
      tokens: 0,
      extra: {},
      rng: { data: new Prng(c.seed, 1).state(), perturb: new Prng(c.seed, 2).state(), mask: run.maskRngState },
    };
    const dataRng = Prng.fromState(st.rng.data);
    step = st.step;
    sink.emit({
      type: "run-start",
      runDir,
      method: config.method,
      model: config.model,
      dataset: config.dataset,
      totalSteps: total,
      stepsPerEpoch,
      epochs,
      trainableParams: run.trainableParams,
      totalParams: run.totalParams,
      provider: run.provider,
      ...(restored ? { resumedFromStep: st.step } : {}),
    });
    if (st.step === 0 && st.dataOrder.length === 0) st.dataOrder = epochOrder(nEx, dataRng);

    const recent: { seconds: number; tokens: number }[] = [];
    let last = { loss: NaN, ce: NaN, kl: 0 };
    let earlyStop: { reason: EarlyStopReason; step: number } | undefined;
    let lastEval: RunSummary["lastQuickEval"];
    let lastEvalEpoch = 0;
    let autoOutcome: AutoEpochsOutcome | undefined;
    // Quick evals in a row below earlyStop.abstentionFloor (stopRule.ts), carried across a resume.
    let belowFloor = typeof st.extra.belowFloor === "number" ? st.extra.belowFloor : 0;
    // The lowest eval of that streak (JSON has no Infinity: absent = no streak).
    let floorLow = typeof st.extra.floorLow === "number" ? st.extra.floorLow : Infinity;
    let saved: { step: number; path: string } | undefined = restored
      ? { step: st.step, path: join(runDir, RUN_FILES.checkpoints, checkpointName(st.step)) }
      : undefined;
    const saveCheckpoint = async (): Promise<string> => {
      st.rng.data = dataRng.state();
      st.rng.mask = run!.maskRngState;
      st.extra.accWindow = [...run!.accuracyWindow];
      st.extra.belowFloor = belowFloor;
      if (Number.isFinite(floorLow)) st.extra.floorLow = floorLow;
      else delete st.extra.floorLow;
      // fp16: the loss scale goes on from here on resume; an fp32 run (also one resumed on the CPU from
      // an fp16 checkpoint) has none to keep.
      const scaler = run!.lossScalerState();
      if (scaler) st.lossScaler = scaler;
      else delete st.lossScaler;
      const tensors = await run!.snapshot();
      const path = writeCheckpoint(join(runDir, RUN_FILES.checkpoints), st, tensors, config.checkpoint.keep);
      sink.emit({ type: "checkpoint", step: st.step, path: join(RUN_FILES.checkpoints, checkpointName(st.step)) });
      saved = { step: st.step, path };
      return path;
    };
    // The session and `st` agree (both at the last finished step) everywhere except inside runStep,
    // the one await that changes the weights; a cancel landing there cannot be checkpointed. (A cancel
    // seen between micro-batches makes runStep return before any change.)
    let inStep = false;
    checkpointOnCancel = async () => {
      if (inStep) return saved?.path;
      if (saved?.step === st.step) return saved.path;
      return st.step > 0 ? saveCheckpoint() : undefined;
    };

    sink.emit({ type: "phase", phase: "train", message: `training ${total - st.step} steps` });
    while (st.step < total) {
      if (signal.aborted) return await cancelled(runDir, sink, st.step, await checkpointOnCancel());
      const t0 = performance.now();
      const epoch = st.epoch;
      const idx = st.dataOrder.slice(st.batchInEpoch * B, (st.batchInEpoch + 1) * B);
      const { batches, tokens } = await microBatches(run, idx, epoch, c.batchSize, parts.kl);
      const nextStep = st.step + 1;
      const lr = lrAt(config.optim, nextStep, total);
      inStep = true;
      const out = await run.runStep(batches, lr, nextStep);
      inStep = false;
      if (!out) return await cancelled(runDir, sink, st.step, await checkpointOnCancel());
      for (const { term, of } of TERMS) {
        const v = of(out);
        if (v !== undefined && !Number.isFinite(v)) {
          throw new TrainError(
            `non-finite ${term.toUpperCase()} term (${v}) at step ${nextStep}; lower the learning rate or check the data`,
            nextStep,
            term,
          );
        }
      }
      if (!Number.isFinite(out.loss))
        throw new TrainError(`non-finite loss (${out.loss}) at step ${nextStep}`, nextStep, "total");
      if (!Number.isFinite(out.gradNorm))
        throw new TrainError(`non-finite gradient norm at step ${nextStep}`, nextStep, "total");

      // Advance the position only after the step succeeded, so a checkpoint never skips a batch.
      st.step = nextStep;
      step = nextStep;
      st.batchInEpoch++;
      if (st.batchInEpoch >= stepsPerEpoch) {
        st.epoch++;
        st.batchInEpoch = 0;
        st.dataOrder = epochOrder(nEx, dataRng);
      }
      const seconds = (performance.now() - t0) / 1000;
      st.trainSeconds += seconds;
      st.tokens += tokens;
      recent.push({ seconds, tokens });
      if (recent.length > 20) recent.shift();
      const rs = recent.reduce((a, r) => a + r.seconds, 0);
      const rt = recent.reduce((a, r) => a + r.tokens, 0);
      last = { loss: out.loss, ce: out.ce, kl: out.kl ?? 0 };
      sink.emit({
        type: "step",
        step: st.step,
        totalSteps: total,
        epoch: epoch + 1,
        loss: out.loss,
        ce: out.ce,
        kl: out.kl ?? 0,
        lr,
        gradNorm: out.gradNorm,
        ...(out.lossScale !== undefined ? { lossScale: out.lossScale } : {}),
        tokensPerSec: rs > 0 ? rt / rs : 0,
        etaSeconds: (rs / recent.length) * (total - st.step),
      });

      const endOfEpoch = st.batchInEpoch === 0;
      const evalDue =
        config.eval.samples > 0 && (config.eval.everySteps > 0 ? st.step % config.eval.everySteps === 0 : endOfEpoch);
      if (evalDue || (st.step === total && config.eval.samples > 0)) {
        // Calibration candidates score held-out abstention only at the eval their result is read from
        // (the last step, or a stop on learned facts, which needs only the accuracy): per epoch it cost
        // them as much time as their training steps.
        const heldoutNow = !opts.heldoutAtEndOnly || st.step === total;
        let q = await run.quickEval(config.eval.samples, heldoutNow);
        let decision: ReturnType<typeof stopDecision>["decision"];
        if (stopping && st.step < total) {
          const r = stopDecision(q, config.earlyStop, belowFloor, floorLow);
          belowFloor = r.belowFloor;
          floorLow = r.floorLow;
          decision = r.decision;
        }
        if (decision && !heldoutNow) q = await run.quickEval(config.eval.samples, true);
        lastEval = { ...q, step: st.step };
        sink.emit({
          type: "quick-eval",
          step: st.step,
          epoch: epoch + 1,
          abstentionProb: q.abstentionProb,
          answerAccuracy: q.answerAccuracy,
          abstentionSamples: q.abstentionSamples,
          accuracySamples: q.accuracySamples,
        });
        lastEvalEpoch = epoch + 1;
        if (decision) {
          earlyStop = { reason: decision.reason, step: st.step };
          autoOutcome = { outcome: decision.reason, step: st.step, epoch: epoch + 1, detail: decision.detail };
          sink.emit({ type: "early-stop", step: st.step, reason: decision.reason, detail: decision.detail });
        }
      }
      if (earlyStop) break;
      if (config.checkpoint.everySteps > 0 && st.step % config.checkpoint.everySteps === 0 && st.step < total)
        await saveCheckpoint();
    }

    memoryLog(sink, `${st.step} steps`);
    const ckpt = opts.summaryOnly ? undefined : await saveCheckpoint();
    if (!opts.summaryOnly) {
      sink.emit({ type: "phase", phase: "export", message: "writing the merged model" });
      await run.exportModel(join(runDir, RUN_FILES.model));
    }
    const summary: RunSummary = {
      method: config.method,
      steps: st.step,
      epochs: st.epoch + (st.batchInEpoch > 0 ? 1 : 0),
      trainSeconds: st.trainSeconds,
      finalLoss: last.loss,
      finalCe: last.ce,
      finalKl: last.kl,
      meanTokensPerSec: st.trainSeconds > 0 ? st.tokens / st.trainSeconds : 0,
      meanStepSeconds: st.step > 0 ? st.trainSeconds / st.step : 0,
      trainableParams: run.trainableParams,
      totalParams: run.totalParams,
      modelDir: RUN_FILES.model,
      ...(earlyStop ? { earlyStop } : {}),
      ...(lastEval ? { lastQuickEval: lastEval } : {}),
      ...(opts.calibration
        ? {
            calibration: {
              chosen: opts.calibration.chosen,
              reason: opts.calibration.reason,
              points: opts.calibration.points,
              usedSeconds: opts.calibration.usedSeconds,
              budgetSeconds: opts.calibration.budgetSeconds,
              runSeconds: (performance.now() - started) / 1000,
              minAccuracy: opts.calibration.minAccuracy,
              skipped: opts.calibration.skipped,
              trainEntities: opts.calibration.trainEntities,
              heldoutEntities: opts.calibration.heldoutEntities,
            },
          }
        : {}),
      ...(auto
        ? {
            epochsAuto: autoOutcome ?? {
              outcome: "max-epochs" as const,
              step: st.step,
              epoch: st.epoch + (st.batchInEpoch > 0 ? 1 : 0),
              detail: lastEval
                ? `last quick eval (epoch ${lastEvalEpoch}): answer accuracy ${lastEval.answerAccuracy.toFixed(3)}, held-out abstention probability ${lastEval.abstentionProb.toFixed(3)}`
                : "no quick eval ran (eval.samples 0)",
            },
          }
        : {}),
    };
    writeFileSync(join(runDir, RUN_FILES.summary), JSON.stringify(summary, null, 2) + "\n");
    sink.emit({ type: "done", summary });
    return { runDir, status: earlyStop ? "early-stop" : "done", step: st.step, summary, checkpoint: ckpt };
  } catch (e) {
    const err = e as Error;
    if (signal.aborted && !(e instanceof TrainError)) {
      // The abort surfaced inside an await (the teacher's generation, a quick eval, preparation): the
      // finished steps still get their checkpoint, as a cancel between steps does.
      return await cancelled(runDir, sink, step, await checkpointOnCancel());
    }
    if (run && run.provider !== "cpu" && !(e instanceof TrainError)) {
      // A GPU that fails mid-run (driver reset, out of device memory, a kernel onnxruntime lacks)
      // must not cost the finished steps: checkpoint them and say how to go on without the GPU.
      let ckpt: string | undefined;
      try {
        ckpt = await checkpointOnCancel();
      } catch {
        ckpt = undefined;
      }
      const where = ckpt ? `the finished steps are checkpointed (${ckpt})` : "no step had finished";
      const gpuErr = new TrainError(
        `the ${run.provider} execution provider failed (${err.message.split("\n")[0]}); ${where}; continue on CPU with \`seat resume ${runDir} --device cpu\``,
        step,
      );
      sink.emit({ type: "error", message: gpuErr.message, step });
      throw gpuErr;
    }
    sink.emit({
      type: "error",
      message: err.message,
      ...(step > 0 || e instanceof TrainError
        ? { step: e instanceof TrainError && e.step !== undefined ? e.step : step }
        : {}),
      ...(e instanceof TrainError && e.term ? { term: e.term } : {}),
    });
    throw e;
  } finally {
    await run?.release();
  }
}
