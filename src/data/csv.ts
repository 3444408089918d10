// CSV import/export through fast-csv (quoting, embedded newlines and unicode are its job).
//
// Column convention, chosen so that JSONL -> CSV -> JSONL gives back equal records:
//   - a column holds one top-level key; columns are in order of first appearance;
//   - a plain column ("question") holds strings as-is; an empty cell is the empty string;
//   - a column named "key:json" holds JSON source text (numbers keep their spelling, objects such as
//     `seat` or `messages` stay structured); an empty cell means the record has no such key.
// A key becomes a ":json" column when any record has a non-string value for it or lacks it.
// Spreadsheets exported by users usually have only plain columns: every cell becomes a string field.
import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { parseStream, parseString } from "@fast-csv/parse";
import { format as csvFormat, writeToString } from "@fast-csv/format";
import { rawMembers, RecordEditError } from "./edit";
import { scanJson } from "./jsonScan";
import { isJsonArrayText, lineStarts, offsetToPosition } from "./text";
import { writeNewFile } from "../util/files";

export const JSON_SUFFIX = ":json";

export interface CsvIssue {
  /** 1-based line (JSONL side) or data row (CSV side, header excluded). */
  line: number;
  /** 1-based character column in that line, where known (JSONL side). */
  col?: number;
  column?: string;
  message: string;
}

/**
 * The input as a whole cannot be exported (a JSON array file that does not parse): nothing is written.
 * The message is located (`file:line:col: ...`); `issue` has the parts.
 */
export class CsvInputError extends Error {
  constructor(
    readonly file: string,
    readonly issue: CsvIssue,
  ) {
    super(`${file}:${issue.line}${issue.col ? `:${issue.col}` : ""}: ${issue.message}`);
    this.name = "CsvInputError";
  }
}

interface ColumnStat {
  strings: number;
  present: number;
}

/** Decides the CSV columns for a set of records (texts of JSON objects). */
export class CsvPlan {
  private readonly stats = new Map<string, ColumnStat>();
  private records = 0;
  add(members: Array<[string, string]>) {
    this.records++;
    for (const [k, raw] of members) {
      let s = this.stats.get(k);
      if (!s) this.stats.set(k, (s = { strings: 0, present: 0 }));
      s.present++;
      if (raw.startsWith('"')) s.strings++;
    }
  }
  columns(): Array<{ key: string; json: boolean; header: string }> {
    return [...this.stats].map(([key, s]) => {
      const json = s.strings !== s.present || s.present !== this.records;
      return { key, json, header: json ? key + JSON_SUFFIX : key };
    });
  }
}

function rowOf(members: Array<[string, string]>, cols: ReturnType<CsvPlan["columns"]>): string[] {
  const byKey = new Map(members);
  return cols.map((c) => {
    const raw = byKey.get(c.key);
    if (raw === undefined) return "";
    return c.json ? raw : (JSON.parse(raw) as string);
  });
}

/**
 * Iterates the records of a dataset file as [line, text, members] (JSONL lines, or elements of a JSON
 * array with the line each starts on); what cannot be exported becomes a located issue instead.
 */
async function* recordTexts(
  path: string,
  issues: CsvIssue[],
): AsyncGenerator<[number, string, Array<[string, string]>]> {
  const fh = createReadStream(path, { encoding: "utf8" });
  const rl = createInterface({ input: fh, crlfDelay: Infinity });
  let n = 0;
  let first = true;
  let arrayMode = false;
  const buffered: string[] = [];
  for await (let line of rl) {
    n++;
    if (first && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (first && isJsonArrayText(line)) arrayMode = true;
    first = false;
    if (arrayMode) {
      buffered.push(line);
      continue;
    }
    if (line.trim() === "") continue;
    let ok = false;
    try {
      const v = JSON.parse(line);
      ok = typeof v === "object" && v !== null && !Array.isArray(v);
    } catch {
      /* reported below */
    }
    if (!ok) {
      issues.push({ line: n, message: "not a JSON object record: skipped (run `seat validate` for details)" });
      continue;
    }
    const members = membersOf(line, n, 0, issues);
    if (members) yield [n, line, members];
  }
  if (arrayMode) {
    // The array is one JSON value, so it is read whole; scanning (not JSON.parse) gives the position of
    // a syntax error and each element's source text, so numbers keep their spelling as in JSONL mode.
    const text = buffered.join("\n");
    const starts = lineStarts(text);
    const at = (offset: number) => offsetToPosition(starts, offset);
    const scanned = scanJson(text, 1, Infinity);
    if (!scanned.ok) {
      const [line, col] = at(scanned.error.offset);
      throw new CsvInputError(path, {
        line,
        col,
        message: `invalid JSON: ${scanned.error.message} (run \`seat validate\` for details)`,
      });
    }
    let i = 0;
    for (const item of scanned.root.items ?? []) {
      i++;
      const [line, col] = at(item.start);
      if (item.kind !== "object") {
        issues.push({ line, col, message: `array element ${i} is not an object: skipped` });
        continue;
      }
      const itemText = text.slice(item.start, item.end);
      const members = membersOf(itemText, line, col - 1, issues);
      if (members) yield [line, itemText, members];
    }
  }
}

/** A record's top-level members, or a located issue (`col0`: where the record starts in its line). */
function membersOf(text: string, line: number, col0: number, issues: CsvIssue[]): Array<[string, string]> | null {
  try {
    return rawMembers(text);
  } catch (e) {
    if (!(e instanceof RecordEditError)) throw e;
    issues.push({
      line: line + e.line - 1,
      col: e.line === 1 ? col0 + e.column : e.column,
      message: `${e.message}: skipped`,
    });
    return null;
  }
}

export interface CsvExportResult {
  rows: number;
  columns: string[];
  skipped: CsvIssue[];
}

/** Writes the records of a JSONL (or JSON array) file to a CSV file; two streaming passes. */
export async function exportCsvFile(
  input: string,
  output: string,
  opts: { signal?: AbortSignal; overwrite?: boolean } = {},
): Promise<CsvExportResult> {
  return writeNewFile(output, opts.overwrite ?? false, (tmp) => exportTo(input, tmp, opts.signal));
}

async function exportTo(input: string, output: string, signal?: AbortSignal): Promise<CsvExportResult> {
  const plan = new CsvPlan();
  const skipped: CsvIssue[] = [];
  for await (const [, , members] of recordTexts(input, skipped)) {
    if (signal?.aborted) throw signal.reason ?? new Error("cancelled");
    plan.add(members);
  }
  const cols = plan.columns();
  const out = createWriteStream(output, { flags: "wx" });
  const csv = csvFormat({ headers: false, includeEndRowDelimiter: true });
  csv.pipe(out);
  csv.write(cols.map((c) => c.header));
  let rows = 0;
  for await (const [, , members] of recordTexts(input, [])) {
    if (signal?.aborted) throw signal.reason ?? new Error("cancelled");
    if (!csv.write(rowOf(members, cols))) await once(csv, "drain");
    rows++;
  }
  csv.end();
  await once(out, "finish");
  return { rows, columns: cols.map((c) => c.header), skipped };
}

/** In-memory export of record texts (JSON objects) to CSV text. */
export async function recordsToCsv(texts: string[]): Promise<string> {
  const plan = new CsvPlan();
  const members = texts.map((t) => rawMembers(t));
  for (const m of members) plan.add(m);
  const cols = plan.columns();
  return writeToString([cols.map((c) => c.header), ...members.map((m) => rowOf(m, cols))], {
    headers: false,
    includeEndRowDelimiter: true,
  });
}

interface Header {
  key: string;
  json: boolean;
}

function headersOf(row: string[], issues: CsvIssue[]): Header[] | null {
  const seen = new Set<string>();
  const hs: Header[] = [];
  for (const [i, h] of row.entries()) {
    const name = h.replace(/^\uFEFF/, "").trim();
    const json = name.endsWith(JSON_SUFFIX);
    const key = json ? name.slice(0, -JSON_SUFFIX.length) : name;
    if (!key) {
      issues.push({ line: 0, column: `#${i + 1}`, message: `header of column ${i + 1} is empty` });
      return null;
    }
    if (seen.has(key)) {
      issues.push({ line: 0, column: key, message: `column "${key}" appears twice in the header` });
      return null;
    }
    seen.add(key);
    hs.push({ key, json });
  }
  return hs;
}

/** One CSV data row -> one JSONL line, or an issue. `row` is the 1-based data row number. */
function recordOf(cells: string[], hs: Header[], row: number, issues: CsvIssue[]): string | null {
  if (cells.length !== hs.length) {
    issues.push({
      line: row,
      message: `row has ${cells.length} cells but the header has ${hs.length} columns: skipped`,
    });
    return null;
  }
  const parts: string[] = [];
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i];
    const cell = cells[i];
    if (h.json) {
      if (cell === "") continue;
      try {
        JSON.parse(cell);
      } catch (e) {
        issues.push({
          line: row,
          column: h.key + JSON_SUFFIX,
          message: `cell is not valid JSON (${(e as Error).message}): skipped row`,
        });
        return null;
      }
      parts.push(JSON.stringify(h.key) + ":" + cell.trim());
    } else parts.push(JSON.stringify(h.key) + ":" + JSON.stringify(cell));
  }
  return "{" + parts.join(",") + "}";
}

export interface CsvImportResult {
  rows: number;
  records: number;
  skipped: CsvIssue[];
  columns: string[];
}

/** Reads a CSV file (header row required) and writes a new JSONL file, streaming. */
export async function importCsvFile(
  input: string,
  output: string,
  opts: { signal?: AbortSignal; overwrite?: boolean } = {},
): Promise<CsvImportResult> {
  return writeNewFile(output, opts.overwrite ?? false, (tmp) => importTo(input, tmp, opts.signal));
}

async function importTo(input: string, output: string, signal?: AbortSignal): Promise<CsvImportResult> {
  const issues: CsvIssue[] = [];
  const parser = parseStream<string[], string[]>(createReadStream(input), { headers: false });
  const out = createWriteStream(output, { flags: "wx" });
  let hs: Header[] | null = null;
  let row = 0;
  let records = 0;
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      if (signal?.aborted) throw signal.reason ?? new Error("cancelled");
      if (!hs) {
        hs = headersOf(cells, issues);
        if (!hs) break;
        continue;
      }
      row++;
      const rec = recordOf(cells, hs, row, issues);
      if (rec === null) continue;
      records++;
      if (!out.write(rec + "\n")) await once(out, "drain");
    }
  } finally {
    out.end();
    await once(out, "finish");
  }
  return {
    rows: row,
    records,
    skipped: issues,
    columns: hs ? hs.map((h) => (h.json ? h.key + JSON_SUFFIX : h.key)) : [],
  };
}

/** In-memory import: CSV text -> JSONL text. */
export async function csvToJsonl(text: string): Promise<{ text: string } & CsvImportResult> {
  const issues: CsvIssue[] = [];
  const rows: string[][] = [];
  await new Promise<void>((resolve, reject) => {
    parseString<string[], string[]>(text, { headers: false })
      .on("data", (r: string[]) => rows.push(r))
      .on("error", reject)
      .on("end", () => resolve());
  });
  const lines: string[] = [];
  const hs = rows.length ? headersOf(rows[0], issues) : null;
  if (hs)
    rows.slice(1).forEach((cells, i) => {
      const rec = recordOf(cells, hs, i + 1, issues);
      if (rec !== null) lines.push(rec);
    });
  return {
    text: lines.map((l) => l + "\n").join(""),
    rows: Math.max(0, rows.length - 1),
    records: lines.length,
    skipped: issues,
    columns: hs ? hs.map((h) => (h.json ? h.key + JSON_SUFFIX : h.key)) : [],
  };
}
