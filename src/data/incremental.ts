// Incremental validation of an open JSONL document. Each line keeps its own results (line-local
// problems, content hash, format); an edit replaces a range of lines and marks only those dirty.
// Dirty lines are re-checked in time-boxed slices (validatePending) so the editor can yield between
// slices; the cross-line rules (duplicates, mixed formats, CRLF, empty file) are recomputed from the
// per-line table in one cheap pass. The result equals a full validation of the same text.
import { compareProblems, HashLines, ProblemSink, RecordChecker } from "./check";
import { RECORD_FORMATS } from "./types";
import type { DatasetSummary, Problem, RecordFormat, ValidateOptions } from "./types";

// Per-line state is kept as parallel arrays (a flag byte and the two hash halves in typed arrays)
// rather than one object per line: a million small objects cost ~100 bytes each and make every GC of
// the host slower. Only the line texts (the caller's own strings where it hands them in) and the rare
// problem lists are JS values.
const DIRTY = 1;
const CRLF = 2;
const BLANK = 4;
/** Format index + 1 in the flag bits above FORMAT_SHIFT; 0 = no known format. */
const FORMAT_SHIFT = 3;

/** Work per step of problemSteps() before it yields. */
const STEP_MS = 5;

/** Lines per step of resetSteps(). */
const RESET_CHUNK = 5_000;
/** Edits replacing at least this many lines build the new table in steps. */
const EDIT_CHUNK = 5_000;
/** Text slots copied per step of a big edit, minus one (a power of two minus one, as a mask). */
const COPY_CHUNK_MASK = 4_095;

const BLANK_LINE: Omit<Problem, "line" | "endLine"> & { line: 1; endLine: 2 } = {
  line: 1, column: 1, endLine: 2, endColumn: 1, severity: "warning", code: "blank-line",
  message: "blank line: JSONL readers expect one JSON record on every line",
};

function relocate(p: Problem, line: number): Problem {
  const d = line - 1;
  const q: Problem = { ...p, line: p.line + d, endLine: p.endLine + d };
  if (p.fix?.edits) q.fix = { ...p.fix, edits: p.fix.edits.map((e) => ({ ...e, line: e.line + d, endLine: e.endLine + d })) };
  return q;
}

/** Typed per-line fields, `cap` slots of which the first `n` are in use. */
class LineTable {
  flags: Uint8Array;
  /** The two halves of the content hash, as the duplicate table keys them. */
  h1: Int32Array;
  h2: Int32Array;
  constructor(readonly cap: number) {
    this.flags = new Uint8Array(cap);
    this.h1 = new Int32Array(cap);
    this.h2 = new Int32Array(cap);
  }
}

function capacityFor(n: number): number {
  let cap = 1024;
  while (cap < n) cap *= 2;
  return cap;
}

export class IncrementalValidator {
  private texts: string[] = [];
  private table = new LineTable(1024);
  /** Problems found on a line alone, reported as if it were line 1; undefined for most lines. */
  private local: (Problem[] | undefined)[] = [];
  private readonly sink = new ProblemSink(Infinity);
  private readonly checker: RecordChecker;
  private pending = 0;
  /** No dirty line before this index (so slices do not rescan the checked prefix). */
  private scanFrom = 0;

  constructor(private readonly options: ValidateOptions = {}, text = "") {
    this.checker = new RecordChecker(options, this.sink, false);
    this.reset(text);
  }

  /** Replaces the whole document. */
  reset(text: string): void {
    const steps = this.resetSteps(text);
    while (!steps.next().done) { /* drain */ }
  }

  /** reset() as steps (yields every few thousand lines), for documents too big to load in one go. */
  *resetSteps(text: string): Generator<void, void> {
    this.texts = [];
    this.local = [];
    this.table = new LineTable(1024);
    this.pending = 0;
    this.scanFrom = 0;
    let start = 0;
    for (let k = 1; ; k++) {
      const nl = text.indexOf("\n", start);
      this.texts.push(nl < 0 ? text.slice(start) : text.slice(start, nl));
      this.local.push(undefined);
      if (nl < 0) break;
      start = nl + 1;
      if (k % RESET_CHUNK === 0) yield;
    }
    const n = this.texts.length;
    this.table = new LineTable(capacityFor(n));
    this.table.flags.fill(DIRTY, 0, n);
    this.pending = n;
  }

  /** Number of document lines (the empty line after a final newline counts, as in editors). */
  get lineCount(): number {
    return this.texts.length;
  }

  /** Text of line `i` (0-based) as the validator has it. */
  lineText(i: number): string {
    return this.texts[i];
  }

  /**
   * Replaces lines [start, end) (0-based) with `newLines` (texts without "\n"). Cheap: the new lines
   * are only marked dirty.
   */
  edit(start: number, end: number, newLines: readonly string[]): void {
    const steps = this.editSteps(start, end, newLines);
    while (!steps.next().done) { /* drain */ }
  }

  /**
   * edit() in steps, for replacements too big for one go (a paste of 200k lines): for big ones the new
   * text table is built a chunk of lines per step while the validator stays as it was; the last step
   * swaps it in. Nothing else may change the validator until then.
   */
  *editSteps(start: number, end: number, newLines: readonly string[]): Generator<void, void> {
    const oldN = this.texts.length;
    if (start < 0 || end < start || end > oldN) throw new RangeError(`bad line range [${start}, ${end}) of ${oldN} lines`);
    const added = newLines.length;
    const n = oldN - (end - start) + added;
    let texts: string[];
    let local: (Problem[] | undefined)[];
    if (start === oldN) {
      // Appending (as a load does, a chunk at a time) only grows the tables: no copy of what is there.
      texts = this.texts;
      local = this.local;
      for (let i = 0; i < added; i++) {
        texts.push(newLines[i]);
        local.push(undefined);
      }
    } else if (added >= EDIT_CHUNK || end - start >= EDIT_CHUNK) {
      // One copy of a million-slot table is itself a long pause (and spread arguments to splice
      // would overflow the stack): the new tables are filled a chunk per step.
      texts = new Array<string>(n);
      local = new Array<Problem[] | undefined>(n);
      let k = 0;
      for (let i = 0; i < start; i++) {
        texts[k] = this.texts[i];
        local[k++] = this.local[i];
        if ((k & COPY_CHUNK_MASK) === 0) yield;
      }
      for (let i = 0; i < added; i++) {
        texts[k] = newLines[i];
        local[k++] = undefined;
        if ((k & COPY_CHUNK_MASK) === 0) yield;
      }
      for (let i = end; i < oldN; i++) {
        texts[k] = this.texts[i];
        local[k++] = this.local[i];
        if ((k & COPY_CHUNK_MASK) === 0) yield;
      }
    } else {
      texts = this.texts;
      local = this.local;
      texts.splice(start, end - start, ...newLines);
      local.splice(start, end - start, ...new Array<undefined>(added));
    }
    // The typed fields move with native copies (a few MB for a million lines: no step needed).
    const old = this.table;
    const { flags } = old;
    for (let i = start; i < end; i++) if (flags[i] & DIRTY) this.pending--;
    const t = n > old.cap ? new LineTable(capacityFor(n)) : old;
    if (t !== old) {
      t.flags.set(old.flags.subarray(0, start));
      t.h1.set(old.h1.subarray(0, start));
      t.h2.set(old.h2.subarray(0, start));
      t.flags.set(old.flags.subarray(end, oldN), start + added);
      t.h1.set(old.h1.subarray(end, oldN), start + added);
      t.h2.set(old.h2.subarray(end, oldN), start + added);
    } else if (end < oldN && end !== start + added) {
      t.flags.copyWithin(start + added, end, oldN);
      t.h1.copyWithin(start + added, end, oldN);
      t.h2.copyWithin(start + added, end, oldN);
    }
    t.flags.fill(DIRTY, start, start + added);
    t.h1.fill(0, start, start + added);
    t.h2.fill(0, start, start + added);
    if (n < oldN) {
      // Slots past the end must read as clean and empty when a later edit grows into them.
      t.flags.fill(0, n, oldN);
      t.h1.fill(0, n, oldN);
      t.h2.fill(0, n, oldN);
    }
    this.table = t;
    this.texts = texts;
    this.local = local;
    this.pending += added;
    if (start < this.scanFrom) this.scanFrom = start;
    this.recheckFirst(start, added);
  }

  /** A BOM only counts on line 1: after an edit at the top, whichever line is first now gets re-checked. */
  private recheckFirst(start: number, inserted: number): void {
    if (start !== 0 || inserted >= this.texts.length) return;
    const flags = this.table.flags;
    if (!(flags[inserted] & DIRTY)) {
      flags[inserted] |= DIRTY;
      this.pending++;
    }
  }

  /** True while some lines still need checking. */
  get hasPending(): boolean {
    return this.pending > 0;
  }

  /**
   * Checks dirty lines until done or `budgetMs` has passed (at least one line per call). Returns true
   * when nothing is left.
   */
  validatePending(budgetMs = Infinity): boolean {
    if (this.pending === 0) return true;
    const t0 = performance.now();
    const flags = this.table.flags;
    const n = this.texts.length;
    let c = 0;
    let i = this.scanFrom;
    for (; i < n && this.pending > 0; i++) {
      if (!(flags[i] & DIRTY)) continue;
      this.checkLine(i);
      this.pending--;
      if ((++c & 7) === 0 && performance.now() - t0 > budgetMs) {
        i++;
        break;
      }
    }
    this.scanFrom = this.pending === 0 ? n : i;
    return this.pending === 0;
  }

  /** Checks line `i` and stores its results (which clears its dirty bit). */
  private checkLine(i: number) {
    const t = this.table;
    let text = this.texts[i];
    let local: Problem[] | undefined;
    t.h1[i] = 0;
    t.h2[i] = 0;
    const crlf = text.endsWith("\r");
    if (crlf) text = text.slice(0, -1);
    if (i === 0 && text.charCodeAt(0) === 0xfeff) {
      local = [{
        line: 1, column: 1, endLine: 1, endColumn: 2, severity: "warning", code: "bom",
        message: "byte order mark (BOM) at the start of the file: many JSONL readers reject it",
        fix: { title: "Remove the byte order mark", file: "strip-bom", edits: [{ line: 1, column: 1, endLine: 1, endColumn: 2, newText: "" }] },
      }];
      text = text.slice(1);
    }
    let f = crlf ? CRLF : 0;
    if (/^[ \t\r]*$/.test(text)) {
      t.flags[i] = f | BLANK;
      this.local[i] = local;
      return;
    }
    this.sink.list.length = 0;
    this.checker.check(text, { line: 1 }, false);
    if (this.sink.list.length) local = local ? [...local, ...this.sink.list] : this.sink.list.slice();
    const h = this.checker.lastHash;
    t.h1[i] = Math.floor(h / 0x200000) | 0;
    t.h2[i] = h % 0x200000;
    const format = this.checker.lastFormat;
    if (format) f |= (RECORD_FORMATS.indexOf(format) + 1) << FORMAT_SHIFT;
    t.flags[i] = f;
    this.local[i] = local;
  }

  /** All problems of the document, in position order (validates pending lines first). */
  problems(): Problem[] {
    const steps = this.problemSteps();
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  }

  /**
   * The same as problems(), as steps: yields every few thousand lines so an editor can give the
   * event loop back between steps on very large documents.
   */
  *problemSteps(): Generator<void, Problem[]> {
    while (!this.validatePending(STEP_MS)) yield;
    const out: Problem[] = [];
    const n = this.lastLineIndex();
    const empty = this.texts.length === 1 && this.texts[0] === "";
    const { flags, h1, h2 } = this.table;
    let firstFormat: { format: RecordFormat; line: number } | null = null;
    let crlfFirst: Problem | null = null;
    let crlfCount = 0;
    const seen = this.options.duplicates === false ? null : new HashLines();
    seen?.reserve(n); // one allocation instead of rehashing a big table inside a step
    let records = 0;
    let errors = 0;
    for (let i = 0; i < n; i++) {
      if ((i & 4095) === 4095) yield;
      const text = this.texts[i];
      const f = flags[i];
      const line = i + 1;
      const bom = i === 0 && text.charCodeAt(0) === 0xfeff ? 1 : 0;
      if (f & CRLF) {
        if (crlfCount++ === 0) {
          const len = text.length - 1 - bom;
          crlfFirst = { line, column: len + 1, endLine: line, endColumn: len + 2, severity: "warning", code: "crlf", message: "", fix: { title: "Convert line endings to LF", file: "eol-lf" } };
          out.push(crlfFirst);
        }
      }
      const local = this.local[i];
      if (local) {
        for (const p of local) {
          out.push(relocate(p, line));
          if (p.severity === "error") errors++;
        }
      }
      if (f & BLANK) {
        out.push({ ...BLANK_LINE, line, endLine: line + 1, fix: { title: "Delete the blank line", edits: [{ line, column: 1, endLine: line + 1, endColumn: 1, newText: "" }] } });
        continue;
      }
      const fi = f >> FORMAT_SHIFT;
      if (fi === 0) continue;
      const format = RECORD_FORMATS[fi - 1];
      records++;
      const endColumn = text.length + 1 - (f & CRLF ? 1 : 0) - bom;
      if (!firstFormat) firstFormat = { format, line };
      else if (format !== firstFormat.format) {
        out.push({ line, column: 1, endLine: line, endColumn, severity: "warning", code: "mixed-formats", message: `this record is ${format}, but the first record (line ${firstFormat.line}) is ${firstFormat.format}` });
      }
      if (seen) {
        const first = seen.add(h1[i], h2[i], line);
        if (first) out.push({ line, column: 1, endLine: line, endColumn, severity: "warning", code: "duplicate-record", message: `duplicate record: same content as line ${first}`, related: { line: first, message: "first copy" } });
      }
    }
    if (crlfFirst) crlfFirst.message = crlfCount > 1 ? `Windows line endings (CRLF) on ${crlfCount} lines: JSONL tools expect LF` : "Windows line endings (CRLF): JSONL tools expect LF";
    if ((empty || records === 0) && errors === 0) {
      out.push({ line: 1, column: 1, endLine: 1, endColumn: 1, severity: "warning", code: "empty-file", message: empty ? "empty file: no records" : "no records in this file" });
    }
    out.sort(compareProblems);
    const max = this.options.maxProblems ?? 10_000;
    if (out.length > max) {
      const dropped = out.length - max;
      out.length = max;
      out.push({ line: Math.max(1, n), column: 1, endLine: Math.max(1, n), endColumn: 1, severity: "info", code: "too-many-problems", message: `${dropped} more problems not listed (limit ${max})` });
    }
    return out;
  }

  /** Record and format counts of the current document. */
  summary(): DatasetSummary {
    const ps = this.problems();
    const formats: Partial<Record<RecordFormat, number>> = {};
    let records = 0;
    const n = this.lastLineIndex();
    const flags = this.table.flags;
    for (let i = 0; i < n; i++) {
      const fi = flags[i] >> FORMAT_SHIFT;
      if (fi) { const f = RECORD_FORMATS[fi - 1]; records++; formats[f] = (formats[f] ?? 0) + 1; }
    }
    const kinds = Object.keys(formats) as RecordFormat[];
    let bytes = 0;
    for (const t of this.texts) bytes += Buffer.byteLength(t) + 1;
    return {
      format: kinds.length === 0 ? null : kinds.length === 1 ? kinds[0] : "mixed", formats, records, lines: n, bytes: Math.max(0, bytes - 1),
      errors: ps.filter((p) => p.severity === "error").length, warnings: ps.filter((p) => p.severity === "warning").length,
      infos: ps.filter((p) => p.severity === "info").length, duplicates: ps.filter((p) => p.code === "duplicate-record").length,
    };
  }

  /** Lines that count as lines: the empty one after a final newline does not. */
  private lastLineIndex(): number {
    const n = this.texts.length;
    return n > 0 && this.texts[n - 1] === "" ? n - 1 : n;
  }
}
