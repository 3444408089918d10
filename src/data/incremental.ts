// Incremental validation of an open JSONL document. Each line keeps its own results (line-local
// problems, content hash, format); an edit replaces a range of lines and marks only those dirty.
// Dirty lines are re-checked in time-boxed slices (validatePending) so the editor can yield between
// slices; the cross-line rules (duplicates, mixed formats, CRLF, empty file) are recomputed from the
// per-line table in one cheap pass. The result equals a full validation of the same text.
import { compareProblems, dominantFormat, HashLines, ProblemSink, RecordChecker, shiftLines } from "./check";
import { FILE_RULES, crlfMessage, isBlankLine } from "./fileRules";
import { RECORD_FORMATS } from "./types";
import type { DatasetSummary, Problem, RecordFormat, ValidateOptions } from "./types";

// Per-line state is kept in typed arrays only (a flag byte, the two hash halves, the line's length and
// an id for the rare list of line-local problems): editing a million-line document moves a few
// megabytes with native copies, and the garbage collector never walks a million-slot JS array. The
// validator does not keep the texts: it reads a line from its LineReader when it checks it (an open
// editor document, whose lines the editor already holds), or from its own copy when built from a string.
const DIRTY = 1;
const CRLF = 2;
const BLANK = 4;
/** Line 1 starts with a byte order mark. */
const BOM = 8;
/** Format index + 1 in the flag bits above FORMAT_SHIFT; 0 = no known format. */
const FORMAT_SHIFT = 4;

/** Distinct problem lists kept as shared copies. */
const CANON_MAX = 4096;

/** Work per step of problemSteps() before it yields. */
const STEP_MS = 5;

/** Where the validator reads line `i` (0-based, without its line break) when it checks it. */
export interface LineReader {
  lineText(i: number): string;
}

/** A copy of a line's own problem (reported as if on line 1) moved to `line`. */
function relocate(p: Problem, line: number): Problem {
  const q: Problem = { ...p };
  if (p.fix?.edits) q.fix = { ...p.fix, edits: p.fix.edits.map((e) => ({ ...e })) };
  if (p.related) q.related = { ...p.related };
  return shiftLines(q, line - 1);
}

/** Typed per-line fields, `cap` slots of which the first `n` are in use. */
class LineTable {
  flags: Uint8Array;
  /** The two halves of the content hash, as the duplicate table keys them. */
  h1: Int32Array;
  h2: Int32Array;
  /** Length of the line's content (without a CR or BOM): the end column of whole-record problems. */
  len: Int32Array;
  /** Index of the line's own problems in IncrementalValidator.lists; 0 = none. */
  pid: Int32Array;
  constructor(readonly cap: number) {
    this.flags = new Uint8Array(cap);
    this.h1 = new Int32Array(cap);
    this.h2 = new Int32Array(cap);
    this.len = new Int32Array(cap);
    this.pid = new Int32Array(cap);
  }
  fields(): Array<Uint8Array | Int32Array> {
    return [this.flags, this.h1, this.h2, this.len, this.pid];
  }
}

/**
 * Slots for `n` lines with room to grow by half, in whole KiB: growing copies the whole table (a 1M-line
 * table: ~17 MB, 15-20 ms with the page faults of the new one), so a paste of a fifth of the document
 * should not need it.
 */
function capacityFor(n: number, oldCap: number): number {
  const want = Math.max(n + (n >> 1), oldCap + (oldCap >> 1), 1024);
  return Math.ceil(want / 1024) * 1024;
}

/** Per-line results in typed arrays, as a worker returns them for a batch of lines. */
export interface LineResults {
  /** CRLF / BLANK / BOM / format bits (never DIRTY). */
  flags: Uint8Array;
  h1: Int32Array;
  h2: Int32Array;
  len: Int32Array;
  /** Each line's own problems (as if it were line 1), null for most lines. */
  problems: Array<Problem[] | null>;
}

/** Dirty lines handed out by takeBatch() to be checked elsewhere (a worker thread). */
export interface LineBatch {
  /** Line indices when taken. */
  indices: Int32Array;
  texts: string[];
  /** Which of the texts was the document's line 1 when taken (a BOM only counts there); -1 if none. */
  firstIndex: number;
  /** Edit-log position when taken. */
  mark: number;
}

/** Checks one line on its own (the part of validation that needs the text) into typed slots. */
export class LineChecker {
  private readonly sink = new ProblemSink(Infinity);
  private readonly checker: RecordChecker;
  constructor(options: ValidateOptions) {
    this.checker = new RecordChecker(options, this.sink, false);
  }

  /** Fills slot `k` of the arrays for line `text`; `first`: it is the document's line 1. Returns its own problems. */
  check(
    text: string,
    first: boolean,
    out: { flags: Uint8Array; h1: Int32Array; h2: Int32Array; len: Int32Array },
    k: number,
  ): Problem[] | undefined {
    let local: Problem[] | undefined;
    out.h1[k] = 0;
    out.h2[k] = 0;
    const crlf = text.endsWith("\r");
    if (crlf) text = text.slice(0, -1);
    let f = crlf ? CRLF : 0;
    if (first && text.charCodeAt(0) === 0xfeff) {
      local = [FILE_RULES.bom()];
      text = text.slice(1);
      f |= BOM;
    }
    out.len[k] = text.length;
    if (isBlankLine(text)) {
      out.flags[k] = f | BLANK;
      return local;
    }
    this.sink.list.length = 0;
    this.checker.check(text, { line: 1 }, false);
    if (this.sink.list.length) local = local ? [...local, ...this.sink.list] : this.sink.list.slice();
    out.h1[k] = this.checker.lastH1;
    out.h2[k] = this.checker.lastH2;
    const format = this.checker.lastFormat;
    if (format) f |= (RECORD_FORMATS.indexOf(format) + 1) << FORMAT_SHIFT;
    out.flags[k] = f;
    return local;
  }

  /** A whole batch (as a worker runs it). */
  checkBatch(texts: readonly string[], firstIndex: number): LineResults {
    const n = texts.length;
    const r: LineResults = {
      flags: new Uint8Array(n),
      h1: new Int32Array(n),
      h2: new Int32Array(n),
      len: new Int32Array(n),
      problems: new Array<Problem[] | null>(n).fill(null),
    };
    for (let k = 0; k < n; k++) r.problems[k] = this.check(texts[k], k === firstIndex, r, k) ?? null;
    return r;
  }
}

export class IncrementalValidator {
  /** The texts when the validator owns them (built from a string); null when it reads a LineReader. */
  private readonly owned: string[] | null;
  private readonly reader: LineReader;
  private n = 0;
  private table = new LineTable(0);
  /** Problems found on a line alone, reported as if it were line 1, by the line's pid. */
  private readonly lists: (Problem[] | undefined)[] = [undefined];
  private freeIds: number[] = [];
  /**
   * One shared copy of each distinct problem list, up to CANON_MAX of them: a broken file repeats a
   * few lists on every line (1M broken lines: 19 MB instead of 192).
   */
  private readonly canon = new Map<string, Problem[]>();
  private readonly lineChecker: LineChecker;
  /** The duplicate table, kept between passes (a million-record table is tens of MB to allocate). */
  private spareSeen: HashLines | null = null;
  /** Batches handed out and not yet applied or dropped, and the edits made since the oldest was taken. */
  private outstanding = 0;
  private readonly edits: Array<[start: number, end: number, added: number]> = [];
  private editBase = 0;
  private pending = 0;
  /** No dirty line before this index (so slices do not rescan the checked prefix). */
  private scanFrom = 0;

  /**
   * `source`: the document as a string (the validator keeps its own lines; change them with edit()),
   * or a LineReader it reads lines from (describe its changes with replace(); it starts with 0 lines).
   */
  constructor(
    private readonly options: ValidateOptions = {},
    source: string | LineReader = "",
  ) {
    this.lineChecker = new LineChecker(options);
    if (typeof source === "string") {
      const owned: string[] = [];
      this.owned = owned;
      this.reader = { lineText: (i) => owned[i] };
      this.reset(source);
    } else {
      this.owned = null;
      this.reader = source;
    }
  }

  /** Replaces the whole document (a validator that owns its texts). */
  reset(text: string): void {
    const owned = this.ownedTexts("reset");
    owned.length = 0;
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      owned.push(nl < 0 ? text.slice(start) : text.slice(start, nl));
      if (nl < 0) break;
      start = nl + 1;
    }
    this.resize(0, this.n, owned.length);
  }

  /** Number of document lines (the empty line after a final newline counts, as in editors). */
  get lineCount(): number {
    return this.n;
  }

  /** Text of line `i` (0-based), read from the document. */
  lineText(i: number): string {
    return this.reader.lineText(i);
  }

  /**
   * Replaces lines [start, end) (0-based) with `newLines` (texts without "\n") in a validator that
   * owns its texts. Cheap: the new lines are only marked dirty.
   */
  edit(start: number, end: number, newLines: readonly string[]): void {
    const owned = this.ownedTexts("edit");
    this.checkRange(start, end);
    if (newLines.length < 50_000) owned.splice(start, end - start, ...newLines);
    else {
      // Spread arguments that long would overflow the stack.
      const tail = owned.slice(end);
      owned.length = start;
      for (const l of newLines) owned.push(l);
      for (const l of tail) owned.push(l);
    }
    this.resize(start, end, newLines.length);
  }

  /**
   * The document read through the LineReader changed: its lines [start, end) were replaced by `count`
   * lines. Moves the per-line state with native copies (no line is read) and marks the new lines dirty.
   */
  replace(start: number, end: number, count: number): void {
    if (this.owned) throw new Error("replace() is for a validator reading a LineReader; use edit()");
    this.checkRange(start, end);
    this.resize(start, end, count);
  }

  private ownedTexts(what: string): string[] {
    if (!this.owned)
      throw new Error(`${what}() needs a validator built from a string; this one reads a LineReader (use replace())`);
    return this.owned;
  }

  private checkRange(start: number, end: number) {
    if (!(start >= 0 && end >= start && end <= this.n))
      throw new RangeError(`bad line range [${start}, ${end}) of ${this.n} lines`);
  }

  private resize(start: number, end: number, added: number): void {
    if (this.outstanding > 0) this.edits.push([start, end, added]);
    const oldN = this.n;
    const n = oldN - (end - start) + added;
    const old = this.table;
    const { flags, pid } = old;
    for (let i = start; i < end; i++) {
      if (flags[i] & DIRTY) this.pending--;
      if (pid[i]) this.dropList(pid[i]);
    }
    const t = n > old.cap ? new LineTable(capacityFor(n, old.cap)) : old;
    const from = old.fields();
    const to = t.fields();
    for (let f = 0; f < to.length; f++) {
      const a = from[f];
      const b = to[f];
      if (t !== old) {
        // A fresh table is all zeros: only the kept slots are copied (untouched pages stay unmapped).
        b.set(a.subarray(0, start));
        b.set(a.subarray(end, oldN), start + added);
        continue;
      }
      if (end < oldN && end !== start + added) b.copyWithin(start + added, end, oldN);
      b.fill(0, start, start + added);
      // Slots past the end must read as clean and empty when a later edit grows into them.
      if (n < oldN) b.fill(0, n, oldN);
    }
    t.flags.fill(DIRTY, start, start + added);
    this.table = t;
    this.n = n;
    this.pending += added;
    if (start < this.scanFrom) this.scanFrom = start;
    this.recheckFirst(start, added);
  }

  private dropList(id: number) {
    this.lists[id] = undefined;
    this.freeIds.push(id);
  }

  /** A BOM only counts on line 1: after an edit at the top, whichever line is first now gets re-checked. */
  private recheckFirst(start: number, inserted: number): void {
    if (start !== 0 || inserted >= this.n) return;
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

  /** Lines still to check. */
  get pendingLines(): number {
    return this.pending;
  }

  /**
   * Checks dirty lines until done or `budgetMs` has passed (at least one line per call). Returns true
   * when nothing is left. Lines are read from the document as it is now.
   */
  validatePending(budgetMs = Infinity): boolean {
    if (this.pending === 0) return true;
    const t0 = performance.now();
    const flags = this.table.flags;
    const n = this.n;
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
    this.keepList(i, this.lineChecker.check(this.reader.lineText(i), i === 0, this.table, i));
  }

  /**
   * Up to `maxLines` dirty lines (fewer once `maxChars` characters are taken) with their texts, to be
   * checked elsewhere and handed back to applyBatch(); null when none is dirty. The lines stay dirty
   * (and count as pending) until then.
   */
  takeBatch(maxLines: number, maxChars = Infinity): LineBatch | null {
    if (this.pending === 0) return null;
    const flags = this.table.flags;
    const indices: number[] = [];
    const texts: string[] = [];
    let chars = 0;
    let firstIndex = -1;
    let i = this.scanFrom;
    for (; i < this.n && indices.length < maxLines && chars < maxChars; i++) {
      if (!(flags[i] & DIRTY)) continue;
      if (i === 0) firstIndex = indices.length;
      const text = this.reader.lineText(i);
      indices.push(i);
      texts.push(text);
      chars += text.length;
    }
    if (indices.length === 0) return null;
    // Everything before the first taken line is clean.
    this.scanFrom = indices[0];
    this.outstanding++;
    return { indices: Int32Array.from(indices), texts, firstIndex, mark: this.editBase + this.edits.length };
  }

  /**
   * Stores the results of a batch taken by takeBatch(), for the lines that are still there: a line
   * that moved since is found through the edits made meanwhile; one that an edit replaced stays dirty
   * (its new text gets checked later), and so does one that became or stopped being line 1.
   * Returns the number of lines stored.
   */
  applyBatch(batch: LineBatch, r: LineResults): number {
    this.outstanding--;
    const t = this.table;
    const edits = this.edits.slice(batch.mark - this.editBase);
    let stored = 0;
    for (let k = 0; k < batch.indices.length; k++) {
      let i = batch.indices[k];
      for (const [start, end, added] of edits) {
        if (i >= end) i += added - (end - start);
        else if (i >= start) {
          i = -1;
          break;
        }
      }
      if (i < 0 || !(t.flags[i] & DIRTY) || (i === 0) !== (k === batch.firstIndex)) continue;
      t.flags[i] = r.flags[k];
      t.h1[i] = r.h1[k];
      t.h2[i] = r.h2[k];
      t.len[i] = r.len[k];
      this.keepList(i, r.problems[k] ?? undefined);
      this.pending--;
      stored++;
    }
    this.trimEdits();
    return stored;
  }

  /** Forgets a batch that will not come back (its lines stay dirty). */
  dropBatch(_batch: LineBatch): void {
    this.outstanding--;
    this.trimEdits();
  }

  private trimEdits() {
    if (this.outstanding > 0) return;
    this.editBase += this.edits.length;
    this.edits.length = 0;
  }

  /** Stores line `i`'s own problems in place of the ones it had. */
  private keepList(i: number, local: Problem[] | undefined) {
    const pid = this.table.pid;
    if (pid[i]) {
      this.dropList(pid[i]);
      pid[i] = 0;
    }
    if (!local) return;
    const key = JSON.stringify(local);
    let list = this.canon.get(key);
    if (!list) {
      list = local;
      if (this.canon.size < CANON_MAX) this.canon.set(key, list);
    }
    const id = this.freeIds.pop() ?? this.lists.length;
    this.lists[id] = list;
    this.table.pid[i] = id;
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
   * event loop back between steps on very large documents. The document must not change while the
   * steps run (abandon them and start again after a change).
   */
  *problemSteps(): Generator<void, Problem[]> {
    while (!this.validatePending(STEP_MS)) yield;
    const out: Problem[] = [];
    const n = this.lastLineIndex();
    const { flags, h1, h2, len, pid } = this.table;
    const empty = this.n === 1 && len[0] === 0 && (flags[0] & (CRLF | BOM)) === 0;
    let firstFormat: { format: RecordFormat; line: number } | null = null;
    let crlfFirst: Problem | null = null;
    let crlfCount = 0;
    // One duplicate table reused pass after pass (a pass abandoned half-way simply drops its own).
    let seen: HashLines | null = null;
    if (this.options.duplicates !== false) {
      seen = this.spareSeen ?? new HashLines();
      this.spareSeen = null;
      seen.clear();
      seen.reserve(n);
    }
    let records = 0;
    let errors = 0;
    // Only the first `max` problems in position order are listed. Problems come in line order, so once
    // `max` of them lie on earlier lines, later ones are counted, not built: a file where every line is
    // broken costs no more than one with `max` problems.
    const max = this.options.maxProblems ?? 10_000;
    let dropped = 0;
    const room = (line: number) => out.length < max || (max > 0 && out[max - 1].line >= line);
    // Yields at least every 4096 lines, sooner once STEP_MS has passed: the first pass also maps in
    // the duplicate table's pages, scattered accesses that make a 4096-line step take tens of ms.
    let t0 = performance.now();
    for (let i = 0; i < n; i++) {
      if ((i & 255) === 255 && ((i & 4095) === 4095 || performance.now() - t0 > STEP_MS)) {
        yield;
        t0 = performance.now();
      }
      const f = flags[i];
      const line = i + 1;
      if (f & CRLF) {
        if (crlfCount++ === 0) {
          crlfFirst = FILE_RULES.crlf(line, len[i]);
          if (room(line)) out.push(crlfFirst);
          else dropped++;
        }
      }
      if (pid[i]) {
        for (const p of this.lists[pid[i]]!) {
          if (room(line)) out.push(relocate(p, line));
          else dropped++;
          if (p.severity === "error") errors++;
        }
      }
      if (f & BLANK) {
        if (room(line)) out.push(FILE_RULES["blank-line"](line));
        else dropped++;
        continue;
      }
      const fi = f >> FORMAT_SHIFT;
      if (fi === 0) continue;
      const format = RECORD_FORMATS[fi - 1];
      records++;
      const endColumn = len[i] + 1;
      if (!firstFormat) firstFormat = { format, line };
      else if (format !== firstFormat.format) {
        if (room(line))
          out.push(FILE_RULES["mixed-formats"]({ line, column: 1, endLine: line, endColumn }, format, firstFormat));
        else dropped++;
      }
      if (seen) {
        const first = seen.add(h1[i], h2[i], line);
        if (first) {
          if (room(line))
            out.push(FILE_RULES["duplicate-record"]({ line, column: 1, endLine: line, endColumn }, first));
          else dropped++;
        }
      }
    }
    if (seen) this.spareSeen = seen;
    if (crlfFirst) crlfFirst.message = crlfMessage(crlfCount);
    if ((empty || records === 0) && errors === 0) {
      out.push(FILE_RULES["empty-file"](empty));
    }
    out.sort(compareProblems);
    if (out.length > max) {
      dropped += out.length - max;
      out.length = max;
    }
    if (dropped > 0) {
      out.push({
        line: Math.max(1, n),
        column: 1,
        endLine: Math.max(1, n),
        endColumn: 1,
        severity: "info",
        code: "too-many-problems",
        message: `${dropped} more problems not listed (limit ${max})`,
      });
    }
    return out;
  }

  /** Record and format counts of the current document (reads every line: not for the editor's hot path). */
  summary(): DatasetSummary {
    const ps = this.problems();
    const formats: Partial<Record<RecordFormat, number>> = {};
    let records = 0;
    const n = this.lastLineIndex();
    const flags = this.table.flags;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const fi = flags[i] >> FORMAT_SHIFT;
      if (fi) {
        const f = RECORD_FORMATS[fi - 1];
        records++;
        formats[f] = (formats[f] ?? 0) + 1;
      }
    }
    for (let i = 0; i < this.n; i++) bytes += Buffer.byteLength(this.reader.lineText(i)) + 1;
    return {
      format: dominantFormat(formats),
      formats,
      records,
      lines: n,
      bytes: Math.max(0, bytes - 1),
      errors: ps.filter((p) => p.severity === "error").length,
      warnings: ps.filter((p) => p.severity === "warning").length,
      infos: ps.filter((p) => p.severity === "info").length,
      duplicates: ps.filter((p) => p.code === "duplicate-record").length,
    };
  }

  /** Lines that count as lines: the empty one after a final newline does not. */
  private lastLineIndex(): number {
    const n = this.n;
    if (n === 0) return 0;
    const f = this.table.flags[n - 1];
    const lastEmpty =
      f & DIRTY ? this.reader.lineText(n - 1) === "" : this.table.len[n - 1] === 0 && (f & (CRLF | BOM)) === 0;
    return lastEmpty ? n - 1 : n;
  }
}
