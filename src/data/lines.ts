// Line-level checks of a JSONL text (line endings, blank lines, BOM) in front of the record checker.
// Fed decoded text one line at a time, by the streaming file reader and by the in-memory parser alike,
// so both report exactly the same problems. A big file can also be checked in parts (parallel.ts): each
// part on its own JsonlLines in part mode, then merged in file order into one whole-file JsonlLines.
import { RecordChecker, ProblemSink, shiftLines, summarize } from "./check";
import { FILE_RULES, crlfMessage, isBlankLine } from "./fileRules";
import {
  RECORD_FORMATS,
  type DatasetRecord,
  type DatasetSummary,
  type Problem,
  type RecordFormat,
  type ValidateOptions,
} from "./types";

/**
 * What a part of a file reports to the merge: plain data and typed arrays, because it crosses threads.
 * Line numbers are the part's own (1 = its first line).
 */
export interface PartResult {
  lines: number;
  /** The part's best `maxProblems` problems in position order, and the counts of all it found. */
  problems: Problem[];
  errors: number;
  warnings: number;
  infos: number;
  dropped: number;
  crlfLines: number;
  firstCrlf: Problem | null;
  formats: Partial<Record<RecordFormat, number>>;
  /** Each record with a known format, in line order: what the checks against earlier records need. */
  records: RecordColumns;
}

export interface RecordColumns {
  line: Uint32Array;
  /** Length of the record's text (the mixed-format and duplicate warnings span it). */
  length: Uint32Array;
  /** Index in RECORD_FORMATS. */
  format: Uint8Array;
  /** Content hash halves (0 with duplicates: false). */
  h1: Int32Array;
  h2: Int32Array;
}

/** Growable RecordColumns: 17 bytes a record, where an object would take ~100. */
class RecordLog {
  count = 0;
  private cols: RecordColumns = {
    line: new Uint32Array(1024),
    length: new Uint32Array(1024),
    format: new Uint8Array(1024),
    h1: new Int32Array(1024),
    h2: new Int32Array(1024),
  };
  add(line: number, length: number, format: RecordFormat, h1: number, h2: number): void {
    let c = this.cols;
    if (this.count === c.line.length) c = this.grow();
    const i = this.count++;
    c.line[i] = line;
    c.length[i] = length;
    c.format[i] = RECORD_FORMATS.indexOf(format);
    c.h1[i] = h1;
    c.h2[i] = h2;
  }
  /** Views of the filled rows (their buffers can be transferred). */
  columns(): RecordColumns {
    const { line, length, format, h1, h2 } = this.cols;
    const n = this.count;
    return {
      line: line.subarray(0, n),
      length: length.subarray(0, n),
      format: format.subarray(0, n),
      h1: h1.subarray(0, n),
      h2: h2.subarray(0, n),
    };
  }
  private grow(): RecordColumns {
    const o = this.cols;
    const n = o.line.length * 2;
    const c: RecordColumns = {
      line: new Uint32Array(n),
      length: new Uint32Array(n),
      format: new Uint8Array(n),
      h1: new Int32Array(n),
      h2: new Int32Array(n),
    };
    c.line.set(o.line);
    c.length.set(o.length);
    c.format.set(o.format);
    c.h1.set(o.h1);
    c.h2.set(o.h2);
    return (this.cols = c);
  }
}

export class JsonlLines {
  readonly sink: ProblemSink;
  readonly checker: RecordChecker;
  lines = 0;
  crlfLines = 0;
  /** The first CRLF line's problem; its message gets the line count at the end. */
  private firstCrlf: Problem | null = null;
  /** Part mode: the records' facts for the merge (null for a whole input). */
  private readonly log: RecordLog | null;

  /**
   * `part`: this is one byte range of a file (`first`: the one at its start, where a BOM can be). Then
   * the findings that depend on lines outside the part (duplicates, mixed formats, the file's first CRLF
   * line, an empty file) are left to the merge: see partResult and addPart.
   */
  constructor(
    options: ValidateOptions,
    private readonly onRecord?: (r: DatasetRecord) => void,
    onProblem?: (p: Problem) => void,
    private readonly part?: { first: boolean },
  ) {
    this.sink = new ProblemSink(options.maxProblems, onProblem);
    this.checker = new RecordChecker(options, this.sink, !part);
    this.log = part ? new RecordLog() : null;
  }

  /** One line without its "\n" (a trailing "\r" is still there). `line` is 1-based. */
  line(text: string, line: number): void {
    this.lines = line;
    if (line === 1 && (!this.part || this.part.first) && text.charCodeAt(0) === 0xfeff) {
      this.sink.add(FILE_RULES.bom());
      text = text.slice(1);
      // columns of this line are reported against the text without the BOM (what editors show)
    }
    let len = text.length;
    if (len > 0 && text.charCodeAt(len - 1) === 13) {
      len--;
      text = text.slice(0, len);
      if (this.crlfLines++ === 0) {
        this.firstCrlf = FILE_RULES.crlf(line, len);
        // a part's first CRLF line is the file's only if no part before it has one: the merge decides
        if (!this.part) this.sink.add(this.firstCrlf);
      }
    }
    if (isBlankLine(text)) {
      this.sink.add(FILE_RULES["blank-line"](line));
      return;
    }
    const rec = this.checker.check(text, { line }, this.onRecord !== undefined);
    if (rec && this.onRecord) this.onRecord(rec);
    const c = this.checker;
    if (this.log && c.lastFormat) this.log.add(line, len, c.lastFormat, c.lastH1, c.lastH2);
  }

  /** Call after the last line; `emptyInput` when the input had no bytes at all. */
  finish(emptyInput: boolean): void {
    if (this.firstCrlf) this.firstCrlf.message = crlfMessage(this.crlfLines);
    if (emptyInput || this.checker.records === 0) {
      if (this.sink.errors === 0) {
        this.sink.add(FILE_RULES["empty-file"](emptyInput));
      }
    }
    this.sink.finish(Math.max(1, this.lines));
  }

  /** Part mode, after the part's last line: what the merge needs (and the buffers to transfer). */
  partResult(): { result: PartResult; transfer: ArrayBuffer[] } {
    this.sink.cut();
    const { list, errors, warnings, infos, dropped } = this.sink;
    const records = this.log!.columns();
    const result: PartResult = {
      lines: this.lines,
      problems: list,
      errors,
      warnings,
      infos,
      dropped,
      crlfLines: this.crlfLines,
      firstCrlf: this.firstCrlf,
      formats: this.checker.formats,
      records,
    };
    return { result, transfer: Object.values(records).map((a: Uint8Array) => a.buffer as ArrayBuffer) };
  }

  /**
   * Whole-file mode: takes the next part of the file, in file order, and does what the part could not:
   * its line numbers offset by the lines before it, the checks of its records against all earlier
   * records, its first CRLF line if it is the file's first. finish() then ends the file as usual.
   */
  addPart(part: PartResult): void {
    const base = this.lines;
    if (base > 0) for (const p of part.problems) shiftLines(p, base);
    this.sink.absorb({
      list: part.problems,
      errors: part.errors,
      warnings: part.warnings,
      infos: part.infos,
      dropped: part.dropped,
    });
    if (part.firstCrlf && !this.firstCrlf) {
      this.firstCrlf = shiftLines(part.firstCrlf, base);
      this.sink.add(this.firstCrlf);
    }
    this.crlfLines += part.crlfLines;
    const c = this.checker;
    const r = part.records;
    for (let i = 0; i < r.line.length; i++)
      c.crossCheck({ line: base + r.line[i] }, r.length[i], RECORD_FORMATS[r.format[i]], r.h1[i], r.h2[i]);
    c.records += r.line.length;
    for (const [f, n] of Object.entries(part.formats) as Array<[RecordFormat, number]>)
      c.formats[f] = (c.formats[f] ?? 0) + n;
    this.lines = base + part.lines;
  }

  /** The summary of a finished input of `bytes` bytes. */
  summary(bytes: number): DatasetSummary {
    return summarize(this.sink, this.checker, this.lines, bytes);
  }
}
