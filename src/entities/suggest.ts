// From a record to perturbation candidates: pick the subject, generate stand-ins that avoid every name
// of the dataset, and build the perturbed prompt. Also the trainer's entry point: the perturbations a
// record declares, or generated ones when it declares none.
import type {
  ChatMessage,
  DetectedEntity,
  EntityKind,
  EntityRecordView,
  PerturbationCandidate,
  PerturbationEntry,
  RecordSuggestion,
} from "./types";
import { buildDatasetIndex, detectEntities, pickSubject, type DatasetIndex } from "./detect";
import { generateNames } from "./generate";
import { NameGuard } from "./guard";
import { CharStyle, type NameStyle } from "./nameStyle";
import { substitute, substituteMessages } from "./substitute";
import { ENTITY_KINDS } from "./types";

export interface SuggestOptions {
  /** Stand-ins per record (default 3). */
  k?: number;
  seed?: number;
  /** Whole-dataset evidence (ranking) and names to avoid. Build once per dataset with `prepareDataset`. */
  context?: DatasetContext;
  /** Use this entity instead of the detected subject (the user confirmed or edited it). */
  entity?: string;
}

/** Where stand-in names' words come from: the dataset's own spelling (nameStyle.ts) or the syllable tables. */
export type NameSource = "dataset" | "generic";

/** What suggestions for one dataset share: detection evidence and the guard of the dataset's names. */
export interface DatasetContext {
  index: DatasetIndex;
  guard: NameGuard;
  /** Stand-in words in the dataset's spelling; absent = the syllable tables. */
  style?: NameStyle;
}

/**
 * `names: "dataset"` draws stand-in words from a character model of the dataset's own name words (when it
 * has enough of them), so stand-ins cannot be told from the dataset's names by their spelling.
 */
export function prepareDataset(records: Iterable<EntityRecordView>, opts: { names?: NameSource } = {}): DatasetContext {
  const index = buildDatasetIndex(records);
  const ctx: DatasetContext = { index, guard: new NameGuard(index.names) };
  // The dataset's own names: stored stand-ins are an earlier guess at the style, not the style.
  if (opts.names === "dataset") ctx.style = CharStyle.fromNames(index.ownNames);
  return ctx;
}

function asKind(k: string | undefined): EntityKind {
  return ENTITY_KINDS.find((x) => x === k) ?? "other";
}

/** The perturbed prompt of a record: its question and (for chats) its messages with the entity replaced. */
export function perturbRecord(
  r: EntityRecordView,
  entity: string,
  replacement: string,
  kind?: string,
): { question?: string; messages?: ChatMessage[] } {
  const opts = { kind };
  const out: { question?: string; messages?: ChatMessage[] } = {};
  if (r.question !== undefined) out.question = substitute(r.question, entity, replacement, opts);
  if (r.messages && r.messages.length) out.messages = substituteMessages(r.messages, entity, replacement, opts);
  return out;
}

function candidate(
  r: EntityRecordView,
  e: { name: string; kind: EntityKind },
  replacement: string,
): PerturbationCandidate {
  return { entity: e.name, kind: e.kind, replacement, ...perturbRecord(r, e.name, replacement, e.kind) };
}

/** Names already used by the record's existing perturbations (not suggested again). */
function existingReplacements(r: EntityRecordView): Set<string> {
  return new Set((r.seat?.perturbations ?? []).map((p) => (typeof p === "string" ? p : p.replacement)));
}

/** Perturbation suggestions for one record (`index` is its position in the dataset). */
export function suggestPerturbations(r: EntityRecordView, index: number, opts: SuggestOptions = {}): RecordSuggestion {
  const k = opts.k ?? 3;
  const ctx = opts.context;
  const all = detectEntities(r, { index: ctx?.index });
  let subject: DetectedEntity | undefined;
  if (opts.entity) {
    subject = all.find((e) => e.name === opts.entity) ?? {
      name: opts.entity,
      kind: "other",
      score: 0,
      source: "seat",
      inPrompt: true,
      evidence: ["chosen by the user"],
    };
  } else {
    subject = pickSubject(all);
  }
  const alternatives = all.filter((e) => e !== subject && e.inPrompt);
  const declared = all.find((e) => e.source === "seat");
  if (!subject && declared) {
    return {
      index,
      entity: declared,
      alternatives,
      candidates: [],
      reason: `"${declared.name}" (from seat.entities) does not occur in the question`,
    };
  }
  if (!subject) {
    const onlyAnswer = all.find((e) => !e.inPrompt);
    return {
      index,
      alternatives,
      candidates: [],
      reason: onlyAnswer
        ? `"${onlyAnswer.name}" occurs only in the answer; the question names no entity to replace`
        : "no named entity found in the question",
    };
  }
  if (!subject.inPrompt) {
    return {
      index,
      entity: subject,
      alternatives,
      candidates: [],
      reason: `"${subject.name}" does not occur in the question`,
    };
  }
  const guard = ctx?.guard ?? new NameGuard([...all.map((e) => e.name)]);
  const skip = existingReplacements(r);
  const names = generateNames(subject.name, subject.kind, {
    k: k + skip.size,
    seed: opts.seed,
    guard,
    style: ctx?.style,
  })
    .filter((n) => !skip.has(n))
    .slice(0, k);
  return { index, entity: subject, alternatives, candidates: names.map((n) => candidate(r, subject, n)) };
}

/** Suggestions for every record of a dataset (the CLI's and the whole-file command's core). */
export function suggestForDataset(
  records: readonly EntityRecordView[],
  opts: Omit<SuggestOptions, "context" | "entity"> & { context?: DatasetContext } = {},
): RecordSuggestion[] {
  const context = opts.context ?? prepareDataset(records);
  return records.map((r, i) => suggestPerturbations(r, i, { ...opts, context }));
}

/**
 * A candidate as it is stored in `seat.perturbations`. The perturbed question is left out unless asked
 * for: it is derivable by substitution and would go stale if the user later edits the question.
 */
export function toEntry(
  c: PerturbationCandidate & { abstention?: number },
  opts: { withQuestion?: boolean } = {},
): PerturbationEntry {
  const e: PerturbationEntry = { entity: c.entity, replacement: c.replacement, kind: c.kind };
  if (opts.withQuestion && c.question !== undefined) e.question = c.question;
  if (c.abstention !== undefined) e.abstention = Math.round(c.abstention * 1000) / 1000;
  return e;
}

/**
 * The perturbations the trainer should use for a record: its `seat.perturbations` (string shorthand
 * expanded against the first entity, perturbed question derived where missing), or, when it has none,
 * `k` generated ones (seeded: pass seed + epoch to resample each epoch). Empty when the record has no
 * subject entity in its prompt.
 */
export function perturbationsFor(r: EntityRecordView, opts: SuggestOptions = {}): PerturbationCandidate[] {
  const declared = r.seat?.perturbations ?? [];
  if (declared.length) {
    const first = r.seat?.entities?.[0];
    const firstName = typeof first === "string" ? first : first?.name;
    const out: PerturbationCandidate[] = [];
    for (const p of declared) {
      const entity = typeof p === "string" ? firstName : p.entity;
      const replacement = typeof p === "string" ? p : p.replacement;
      if (!entity || !replacement) continue;
      const kind = asKind(typeof p === "string" ? undefined : p.kind);
      const c = candidate(r, { name: entity, kind }, replacement);
      if (typeof p !== "string" && p.question !== undefined) c.question = p.question;
      out.push(c);
    }
    return out;
  }
  return suggestPerturbations(r, 0, opts).candidates;
}
