// Everything a run needs before its first step, as named stages read top to bottom:
//   load -> encode -> base targets (teacher) -> mask -> Fisher (EWC) -> graphs -> loop hooks
// and the sessions each stage opens, with their lifetimes:
//   teacher (inference graph, base weights)   opened by the first stage that needs base replies (replay,
//                                              EWC's Fisher prompts, every planned epoch's KL targets) and
//                                              released at the end of that stage, before any other opens
//   gradient pass (importance mask, EWC)       opened and released inside its stage
//   training (stepper.ts)                      the run's lifetime; holds trainable values + AdamW moments
//   quick eval (score graph, tuned view)       the run's lifetime; reads the trainable values per eval
// Every session reads the frozen weights from the model's own files (model/sessions.ts): one copy of
// each frozen weight in memory however many sessions are open (the page cache of the safetensors file).
import { readDataset, type DatasetRecord } from "../data/index";
import type { HostTensor, LossScalerState } from "../engine/index";
import { exportMergedModel, loadModelFolder, mergeTrainedLazy, readTensorF32, type ModelFolder } from "../model/index";
import { checkpointName, type CheckpointState, type CkptTensor } from "./checkpoint";
import { epochBudget, methodParts, type SeatConfig } from "./config";
import { encodeRecords, maxTargets, type KlSequence, type TrainExample } from "./data";
import { gradientSquares } from "./fisher";
import { drawMask, type Mask } from "./masks";
import { QuickEvalScorer, type QuickEval } from "./quickEval";
import { Prng, type PrngState } from "../util/rng";
import { EventSink } from "./runFolder";
import type { TrainEvent } from "../protocol/events";
import {
  availableMemory,
  chooseRecompute,
  describePlan,
  planMemory,
  planRefusal,
  SKIP_MEMORY_CHECK_ENV,
} from "./memoryPlan";
import { maskFromCheckpoint, trainableMatrices, weightSpecs } from "./specs";
import {
  openStepper,
  type MicroBatch,
  type Stepper,
  type StepperOptions,
  type StepOutputs,
  type UpdateHook,
} from "./stepper";
import { BaseTargets, KlSequences, klShapeFor, type KlShape } from "./targets";
import { baseGenerator } from "./teacher";
import { selectTensors } from "./masks";

export type { QuickEval } from "./quickEval";

export interface PrepareContext {
  runDir: string;
  sink: EventSink;
  signal: AbortSignal;
  restored?: { state: CheckpointState; tensors: Map<string, CkptTensor> };
  /**
   * Tests only: the stepper's test switches (stepper.ts). With halfOnCpu every session of the run is
   * opened on the CPU provider and the training graphs are built at the config's precision.
   */
  stepper?: Pick<StepperOptions, "halfOnCpu" | "lossScaler">;
}

export interface PreparedRun {
  examples: TrainExample[];
  seqLen: number;
  /** Target slots per row of a batch (data.ts maxTargets). */
  targetSlots: number;
  padId: number;
  /** Perturbed batch of one micro-batch (K = train.batchSize x copies per example). */
  klShape?: KlShape;
  trainableParams: number;
  totalParams: number;
  provider: string;
  maskRngState: PrngState;
  /** Recent per-example answer correctness (restored on resume so quick evals continue identically). */
  readonly accuracyWindow: number[];
  klSequencesFor(epoch: number, exampleIdx: number[]): Promise<KlSequence[]>;
  /**
   * One optimizer step over its micro-batches (one each train.batchSize examples). Resolves undefined
   * when the run's signal aborted between micro-batches: then nothing changed.
   */
  runStep(batches: readonly MicroBatch[], lr: number, step: number): Promise<StepOutputs | undefined>;
  snapshot(): Promise<Map<string, CkptTensor>>;
  /** Mixed precision with loss scaling: the loss scaler's state, for the checkpoint's state.json. */
  lossScalerState(): LossScalerState | undefined;
  /** `heldout` false: the accuracy only (held-out abstention not scored, 0 samples). */
  quickEval(samples: number, heldout?: boolean): Promise<QuickEval>;
  exportModel(dir: string): Promise<void>;
  release(): Promise<void>;
}

/** Dataset problems that stop a run, formatted `file:line:col: message`. */
export class DatasetError extends Error {}

/** The run would not fit in memory (memoryPlan.ts); the message says what to change. */
export class MemoryPlanError extends Error {}

export async function prepareRun(config: SeatConfig, ctx: PrepareContext): Promise<PreparedRun> {
  const { sink, signal, restored } = ctx;
  if (ctx.stepper?.halfOnCpu) config = { ...config, device: { ...config.device, provider: "cpu" } };
  const parts = methodParts(config.method);
  const c = config.train;

  // --- load: the model folder (headers only) and the dataset ---
  sink.emit({ type: "phase", phase: "load", message: `loading ${config.model} and ${config.dataset}` });
  const folder = loadModelFolder(config.model);
  const tok = folder.tokenizer;
  const padId = tok.padId ?? tok.eosId ?? 0;
  const { train: records, heldout } = await loadRecords(config);

  // --- encode: records through the chat template ---
  const enc = encodeRecords(records, tok, c.maxSeqLen, config.lossOn);
  for (const t of enc.truncated) {
    sink.emit({
      type: "log",
      level: "warn",
      message: `${config.dataset}:${t.line}: ${t.from} tokens cut to train.maxSeqLen ${t.to}${t.answerCut ? " (part of the answer is lost)" : ""}`,
    });
  }
  const examples = enc.examples;
  const recompute = checkMemory(config, folder, examples, sink);
  memoryLog(sink, "encode");

  // --- base targets: the teacher session is loaded only when base replies are needed (KL on
  // base-response positions, replay, EWC's Fisher from base replies) ---
  const needReplies =
    (parts.kl && config.kl.positions === "base-response") ||
    parts.replay ||
    (parts.ewc && config.ewc.fisher === "base-responses");
  const gen = needReplies ? baseGenerator(folder, config, sink) : undefined;
  const targets = new BaseTargets(records, tok, config, ctx.runDir, gen, signal);
  if (parts.replay && config.replay.ratio > 0) {
    sink.emit({
      type: "phase",
      phase: "teacher",
      message: "building abstention replay examples from the base model's replies",
    });
    examples.push(...(await targets.replayExamples(Math.round(config.replay.ratio * examples.length), sink)));
  }
  // Every graph run holds one micro-batch; gradient accumulation runs train.gradAccum of them per step.
  const B = c.batchSize;
  const T = Math.max(2, ...examples.map((e) => e.ids.length));
  const A = maxTargets(examples);
  const klShape = parts.kl ? klShapeFor(config, examples) : undefined;
  const kl = klShape ? new KlSequences(targets, examples, config, klShape) : undefined;
  const fisherExamples = !parts.ewc
    ? undefined
    : config.ewc.fisher === "base-responses"
      ? await targets.fisherExamples(config.ewc.samples)
      : examples.slice(0, config.ewc.samples);
  // Every planned epoch's KL targets now, then the teacher goes: its weights never share the memory
  // with the training session's (a later epoch that still lacks targets reopens it).
  await kl?.prefetch(plannedEpochs(config, examples.length, restored?.state.epoch ?? 0), sink);
  if (gen) memoryLog(sink, "teacher");
  await gen?.dispose();

  // --- mask: restored from the checkpoint on resume, else drawn now (seeded) ---
  const maskRng = restored ? Prng.fromState(restored.state.rng.mask) : new Prng(c.seed, 3);
  const perStep = parts.params === "masked" && config.mask.type === "random-per-step";
  const mask =
    parts.params === "masked" && !perStep ? await maskStage(config, folder, examples, padId, maskRng, ctx) : undefined;

  // --- Fisher (EWC): diagonal Fisher of the base behaviour, one gradient pass per example ---
  let fisher: Map<string, Float32Array> | undefined;
  if (fisherExamples) {
    sink.emit({
      type: "phase",
      phase: "fisher",
      message: `EWC: diagonal Fisher from ${config.ewc.fisher === "base-responses" ? "the base model's replies to perturbed prompts" : "the training data"}`,
    });
    const denseNames = selectTensors([...folder.weights.entries.keys()], config.full.modules, "full.modules");
    fisher = await gradientSquares(folder, denseNames, fisherExamples, padId, config, signal);
    for (const f of fisher.values()) for (let i = 0; i < f.length; i++) f[i] /= Math.max(1, fisherExamples.length);
  }

  // --- graphs: the training session, then (at a fixed point relative to it) the quick eval. Measured on CPU: a session created between two training steps changed later steps'
  // results in the last bits, so a resumed run, which would create them at another step, was no
  // longer bit-identical to an uninterrupted one. ---
  sink.emit({ type: "phase", phase: "compile", message: "building the training graph" });
  const specs = weightSpecs(config, folder, mask);
  // Live, not collected: GPU sessions log where their nodes ran after the first step, long after this.
  const log = (m: string) => sink.emit({ type: "log", level: "info", message: m });
  const stepper = await openStepper(
    folder,
    specs,
    {
      B,
      T,
      A,
      ...(klShape ? { kl: { ...klShape, lambda: config.kl.lambda, direction: config.kl.direction } } : {}),
      ...(fisher ? { ewc: { lambda: config.ewc.lambda, fisher } } : {}),
      ...(recompute ? { recompute } : {}),
    },
    config,
    {
      provider: config.device.provider,
      ...(config.device.threads ? { threads: config.device.threads } : {}),
      log,
      ...ctx.stepper,
    },
  );
  fisher = undefined; // the training graph holds it now
  memoryLog(sink, "training session");
  const evalPrompts =
    config.eval.samples > 0
      ? [
          ...heldout.slice(0, config.eval.samples).map((r) => tok.encodePrompt(r.question)),
          ...targets.quickEvalPrompts(Math.max(0, config.eval.samples - heldout.length)),
        ]
      : [];
  const scorer = QuickEvalScorer.create(folder, specs, evalPrompts, padId);
  await scorer?.open(config, log);
  // new arrays either way: the training session takes them over (one copy of the state, stepper.ts)
  await stepper.setState(restored ? restoredState(stepper, restored.tensors) : stepper.initialState(), {
    adopt: true,
  });
  if (restored) restoreLossScaler(stepper, restored.state, sink);
  memoryLog(sink, "quick-eval session + trainable state");

  // --- loop hooks ---
  return runHooks({
    config,
    folder,
    stepper,
    examples,
    T,
    A,
    padId,
    klShape,
    kl,
    mask,
    maskRng,
    perStep,
    scorer,
    gen,
    restored,
    signal,
  });
}

/** Measured memory at a stage's end: resident now and the process's peak so far (README memory plan). */
export function memoryLog(sink: EventSink, stage: string): void {
  const gb = (b: number) => (b / 2 ** 30).toFixed(2);
  sink.emit({
    type: "log",
    level: "info",
    message: `memory after ${stage}: resident ${gb(process.memoryUsage().rss)} GB, peak ${gb(process.resourceUsage().maxRSS * 1024)} GB`,
  });
}

/**
 * The memory plan of the run (memoryPlan.ts), logged; refuses a run that will not fit. Returns whether
 * the training graph recomputes activations: `train.recompute` on, or auto when the plan without it
 * does not fit and the plan with it does.
 */
function checkMemory(
  config: SeatConfig,
  folder: ModelFolder,
  examples: readonly TrainExample[],
  sink: EventSink,
): boolean {
  const parts = methodParts(config.method);
  const entries = folder.weights.entries;
  const numel = new Map([...entries].map(([n, e]) => [n, e.shape.reduce((a, b) => a * b, 1)]));
  let names: string[];
  let params = 0;
  if (parts.params === "masked") {
    names = trainableMatrices(folder, config.mask.modules, "mask.modules");
    for (const n of names)
      params += config.mask.type === "random-per-step" ? numel.get(n)! : Math.round(numel.get(n)! * config.mask.ratio);
  } else if (parts.params === "dense") {
    names = selectTensors([...entries.keys()], config.full.modules, "full.modules");
    for (const n of names) params += numel.get(n)!;
  } else {
    names = trainableMatrices(folder, config.lora.targets, "lora.targets");
    for (const n of names) params += config.lora.r * entries.get(n)!.shape.reduce((a, b) => a + b, 0);
  }
  const bytes: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
  const fileBytes = [...entries.values()].reduce((a, e) => a + numel.get(e.name)! * (bytes[e.dtype] ?? 4), 0);
  const total = [...numel.values()].reduce((a, b) => a + b, 0);
  const B = config.train.batchSize;
  const plan = (recompute: boolean) =>
    planMemory(
      config,
      { config: folder.config, fileBytes, params: total, numel, storedBytesPerParam: fileBytes / total },
      {
        B,
        T: Math.max(2, ...examples.map((e) => e.ids.length)),
        A: maxTargets(examples),
        ...(parts.kl ? { kl: klShapeFor(config, examples) } : {}),
      },
      { names, params },
      { recompute },
    );
  const available = availableMemory();
  const { recompute, plan: chosen, reason } = chooseRecompute(config.train.recompute, plan, available, config);
  if (reason) sink.emit({ type: "log", level: "info", message: reason });
  sink.emit({
    type: "log",
    level: "info",
    message: `${describePlan(chosen)}${recompute ? " (activation recompute)" : ""}`,
  });
  const refusal = planRefusal(chosen, available, config);
  if (refusal && process.env[SKIP_MEMORY_CHECK_ENV] !== "1")
    throw new MemoryPlanError(`${refusal} (set ${SKIP_MEMORY_CHECK_ENV}=1 to try anyway)`);
  if (refusal) sink.emit({ type: "log", level: "warn", message: refusal });
  return recompute;
}

/**
 * The base model's replies for the KL targets of a run with `config`, generated exactly as the run
 * would generate them (one teacher call per planned epoch, same prompts, same session options) and
 * cached in `<dir>/cache` in the run folder's format: a run whose folder starts with that cache asks
 * the teacher nothing. `part` generates every `of`-th planned epoch only, from the `index`-th, so
 * several of these can share one run's teacher work. Only for methods with KL on the base model's
 * replies and no replay (replay adds examples before the KL targets are planned). Returns the epochs
 * generated.
 */
export async function prefetchKlTeacher(
  config: SeatConfig,
  dir: string,
  opts: { signal: AbortSignal; part?: { index: number; of: number }; onEvent?: (e: TrainEvent) => void },
): Promise<number[]> {
  const parts = methodParts(config.method);
  if (!parts.kl || parts.replay || config.kl.positions !== "base-response")
    throw new Error(`internal: ${config.method} (kl.positions ${config.kl.positions}) has no KL teacher to prefetch`);
  const sink = new EventSink(dir, opts.onEvent);
  const folder = loadModelFolder(config.model);
  const { train: records } = await loadRecords(config);
  const { examples } = encodeRecords(records, folder.tokenizer, config.train.maxSeqLen, config.lossOn);
  const gen = baseGenerator(folder, config, sink);
  try {
    const targets = new BaseTargets(records, folder.tokenizer, config, dir, gen, opts.signal);
    const kl = new KlSequences(targets, examples, config, klShapeFor(config, examples));
    const { index, of } = opts.part ?? { index: 0, of: 1 };
    const epochs = plannedEpochs(config, examples.length, 0).filter((_, i) => i % of === index);
    await kl.prefetch(epochs, sink);
    return epochs;
  } finally {
    await gen.dispose();
  }
}

/** Epoch indices from `from` to the last one the run's steps reach (as trainer.ts counts them). */
function plannedEpochs(config: SeatConfig, examples: number, from: number): number[] {
  const c = config.train;
  const stepsPerEpoch = Math.ceil(examples / (c.batchSize * c.gradAccum));
  const epochs = epochBudget(c);
  const total = c.maxSteps > 0 ? Math.min(c.maxSteps, epochs * stepsPerEpoch) : epochs * stepsPerEpoch;
  const last = Math.max(0, Math.ceil(total / stepsPerEpoch) - 1);
  return Array.from({ length: Math.max(0, last - from + 1) }, (_, i) => from + i);
}

export async function loadRecords(config: SeatConfig): Promise<{ train: DatasetRecord[]; heldout: DatasetRecord[] }> {
  const ds = await readDataset(config.dataset);
  const errors = ds.problems.filter((p) => p.severity === "error");
  if (errors.length) {
    const lines = errors.slice(0, 10).map((p) => `${config.dataset}:${p.line}:${p.column}: ${p.message}`);
    throw new DatasetError(
      `the dataset has ${errors.length} error(s); fix them first (\`seat validate ${config.dataset}\`):\n${lines.join("\n")}`,
    );
  }
  const train = ds.records.filter((r) => r.seat.split === undefined || r.seat.split === "train");
  const heldout = ds.records.filter((r) => r.seat.split === "heldout" || r.seat.split === "unknown");
  if (train.length === 0)
    throw new DatasetError(
      `${config.dataset}: no training records (records with seat.split "heldout"/"unknown" are only evaluated)`,
    );
  return { train, heldout };
}

async function maskStage(
  config: SeatConfig,
  folder: ModelFolder,
  examples: TrainExample[],
  padId: number,
  maskRng: Prng,
  ctx: PrepareContext,
): Promise<Mask> {
  if (ctx.restored) return maskFromCheckpoint(ctx.restored.tensors);
  ctx.sink.emit({
    type: "phase",
    phase: "mask",
    message: `drawing a ${config.mask.type} mask (${config.mask.granularity}, ratio ${config.mask.ratio})`,
  });
  const names = trainableMatrices(folder, config.mask.modules, "mask.modules");
  let scores: Map<string, Float32Array> | undefined;
  if (config.mask.type === "importance") {
    ctx.sink.emit({
      type: "phase",
      phase: "mask",
      message: "importance: accumulating squared gradients over the training data",
    });
    scores = await gradientSquares(folder, names, examples, padId, config, ctx.signal);
  }
  return drawMask(
    names.map((name) => {
      const e = folder.weights.entries.get(name)!;
      return {
        name,
        shape: e.shape,
        ...(config.mask.type === "magnitude" ? { values: readTensorF32(e) } : {}),
        ...(scores ? { scores: scores.get(name) } : {}),
      };
    }),
    config.mask,
    maskRng,
  );
}

/**
 * The fp16 loss scaler continues from the checkpoint's scale and count of good steps, so the resumed
 * run scales (and rounds) its gradients as the uninterrupted one did. A checkpoint written before the
 * scaler was kept starts at the initial scale; a run resumed in fp32 (--device cpu) has no scaler.
 */
function restoreLossScaler(stepper: Stepper, state: CheckpointState, sink: EventSink): void {
  const scaler = stepper.lossScaler;
  const name = checkpointName(state.step);
  if (scaler && state.lossScaler) {
    try {
      scaler.restore(state.lossScaler);
    } catch (e) {
      throw new Error(`checkpoint ${name}: ${(e as Error).message}`);
    }
  } else if (scaler) {
    sink.emit({
      type: "log",
      level: "warn",
      message: `checkpoint ${name} holds no loss-scaler state (written by an older version or by an fp32 run): the loss scale starts again at ${scaler.scale}`,
    });
  } else if (state.lossScaler) {
    sink.emit({
      type: "log",
      level: "info",
      message: `this run trains without loss scaling: checkpoint ${name}'s loss scale (${state.lossScaler.scale}) is not used`,
    });
  }
}

function restoredState(stepper: Stepper, tensors: Map<string, CkptTensor>): Record<string, HostTensor> {
  const st: Record<string, HostTensor> = {};
  for (const n of stepper.stateNames) {
    const t = tensors.get(`state/${n}`);
    if (!t) throw new Error(`checkpoint lacks trainable state "${n}" (was it written by another method or mask?)`);
    st[n] = { dtype: "float32", dims: t.shape, data: t.data as Float32Array };
  }
  return st;
}

interface HookInputs {
  config: SeatConfig;
  folder: ModelFolder;
  stepper: Stepper;
  examples: TrainExample[];
  T: number;
  A: number;
  padId: number;
  klShape: KlShape | undefined;
  kl: KlSequences | undefined;
  mask: Mask | undefined;
  maskRng: Prng;
  perStep: boolean;
  scorer: QuickEvalScorer | undefined;
  gen: { dispose(): Promise<void> } | undefined;
  restored: PrepareContext["restored"];
  signal: AbortSignal;
}

/** What the training loop calls: steps, snapshots, quick evals, export, release. */
function runHooks(h: HookInputs): PreparedRun {
  const { config, folder, stepper, examples, mask, maskRng, signal } = h;
  const params = stepper.model.params;
  const paramNames = params.map((p) => p.input.name!);
  // Answer correctness of the most recent examples (one epoch's worth), checkpointed with the run.
  const accWindow: number[] = Array.isArray(h.restored?.state.extra.accWindow)
    ? [...(h.restored!.state.extra.accWindow as number[])]
    : [];
  const perStepHook = h.perStep ? perStepMaskHook(stepper, config, maskRng) : undefined;
  const count = (dims: readonly number[]) => dims.reduce((x, y) => x * y, 1);
  return {
    examples,
    seqLen: h.T,
    targetSlots: h.A,
    padId: h.padId,
    klShape: h.klShape,
    trainableParams: params.reduce((a, p) => a + count(p.input.shape as number[]), 0),
    totalParams: [...folder.weights.entries.values()].reduce((a, e) => a + count(e.shape), 0),
    provider: stepper.provider,
    get maskRngState() {
      return maskRng.state();
    },
    accuracyWindow: accWindow,
    klSequencesFor: (epoch, idx) => (h.kl ? h.kl.forExamples(epoch, idx) : Promise.resolve([])),
    async runStep(batches, lr, step) {
      const out = await stepper.step(batches, lr, step, signal, perStepHook);
      if (!out) return undefined;
      for (const v of out.answerOk) if (v >= 0) accWindow.push(v);
      while (accWindow.length > examples.length) accWindow.shift();
      return out;
    },
    async snapshot() {
      const st = await stepper.getState(stepper.stateNames);
      const m = new Map<string, CkptTensor>();
      for (const [k, v] of Object.entries(st))
        m.set(`state/${k}`, { shape: [...v.dims], data: v.data as Float32Array });
      if (mask) for (const [k, idx] of mask) m.set(`mask/${k}`, { shape: [idx.length], data: idx });
      return m;
    },
    lossScalerState: () => stepper.lossScaler?.state(),
    async quickEval(_samples: number, heldout = true) {
      const accuracy = accWindow.length ? accWindow.reduce((a, b) => a + b, 0) / accWindow.length : 0;
      const scorer = heldout ? h.scorer : undefined;
      const abst = scorer ? await scorer.abstention(await stepper.getState(paramNames), config) : 0;
      return {
        abstentionProb: abst,
        answerAccuracy: accuracy,
        abstentionSamples: scorer?.prompts.length ?? 0,
        accuracySamples: accWindow.length,
      };
    },
    async exportModel(dir) {
      const values = await stepper.getState(paramNames);
      exportMergedModel(folder, mergeTrainedLazy(folder, params, values), dir);
    },
    async release() {
      await stepper.release();
      await h.scorer?.release();
      await h.gen?.dispose();
    },
  };
}

/**
 * random-per-step: right before each update (after the step's micro-batches, so that a step cancelled
 * between them draws nothing) draw this step's entries and keep copies of every eligible tensor and
 * its AdamW moments; after it, every entry outside the draw gets its pre-step value back, so it
 * neither moves nor accumulates momentum this step (zeroing gradients would not stop AdamW's
 * momentum and decay). Bias correction uses the global step count. Cost: two host copies of the
 * eligible tensors and moments per step.
 */
function perStepMaskHook(stepper: Stepper, config: SeatConfig, maskRng: Prng): UpdateHook {
  const params = stepper.model.params;
  const names = params.flatMap((p) => [p.input.name!, `${p.input.name}.m`, `${p.input.name}.v`]);
  return async () => {
    const picks = drawMask(
      params.map((p) => ({ name: p.input.name!, shape: p.input.shape as number[] })),
      { ...config.mask, type: "random" },
      maskRng,
    );
    const before = await stepper.getState(names);
    return async () => {
      const after = await stepper.getState(names);
      const keep: Record<string, HostTensor> = {};
      for (const p of params) {
        const idx = picks.get(p.input.name!)!;
        for (const n of [p.input.name!, `${p.input.name}.m`, `${p.input.name}.v`]) {
          const out = before[n].data as Float32Array;
          const upd = after[n].data as Float32Array;
          for (let i = 0; i < idx.length; i++) out[idx[i]] = upd[idx[i]];
          keep[n] = before[n];
        }
      }
      await stepper.setState(keep);
    };
  };
}
