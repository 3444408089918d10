// The probe suite: asks one model every training question, every neighbour (entity-perturbed) question
// and every dataset-level unknown query; judges each greedy answer; optionally scores the abstention
// probability and collects last-prompt-token hidden states. Model access goes through the small
// ProbeModel interface so the suite runs the same on a real model (src/model) and on test fakes.
import { type AbstentionDetector, judgeAbstention } from "./abstention";
import { abstentionProbabilityFromLogProbs, prefixFree, type ContinuationScorer } from "./abstentionProbability";
import { exactMatch, rougeLRecall } from "./text";
import { summarize } from "./summary";
import {
  DEFAULT_PROBE_SETTINGS,
  PROBE_SCHEMA_VERSION,
  type DatasetRef,
  type ModelProbeResult,
  type ModelRef,
  type ProbeRecordInput,
  type ProbeSettings,
  type QueryProbe,
  type RecordProbe,
  type UnknownProbe,
  type UnknownQueryInput,
} from "./types";

/** A chat message, for prompts that are conversations rather than one question. */
export interface PromptMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/**
 * What the suite needs from a model: one query at a time, plus optional batched forms (one padded run
 * for several queries) that the suite prefers when present.
 */
export interface ProbeModel {
  ref: ModelRef;
  /** Token ids of the chat-formatted prompt (one user question, or a conversation), ending where the answer starts. */
  encodePrompt(prompt: string | readonly PromptMessage[]): number[] | Promise<number[]>;
  /** Token ids of `text` as a continuation of a prompt (no BOS/special tokens). */
  encodeContinuation(text: string): number[] | Promise<number[]>;
  /** Greedy answer, decoded, stopping at end of turn or after maxNewTokens. */
  generate(prompt: readonly number[], maxNewTokens: number, signal?: AbortSignal): Promise<string>;
  /** Log-probabilities of continuations (see abstentionProbability.ts). */
  scoreContinuations: ContinuationScorer;
  /** Hidden state after each decoder layer at the last prompt token (index 0 = first layer's output). */
  lastTokenHiddenStates?(prompt: readonly number[], signal?: AbortSignal): Promise<Float32Array[]>;
  /** Batched generate: one answer per prompt. */
  generateMany?(prompts: readonly (readonly number[])[], maxNewTokens: number, signal?: AbortSignal): Promise<string[]>;
  /** Batched scoring: for each prompt, log p of every continuation (the same continuations for all). */
  scoreMany?(
    prompts: readonly (readonly number[])[],
    continuations: readonly (readonly number[])[],
    signal?: AbortSignal,
  ): Promise<number[][]>;
  /** Batched lastTokenHiddenStates. */
  hiddenMany?(prompts: readonly (readonly number[])[], signal?: AbortSignal): Promise<Float32Array[][]>;
  /** Queries per batch (default 8): bounds activation memory and the granularity of progress and cancel. */
  batchSize?: number;
}

async function generateAll(m: ProbeModel, prompts: number[][], max: number, signal?: AbortSignal): Promise<string[]> {
  if (m.generateMany) return m.generateMany(prompts, max, signal);
  const out: string[] = [];
  for (const p of prompts) out.push(await m.generate(p, max, signal));
  return out;
}

async function scoreAll(
  m: ProbeModel,
  prompts: number[][],
  conts: number[][],
  signal?: AbortSignal,
): Promise<number[][]> {
  if (m.scoreMany) return m.scoreMany(prompts, conts, signal);
  const out: number[][] = [];
  for (const p of prompts) out.push(await m.scoreContinuations(p, conts, signal));
  return out;
}

async function hiddenAll(m: ProbeModel, prompts: number[][], signal?: AbortSignal): Promise<Float32Array[][]> {
  if (m.hiddenMany) return m.hiddenMany(prompts, signal);
  const out: Float32Array[][] = [];
  for (const p of prompts) out.push(await m.lastTokenHiddenStates!(p, signal));
  return out;
}

export interface ProbeProgress {
  done: number;
  total: number;
  /** What is being asked now ("record 3/40: neighbour 2"). */
  message: string;
}

export interface ProbeSuiteInput {
  dataset: DatasetRef;
  records: readonly ProbeRecordInput[];
  unknown: readonly UnknownQueryInput[];
}

export interface ProbeSuiteOptions {
  detector: AbstentionDetector;
  /** Opening texts for the abstention probability (tokenized with the model's own tokenizer). */
  openings: readonly string[];
  settings?: Partial<ProbeSettings>;
  signal?: AbortSignal;
  onProgress?(p: ProbeProgress): void;
}

/** Hidden states gathered alongside a result: [query][layer] vectors, in `result.hidden.queries` order. */
export type HiddenStates = Float32Array[][];

export function recordKey(r: { id?: string; line: number }): string {
  return r.id !== undefined && r.id !== "" ? r.id : `line:${r.line}`;
}

interface PendingQuery {
  question: string;
  entity?: string;
  hidden: "known" | "unknown" | null;
  key: string;
  message: string;
  done(q: QueryProbe): void;
}

export async function runProbeSuite(
  model: ProbeModel,
  input: ProbeSuiteInput,
  opts: ProbeSuiteOptions,
): Promise<{ result: ModelProbeResult; hidden: HiddenStates }> {
  const started = Date.now();
  const settings: ProbeSettings = { ...DEFAULT_PROBE_SETTINGS, ...opts.settings };
  const { signal } = opts;
  signal?.throwIfAborted();

  let openingIds: number[][] | null = null;
  if (settings.abstentionProbability) {
    if (opts.openings.length === 0)
      throw new Error("no abstention openings configured, so the abstention probability is undefined");
    openingIds = prefixFree(
      await Promise.all(opts.openings.map(async (o) => [...(await model.encodeContinuation(o))])),
    );
  }

  // Every question to ask, in report order; results are written back into the records as batches finish.
  const queue: PendingQuery[] = [];
  const records: RecordProbe[] = [];
  for (const [i, r] of input.records.entries()) {
    const key = recordKey(r);
    const rec: RecordProbe = {
      key,
      line: r.line,
      question: r.question,
      reference: r.reference,
      // Filled in by the batch that asks it; the suite either finishes every query or throws.
      own: undefined as unknown as QueryProbe,
      rougeLRecall: 0,
      exactMatch: false,
      learned: false,
      perturbations: [],
    };
    if (r.id !== undefined) rec.id = r.id;
    if (r.entity !== undefined) rec.entity = r.entity;
    records.push(rec);
    queue.push({
      question: r.question,
      entity: r.entity,
      hidden: "known",
      key,
      message: `record ${i + 1}/${input.records.length}: own question`,
      done: (q) => {
        rec.own = q;
        rec.rougeLRecall = rougeLRecall(q.answer, r.reference);
        rec.exactMatch = exactMatch(q.answer, r.reference);
        rec.learned = rec.exactMatch || rec.rougeLRecall >= settings.learnedThreshold;
      },
    });
    r.perturbations.forEach((p, j) =>
      queue.push({
        question: p.question,
        entity: p.entity,
        hidden: "unknown",
        key: `${key}#${j}`,
        message: `record ${i + 1}/${input.records.length}: neighbour ${j + 1}/${r.perturbations.length}`,
        done: (q) => {
          rec.perturbations[j] = q;
        },
      }),
    );
  }
  const unknown: UnknownProbe[] = [];
  input.unknown.forEach((u, i) =>
    queue.push({
      question: u.question,
      entity: u.entity,
      hidden: "unknown",
      key: `unknown:${i + 1}`,
      message: `unknown query ${i + 1}/${input.unknown.length}`,
      done: (q) => {
        const up: UnknownProbe = { ...q, kind: u.kind };
        if (u.line !== undefined) up.line = u.line;
        unknown[i] = up;
      },
    }),
  );

  // Hidden states for a sample of N queries per group, evenly spread over the group so neighbours,
  // held-out entities and fictitious concepts all appear in the displacement/PCA sample.
  const wantHidden =
    settings.hiddenStateQueries > 0 && (model.lastTokenHiddenStates !== undefined || model.hiddenMany !== undefined);
  const keepHidden = queue.map(() => false);
  if (wantHidden) {
    for (const g of ["known", "unknown"] as const) {
      const idx = queue.map((q, i) => (q.hidden === g ? i : -1)).filter((i) => i >= 0);
      const n = Math.min(settings.hiddenStateQueries, idx.length);
      for (let k = 0; k < n; k++) keepHidden[idx[Math.floor((k * idx.length) / n)]] = true;
    }
  }
  const hidden: HiddenStates = [];
  const hiddenQueries: { group: "known" | "unknown"; key: string }[] = [];

  const batch = Math.max(1, model.batchSize ?? 8);
  for (let start = 0; start < queue.length; start += batch) {
    signal?.throwIfAborted();
    const chunk = queue.slice(start, start + batch);
    const prompts = await Promise.all(chunk.map(async (q) => [...(await model.encodePrompt(q.question))]));
    const answers = await generateAll(model, prompts, settings.maxNewTokens, signal);
    signal?.throwIfAborted();
    if (answers.length !== chunk.length)
      throw new Error(`model returned ${answers.length} answers for ${chunk.length} prompts`);
    const probs = openingIds
      ? (await scoreAll(model, prompts, openingIds, signal)).map(abstentionProbabilityFromLogProbs)
      : null;
    const hiddenIdx = chunk.map((_, k) => start + k).filter((i) => keepHidden[i]);
    if (hiddenIdx.length > 0) {
      const hs = await hiddenAll(
        model,
        hiddenIdx.map((i) => prompts[i - start]),
        signal,
      );
      hiddenIdx.forEach((i, k) => {
        hidden.push(hs[k]);
        hiddenQueries.push({ group: queue[i].hidden!, key: queue[i].key });
      });
    }
    chunk.forEach((q, k) => {
      const answer = answers[k].trim();
      const verdict = judgeAbstention(opts.detector, answer, q.entity, q.question);
      const probe: QueryProbe = {
        question: q.question,
        answer,
        abstains: verdict.abstains,
        grounded: verdict.grounded,
        abstentionProb: probs ? probs[k] : null,
      };
      if (q.entity !== undefined) probe.entity = q.entity;
      if (verdict.phrase !== undefined) probe.phrase = verdict.phrase;
      if (verdict.naming !== undefined) probe.naming = verdict.naming;
      q.done(probe);
      opts.onProgress?.({ done: start + k + 1, total: queue.length, message: q.message });
    });
  }

  const result: ModelProbeResult = {
    kind: "seat-probe-result",
    schema: PROBE_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    durationMs: Date.now() - started,
    model: model.ref,
    dataset: input.dataset,
    settings,
    records,
    unknown,
    summary: summarize(records, unknown),
  };
  if (hidden.length > 0) {
    result.hidden = { file: "", layers: hidden[0].length, dim: hidden[0][0]?.length ?? 0, queries: hiddenQueries };
  }
  return { result, hidden };
}
