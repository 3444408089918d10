// Subject-entity detection: candidates from one record's text (spans.ts), ranked with evidence from the
// whole dataset (how often a name recurs, whether it is asked about or only given as an answer, whether
// its words also occur in lower case, i.e. are ordinary words capitalised at a sentence start).
import type { EntityDetector } from "../data/index";
import type { DetectedEntity, EntityKind, EntityRecordView, EntityRef } from "./types";
import { capitalisedSpans, quotedSpans, tokenize, type Span } from "./spans";
import {
  COMPANY_CONTEXT,
  COMPANY_WORDS,
  PERSON_CONTEXT,
  PLACE_CONTEXT,
  PLACE_PREPOSITIONS,
  PLACE_WORDS,
  PRODUCT_CONTEXT,
  PRODUCT_WORDS,
  WORK_CONTEXT,
  legalSuffixFamily,
} from "./lexicon";
import { findMentions } from "./substitute";

/** The prompt side (what a perturbation changes) and the answer side of a record. */
export function recordTexts(r: EntityRecordView): { prompt: string[]; answer: string[] } {
  const prompt: string[] = [];
  const answer: string[] = [];
  const msgs = r.messages ?? [];
  // In a chat, every turn but a final assistant turn is prompt (earlier answers are context).
  msgs.forEach((m, i) => (i === msgs.length - 1 && m.role === "assistant" ? answer : prompt).push(m.content));
  if (r.question && !prompt.includes(r.question)) prompt.push(r.question);
  if (r.answer && !answer.includes(r.answer)) answer.push(r.answer);
  return { prompt, answer };
}

const norm = (name: string) => name.toLowerCase().replace(/\s+/g, " ").trim();

interface NameStats {
  /** Records the name occurs in. */
  records: number;
  /** Records where it occurs on the prompt side. */
  inPrompt: number;
  /** Records where it occurs only on the answer side. */
  answerOnly: number;
  /** Kind votes from context across the dataset. */
  kinds: Map<EntityKind, number>;
}

/** Whole-dataset evidence for ranking and the set of names the generator must not come close to. */
export interface DatasetIndex {
  records: number;
  /** Detected and declared names (normalized) -> statistics. */
  stats: Map<string, NameStats>;
  /** Every name the dataset contains (declared, detected, existing perturbations), as written. */
  names: Set<string>;
  /** Lower-case words seen written in lower case somewhere: capitalised they are sentence starts, not names. */
  lowerWords: Set<string>;
  /**
   * The names of the records' text and seat.entities, without the stored stand-ins (seat.perturbations):
   * the dataset's own spelling, which nameStyle.ts models (a file full of syllable-table stand-ins would
   * otherwise pull the style toward the generator's).
   */
  ownNames: Set<string>;
}

export function emptyIndex(): DatasetIndex {
  return { records: 0, stats: new Map(), names: new Set(), lowerWords: new Set(), ownNames: new Set() };
}

function entityRefName(e: EntityRef): string {
  return typeof e === "string" ? e : e.name;
}

/**
 * The entries of a record's seat.entities that are names or {name} objects: the list comes from the
 * user's file as written, and the validator reports the others (a number, null) at their place.
 */
function validRefs(list: readonly EntityRef[] | undefined): EntityRef[] {
  return (list ?? []).filter(
    (e) =>
      typeof e === "string" ||
      (typeof e === "object" && e !== null && typeof (e as { name?: unknown }).name === "string"),
  );
}

/** Adds one record's evidence to an index (for streaming over big files). */
export function addToIndex(index: DatasetIndex, r: EntityRecordView): void {
  index.records++;
  const { prompt, answer } = recordTexts(r);
  for (const t of [...prompt, ...answer]) {
    for (const tok of tokenize(t)) if (/^\p{Ll}/u.test(tok.text)) index.lowerWords.add(tok.text.toLowerCase());
  }
  const seen = new Map<string, { prompt: boolean; kind: EntityKind }>();
  const note = (name: string, side: "prompt" | "answer", kind: EntityKind) => {
    const k = norm(name);
    const cur = seen.get(k);
    if (!cur) seen.set(k, { prompt: side === "prompt", kind });
    else if (side === "prompt") cur.prompt = true;
    index.names.add(name);
    index.ownNames.add(name);
  };
  for (const t of prompt) for (const s of candidateSpans(t)) note(s.text, "prompt", kindFromSpan(s).kind);
  for (const t of answer) for (const s of candidateSpans(t)) note(s.text, "answer", kindFromSpan(s).kind);
  // The seat lists come from the user's file as written: skip entries that are not names (a number in
  // seat.perturbations is reported by the validator; here it must not crash the name guard).
  for (const e of validRefs(r.seat?.entities)) {
    index.names.add(entityRefName(e));
    index.ownNames.add(entityRefName(e));
  }
  for (const p of r.seat?.perturbations ?? []) {
    const name = typeof p === "string" ? p : (p as { replacement?: unknown } | null)?.replacement;
    if (typeof name === "string") index.names.add(name);
  }
  for (const [k, v] of seen) {
    let st = index.stats.get(k);
    if (!st) index.stats.set(k, (st = { records: 0, inPrompt: 0, answerOnly: 0, kinds: new Map() }));
    st.records++;
    if (v.prompt) st.inPrompt++;
    else st.answerOnly++;
    st.kinds.set(v.kind, (st.kinds.get(v.kind) ?? 0) + 1);
  }
}

export function buildDatasetIndex(records: Iterable<EntityRecordView>): DatasetIndex {
  const index = emptyIndex();
  for (const r of records) addToIndex(index, r);
  return index;
}

/** Capitalised and quoted spans of one text, quoted ones winning where they overlap. */
export function candidateSpans(text: string): Span[] {
  const quoted = quotedSpans(text);
  const caps = capitalisedSpans(text).filter((c) => !quoted.some((q) => c.start < q.end && q.start < c.end));
  return [...quoted, ...caps].sort((a, b) => a.start - b.start);
}

const CONTEXT_SETS: [EntityKind, ReadonlySet<string>][] = [
  ["person", PERSON_CONTEXT],
  ["company", COMPANY_CONTEXT],
  ["place", PLACE_CONTEXT],
  ["product", PRODUCT_CONTEXT],
  ["work", WORK_CONTEXT],
];

/** Kind from the span's own shape and its immediate context. */
export function kindFromSpan(s: Span): { kind: EntityKind; evidence: string[] } {
  const last = s.words[s.words.length - 1].toLowerCase();
  const first = s.words[0].toLowerCase();
  if (
    s.words.length > 1 &&
    s.words.some((w) => PRODUCT_WORDS.has(w.toLowerCase())) &&
    s.words.some((w) => /\p{N}/u.test(w))
  )
    return { kind: "product", evidence: ["product words with a model number"] };
  if (s.suffixWords > 0)
    return { kind: "company", evidence: [`legal suffix "${s.words.slice(-s.suffixWords).join(" ")}"`] };
  if (s.title) return { kind: "person", evidence: [`title "${s.title}"`] };
  if (s.words.length > 1 && /^\p{Lu}\.$/u.test(s.words[0]) && !/\./.test(s.words[s.words.length - 1]))
    return { kind: "person", evidence: ["initials before a name"] };
  if (s.words.length > 1 && (COMPANY_WORDS.has(last) || COMPANY_WORDS.has(first)))
    return { kind: "company", evidence: [`company word "${COMPANY_WORDS.has(last) ? last : first}"`] };
  if (s.words.length > 1 && s.words.includes("&")) return { kind: "company", evidence: ['"&" between names'] };
  if (s.words.length > 1 && (PLACE_WORDS.has(last) || PLACE_WORDS.has(first)))
    return { kind: "place", evidence: [`place word "${PLACE_WORDS.has(last) ? last : first}"`] };
  if (s.words.some((w) => /\p{N}/u.test(w)) && s.words.some((w) => /\p{L}/u.test(w)))
    return { kind: "product", evidence: ["letters with a model number"] };
  if (s.quoted && s.words.length > 1) return { kind: "work", evidence: ["quoted title"] };
  const prev = s.before[s.before.length - 1] ?? "";
  // "a novel by X", "written by X": the agent of a work is a person (or a company when it has a suffix).
  if (prev === "by" && s.words.length >= 2) return { kind: "person", evidence: ['"by" before the name'] };
  // Context words count more the nearer they are: "the novel by X" is about X's work, not X a work.
  const votes = new Map<EntityKind, number>();
  const vote = (w: string, weight: number) => {
    for (const [kind, set] of CONTEXT_SETS) if (set.has(w)) votes.set(kind, (votes.get(kind) ?? 0) + weight);
  };
  s.before.forEach((w, i) => vote(w, 1 / (s.before.length - i)));
  s.after.forEach((w, i) => vote(w, 1 / (i + 1)));
  if (PLACE_PREPOSITIONS.has(prev)) votes.set("place", (votes.get("place") ?? 0) + 0.5);
  // The word right before a name naming a work type ("the novel X") makes X the work.
  if (WORK_CONTEXT.has(prev) && prev !== "by") votes.set("work", (votes.get("work") ?? 0) + 1);
  const ranked = [...votes].sort((a, b) => b[1] - a[1]);
  if (ranked.length && ranked[0][1] >= 0.5 && (ranked.length < 2 || ranked[0][1] > ranked[1][1])) {
    return { kind: ranked[0][0], evidence: [`context suggests ${ranked[0][0]}`] };
  }
  if (s.quoted) return { kind: "work", evidence: ["quoted"] };
  // Two or three plain capitalised words with no other clue are most often a person's name.
  // Name-like words: capitalised, letters with inner apostrophes/hyphens ("O'Neil", "McAllister", "Al-Kuwaiti").
  const plain = s.words.every(
    (w) => /^\p{Lu}[\p{L}\p{M}'’-]*\p{Ll}[\p{L}\p{M}'’-]*$/u.test(w) && w !== w.toUpperCase(),
  );
  if (plain && s.words.length >= 2 && s.words.length <= 3)
    return { kind: "person", evidence: ["two or three capitalised words"] };
  if (s.words.length >= 4) return { kind: "work", evidence: ["long title-cased span"] };
  return { kind: "other", evidence: [] };
}

function combineKinds(local: EntityKind, stats: NameStats | undefined): EntityKind {
  if (!stats || local === "company" || local === "product") return local;
  let best: EntityKind = local;
  let bestN = 0;
  for (const [k, n] of stats.kinds)
    if (k !== "other" && n > bestN) {
      best = k;
      bestN = n;
    }
  return local === "other" ? best : local;
}

export interface DetectOptions {
  /** Whole-dataset evidence; without it, ranking uses the record alone. */
  index?: DatasetIndex;
}

function parseKind(k: string | undefined): EntityKind | undefined {
  const v = (k ?? "").toLowerCase();
  if (v === "title" || v === "book" || v === "film") return "work";
  if (v === "organization" || v === "organisation" || v === "org") return "company";
  return (["person", "company", "place", "product", "work", "other"] as const).find((x) => x === v);
}

/**
 * All entities of a record, best subject first. Entities the record lists in `seat.entities` come
 * first, in their order; detected ones follow, ranked by score.
 */
export function detectEntities(r: EntityRecordView, opts: DetectOptions = {}): DetectedEntity[] {
  const { prompt, answer } = recordTexts(r);
  const out: DetectedEntity[] = [];
  const declared = validRefs(r.seat?.entities);
  const found = new Map<string, { span: Span; inPrompt: boolean; order: number; count: number }>();
  let order = 0;
  for (const [side, texts] of [
    ["prompt", prompt],
    ["answer", answer],
  ] as const) {
    for (const t of texts) {
      for (const s of candidateSpans(t)) {
        const k = norm(s.text);
        const cur = found.get(k);
        if (cur) {
          cur.count++;
          if (side === "prompt") cur.inPrompt = true;
          continue;
        }
        found.set(k, { span: s, inPrompt: side === "prompt", order: order++, count: 1 });
      }
    }
  }
  declared.forEach((e, i) => {
    const name = entityRefName(e);
    const hit = found.get(norm(name));
    const local = hit ? kindFromSpan(hit.span) : undefined;
    const kind =
      parseKind(typeof e === "string" ? undefined : e.kind) ??
      combineKinds(local?.kind ?? "other", opts.index?.stats.get(norm(name)));
    const inPrompt = prompt.some((t) => findMentions(t, name).length > 0);
    out.push({
      name,
      kind,
      score: 1000 - i,
      source: "seat",
      inPrompt,
      evidence: ["listed in seat.entities", ...(local?.evidence ?? [])],
    });
  });
  const declaredKeys = new Set(declared.map((e) => norm(entityRefName(e))));
  for (const [k, f] of found) {
    if (declaredKeys.has(k)) continue;
    const s = f.span;
    const stats = opts.index?.stats.get(k);
    const local = kindFromSpan(s);
    const kind = combineKinds(local.kind, stats);
    const evidence = [...local.evidence];
    let score = 1;
    if (f.inPrompt) {
      score += 3;
      evidence.push("in the question");
    } else {
      score -= 2;
      evidence.push("only in the answer");
    }
    if (s.words.length > 1) score += 0.5;
    if (s.quoted) score += 0.5;
    if (kind === "person" || kind === "company") score += 1;
    else if (kind === "place") score -= 0.5;
    score -= f.order * 0.05; // earlier mentions are more often the subject
    if (stats && opts.index && opts.index.records > 1) {
      // A name that recurs across records is what the dataset is about; one asked about more than it is
      // given as an answer is a subject rather than an attribute value.
      if (stats.records > 1) {
        score += Math.min(3, Math.log2(stats.records));
        evidence.push(`in ${stats.records} records`);
      }
      score += 1.5 * (stats.inPrompt / stats.records) - 1.5 * (stats.answerOnly / stats.records);
    }
    if (s.words.length === 1 && !s.quoted) {
      const w = s.words[0].toLowerCase();
      if (s.sentenceStart) {
        score -= 2;
        evidence.push("sentence-initial");
      }
      if (opts.index?.lowerWords.has(w)) {
        score -= 4;
        evidence.push("also used as an ordinary word");
      }
    }
    if (legalSuffixFamily(s.words[0]) >= 0) continue;
    out.push({
      name: s.text,
      kind,
      score: Math.round(score * 100) / 100,
      source: "detected",
      inPrompt: f.inPrompt,
      evidence,
    });
  }
  const seatPart = out.filter((e) => e.source === "seat");
  const detectedPart = out.filter((e) => e.source === "detected").sort((a, b) => b.score - a.score);
  return [...seatPart, ...detectedPart];
}

/** Minimum score for a detected (not declared) entity to be offered as the subject. */
export const MIN_SUBJECT_SCORE = 1.5;

/**
 * The entity to perturb among ranked entities: when the record declares entities, the first declared one
 * that occurs in the prompt (never a detected one: the user said what the subject is); otherwise the
 * best detected one that occurs in the prompt and scores at least MIN_SUBJECT_SCORE.
 */
export function pickSubject(ranked: readonly DetectedEntity[]): DetectedEntity | undefined {
  if (ranked.some((e) => e.source === "seat")) return ranked.find((e) => e.source === "seat" && e.inPrompt);
  return ranked.find((e) => e.inPrompt && e.score >= MIN_SUBJECT_SCORE);
}

/** The entity to perturb (see pickSubject). */
export function subjectEntity(r: EntityRecordView, opts: DetectOptions = {}): DetectedEntity | undefined {
  return pickSubject(detectEntities(r, opts));
}

/** Detector over plain text in the shape src/data's validator takes: names, best first. */
export const detectSubjects: EntityDetector = Object.assign(
  (text: string): string[] =>
    detectEntities({ question: text })
      .filter((e) => e.score >= MIN_SUBJECT_SCORE)
      .map((e) => e.name),
  { builtin: true as const },
);
