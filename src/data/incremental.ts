// Incremental validation of an open JSONL document. Each line keeps its own results (line-local
// problems, content hash, format); an edit replaces a range of lines and marks only those dirty.
// Dirty lines are re-checked in time-boxed slices (validatePending) so the editor can yield between
// slices; the cross-line rules (duplicates, mixed formats, CRLF, empty file) are recomputed from the
// per-line table in one cheap pass. The result equals a full validation of the same text.
import { compareProblems, HashLines, ProblemSink, RecordChecker } from "./check";
import type { DatasetSummary, Problem, RecordFormat, ValidateOptions } from "./types";

interface LineState {
  text: string;
  dirty: boolean;
  /** Problems found on this line alone, reported as if it were line 1. */
  local: Problem[];
  hash: number;
  format: RecordFormat | null;
  crlf: boolean;
  blank: boolean;
}

/** Shared empty list: most lines have no problems, and a million empty arrays are not free. */
const NO_PROBLEMS: Problem[] = [];

/** Work per step of problemSteps() before it yields. */
const STEP_MS = 10;

/** Lines of new state built per step of editSteps(); bigger edits also copy the table in steps. */
const EDIT_CHUNK = 5_000;
/** Table entries copied per step of a big edit, minus one (a power of two minus one, as a mask). */
const COPY_CHUNK_MASK = 65_535;

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

export class IncrementalValidator {
  private lines: LineState[] = [];
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
    this.lines = [];
    this.pending = 0;
    this.scanFrom = 0;
    let start = 0;
    for (let k = 1; ; k++) {
      const nl = text.indexOf("\n", start);
      const line = nl < 0 ? text.slice(start) : text.slice(start, nl);
      this.lines.push({ text: line, dirty: true, local: NO_PROBLEMS, hash: 0, format: null, crlf: false, blank: false });
      this.pending++;
      if (nl < 0) return;
      start = nl + 1;
      if (k % 5_000 === 0) yield;
    }
  }

  /** Number of document lines (the empty line after a final newline counts, as in editors). */
  get lineCount(): number {
    return this.lines.length;
  }

  /** Text of line `i` (0-based) as the validator has it. */
  lineText(i: number): string {
    return this.lines[i].text;
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
   * edit() in steps, for replacements too big for one go (a paste of 200k lines): the new lines' state
   * is built EDIT_CHUNK lines per step, and for big ones the new line table too, while the validator
   * stays as it was; the last step swaps it in. Nothing else may change the validator until then.
   */
  *editSteps(start: number, end: number, newLines: readonly string[]): Generator<void, void> {
    if (start < 0 || end < start || end > this.lines.length) throw new RangeError(`bad line range [${start}, ${end}) of ${this.lines.length} lines`);
    const fresh: LineState[] = [];
    for (let i = 0; i < newLines.length; i++) {
      fresh.push({ text: newLines[i], dirty: true, local: NO_PROBLEMS, hash: 0, format: null, crlf: false, blank: false });
      if ((i + 1) % EDIT_CHUNK === 0 && i + 1 < newLines.length) yield;
    }
    if (fresh.length >= EDIT_CHUNK) {
      // The new table is copied a chunk per step too (one copy of a million-line table is itself a
      // long pause); the old one stays in use until the swap. Spread arguments would overflow the stack.
      const old = this.lines;
      const next: LineState[] = new Array(old.length - (end - start) + fresh.length);
      let k = 0;
      for (const [from, to, src] of [[0, start, old], [0, fresh.length, fresh], [end, old.length, old]] as const) {
        for (let i = from; i < to; i++) {
          next[k++] = src[i];
          if ((k & COPY_CHUNK_MASK) === 0) yield;
        }
      }
      for (let i = start; i < end; i++) if (old[i].dirty) this.pending--;
      this.pending += fresh.length;
      this.lines = next;
      if (start < this.scanFrom) this.scanFrom = start;
      this.recheckFirst(start, fresh.length);
      return;
    }
    for (let i = start; i < end; i++) if (this.lines[i].dirty) this.pending--;
    this.pending += fresh.length;
    this.lines.splice(start, end - start, ...fresh);
    if (start < this.scanFrom) this.scanFrom = start;
    this.recheckFirst(start, fresh.length);
  }

  /** A BOM only counts on line 1: after an edit at the top, whichever line is first now gets re-checked. */
  private recheckFirst(start: number, inserted: number): void {
    if (start !== 0) return;
    const next = this.lines[inserted];
    if (next && !next.dirty) {
      next.dirty = true;
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
    let n = 0;
    let i = this.scanFrom;
    for (; i < this.lines.length && this.pending > 0; i++) {
      const st = this.lines[i];
      if (!st.dirty) continue;
      this.checkLine(st, i === 0);
      st.dirty = false;
      this.pending--;
      if ((++n & 7) === 0 && performance.now() - t0 > budgetMs) {
        i++;
        break;
      }
    }
    this.scanFrom = this.pending === 0 ? this.lines.length : i;
    return this.pending === 0;
  }

  private checkLine(st: LineState, first: boolean) {
    let text = st.text;
    st.local = NO_PROBLEMS;
    st.hash = 0;
    st.format = null;
    st.crlf = text.endsWith("\r");
    if (st.crlf) text = text.slice(0, -1);
    if (first && text.charCodeAt(0) === 0xfeff) {
      st.local = [{
        line: 1, column: 1, endLine: 1, endColumn: 2, severity: "warning", code: "bom",
        message: "byte order mark (BOM) at the start of the file: many JSONL readers reject it",
        fix: { title: "Remove the byte order mark", file: "strip-bom", edits: [{ line: 1, column: 1, endLine: 1, endColumn: 2, newText: "" }] },
      }];
      text = text.slice(1);
    }
    st.blank = /^[ \t\r]*$/.test(text);
    if (st.blank) return;
    this.sink.list.length = 0;
    this.checker.check(text, { line: 1 }, false);
    if (this.sink.list.length) st.local = st.local === NO_PROBLEMS ? this.sink.list.slice() : [...st.local, ...this.sink.list];
    st.hash = this.checker.lastHash;
    st.format = this.checker.lastFormat;
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
    const empty = this.lines.length === 1 && this.lines[0].text === "";
    let firstFormat: { format: RecordFormat; line: number } | null = null;
    let crlfFirst: Problem | null = null;
    let crlfCount = 0;
    const seen = this.options.duplicates === false ? null : new HashLines();
    seen?.reserve(n); // one allocation instead of rehashing a big table inside a step
    let records = 0;
    let errors = 0;
    for (let i = 0; i < n; i++) {
      if ((i & 4095) === 4095) yield;
      const st = this.lines[i];
      const line = i + 1;
      if (st.crlf) {
        if (crlfCount++ === 0) {
          const len = st.text.length - 1 - (i === 0 && st.text.charCodeAt(0) === 0xfeff ? 1 : 0);
          crlfFirst = { line, column: len + 1, endLine: line, endColumn: len + 2, severity: "warning", code: "crlf", message: "", fix: { title: "Convert line endings to LF", file: "eol-lf" } };
          out.push(crlfFirst);
        }
      }
      for (const p of st.local) {
        out.push(relocate(p, line));
        if (p.severity === "error") errors++;
      }
      if (st.blank) {
        out.push({ ...BLANK_LINE, line, endLine: line + 1, fix: { title: "Delete the blank line", edits: [{ line, column: 1, endLine: line + 1, endColumn: 1, newText: "" }] } });
        continue;
      }
      if (!st.format) continue;
      records++;
      const endColumn = st.text.length + 1 - (st.crlf ? 1 : 0) - (i === 0 && st.text.charCodeAt(0) === 0xfeff ? 1 : 0);
      if (!firstFormat) firstFormat = { format: st.format, line };
      else if (st.format !== firstFormat.format) {
        out.push({ line, column: 1, endLine: line, endColumn, severity: "warning", code: "mixed-formats", message: `this record is ${st.format}, but the first record (line ${firstFormat.line}) is ${firstFormat.format}` });
      }
      if (seen) {
        const first = seen.add(Math.floor(st.hash / 0x200000) | 0, st.hash % 0x200000, line);
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
    for (let i = 0; i < n; i++) {
      const f = this.lines[i].format;
      if (f) { records++; formats[f] = (formats[f] ?? 0) + 1; }
    }
    const kinds = Object.keys(formats) as RecordFormat[];
    let bytes = 0;
    for (const l of this.lines) bytes += Buffer.byteLength(l.text) + 1;
    return {
      format: kinds.length === 0 ? null : kinds.length === 1 ? kinds[0] : "mixed", formats, records, lines: n, bytes: Math.max(0, bytes - 1),
      errors: ps.filter((p) => p.severity === "error").length, warnings: ps.filter((p) => p.severity === "warning").length,
      infos: ps.filter((p) => p.severity === "info").length, duplicates: ps.filter((p) => p.code === "duplicate-record").length,
    };
  }

  /** Lines that count as lines: the empty one after a final newline does not. */
  private lastLineIndex(): number {
    const n = this.lines.length;
    return n > 0 && this.lines[n - 1].text === "" ? n - 1 : n;
  }
}
