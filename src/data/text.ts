// Parsing and validating a dataset held in memory: JSONL text, or a JSON array of records (a common
// export format), which is read whole and checked element by element with positions in the array text.
import { ProblemSink, RecordChecker, summarize } from "./check";
import { scanJson } from "./jsonScan";
import { JsonlLines } from "./lines";
import type { Dataset, DatasetRecord, Problem, ValidateOptions } from "./types";

export interface ParseOptions extends ValidateOptions {
  /** "auto" (default): a text whose first non-space character is "[" is a JSON array. */
  container?: "auto" | "jsonl" | "json-array";
  path?: string;
}

/** Offsets of line starts, for mapping offsets in a multi-line text to line/column. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

export function offsetToPosition(starts: number[], offset: number): [number, number] {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return [lo + 1, offset - starts[lo] + 1];
}

export function isJsonArrayText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0xfeff || c === 32 || c === 9 || c === 10 || c === 13) continue;
    return c === 0x5b;
  }
  return false;
}

/** Parses and validates a dataset text; records come back normalized, in file order. */
export function parseDatasetText(text: string, options: ParseOptions = {}): Dataset {
  const container =
    options.container === "jsonl" || options.container === "json-array"
      ? options.container
      : isJsonArrayText(text)
        ? "json-array"
        : "jsonl";
  const records: DatasetRecord[] = [];
  if (container === "json-array") return parseJsonArray(text, options, records);
  const lines = new JsonlLines(options, (r) => records.push(r));
  let n = 0;
  let start = 0;
  if (text.length > 0) {
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl < 0) {
        if (start < text.length) lines.line(text.slice(start), ++n);
        break;
      }
      lines.line(text.slice(start, nl), ++n);
      start = nl + 1;
    }
  }
  lines.finish(text.length === 0);
  return {
    path: options.path,
    container,
    records,
    problems: lines.sink.list,
    summary: lines.summary(Buffer.byteLength(text)),
  };
}

function parseJsonArray(text: string, options: ParseOptions, records: DatasetRecord[]): Dataset {
  const sink = new ProblemSink(options.maxProblems);
  const checker = new RecordChecker(options, sink);
  const starts = lineStarts(text);
  const pos = (o: number) => offsetToPosition(starts, o);
  let body = text;
  let shift = 0;
  if (text.charCodeAt(0) === 0xfeff) {
    sink.add({
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: 2,
      severity: "warning",
      code: "bom",
      message: "byte order mark (BOM) at the start of the file: many JSON readers reject it",
      fix: {
        title: "Remove the byte order mark",
        file: "strip-bom",
        edits: [{ line: 1, column: 1, endLine: 1, endColumn: 2, newText: "" }],
      },
    });
    body = text.slice(1);
    shift = 1;
  }
  const scanned = scanJson(body);
  if (!scanned.ok) {
    const [l, c] = pos(scanned.error.offset + shift);
    sink.add({
      line: l,
      column: c,
      endLine: l,
      endColumn: c + 1,
      severity: "error",
      code: "invalid-json",
      message: `invalid JSON: ${scanned.error.message}`,
    });
  } else {
    for (const item of scanned.root.items ?? []) {
      const s = item.start + shift;
      const rec = checker.check(text.slice(s, item.end + shift), { line: pos(s)[0], at: (o) => pos(s + o) }, true);
      if (rec) records.push(rec);
    }
    if (checker.records === 0 && sink.errors === 0)
      sink.add({
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        severity: "warning",
        code: "empty-file",
        message: "no records in this array",
      });
  }
  sink.finish(starts.length);
  const problems: Problem[] = sink.list;
  return {
    path: options.path,
    container: "json-array",
    records,
    problems,
    summary: summarize(sink, checker, starts.length, Buffer.byteLength(text)),
  };
}
