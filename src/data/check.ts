// The per-record validator shared by every entry point (streamed files, in-memory text, JSON arrays and
// the editor's incremental validator). It checks one record's text and keeps the little cross-record
// state validation needs: the first format seen (for mixed-format warnings) and a table of content
// hashes (for duplicates).
import { analyzeRecord, messagesOf, NO_SEAT, type Analysis } from "./formats";
import { scanJson } from "./jsonScan";
import { FILE_RULES, type Span } from "./fileRules";
import { SpanCache } from "./locate";
import { duplicateKeys, loneSurrogates } from "./written";
import type {
  DatasetRecord,
  DatasetSummary,
  Problem,
  ProblemCode,
  RecordFormat,
  Severity,
  ValidateOptions,
} from "./types";

/** Where a record's text sits: its line, and how to turn an offset in the text into line/column. */
export interface RecordPlace {
  line: number;
  /** Maps an offset in the record text to [line, column] (1-based). Default: same line, column = offset + 1. */
  at?: (offset: number) => [number, number];
}

// 53-bit content hash of a record's conversation: two independent 32-bit hashes (FNV-1a and a
// multiply-by-31 polynomial) fed role by role and character by character, with no string concatenation
// (charCodeAt on flat strings keeps this near a nanosecond a character). Equal conversations hash equal
// whatever the source format, key order, spacing or SEAT metadata.
const ROLE_CODE: Record<string, number> = { system: 1, user: 2, assistant: 3 };

/** Two running 32-bit hashes; fields of one object (not module variables) so the loop stays in registers. */
class Hasher {
  h1 = 0;
  h2 = 0;
  reset(): this {
    this.h1 = 0x811c9dc5 | 0;
    this.h2 = 0x27d4eb2f | 0;
    return this;
  }
  turn(role: number, s: string): void {
    let h1 = Math.imul(this.h1 ^ role, 0x01000193);
    let h2 = (Math.imul(this.h2, 31) + role) | 0;
    const len = s.length;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = (Math.imul(h2, 31) + c) | 0;
    }
    this.h1 = Math.imul(h1 ^ len, 0x01000193);
    this.h2 = (Math.imul(h2, 31) + len) | 0;
  }
  /** Both halves as one 53-bit number (for callers that keep hashes in Maps). */
  value(): number {
    return (this.h1 >>> 0) * 0x200000 + ((this.h2 >>> 11) & 0x1fffff);
  }
}

export function contentHash(messages: ReadonlyArray<{ role: string; content: string }>): number {
  const h = new Hasher().reset();
  for (const m of messages) h.turn(ROLE_CODE[m.role] ?? 4, m.content);
  return h.value();
}

function hashAnalysis(a: Analysis, h: Hasher): void {
  h.reset();
  if (a.turns) {
    for (const m of a.turns) h.turn(ROLE_CODE[m.role] ?? 4, m.content);
    return;
  }
  if (a.system) h.turn(1, a.system);
  h.turn(2, a.question);
  h.turn(3, a.answer);
}

/**
 * A conversation with turns the analysis could not map to a role (unknown or missing role, a turn that is
 * not an object) is hashed as written, turn by turn, so it is no duplicate of a record that merely lacks
 * those turns (e.g. of an empty `{"messages":[]}`).
 */
function hashWrittenTurns(o: Record<string, unknown>, format: RecordFormat, h: Hasher): void {
  h.reset();
  const chat = format === "chat";
  const list = o[chat ? "messages" : "conversations"];
  if (!Array.isArray(list)) return;
  for (const m of list) {
    const t = typeof m === "object" && m !== null && !Array.isArray(m) ? (m as Record<string, unknown>) : null;
    const role = t?.[chat ? "role" : "from"];
    const content = t?.[chat ? "content" : "value"];
    h.turn(5, typeof role === "string" ? role : JSON.stringify(role ?? null));
    h.turn(6, typeof content === "string" ? content : JSON.stringify(t ? (content ?? null) : m));
  }
}

/**
 * (h1, h2) -> first line, open addressing (load factor <= 3/4) over typed arrays: 12 bytes a slot
 * instead of a Map's ~80, so a 1M-record file costs 24 MB for duplicate detection; nothing else grows
 * with the file.
 */
export class HashLines {
  private k1 = new Int32Array(1024);
  private k2 = new Int32Array(1024);
  /** 0 marks an empty slot (lines are 1-based). */
  private lines = new Uint32Array(1024);
  private used = 0;
  /** Records `line` under the hash; returns the earlier line with the same hash, or 0 if first. */
  add(h1: number, h2: number, line: number): number {
    if ((this.used + 1) * 4 > this.lines.length * 3) this.grow();
    const mask = this.lines.length - 1;
    let i = (h1 ^ (h2 >>> 7)) & mask;
    for (;;) {
      const l = this.lines[i];
      if (l === 0) {
        this.k1[i] = h1;
        this.k2[i] = h2;
        this.lines[i] = line;
        this.used++;
        return 0;
      }
      if (this.k1[i] === h1 && this.k2[i] === h2) return l;
      i = (i + 1) & mask;
    }
  }
  /** Forgets every entry, keeping the table's size (one native fill). */
  clear(): void {
    if (this.used === 0) return;
    this.lines.fill(0);
    this.used = 0;
  }
  /** Makes room for about `n` entries at once (saves the rehashing of repeated doubling). */
  reserve(n: number): void {
    let cap = this.lines.length;
    while (cap * 3 < n * 4) cap *= 2;
    if (cap > this.lines.length) this.grow(cap);
  }
  private grow(n = this.lines.length * 2) {
    const [o1, o2, ol] = [this.k1, this.k2, this.lines];
    this.k1 = new Int32Array(n);
    this.k2 = new Int32Array(n);
    this.lines = new Uint32Array(n);
    this.used = 0;
    for (let i = 0; i < ol.length; i++) if (ol[i] !== 0) this.add(o1[i], o2[i], ol[i]);
  }
}

export const DEFAULT_MAX_PROBLEMS = 10_000;

export class RecordChecker {
  readonly formats: Partial<Record<RecordFormat, number>> = {};
  firstFormat: { format: RecordFormat; line: number } | null = null;
  records = 0;
  duplicates = 0;
  /** Expect about `n` more records (sizes the duplicate table once). */
  expectRecords(n: number): void {
    this.dups?.reserve(Math.min(n, 1 << 24));
  }
  /**
   * Content hash of the last record checked, as the duplicate table keys it (0 when it did not parse
   * into a known format, or with duplicates: false): for callers that keep their own table.
   */
  lastH1 = 0;
  lastH2 = 0;
  /** Format of the last record checked (null when it did not parse into a known format). */
  lastFormat: RecordFormat | null = null;
  private readonly dups: HashLines | null;
  private readonly hasher = new Hasher();

  /**
   * `crossRecord` false: check records one by one only (no mixed-format or duplicate state); the
   * incremental validator does those across its own line table, and a file validated in parts does
   * them when the parts are merged (crossCheck).
   */
  constructor(
    readonly options: ValidateOptions = {},
    private readonly problems: ProblemSink,
    private readonly crossRecord = true,
  ) {
    this.dups = options.duplicates === false || !crossRecord ? null : new HashLines();
  }

  /**
   * Checks one record's text (no line ending). Returns the normalized record when it parsed as an
   * object in a known format (even if it has problems), else null.
   */
  check(text: string, place: RecordPlace, keep: boolean): DatasetRecord | null {
    // No closures in here: this runs once per line of million-line files.
    this.lastH1 = 0;
    this.lastH2 = 0;
    this.lastFormat = null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      const r = scanJson(text, false);
      const off = r.ok ? 0 : r.error.offset;
      const message = r.ok ? (e as Error).message : r.error.message;
      const end = Math.min(text.length, off + 1);
      this.add(place, off, end > off ? end : off + 1, "error", "invalid-json", `invalid JSON: ${message}`);
      return null;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.add(
        place,
        0,
        text.length,
        "error",
        "not-an-object",
        `a record must be a JSON object, found ${value === null ? "null" : Array.isArray(value) ? "an array" : typeof value}`,
      );
      return null;
    }
    const o = value as Record<string, unknown>;
    for (const w of duplicateKeys(text, o)) this.add(place, w.start, w.end, "warning", w.code, w.message);
    for (const w of loneSurrogates(text)) this.add(place, w.start, w.end, "warning", w.code, w.message);
    const a = analyzeRecord(o);
    const spans = a.issues.length ? new SpanCache(text) : null;
    for (const is of a.issues) {
      const [s, e] = spans!.span(is.path);
      this.add(place, s, e, is.severity, is.code, is.message, is.fix);
    }
    if (!a.format) return null;
    this.records++;
    this.formats[a.format] = (this.formats[a.format] ?? 0) + 1;
    this.lastFormat = a.format;
    if (this.options.duplicates !== false) {
      const h = this.hasher;
      if (a.droppedTurns) hashWrittenTurns(o, a.format, h);
      else hashAnalysis(a, h);
      this.lastH1 = h.h1;
      this.lastH2 = h.h2;
    }
    // Without crossRecord, mixed formats and duplicates are the caller's business (the incremental
    // validator's line table, the merge of a file validated in parts).
    if (this.crossRecord) this.crossCheck(place, text.length, a.format, this.lastH1, this.lastH2);
    const { countTokens, maxTokens, detectEntities } = this.options;
    if (countTokens && maxTokens) {
      const n = countTokens(
        messagesOf(a)
          .map((m) => m.content)
          .join("\n"),
      );
      if (n > maxTokens)
        this.add(
          place,
          0,
          text.length,
          "error",
          "too-long",
          `record is ${n} tokens, longer than the model's context of ${maxTokens} tokens`,
        );
    }
    if (a.entities.length) this.checkEntities(a, text, place, spans);
    else if (detectEntities && a.question && detectEntities(a.question).length === 0) {
      this.add(
        place,
        0,
        text.length,
        "warning",
        "missing-entity",
        'no subject entity found in the question: SEAT needs one to build perturbations (name it in "seat": {"entities": [...]})',
      );
    }
    if (!keep) return null;
    return {
      line: place.line,
      index: this.records - 1,
      format: a.format,
      question: a.question,
      answer: a.answer,
      messages: messagesOf(a),
      seat: a.seat === NO_SEAT ? {} : a.seat,
      entities: a.entities.length ? a.entities : [],
      perturbations: a.perturbations.length ? a.perturbations : [],
      raw: o,
      text,
    };
  }

  /**
   * The checks of a record against the records before it: its format against the first record's, its
   * content hash against earlier copies. `length` is the record text's length (the warnings span it).
   */
  crossCheck(place: RecordPlace, length: number, format: RecordFormat, h1: number, h2: number): void {
    if (!this.firstFormat) this.firstFormat = { format, line: place.line };
    else if (format !== this.firstFormat.format) {
      this.problems.add(FILE_RULES["mixed-formats"](span(place, 0, length), format, this.firstFormat));
    }
    const first = this.dups ? this.dups.add(h1, h2, place.line) : 0;
    if (first) {
      this.duplicates++;
      this.problems.add(FILE_RULES["duplicate-record"](span(place, 0, length), first));
    }
  }

  private checkEntities(a: Analysis, text: string, place: RecordPlace, spans: SpanCache | null) {
    for (let i = 0; i < a.entities.length; i++) {
      const ent = a.entities[i];
      const found = a.turns
        ? a.turns.some((m) => m.content.includes(ent))
        : a.question.includes(ent) || a.answer.includes(ent) || a.system.includes(ent);
      if (found) continue;
      const [s, e] = (spans ??= new SpanCache(text)).span(["seat", "entities", i]);
      this.add(
        place,
        s,
        e,
        "warning",
        "entity-not-in-text",
        `entity "${ent}" does not occur in the record's text, so it cannot be perturbed`,
      );
    }
  }

  /** Reports a problem spanning offsets [start, end) of the record text. */
  private add(
    place: RecordPlace,
    start: number,
    end: number,
    severity: Severity,
    code: ProblemCode,
    message: string,
    fix?: { title: string; value: unknown },
  ) {
    const at = span(place, start, end);
    const p: Problem = { ...at, severity, code, message };
    if (fix) p.fix = { title: fix.title, edits: [{ ...at, newText: JSON.stringify(fix.value) }] };
    this.problems.add(p);
  }
}

/** The lines and columns of offsets [start, end) of a record's text. */
function span(place: RecordPlace, start: number, end: number): Span {
  if (!place.at) return { line: place.line, column: start + 1, endLine: place.line, endColumn: end + 1 };
  const [line, column] = place.at(start);
  const [endLine, endColumn] = place.at(end);
  return { line, column, endLine, endColumn };
}

/** The summary of a finished input of `lines` lines and `bytes` bytes, from its checker and sink. */
export function summarize(sink: ProblemSink, checker: RecordChecker, lines: number, bytes: number): DatasetSummary {
  return {
    format: dominantFormat(checker.formats),
    formats: { ...checker.formats },
    records: checker.records,
    lines,
    bytes,
    errors: sink.errors,
    warnings: sink.warnings,
    infos: sink.infos,
    duplicates: checker.duplicates,
  };
}

/** The one format of a dataset's records, "mixed" for several, null for none. */
export function dominantFormat(formats: Partial<Record<RecordFormat, number>>): DatasetSummary["format"] {
  const kinds = Object.keys(formats) as RecordFormat[];
  return kinds.length === 0 ? null : kinds.length === 1 ? kinds[0] : "mixed";
}

/** Moves a problem (and the lines it refers to) down by `by` lines, in place. */
export function shiftLines(p: Problem, by: number): Problem {
  p.line += by;
  p.endLine += by;
  if (p.related) p.related.line += by;
  for (const e of p.fix?.edits ?? []) {
    e.line += by;
    e.endLine += by;
  }
  return p;
}

/** Position order; ties broken by code and message so every entry point lists problems identically. */
export function compareProblems(a: Problem, b: Problem): number {
  return (
    a.line - b.line ||
    a.column - b.column ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

/**
 * Collects problems and counts them by severity, keeping the `max` first in position order (whatever
 * order they arrive in, so every entry point keeps the same ones at the cut-off). `onProblem` sees
 * problems as they arrive, the first `max` of them.
 */
export class ProblemSink {
  readonly list: Problem[] = [];
  errors = 0;
  warnings = 0;
  infos = 0;
  dropped = 0;
  private arrived = 0;
  constructor(
    readonly max = DEFAULT_MAX_PROBLEMS,
    private readonly onProblem?: (p: Problem) => void,
  ) {}
  add(p: Problem) {
    if (p.severity === "error") this.errors++;
    else if (p.severity === "warning") this.warnings++;
    else this.infos++;
    if (this.arrived++ < this.max) this.onProblem?.(p);
    this.list.push(p);
    // Past the cap the list may hold up to twice `max` before it is cut back to the best `max`.
    if (this.list.length >= 2 * this.max + 1024) this.cut();
  }
  /**
   * Adds another sink's outcome (its kept problems and all its counts), e.g. one part of a file validated
   * on another thread. Its dropped problems count as dropped here: they were past its own `max`.
   */
  absorb(other: { list: Problem[]; errors: number; warnings: number; infos: number; dropped: number }) {
    const { errors, warnings, infos } = this;
    for (const p of other.list) this.add(p);
    this.errors = errors + other.errors;
    this.warnings = warnings + other.warnings;
    this.infos = infos + other.infos;
    this.dropped += other.dropped;
  }
  /** Sorts into position order and keeps the best `max` (a part's sink ends here; see finish). */
  cut() {
    this.list.sort(compareProblems);
    if (this.list.length > this.max) {
      this.dropped += this.list.length - this.max;
      this.list.length = this.max;
    }
  }
  /** Sorts into position order, cuts to `max` and adds the "N more problems" note once the input is done. */
  finish(lastLine: number) {
    this.cut();
    if (this.dropped > 0) {
      this.list.push({
        line: lastLine,
        column: 1,
        endLine: lastLine,
        endColumn: 1,
        severity: "info",
        code: "too-many-problems",
        message: `${this.dropped} more problems not listed (limit ${this.max})`,
      });
    }
  }
}
