// The file-level problems of a JSONL text: a BOM, CRLF line endings, blank lines, a file without
// records, records of mixed formats and duplicate records. One table says how each one reads (code,
// severity, range, message, fix); the streaming checker (lines.ts), the record checker's cross-record
// checks (check.ts), the editor's incremental validator (incremental.ts) and the editor's own CRLF
// notice all build their problems here, so a rule's wording or range changes in one place.
import type { Problem, RecordFormat } from "./types";

/** A range of 1-based lines and columns (end exclusive). */
export interface Span {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

/** A line that holds no record: empty, or only spaces, tabs and carriage returns. */
export function isBlankLine(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** The CRLF warning's message, for the first CRLF line of a file with `lines` of them. */
export function crlfMessage(lines: number): string {
  return `Windows line endings (CRLF)${lines > 1 ? ` on ${lines} lines` : ""}: JSONL tools expect LF`;
}

export const FILE_RULES = {
  /** A byte order mark at the start of line 1 (columns count the text without it). */
  bom: (): Problem => ({
    line: 1,
    column: 1,
    endLine: 1,
    endColumn: 2,
    severity: "warning",
    code: "bom",
    message: "byte order mark (BOM) at the start of the file: many JSONL readers reject it",
    fix: {
      title: "Remove the byte order mark",
      file: "strip-bom",
      edits: [{ line: 1, column: 1, endLine: 1, endColumn: 2, newText: "" }],
    },
  }),
  /**
   * Reported once, on the first CRLF line `line` whose content is `length` characters long; `width` 1
   * covers the "\r", 0 where the text has none (an editor that hides line endings).
   */
  crlf: (line: number, length: number, lines = 1, width = 1): Problem => ({
    line,
    column: length + 1,
    endLine: line,
    endColumn: length + 1 + width,
    severity: "warning",
    code: "crlf",
    message: crlfMessage(lines),
    fix: { title: "Convert line endings to LF", file: "eol-lf" },
  }),
  "blank-line": (line: number): Problem => ({
    line,
    column: 1,
    endLine: line + 1,
    endColumn: 1,
    severity: "warning",
    code: "blank-line",
    message: "blank line: JSONL readers expect one JSON record on every line",
    fix: { title: "Delete the blank line", edits: [{ line, column: 1, endLine: line + 1, endColumn: 1, newText: "" }] },
  }),
  /** `noBytes`: the input is empty, rather than only blank lines or lines that are not records. */
  "empty-file": (noBytes: boolean): Problem => ({
    line: 1,
    column: 1,
    endLine: 1,
    endColumn: 1,
    severity: "warning",
    code: "empty-file",
    message: noBytes ? "empty file: no records" : "no records in this file",
  }),
  /** `at` spans the record; `first` is the record that set the file's format. */
  "mixed-formats": (at: Span, format: RecordFormat, first: { format: RecordFormat; line: number }): Problem => ({
    ...at,
    severity: "warning",
    code: "mixed-formats",
    message: `this record is ${format}, but the first record (line ${first.line}) is ${first.format}`,
  }),
  /** `at` spans the record; `firstLine` is the line of its first copy. */
  "duplicate-record": (at: Span, firstLine: number): Problem => ({
    ...at,
    severity: "warning",
    code: "duplicate-record",
    message: `duplicate record: same content as line ${firstLine}`,
    related: { line: firstLine, message: "first copy" },
  }),
} as const;
