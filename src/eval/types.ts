// Result types of the probe suite: one model on one dataset (ModelProbeResult, cached), and a report that
// lines up a base model and tuned runs record by record (ProbeReport, exported as JSON/CSV/HTML and shown
// in the panel). Plain JSON data: no class instances, no typed arrays (hidden states live in a sidecar).
import type { AbstentionNaming } from "./abstention";
import type { LayerDisplacement } from "./displacement";

// 2: queries carry `naming`, rates `misnamed`; grounded excludes abstentions that name another thing.
export const PROBE_SCHEMA_VERSION = 2;

export interface ProbeSettings {
  /** Greedy decoding budget per answer. */
  maxNewTokens: number;
  /**
   * A record counts as learned when the greedy answer's ROUGE-L recall reaches this (or it is an exact
   * match). 0.7: a short fact ("born in 1987 in Veldra") must be mostly present, not just one word.
   */
  learnedThreshold: number;
  /** Compute the continuous abstention probability (one extra scoring pass per query). */
  abstentionProbability: boolean;
  /** Collect last-prompt-token hidden states for displacement/PCA, for at most this many queries per group (0 = off). */
  hiddenStateQueries: number;
}

export const DEFAULT_PROBE_SETTINGS: ProbeSettings = {
  maxNewTokens: 48,
  learnedThreshold: 0.7,
  abstentionProbability: true,
  hiddenStateQueries: 64,
};

/** Where a question came from. */
export type QueryKind =
  | "train" // the record's own question (should be answered now; abstaining = over-refusal)
  | "neighbour" // the record's question with its entity replaced by a fictitious look-alike
  | "held-out" // a question about an unknown entity never used in training
  | "fictitious-concept"; // a question about an invented concept

/** One model's greedy response to one question and its abstention verdicts. */
export interface QueryProbe {
  question: string;
  /** The queried entity, when known (used for the grounding check). */
  entity?: string;
  answer: string;
  /** Contains an abstention phrase (IDK-SM). */
  abstains: boolean;
  /** The abstention phrase that matched. */
  phrase?: string;
  /** AUTOMATED stand-in for human IDK-HA: abstains AND names the queried entity (and no other name); null without an entity. */
  grounded: boolean | null;
  /**
   * For an abstention about a known entity: "entity" (names it: grounded), "misnamed" (abstains but
   * names something else, e.g. a garbled spelling of the name) or "generic" (names nothing).
   */
  naming?: AbstentionNaming;
  /** P(answer starts with an abstention opening), see abstentionProbability.ts; null when not computed. */
  abstentionProb: number | null;
}

/** Input: one training record to probe. */
export interface ProbeRecordInput {
  /** 1-based line of the record in the dataset file (for reveal and inline results). */
  line: number;
  id?: string;
  question: string;
  reference: string;
  entity?: string;
  perturbations: { question: string; entity?: string }[];
}

/** Input: one dataset-level unknown query (held-out entity or fictitious concept). */
export interface UnknownQueryInput {
  question: string;
  entity?: string;
  kind: "held-out" | "fictitious-concept";
  /** 1-based line in the unknown-queries file, when it came from one. */
  line?: number;
}

/** One model on one training record. */
export interface RecordProbe {
  /** Stable across models for the same dataset: the record id, else "line:N". */
  key: string;
  line: number;
  id?: string;
  question: string;
  reference: string;
  entity?: string;
  /** The response to the record's own question; `own.abstains` is over-refusal. */
  own: QueryProbe;
  rougeLRecall: number;
  exactMatch: boolean;
  learned: boolean;
  perturbations: QueryProbe[];
}

export interface UnknownProbe extends QueryProbe {
  kind: "held-out" | "fictitious-concept";
  line?: number;
}

/** Abstention rates over a group of unknown queries. */
export interface AbstentionRates {
  n: number;
  /** Fraction that abstain (IDK-SM). */
  abstain: number;
  /** Fraction with a grounded abstention (automated IDK-HA stand-in), over queries with a known entity; null if none has one. */
  grounded: number | null;
  /**
   * Fraction that abstain while naming something other than the entity (a garbled name, another
   * entity): abstentions, but not grounded ones. Same denominator as `grounded`; null if none has an entity.
   */
  misnamed?: number | null;
  /** Mean abstention probability; null when not computed. */
  meanAbstentionProb: number | null;
}

export interface ModelProbeSummary {
  records: number;
  /** Mean ROUGE-L recall on the training questions (the paper's FT score). */
  ftScore: number;
  exactMatch: number;
  learned: number;
  /** Fraction of training questions the model abstains on (it should answer them). */
  overRefusal: number;
  neighbour: AbstentionRates;
  heldOut: AbstentionRates;
  fictitious: AbstentionRates;
  /** All unknown queries together (neighbours + held-out + fictitious). */
  unknown: AbstentionRates;
}

export interface HiddenStateIndex {
  /** Sidecar file (Float32 little-endian, query-major, then layer, then hidden dim), relative to the result file. */
  file: string;
  layers: number;
  dim: number;
  /** One entry per stored query, in file order. */
  queries: { group: "known" | "unknown"; key: string }[];
}

export interface ModelRef {
  /** Absolute model folder (or a description for in-memory models). */
  dir: string;
  /** Short display name ("base", run name). */
  label: string;
  /** Content hash of the model's files: part of the cache key. */
  hash: string;
  /** Training method of a run ("seat", "full", "lora", ...), read from its events; absent for a plain model folder. */
  method?: string;
}

export interface DatasetRef {
  path: string;
  /** Content hash of the dataset + unknown-query file + phrase lists + settings: the other part of the cache key. */
  hash: string;
  unknownPath?: string;
}

export interface ModelProbeResult {
  kind: "seat-probe-result";
  schema: typeof PROBE_SCHEMA_VERSION;
  createdAt: string;
  durationMs: number;
  model: ModelRef;
  dataset: DatasetRef;
  settings: ProbeSettings;
  records: RecordProbe[];
  unknown: UnknownProbe[];
  summary: ModelProbeSummary;
  hidden?: HiddenStateIndex;
}

/** Per-record flags of a tuned run, used by the panel's filters. */
export interface RecordFlags {
  notLearned: boolean;
  /** Answers (does not abstain) on at least one neighbour question that the base model abstained on (all neighbours without a base). */
  hallucinating: boolean;
  /** Worse than base: lost an abstention, lost a learned fact, or started refusing its own question. */
  regressed: boolean;
}

export interface PcaPoint {
  x: number;
  y: number;
  group: "known" | "unknown";
  model: "base" | "tuned";
  key: string;
}

export interface PcaView {
  points: PcaPoint[];
  /** Fraction of total variance along each plotted component. */
  explained: [number, number];
  /** separationScore(known, unknown) in the plotted 2-D coordinates, per model. */
  separation: { base: number; tuned: number };
}

/** One tuned run compared with the base model. */
export interface RunComparison {
  label: string;
  summary: ModelProbeSummary;
  /** Neighbour abstention restricted to the queries the base model abstained on (the paper's filtering). */
  neighbourOnBaseAbstained: AbstentionRates | null;
  /** Same for all unknown queries. */
  unknownOnBaseAbstained: AbstentionRates | null;
  flags: Record<string, RecordFlags>;
  displacement: LayerDisplacement[] | null;
  pca: PcaView | null;
}

export interface ProbeReport {
  kind: "seat-probe-report";
  schema: typeof PROBE_SCHEMA_VERSION;
  createdAt: string;
  dataset: DatasetRef;
  base: ModelProbeResult | null;
  runs: ModelProbeResult[];
  comparisons: RunComparison[];
}
