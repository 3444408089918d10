// What the frozen base model contributes to a run, built from the training records: look-alike
// (perturbed) prompts, the base model's own greedy replies to them (the KL teacher's targets, replay
// examples, EWC's Fisher prompts), cached in the run folder so a resumed run reuses exactly the same
// targets. The teacher's inference session reads the same weight file pages as the training session
// (model/sessions.ts: frozen weights are shared, never folded into private copies).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DatasetRecord } from "../data/index";
import { perturbationsFor, prepareDataset, type DatasetContext, type PerturbationCandidate } from "../entities/index";
import { loadAbstentionLists, makeAbstentionDetector } from "../eval/index";
import type { ModelTokenizer } from "../model/index";
import { writeFileAtomic } from "../util/files";
import type { SeatConfig } from "./config";
import { exampleFromIds, klSequence, type KlSequence, type TrainExample } from "./data";
import { hashSeed } from "./hash";
import { Prng } from "../util/rng";
import { RUN_FILES, type EventSink } from "./runFolder";
import type { Generator } from "./teacher";

/** Perturbed prompts of the training records and the base model's replies to them. */
export class BaseTargets {
  private readonly entityCtx: DatasetContext;
  private readonly cache: Map<string, number[]>;

  constructor(
    readonly records: readonly DatasetRecord[],
    private readonly tok: ModelTokenizer,
    private readonly config: SeatConfig,
    private readonly runDir: string,
    private readonly gen: Generator | undefined,
    private readonly signal: AbortSignal,
  ) {
    this.entityCtx = prepareDataset(records.map(entityView), { names: config.kl.names });
    this.cache = loadTeacherCache(runDir);
  }

  /** k seeded look-alike versions of record `rec` (fewer when the record has fewer candidates). */
  perturbed(rec: number, k: number, seed: number): PerturbationCandidate[] {
    const all = perturbationsFor(entityView(this.records[rec]), { k, seed, context: this.entityCtx }).filter(
      (p) => p.question !== undefined || p.messages !== undefined,
    );
    if (all.length <= k) return all;
    const r = new Prng(seed, rec);
    return [...r.sample(all.length, k)].map((i) => all[i]);
  }

  isCached(prompt: number[]): boolean {
    return this.cache.has(prompt.join(","));
  }

  promptOf(rec: number, p: PerturbationCandidate): number[] {
    return this.tok.encodePrompt(promptMessages(this.records[rec], p));
  }

  /** The base model's greedy replies (ids, stop token excluded), generated once per prompt per run. */
  async replies(prompts: number[][]): Promise<number[][]> {
    if (await this.generateMissing(prompts, false)) saveTeacherCache(this.runDir, this.cache);
    return prompts.map((p) => this.cache.get(p.join(","))!);
  }

  /** Whether any of `prompts` lacked a cached reply (those are generated now; the cache is not saved). */
  async generateMissing(prompts: number[][], quiet: boolean): Promise<boolean> {
    const missing = prompts.filter((p) => !this.cache.has(p.join(",")));
    if (!missing.length) return false;
    if (!this.gen) throw new Error("internal: base replies requested but no teacher was loaded");
    const out = await this.gen.generate(missing, this.config.kl.maxResponseTokens, this.signal, quiet);
    missing.forEach((p, i) => this.cache.set(p.join(","), out[i]));
    return true;
  }

  /** Writes the replies generated so far to the run folder (a resumed run reuses them). */
  saveCache(): void {
    saveTeacherCache(this.runDir, this.cache);
  }

  /**
   * Replay (ratio 1.0 = one abstention example per training example): perturbed prompts paired with
   * the base model's own replies, kept only when the abstention detector says the reply abstains, and
   * encoded through the chat template like any record (so the turn's end token is learned too).
   */
  async replayExamples(n: number, sink: EventSink): Promise<TrainExample[]> {
    const c = this.config.train;
    const detector = makeAbstentionDetector(loadAbstentionLists().phrases);
    const cands: { rec: number; p: PerturbationCandidate; ids: number[] }[] = [];
    for (let i = 0; cands.length < n && i < n * 4; i++) {
      const rec = i % this.records.length;
      const p = this.perturbed(rec, 1, hashSeed(c.seed, 1000 + Math.floor(i / this.records.length)))[0];
      if (p) cands.push({ rec, p, ids: this.promptOf(rec, p) });
    }
    const replies = await this.replies(cands.map((x) => x.ids));
    const out: TrainExample[] = [];
    cands.forEach((x, i) => {
      const text = this.tok.decode(replies[i]);
      if (detector.match(text) === undefined) return;
      const messages = [...promptMessages(this.records[x.rec], x.p), { role: "assistant", content: text }];
      const e = this.tok.encodeExample({ messages });
      out.push({
        record: x.rec,
        line: this.records[x.rec].line,
        ids: e.ids.slice(0, c.maxSeqLen),
        targetMask: e.answerMask.slice(0, c.maxSeqLen),
        promptLength: e.promptLength,
        kind: "replay",
      });
    });
    sink.emit({
      type: "log",
      level: out.length === 0 ? "warn" : "info",
      message: `replay: ${out.length} of ${cands.length} base replies to perturbed prompts abstain; ${out.length} abstention examples mixed into ${this.records.length} training examples`,
    });
    return out;
  }

  /** EWC's Fisher examples: perturbed prompts with the base model's replies as targets. */
  async fisherExamples(samples: number): Promise<TrainExample[]> {
    const c = this.config.train;
    const prompts: { rec: number; ids: number[] }[] = [];
    for (let rec = 0; rec < this.records.length && prompts.length < samples; rec++) {
      const p = this.perturbed(rec, 1, hashSeed(c.seed, 2000))[0];
      if (p) prompts.push({ rec, ids: this.promptOf(rec, p) });
    }
    const replies = await this.replies(prompts.map((p) => p.ids));
    return prompts.map((p, i) => exampleFromIds(p.rec, this.records[p.rec].line, p.ids, replies[i], c.maxSeqLen));
  }

  /** Held-out prompts for the quick eval: perturbations never used in training. */
  quickEvalPrompts(n: number): number[][] {
    const out: number[][] = [];
    for (let rec = 0; out.length < n && rec < this.records.length; rec++) {
      const p = this.perturbed(rec, 1, hashSeed(this.config.train.seed, 999_983))[0];
      if (p) out.push(this.promptOf(rec, p));
    }
    return out;
  }
}

/** Shape of the perturbed batch of one micro-batch: K rows of Tk tokens, Ak KL positions per row. */
export interface KlShape {
  K: number;
  Tk: number;
  Ak: number;
}

export function klShapeFor(config: SeatConfig, examples: readonly TrainExample[]): KlShape {
  const c = config.train;
  const maxPrompt = Math.max(...examples.map((e) => e.promptLength));
  const maxAnswer = Math.max(...examples.map((e) => e.ids.length - e.promptLength));
  // Look-alike names can tokenize longer than the originals: leave room, the rest is truncated.
  const cont = config.kl.positions === "answer" ? maxAnswer : config.kl.maxResponseTokens;
  const Tk = Math.min(c.maxSeqLen, maxPrompt + 16 + cont);
  const Ak = Math.max(1, Math.min(Tk - 1, config.kl.includePrompt ? Tk - 1 : cont));
  return { K: c.batchSize * (config.kl.input === "original" ? 1 : config.kl.k), Tk, Ak };
}

/**
 * KL sequences of one epoch for every training record, built in one batch (one generation call) on
 * first use; `resample: epoch` draws new look-alikes each epoch.
 */
export class KlSequences {
  private epoch: { seed: number; byRecord: Map<number, KlSequence[]> } | undefined;

  constructor(
    private readonly targets: BaseTargets,
    private readonly examples: readonly TrainExample[],
    private readonly config: SeatConfig,
    private readonly shape: KlShape,
  ) {}

  async forExamples(epoch: number, idx: readonly number[]): Promise<KlSequence[]> {
    const byRecord = await this.forEpoch(epoch);
    const out: KlSequence[] = [];
    for (const i of idx)
      if (this.examples[i].kind === "fact") out.push(...(byRecord.get(this.examples[i].record) ?? []));
    return out;
  }

  /**
   * Generates the base replies of every listed epoch in one go, so the teacher can be released before
   * the training session opens (its weights and the training session's never share the memory).
   */
  async prefetch(epochs: readonly number[], sink: EventSink): Promise<void> {
    if (this.config.kl.positions === "answer") return;
    const seeds = [...new Set(epochs.map((e) => this.seedOf(e)))];
    const prompts = seeds.map((s) => this.promptsFor(s).flat());
    const todo = prompts.map((_, i) => i).filter((i) => prompts[i].some((p) => !this.targets.isCached(p)));
    if (!todo.length) return;
    const each = prompts[todo[0]].length;
    const what = `base model replies to the perturbed prompts of ${todo.length} epoch(s), ${each} each`;
    sink.emit({ type: "phase", phase: "teacher", message: what, progress: 0 });
    // One generation call per epoch, so each epoch's prompts are batched as they would be on their own
    // (a later epoch generated on demand gets the same replies). Progress: a line per tenth, not per
    // epoch (a 2-record dataset trained for 600 epochs made 600 lines); the cache is written once.
    let shown = 0;
    try {
      for (let j = 0; j < todo.length; j++) {
        await this.targets.generateMissing(prompts[todo[j]], true);
        const tenth = Math.floor(((j + 1) / todo.length) * 10);
        if (tenth > shown && j + 1 < todo.length) {
          shown = tenth;
          sink.emit({ type: "phase", phase: "teacher", message: what, progress: (j + 1) / todo.length });
        }
      }
    } finally {
      this.targets.saveCache();
    }
  }

  private seedOf(epoch: number): number {
    return this.config.kl.resample === "epoch"
      ? hashSeed(this.config.train.seed, epoch)
      : hashSeed(this.config.train.seed, 0);
  }

  private facts(): TrainExample[] {
    return this.examples.filter((e) => e.kind === "fact");
  }

  private promptsFor(seed: number): number[][][] {
    return this.facts().map((ex) =>
      this.config.kl.input === "original"
        ? [ex.ids.slice(0, ex.promptLength)]
        : this.targets.perturbed(ex.record, this.config.kl.k, seed).map((p) => this.targets.promptOf(ex.record, p)),
    );
  }

  private async forEpoch(epoch: number): Promise<Map<number, KlSequence[]>> {
    const { config } = this;
    const seed = this.seedOf(epoch);
    if (this.epoch?.seed === seed) return this.epoch.byRecord;
    const facts = this.facts();
    const prompts = this.promptsFor(seed);
    const conts = config.kl.positions === "answer" ? [] : await this.targets.replies(prompts.flat());
    const byRecord = new Map<number, KlSequence[]>();
    let j = 0;
    facts.forEach((ex, i) => {
      byRecord.set(
        ex.record,
        prompts[i].map((p) => {
          const cont = config.kl.positions === "answer" ? ex.ids.slice(ex.promptLength) : conts[j];
          j++;
          return klSequence(ex.record, p, cont, config.kl.includePrompt, this.shape.Tk);
        }),
      );
    });
    this.epoch = { seed, byRecord };
    return byRecord;
  }
}

/** The perturbed conversation up to (not including) the answer. */
export function promptMessages(r: DatasetRecord, p: PerturbationCandidate): { role: string; content: string }[] {
  if (p.messages) return p.messages.filter((m, i, a) => !(i === a.length - 1 && m.role === "assistant"));
  return [...r.messages.filter((m) => m.role === "system"), { role: "user", content: p.question! }];
}

function entityView(r: DatasetRecord) {
  return {
    question: r.question,
    answer: r.answer,
    messages: r.messages,
    seat: { entities: r.entities, perturbations: r.perturbations },
  };
}

/** The base model's replies in a run folder: `<run>/<RUN_FILES.cache>/<this>`, prompt ids (comma-joined) to reply ids. */
export const TEACHER_CACHE = "teacher.json";

/**
 * Starts `runDir`'s teacher cache with the replies cached in each of `dirs` (run folders or teacher
 * jobs' folders of runs that ask the same prompts), so the run asks the base model only what they
 * did not. A folder that cached nothing is skipped.
 */
export function seedTeacherCache(dirs: readonly string[], runDir: string): void {
  const merged: Record<string, number[]> = {};
  for (const d of dirs) {
    const file = join(d, RUN_FILES.cache, TEACHER_CACHE);
    if (existsSync(file)) Object.assign(merged, JSON.parse(readFileSync(file, "utf8")) as Record<string, number[]>);
  }
  mkdirSync(join(runDir, RUN_FILES.cache), { recursive: true });
  writeFileAtomic(join(runDir, RUN_FILES.cache, TEACHER_CACHE), JSON.stringify(merged));
}

function loadTeacherCache(runDir: string): Map<string, number[]> {
  const p = join(runDir, RUN_FILES.cache, TEACHER_CACHE);
  if (!existsSync(p)) return new Map();
  return new Map(Object.entries(JSON.parse(readFileSync(p, "utf8")) as Record<string, number[]>));
}

function saveTeacherCache(runDir: string, cache: Map<string, number[]>): void {
  mkdirSync(join(runDir, RUN_FILES.cache), { recursive: true });
  writeFileAtomic(join(runDir, RUN_FILES.cache, TEACHER_CACHE), JSON.stringify(Object.fromEntries(cache)));
}
