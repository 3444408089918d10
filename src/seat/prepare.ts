// Everything a run needs before its first step: model and dataset, encoded examples, perturbations and
// the KL teacher's continuations, the trainable parameters (masks), the compiled training graph(s) in
// session(s) (stepper.ts), and the hooks the loop calls (step, snapshot, quick eval, export).
import { join } from "node:path";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { toOnnx, type HostTensor } from "../engine/index";
import { loadModelFolder, readTensorF32, type ModelFolder } from "../model/index";
import { openModelSession } from "../model/index";
import { readDataset, type DatasetRecord } from "../data/index";
import { perturbationsFor, prepareDataset, type DatasetContext, type PerturbationCandidate } from "../entities/index";
import { loadAbstentionLists, prefixFree, abstentionProbabilityFromLogProbs, makeAbstentionDetector } from "../eval/index";
import type { Session } from "../runtime/index";
import type { CheckpointState, CkptTensor } from "./checkpoint";
import { methodParts, type SeatConfig } from "./config";
import { encodeRecords, exampleFromIds, klSequence, type KlSequence, type TrainExample } from "./data";
import { buildScoreGraph } from "./graphs";
import { openStepper, type MicroBatch, type StepOutputs, type UpdateHook } from "./stepper";
import { drawMask, selectTensors, type Mask } from "./masks";
import { Prng, type PrngState } from "../util/rng";
import { writeFileAtomic } from "../util/files";
import { RUN_FILES, type EventSink } from "./runFolder";
import { mergeTrained } from "../model/index";
import { exportMergedModel } from "../model/index";
import { weightSpecs, maskFromCheckpoint } from "./specs";
import { gradientSquares } from "./fisher";
import { hashSeed } from "./hash";
import { baseGenerator, type Generator } from "./teacher";

export interface PrepareContext {
  runDir: string;
  sink: EventSink;
  signal: AbortSignal;
  restored?: { state: CheckpointState; tensors: Map<string, CkptTensor> };
}

export interface QuickEval {
  abstentionProb: number;
  answerAccuracy: number;
  abstentionSamples: number;
  accuracySamples: number;
}

export interface PreparedRun {
  examples: TrainExample[];
  seqLen: number;
  padId: number;
  /** Perturbed batch of one micro-batch (K = train.batchSize x copies per example). */
  klShape?: { K: number; Tk: number };
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
  quickEval(samples: number): Promise<QuickEval>;
  exportModel(dir: string): Promise<void>;
  release(): Promise<void>;
}

/** Dataset problems that stop a run, formatted `file:line:col: message`. */
export class DatasetError extends Error {}

async function loadRecords(config: SeatConfig): Promise<{ train: DatasetRecord[]; heldout: DatasetRecord[] }> {
  const ds = await readDataset(config.dataset);
  const errors = ds.problems.filter((p) => p.severity === "error");
  if (errors.length) {
    const lines = errors.slice(0, 10).map((p) => `${config.dataset}:${p.line}:${p.column}: ${p.message}`);
    throw new DatasetError(`the dataset has ${errors.length} error(s); fix them first (\`seat validate ${config.dataset}\`):\n${lines.join("\n")}`);
  }
  const train = ds.records.filter((r) => r.seat.split === undefined || r.seat.split === "train");
  const heldout = ds.records.filter((r) => r.seat.split === "heldout" || r.seat.split === "unknown");
  if (train.length === 0) throw new DatasetError(`${config.dataset}: no training records (records with seat.split "heldout"/"unknown" are only evaluated)`);
  return { train, heldout };
}

export async function prepareRun(config: SeatConfig, ctx: PrepareContext): Promise<PreparedRun> {
  const { sink, signal, restored } = ctx;
  const parts = methodParts(config.method);
  const c = config.train;
  sink.emit({ type: "phase", phase: "load", message: `loading ${config.model} and ${config.dataset}` });
  const folder = loadModelFolder(config.model);
  const tok = folder.tokenizer;
  const padId = tok.padId ?? tok.eosId ?? 0;
  const { train: records, heldout } = await loadRecords(config);
  const enc = encodeRecords(records, tok, c.maxSeqLen, config.lossOn);
  for (const t of enc.truncated) {
    sink.emit({ type: "log", level: "warn", message: `${config.dataset}:${t.line}: ${t.from} tokens cut to train.maxSeqLen ${t.to}${t.answerCut ? " (part of the answer is lost)" : ""}` });
  }
  const examples = enc.examples;
  const entityCtx: DatasetContext = prepareDataset(records.map(entityView));
  // The base model's own replies are needed by the KL teacher (base-response positions), replay and the
  // EWC Fisher from base replies; only then is a second (inference) session loaded.
  const needReplies = (parts.kl && config.kl.positions === "base-response") || parts.replay || (parts.ewc && config.ewc.fisher === "base-responses");
  const gen: Generator | undefined = needReplies ? baseGenerator(folder, config, sink) : undefined;
  const teacherCache = loadTeacherCache(ctx.runDir);
  const respond = async (prompts: number[][]): Promise<number[][]> => {
    const missing = prompts.filter((p) => !teacherCache.has(p.join(",")));
    if (missing.length) {
      const out = await gen!.generate(missing, config.kl.maxResponseTokens, signal);
      missing.forEach((p, i) => teacherCache.set(p.join(","), out[i]));
      saveTeacherCache(ctx.runDir, teacherCache);
    }
    return prompts.map((p) => teacherCache.get(p.join(","))!);
  };
  const perturbed = (recIdx: number, k: number, seed: number): PerturbationCandidate[] => {
    const all = perturbationsFor(entityView(records[recIdx]), { k, seed, context: entityCtx }).filter((p) => p.question !== undefined || p.messages !== undefined);
    if (all.length <= k) return all;
    const r = new Prng(seed, recIdx);
    return [...r.sample(all.length, k)].map((i) => all[i]);
  };
  const promptOf = (r: DatasetRecord, p: PerturbationCandidate): number[] => tok.encodePrompt(promptMessages(r, p));

  // Replay (ratio 1.0 = one abstention example per training example): perturbed prompts paired with the
  // base model's own replies, kept only when the abstention detector says the reply abstains, and
  // encoded through the chat template like any record (so the turn's end token is learned too).
  if (parts.replay && config.replay.ratio > 0) {
    sink.emit({ type: "phase", phase: "teacher", message: "building abstention replay examples from the base model's replies" });
    const detector = makeAbstentionDetector(loadAbstentionLists().phrases);
    const n = Math.round(config.replay.ratio * examples.length);
    const cands: { rec: number; p: PerturbationCandidate; ids: number[] }[] = [];
    for (let i = 0; cands.length < n && i < n * 4; i++) {
      const rec = i % records.length;
      const p = perturbed(rec, 1, hashSeed(c.seed, 1000 + Math.floor(i / records.length)))[0];
      if (p) cands.push({ rec, p, ids: promptOf(records[rec], p) });
    }
    const replies = await respond(cands.map((x) => x.ids));
    let kept = 0;
    cands.forEach((x, i) => {
      const text = tok.decode(replies[i]);
      if (detector.match(text) === undefined) return;
      const messages = [...promptMessages(records[x.rec], x.p), { role: "assistant", content: text }];
      const e = tok.encodeExample({ messages });
      examples.push({ record: x.rec, line: records[x.rec].line, ids: e.ids.slice(0, c.maxSeqLen), targetMask: e.answerMask.slice(0, c.maxSeqLen), promptLength: e.promptLength, kind: "replay" });
      kept++;
    });
    sink.emit({ type: "log", level: kept === 0 ? "warn" : "info", message: `replay: ${kept} of ${cands.length} base replies to perturbed prompts abstain; ${kept} abstention examples mixed into ${records.length} training examples` });
  }

  // Every graph run holds one micro-batch; gradient accumulation runs train.gradAccum of them per step.
  const B = c.batchSize;
  const T = Math.max(2, ...examples.map((e) => e.ids.length));
  let klShape: { K: number; Tk: number } | undefined;
  // KL sequences of one epoch for every record, built in one batch (one generation call) on first use.
  let klEpoch: { seed: number; byRecord: Map<number, KlSequence[]> } | undefined;
  const klForEpoch = async (epoch: number): Promise<Map<number, KlSequence[]>> => {
    const seed = config.kl.resample === "epoch" ? hashSeed(c.seed, epoch) : hashSeed(c.seed, 0);
    if (klEpoch?.seed === seed) return klEpoch.byRecord;
    const facts = examples.filter((e) => e.kind === "fact");
    const prompts = facts.map((ex) => config.kl.input === "original"
      ? [ex.ids.slice(0, ex.promptLength)]
      : perturbed(ex.record, config.kl.k, seed).map((p) => promptOf(records[ex.record], p)));
    const flat = prompts.flat();
    const conts = config.kl.positions === "answer" ? [] : await respond(flat);
    const byRecord = new Map<number, KlSequence[]>();
    let j = 0;
    facts.forEach((ex, i) => {
      byRecord.set(ex.record, prompts[i].map((p) => {
        const cont = config.kl.positions === "answer" ? ex.ids.slice(ex.promptLength) : conts[j];
        j++;
        return klSequence(ex.record, p, cont, config.kl.includePrompt, klShape!.Tk);
      }));
    });
    klEpoch = { seed, byRecord };
    return byRecord;
  };
  if (parts.kl) {
    const maxPrompt = Math.max(...examples.map((e) => e.promptLength));
    const maxAnswer = Math.max(...examples.map((e) => e.ids.length - e.promptLength));
    // Look-alike names can tokenize longer than the originals: leave room, the rest is truncated.
    const cont = config.kl.positions === "answer" ? maxAnswer : config.kl.maxResponseTokens;
    klShape = { K: B * (config.kl.input === "original" ? 1 : config.kl.k), Tk: Math.min(c.maxSeqLen, maxPrompt + 16 + cont) };
  }

  // Masks: restored from the checkpoint on resume, else drawn now (seeded).
  const maskRng = restored ? Prng.fromState(restored.state.rng.mask) : new Prng(c.seed, 3);
  let mask: Mask | undefined;
  const perStep = parts.params === "masked" && config.mask.type === "random-per-step";
  if (parts.params === "masked" && !perStep) {
    if (restored) {
      mask = maskFromCheckpoint(restored.tensors);
    } else {
      sink.emit({ type: "phase", phase: "mask", message: `drawing a ${config.mask.type} mask (${config.mask.granularity}, ratio ${config.mask.ratio})` });
      const names = selectTensors([...folder.weights.entries.keys()], config.mask.modules, "mask.modules");
      let scores: Map<string, Float32Array> | undefined;
      if (config.mask.type === "importance") {
        sink.emit({ type: "phase", phase: "mask", message: "importance: accumulating squared gradients over the training data" });
        scores = await gradientSquares(folder, names, examples, B, T, padId, config, signal);
      }
      mask = drawMask(names.map((name) => {
        const e = folder.weights.entries.get(name)!;
        return { name, shape: e.shape, ...(config.mask.type === "magnitude" ? { values: readWeight(folder, name) } : {}), ...(scores ? { scores: scores.get(name) } : {}) };
      }), config.mask, maskRng);
    }
  }

  let fisher: Map<string, Float32Array> | undefined;
  if (parts.ewc) {
    sink.emit({ type: "phase", phase: "fisher", message: `EWC: diagonal Fisher from ${config.ewc.fisher === "base-responses" ? "the base model's replies to perturbed prompts" : "the training data"}` });
    const denseNames = selectTensors([...folder.weights.entries.keys()], config.full.modules, "full.modules");
    let fisherExamples = examples.slice(0, config.ewc.samples);
    if (config.ewc.fisher === "base-responses") {
      const prompts: { rec: number; ids: number[] }[] = [];
      for (let rec = 0; rec < records.length && prompts.length < config.ewc.samples; rec++) {
        const p = perturbed(rec, 1, hashSeed(c.seed, 2000))[0];
        if (p) prompts.push({ rec, ids: promptOf(records[rec], p) });
      }
      const replies = await respond(prompts.map((p) => p.ids));
      fisherExamples = prompts.map((p, i) => exampleFromIds(p.rec, records[p.rec].line, p.ids, replies[i], c.maxSeqLen));
    }
    fisher = await gradientSquares(folder, denseNames, fisherExamples, B, Math.max(2, ...fisherExamples.map((e) => e.ids.length)), padId, config, signal);
    for (const f of fisher.values()) for (let i = 0; i < f.length; i++) f[i] /= Math.max(1, fisherExamples.length);
  }

  sink.emit({ type: "phase", phase: "compile", message: "building the training graph" });
  const specs = weightSpecs(config, folder, mask);
  const logs: string[] = [];
  const stepper = await openStepper(folder, specs, {
    B, T,
    ...(klShape ? { kl: { ...klShape, lambda: config.kl.lambda, direction: config.kl.direction } } : {}),
    ...(fisher ? { ewc: { lambda: config.ewc.lambda, fisher } } : {}),
  }, config, { provider: config.device.provider, ...(config.device.threads ? { threads: config.device.threads } : {}), log: (m) => logs.push(m) });
  const params = stepper.model.params;
  for (const m of logs) sink.emit({ type: "log", level: "info", message: m });
  // Quick eval: held-out prompts = heldout/unknown records, or perturbations never used in training.
  let scoreSession: Session | undefined;
  const evalPrompts: number[][] = [];
  let openings: number[][] = [];
  // Answer correctness of the most recent examples (one epoch's worth), checkpointed with the run.
  const accWindow: number[] = Array.isArray(restored?.state.extra.accWindow) ? [...(restored!.state.extra.accWindow as number[])] : [];
  if (config.eval.samples > 0) {
    const lists = loadAbstentionLists();
    // Openings are tokenized as they follow the generation prompt (no BOS), as the probe suite does.
    openings = prefixFree(lists.openings.map((o) => tok.encode(o)).filter((o) => o.length > 0));
    const held = heldout.slice(0, config.eval.samples).map((r) => tok.encodePrompt(r.question));
    for (let rec = 0; held.length < config.eval.samples && rec < records.length; rec++) {
      const p = perturbed(rec, 1, hashSeed(c.seed, 999_983))[0];
      if (p) held.push(promptOf(records[rec], p));
    }
    evalPrompts.push(...held);
  }
  const ensureScore = async () => {
    if (scoreSession || evalPrompts.length === 0) return;
    const N = evalPrompts.length * openings.length;
    const Ts = Math.max(...evalPrompts.map((p) => p.length)) + Math.max(...openings.map((o) => o.length));
    const sg = buildScoreGraph(folder, specs, N, Ts);
    scoreSession = await openModelSession(toOnnx(sg.graph), folder.weights, {
      provider: config.device.provider, ...(config.device.threads ? { intraOpThreads: config.device.threads } : {}), label: "quick-eval graph",
    });
  };

  // Create the teacher's and the quick eval's sessions now, at a fixed point relative to the training
  // session, even when a resumed run has nothing left to generate: measured on CPU, a session created
  // between two training steps changed later steps' results in the last bits (so a resumed run, which
  // creates them at another step, was no longer bit-identical to an uninterrupted one).
  await gen?.load();
  await ensureScore();
  const stateNames = stepper.stateNames;
  if (restored) {
    const st: Record<string, HostTensor> = {};
    for (const n of stateNames) {
      const t = restored.tensors.get(`state/${n}`);
      if (!t) throw new Error(`checkpoint lacks trainable state "${n}" (was it written by another method or mask?)`);
      st[n] = { dtype: "float32", dims: t.shape, data: t.data as Float32Array };
    }
    await stepper.setState(st);
  } else {
    await stepper.setState(stepper.initialState());
  }
  // random-per-step: right before each update (after the step's micro-batches, so that a step cancelled
  // between them draws nothing) draw this step's entries and keep copies of every eligible tensor and
  // its AdamW moments; after it, every entry outside the draw gets its pre-step value back, so it
  // neither moves nor accumulates momentum this step (zeroing gradients would not stop AdamW's
  // momentum and decay). Bias correction uses the global step count. Cost: two host copies of the
  // eligible tensors and moments per step.
  const perStepNames = perStep ? params.flatMap((p) => [p.input.name!, `${p.input.name}.m`, `${p.input.name}.v`]) : [];
  const perStepHook: UpdateHook | undefined = perStep ? async () => {
    const picks = drawMask(params.map((p) => ({ name: p.input.name!, shape: [...p.init.dims] })), { ...config.mask, type: "random" }, maskRng);
    const before = await stepper.getState(perStepNames);
    return async () => {
      const after = await stepper.getState(perStepNames);
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
  } : undefined;
  const trainableParams = params.reduce((a, p) => a + p.init.dims.reduce((x, y) => x * y, 1), 0);
  const totalParams = [...folder.weights.entries.values()].reduce((a, e) => a + e.shape.reduce((x, y) => x * y, 1), 0);
  const paramNames = params.map((p) => p.input.name!);

  return {
    examples, seqLen: T, padId, klShape, trainableParams, totalParams, provider: stepper.provider,
    get maskRngState() { return maskRng.state(); },
    accuracyWindow: accWindow,
    async klSequencesFor(epoch, idx) {
      const byRecord = await klForEpoch(epoch);
      const out: KlSequence[] = [];
      for (const i of idx) if (examples[i].kind === "fact") out.push(...(byRecord.get(examples[i].record) ?? []));
      return out;
    },
    async runStep(batches, lr, step) {
      const out = await stepper.step(batches, lr, step, signal, perStepHook);
      if (!out) return undefined;
      for (const v of out.answerOk) if (v >= 0) accWindow.push(v);
      while (accWindow.length > examples.length) accWindow.shift();
      return out;
    },
    async snapshot() {
      const st = await stepper.getState(stateNames);
      const m = new Map<string, CkptTensor>();
      for (const [k, v] of Object.entries(st)) m.set(`state/${k}`, { shape: [...v.dims], data: v.data as Float32Array });
      if (mask) for (const [k, idx] of mask) m.set(`mask/${k}`, { shape: [idx.length], data: idx });
      return m;
    },
    async quickEval() {
      const accuracy = accWindow.length ? accWindow.reduce((a, b) => a + b, 0) / accWindow.length : 0;
      let abst = 0;
      if (evalPrompts.length && openings.length) {
        await ensureScore();
        const values = await stepper.getState(paramNames);
        const N = evalPrompts.length * openings.length;
        const Ts = Math.max(...evalPrompts.map((p) => p.length)) + Math.max(...openings.map((o) => o.length));
        const ids = new BigInt64Array(N * Ts).fill(BigInt(padId));
        const targets = new BigInt64Array(N * Ts);
        const msk = new Float32Array(N * Ts);
        let row = 0;
        for (const p of evalPrompts) for (const o of openings) {
          const seq = [...p, ...o];
          seq.forEach((t, j) => { ids[row * Ts + j] = BigInt(t); });
          for (let j = p.length - 1; j < seq.length - 1; j++) { targets[row * Ts + j] = BigInt(seq[j + 1]); msk[row * Ts + j] = 1; }
          row++;
        }
        const out = await scoreSession!.run({ ...values, ids: { dtype: "int64", dims: [N, Ts], data: ids }, targets: { dtype: "int64", dims: [N, Ts], data: targets }, mask: { dtype: "float32", dims: [N, Ts], data: msk } }, ["seq_logprob"]);
        const lp = out.seq_logprob.data as Float32Array;
        let sum = 0;
        for (let i = 0; i < evalPrompts.length; i++) sum += abstentionProbabilityFromLogProbs(Array.from(lp.subarray(i * openings.length, (i + 1) * openings.length)));
        abst = sum / evalPrompts.length;
      }
      return { abstentionProb: abst, answerAccuracy: accuracy, abstentionSamples: evalPrompts.length, accuracySamples: accWindow.length };
    },
    async exportModel(dir) {
      const values = await stepper.getState(paramNames);
      const merged = mergeTrained(folder, params, values);
      exportMergedModel(folder, merged, dir);
    },
    async release() {
      await stepper.release();
      await scoreSession?.release();
      await gen?.dispose();
    },
  };
}

/** The perturbed conversation up to (not including) the answer. */
function promptMessages(r: DatasetRecord, p: PerturbationCandidate): { role: string; content: string }[] {
  if (p.messages) return p.messages.filter((m, i, a) => !(i === a.length - 1 && m.role === "assistant"));
  return [...r.messages.filter((m) => m.role === "system"), { role: "user", content: p.question! }];
}

function entityView(r: DatasetRecord) {
  return { question: r.question, answer: r.answer, messages: r.messages, seat: { entities: r.entities, perturbations: r.perturbations } };
}

function readWeight(folder: ModelFolder, name: string): Float32Array {
  return readTensorF32(folder.weights.entries.get(name)!);
}

function loadTeacherCache(runDir: string): Map<string, number[]> {
  const p = join(runDir, RUN_FILES.cache, "teacher.json");
  if (!existsSync(p)) return new Map();
  return new Map(Object.entries(JSON.parse(readFileSync(p, "utf8")) as Record<string, number[]>));
}

function saveTeacherCache(runDir: string, cache: Map<string, number[]>): void {
  mkdirSync(join(runDir, RUN_FILES.cache), { recursive: true });
  writeFileAtomic(join(runDir, RUN_FILES.cache, "teacher.json"), JSON.stringify(Object.fromEntries(cache)));
}
