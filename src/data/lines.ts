// Line-level checks of a JSONL text (line endings, blank lines, BOM) in front of the record checker.
// Fed decoded text one line at a time, by the streaming file reader and by the in-memory parser alike,
// so both report exactly the same problems.
import { RecordChecker, ProblemSink } from "./check";
import type { DatasetRecord, Problem, ValidateOptions } from "./types";

export class JsonlLines {
  readonly sink: ProblemSink;
  readonly checker: RecordChecker;
  lines = 0;
  crlfLines = 0;
  private firstCrlf: Problem | null = null;

  constructor(options: ValidateOptions, private readonly onRecord?: (r: DatasetRecord) => void, onProblem?: (p: Problem) => void) {
    this.sink = new ProblemSink(options.maxProblems, onProblem);
    this.checker = new RecordChecker(options, this.sink);
  }

  /** One line without its "\n" (a trailing "\r" is still there). `line` is 1-based. */
  line(text: string, line: number): void {
    this.lines = line;
    if (line === 1 && text.charCodeAt(0) === 0xfeff) {
      this.sink.add({
        line: 1, column: 1, endLine: 1, endColumn: 2, severity: "warning", code: "bom",
        message: "byte order mark (BOM) at the start of the file: many JSONL readers reject it",
        fix: { title: "Remove the byte order mark", file: "strip-bom", edits: [{ line: 1, column: 1, endLine: 1, endColumn: 2, newText: "" }] },
      });
      text = text.slice(1);
      // columns of this line are reported against the text without the BOM (what editors show)
    }
    let len = text.length;
    if (len > 0 && text.charCodeAt(len - 1) === 13) {
      len--;
      text = text.slice(0, len);
      if (this.crlfLines++ === 0) {
        this.firstCrlf = {
          line, column: len + 1, endLine: line, endColumn: len + 2, severity: "warning", code: "crlf",
          message: "Windows line endings (CRLF): JSONL tools expect LF",
          fix: { title: "Convert line endings to LF", file: "eol-lf" },
        };
        this.sink.add(this.firstCrlf);
      }
    }
    if (len === 0 || isBlank(text)) {
      this.sink.add({
        line, column: 1, endLine: line + 1, endColumn: 1, severity: "warning", code: "blank-line",
        message: "blank line: JSONL readers expect one JSON record on every line",
        fix: { title: "Delete the blank line", edits: [{ line, column: 1, endLine: line + 1, endColumn: 1, newText: "" }] },
      });
      return;
    }
    const rec = this.checker.check(text, { line }, this.onRecord !== undefined);
    if (rec && this.onRecord) this.onRecord(rec);
  }

  /** Call after the last line; `emptyInput` when the input had no bytes at all. */
  finish(emptyInput: boolean): void {
    if (this.firstCrlf && this.crlfLines > 1) this.firstCrlf.message = `Windows line endings (CRLF) on ${this.crlfLines} lines: JSONL tools expect LF`;
    if (emptyInput || this.checker.records === 0) {
      if (this.sink.errors === 0) {
        this.sink.add({ line: 1, column: 1, endLine: 1, endColumn: 1, severity: "warning", code: "empty-file", message: emptyInput ? "empty file: no records" : "no records in this file" });
      }
    }
    this.sink.finish(Math.max(1, this.lines));
  }
}

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
