// Streaming validation of a JSONL file: fixed-size reads, whole-chunk UTF-8 checks and one decode per
// chunk, so memory stays flat (buffer + the longest line + the duplicate table) on 1M-line / 500 MB
// files. Bytes are only read, never written: validation leaves the file byte-identical.
import { open } from "node:fs/promises";
import { isUtf8 } from "node:buffer";
import { JsonlLines } from "./lines";
import { parseDatasetText } from "./text";
import type { Dataset, DatasetRecord, DatasetSummary, Problem, ValidateOptions } from "./types";

export interface StreamOptions extends ValidateOptions {
  signal?: AbortSignal;
  /** Called after each chunk with bytes read so far and the file size. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Receives each normalized record in order (records are not kept otherwise). */
  onRecord?: (record: DatasetRecord) => void;
  /** Receives each problem as it is found (up to maxProblems). */
  onProblem?: (problem: Problem) => void;
  /** Read size in bytes. Default 4 MiB. */
  chunkBytes?: number;
}

export interface FileValidation {
  path: string;
  container: "jsonl" | "json-array";
  problems: Problem[];
  summary: DatasetSummary;
}

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;
const BINARY_SNIFF_BYTES = 8192;

/** Offset of the first byte where `bytes` stops being valid UTF-8. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) { i++; continue; }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    if (i + need >= n) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return n;
}

const isJsonPath = (p: string) => /\.json$/i.test(p);

/** Validates a dataset file. JSON-array files (*.json starting with "[") are read whole. */
export async function validateFile(path: string, options: StreamOptions = {}): Promise<FileValidation> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    if (isJsonPath(path)) {
      const head = Buffer.alloc(Math.min(size, 1024));
      await fh.read(head, 0, head.length, 0);
      if (head.toString("utf8").replace(/^\uFEFF?\s*/, "").startsWith("[")) {
        const buf = Buffer.alloc(size);
        await fh.read(buf, 0, size, 0);
        if (!isUtf8(buf)) {
          // A JSON array is one value: an undecodable byte anywhere makes the whole file unreadable.
          const bad = firstInvalidUtf8(buf);
          const lineStart = buf.lastIndexOf(10, bad - 1) + 1;
          let line = 1;
          for (let i = buf.indexOf(10); i >= 0 && i < bad; i = buf.indexOf(10, i + 1)) line++;
          const column = buf.subarray(lineStart, bad).toString("utf8").length + 1;
          const problems: Problem[] = [{ line, column, endLine: line, endColumn: column + 1, severity: "error", code: "invalid-utf8", message: `invalid UTF-8 byte 0x${buf[bad].toString(16).padStart(2, "0")} at byte ${bad + 1} of the file: save the file as UTF-8` }];
          return { path, container: "json-array", problems, summary: { ...emptySummary({ errors: 1, warnings: 0, infos: 0 }, size), lines: line } };
        }
        const d = parseDatasetText(buf.toString("utf8"), { ...options, container: "json-array", path });
        if (options.onRecord) for (const r of d.records) options.onRecord(r);
        return { path, container: "json-array", problems: d.problems, summary: d.summary };
      }
    }
    return await streamJsonl(fh, path, size, options);
  } finally {
    await fh.close();
  }
}

type Handle = Awaited<ReturnType<typeof open>>;

async function streamJsonl(fh: Handle, path: string, size: number, options: StreamOptions): Promise<FileValidation> {
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const chunkBytes = Math.max(64 * 1024, options.chunkBytes ?? 4 * 1024 * 1024);
  const lines = new JsonlLines(options, options.onRecord, options.onProblem);
  const sink = lines.sink;
  let buf = Buffer.alloc(chunkBytes);
  let filled = 0; // bytes in buf belonging to the current unfinished line(s)
  let pos = 0;
  let line = 0;
  let skipping = false; // inside an over-long line: drop bytes up to the next newline
  let skipStartLine = 0;

  const lineProblem = (l: number, col: number, code: Problem["code"], message: string) =>
    sink.add({ line: l, column: col, endLine: l, endColumn: col + 1, severity: "error", code, message });

  // Processes complete lines in buf[0, end) (end is just past a "\n", or the file end).
  const processLines = (end: number, atEof: boolean) => {
    let s = 0;
    if (isUtf8(buf.subarray(0, end))) {
      const text = buf.toString("utf8", 0, end);
      let start = 0;
      for (;;) {
        const nl = text.indexOf("\n", start);
        if (nl < 0) {
          if (atEof && start < text.length) lines.line(text.slice(start), ++line);
          break;
        }
        lines.line(text.slice(start, nl), ++line);
        start = nl + 1;
      }
      return;
    }
    // Slow path: some line in this chunk is not UTF-8; find and report it line by line.
    while (s < end) {
      let nl = buf.indexOf(10, s);
      if (nl < 0 || nl >= end) nl = end;
      const bytes = buf.subarray(s, nl);
      ++line;
      if (isUtf8(bytes)) lines.line(bytes.toString("utf8"), line);
      else {
        const bad = firstInvalidUtf8(bytes);
        const col = bytes.subarray(0, bad).toString("utf8").length + 1;
        lineProblem(line, col, "invalid-utf8", `invalid UTF-8 byte 0x${bytes[bad].toString(16).padStart(2, "0")} at byte ${bad + 1} of the line: save the file as UTF-8`);
        lines.lines = line;
      }
      s = nl + 1;
      if (nl === end) break;
    }
  };

  if (size > 0) {
    const sniff = Buffer.alloc(Math.min(size, BINARY_SNIFF_BYTES));
    await fh.read(sniff, 0, sniff.length, 0);
    const nul = sniff.indexOf(0);
    if (nul >= 0) {
      let l = 1;
      let lastNl = -1;
      for (let i = 0; i < nul; i++) if (sniff[i] === 10) { l++; lastNl = i; }
      lineProblem(l, nul - lastNl, "binary-file", `this is not a text file (NUL byte at offset ${nul}): a JSONL dataset is UTF-8 text, one JSON record per line`);
      sink.finish(l);
      return { path, container: "jsonl", problems: sink.list, summary: emptySummary(sink, size) };
    }
  }

  while (pos < size) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error("cancelled");
    if (filled === buf.length) {
      // one line fills the buffer: grow (up to maxLine) or skip the rest of it
      if (buf.length >= maxLine) {
        skipping = true;
        skipStartLine = line + 1;
        filled = 0;
      } else {
        const bigger = Buffer.alloc(Math.min(maxLine, buf.length * 2));
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
    }
    const { bytesRead } = await fh.read(buf, filled, buf.length - filled, pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    let from = filled;
    filled += bytesRead;
    if (skipping) {
      const nl = buf.indexOf(10, from);
      if (nl < 0 || nl >= filled) { filled = 0; continue; }
      line = skipStartLine;
      lines.lines = line;
      lineProblem(line, 1, "line-too-long", `line is longer than ${maxLine} bytes: not parsed`);
      skipping = false;
      buf.copy(buf, 0, nl + 1, filled);
      filled -= nl + 1;
      from = 0;
    }
    const lastNl = buf.lastIndexOf(10, filled - 1);
    if (lastNl < 0) continue;
    if (line === 0 && lastNl > 0) {
      // Size the duplicate table from the first chunk's line density.
      let nl = 0;
      for (let i = buf.indexOf(10); i >= 0 && i <= lastNl; i = buf.indexOf(10, i + 1)) nl++;
      lines.checker.expectRecords(Math.ceil((size / (lastNl + 1)) * nl * 1.1));
    }
    processLines(lastNl + 1, false);
    buf.copy(buf, 0, lastNl + 1, filled);
    filled -= lastNl + 1;
    options.onProgress?.(pos, size);
  }
  if (skipping) {
    line = skipStartLine;
    lines.lines = line;
    lineProblem(line, 1, "line-too-long", `line is longer than ${maxLine} bytes: not parsed`);
  } else if (filled > 0) processLines(filled, true);
  options.onProgress?.(pos, size);
  lines.finish(size === 0);
  const kinds = Object.keys(lines.checker.formats) as Array<keyof typeof lines.checker.formats>;
  return {
    path,
    container: "jsonl",
    problems: sink.list,
    summary: {
      format: kinds.length === 0 ? null : kinds.length === 1 ? kinds[0] : "mixed", formats: { ...lines.checker.formats },
      records: lines.checker.records, lines: line, bytes: size, errors: sink.errors, warnings: sink.warnings, infos: sink.infos, duplicates: lines.checker.duplicates,
    },
  };
}

function emptySummary(sink: { errors: number; warnings: number; infos: number }, bytes: number): DatasetSummary {
  return { format: null, formats: {}, records: 0, lines: 0, bytes, errors: sink.errors, warnings: sink.warnings, infos: sink.infos, duplicates: 0 };
}

/** Reads a dataset file into normalized records (plus its problems). */
export async function readDataset(path: string, options: StreamOptions = {}): Promise<Dataset> {
  const records: DatasetRecord[] = [];
  const v = await validateFile(path, { ...options, onRecord: (r) => { records.push(r); options.onRecord?.(r); } });
  return { path, container: v.container, records, problems: v.problems, summary: v.summary };
}
