// The probe suite: asks one model every training question, every neighbour (entity-perturbed) question
// and every dataset-level unknown query; judges each greedy answer; optionally scores the abstention
// probability and collects last-prompt-token hidden states. Model access goes through the small
// ProbeModel interface so the suite runs the same on a real model (src/model) and on test fakes.
import { type AbstentionDetector, judgeAbstention } from "./abstention";
import { abstentionProbability, type ContinuationScorer } from "./abstentionProbability";
import { exactMatch, rougeLRecall } from "./text";
import { summarize } from "./summary";
import {
  DEFAULT_PROBE_SETTINGS, PROBE_SCHEMA_VERSION,
  type DatasetRef, type ModelProbeResult, type ModelRef, type ProbeRecordInput, type ProbeSettings,
  type QueryProbe, type RecordProbe, type UnknownProbe, type UnknownQueryInput,
} from "./types";

/** What the suite needs from a model. */
export interface ProbeModel {
  ref: ModelRef;
  /** Token ids of the chat-formatted prompt for a single user question, ending where the answer starts. */
  encodePrompt(question: string): number[] | Promise<number[]>;
  /** Token ids of `text` as a continuation of a prompt (no BOS/special tokens). */
  encodeContinuation(text: string): number[] | Promise<number[]>;
  /** Greedy answer to a prompt, decoded, stopping at end of turn or after maxNewTokens. */
  generate(prompt: readonly number[], maxNewTokens: number, signal?: AbortSignal): Promise<string>;
  /** Log-probabilities of continuations (see abstentionProbability.ts). */
  scoreContinuations: ContinuationScorer;
  /** Hidden state after each decoder layer at the last prompt token (index 0 = first layer's output). */
  lastTokenHiddenStates?(prompt: readonly number[], signal?: AbortSignal): Promise<Float32Array[]>;
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

export async function runProbeSuite(
  model: ProbeModel,
  input: ProbeSuiteInput,
  opts: ProbeSuiteOptions,
): Promise<{ result: ModelProbeResult; hidden: HiddenStates }> {
  const started = Date.now();
  const settings: ProbeSettings = { ...DEFAULT_PROBE_SETTINGS, ...opts.settings };
  const { signal } = opts;
  const total = input.records.reduce((n, r) => n + 1 + r.perturbations.length, 0) + input.unknown.length;
  let done = 0;
  const tick = (message: string) => {
    done++;
    opts.onProgress?.({ done, total, message });
  };

  let openingIds: number[][] | null = null;
  if (settings.abstentionProbability) {
    if (opts.openings.length === 0) throw new Error("no abstention openings configured, so the abstention probability is undefined");
    openingIds = await Promise.all(opts.openings.map(async (o) => [...(await model.encodeContinuation(o))]));
  }

  const hidden: HiddenStates = [];
  const hiddenQueries: { group: "known" | "unknown"; key: string }[] = [];
  const wantHidden = settings.hiddenStateQueries > 0 && model.lastTokenHiddenStates !== undefined;
  let knownHidden = 0;
  let unknownHidden = 0;

  const ask = async (question: string, entity: string | undefined, hiddenGroup: "known" | "unknown" | null, key: string): Promise<QueryProbe> => {
    signal?.throwIfAborted();
    const prompt = await model.encodePrompt(question);
    const answer = (await model.generate(prompt, settings.maxNewTokens, signal)).trim();
    const verdict = judgeAbstention(opts.detector, answer, entity);
    const prob = openingIds ? await abstentionProbability(model.scoreContinuations, prompt, openingIds, signal) : null;
    if (wantHidden && hiddenGroup) {
      const room = hiddenGroup === "known" ? knownHidden < settings.hiddenStateQueries : unknownHidden < settings.hiddenStateQueries;
      if (room) {
        hidden.push(await model.lastTokenHiddenStates!(prompt, signal));
        hiddenQueries.push({ group: hiddenGroup, key });
        if (hiddenGroup === "known") knownHidden++;
        else unknownHidden++;
      }
    }
    const q: QueryProbe = { question, answer, abstains: verdict.abstains, grounded: verdict.grounded, abstentionProb: prob };
    if (entity !== undefined) q.entity = entity;
    if (verdict.phrase !== undefined) q.phrase = verdict.phrase;
    return q;
  };

  const records: RecordProbe[] = [];
  for (const [i, r] of input.records.entries()) {
    const key = recordKey(r);
    const own = await ask(r.question, r.entity, "known", key);
    tick(`record ${i + 1}/${input.records.length}: own question`);
    const rl = rougeLRecall(own.answer, r.reference);
    const em = exactMatch(own.answer, r.reference);
    const perturbations: QueryProbe[] = [];
    for (const [j, p] of r.perturbations.entries()) {
      perturbations.push(await ask(p.question, p.entity, "unknown", `${key}#${j}`));
      tick(`record ${i + 1}/${input.records.length}: neighbour ${j + 1}/${r.perturbations.length}`);
    }
    const rec: RecordProbe = {
      key, line: r.line, question: r.question, reference: r.reference, own,
      rougeLRecall: rl, exactMatch: em, learned: em || rl >= settings.learnedThreshold, perturbations,
    };
    if (r.id !== undefined) rec.id = r.id;
    if (r.entity !== undefined) rec.entity = r.entity;
    records.push(rec);
  }

  const unknown: UnknownProbe[] = [];
  for (const [i, u] of input.unknown.entries()) {
    const q = await ask(u.question, u.entity, "unknown", `unknown:${i + 1}`);
    const up: UnknownProbe = { ...q, kind: u.kind };
    if (u.line !== undefined) up.line = u.line;
    unknown.push(up);
    tick(`unknown query ${i + 1}/${input.unknown.length}`);
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
