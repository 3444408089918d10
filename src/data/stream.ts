// Streaming validation of a JSONL file: fixed-size reads (reader.ts), so memory stays flat (buffer + the
// longest line + the duplicate table) on 1M-line / 500 MB files. Big files are validated in parts on
// worker threads (parallel.ts) with the same result. Bytes are only read, never written: validation
// leaves the file byte-identical.
import { open } from "node:fs/promises";
import { isUtf8 } from "node:buffer";
import { ProblemSink } from "./check";
import { JsonlLines } from "./lines";
import { planParts, validateParts } from "./parallel";
import { firstInvalidUtf8, readLines } from "./reader";
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
  /**
   * Worker threads for a big JSONL file (validation only: not with onRecord or onProblem). Default: the
   * available cores but one, at most 8; 1 validates on the calling thread. See parallel.ts.
   */
  threads?: number;
  /** Bytes per part handed to a worker (rounded to whole lines). Default: a share of the file, at least 4 MiB. */
  partBytes?: number;
}

export interface FileValidation {
  path: string;
  container: "jsonl" | "json-array";
  problems: Problem[];
  summary: DatasetSummary;
}

const BINARY_SNIFF_BYTES = 8192;

const isJsonPath = (p: string) => /\.json$/i.test(p);

/** Validates a dataset file. JSON-array files (*.json starting with "[") are read whole. */
export async function validateFile(path: string, options: StreamOptions = {}): Promise<FileValidation> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    if (isJsonPath(path)) {
      const head = Buffer.alloc(Math.min(size, 1024));
      await fh.read(head, 0, head.length, 0);
      if (
        head
          .toString("utf8")
          .replace(/^\uFEFF?\s*/, "")
          .startsWith("[")
      ) {
        const buf = Buffer.alloc(size);
        await fh.read(buf, 0, size, 0);
        if (!isUtf8(buf)) {
          // A JSON array is one value: an undecodable byte anywhere makes the whole file unreadable.
          const bad = firstInvalidUtf8(buf);
          const lineStart = buf.lastIndexOf(10, bad - 1) + 1;
          let line = 1;
          for (let i = buf.indexOf(10); i >= 0 && i < bad; i = buf.indexOf(10, i + 1)) line++;
          const column = buf.subarray(lineStart, bad).toString("utf8").length + 1;
          const problems: Problem[] = [
            {
              line,
              column,
              endLine: line,
              endColumn: column + 1,
              severity: "error",
              code: "invalid-utf8",
              message: `invalid UTF-8 byte 0x${buf[bad].toString(16).padStart(2, "0")} at byte ${bad + 1} of the file: save the file as UTF-8`,
            },
          ];
          return {
            path,
            container: "json-array",
            problems,
            summary: { ...emptySummary({ errors: 1, warnings: 0, infos: 0 }, size), lines: line },
          };
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

export type Handle = Awaited<ReturnType<typeof open>>;

async function streamJsonl(fh: Handle, path: string, size: number, options: StreamOptions): Promise<FileValidation> {
  const binary = await binaryProblem(fh, size);
  if (binary) {
    const sink = new ProblemSink(options.maxProblems, options.onProblem);
    sink.add(binary);
    sink.finish(binary.line);
    return { path, container: "jsonl", problems: sink.list, summary: emptySummary(sink, size) };
  }
  const parts = await planParts(fh, size, options);
  if (parts) return validateParts(path, size, parts, options);
  const lines = new JsonlLines(options, options.onRecord, options.onProblem);
  await readLines(fh, 0, size, lines, options);
  lines.finish(size === 0);
  return { path, container: "jsonl", problems: lines.sink.list, summary: lines.summary(size) };
}

/** The utf16 or binary-file problem when the file's first bytes are UTF-16 or hold a NUL (then nothing else is checked). */
async function binaryProblem(fh: Handle, size: number): Promise<Problem | null> {
  if (size === 0) return null;
  const sniff = Buffer.alloc(Math.min(size, BINARY_SNIFF_BYTES));
  await fh.read(sniff, 0, sniff.length, 0);
  const utf16 = utf16Kind(sniff);
  if (utf16) {
    return {
      line: 1,
      column: 1,
      endLine: 1,
      endColumn: 2,
      severity: "error",
      code: "utf16",
      message: `this file is UTF-16 (${utf16}) text, not UTF-8: a JSONL dataset is UTF-8; convert it to UTF-8 (in VS Code the quick fix "Convert to UTF-8", or iconv -f UTF-16${utf16 === "little-endian" ? "LE" : "BE"} -t UTF-8)`,
    };
  }
  const nul = sniff.indexOf(0);
  if (nul < 0) return null;
  let l = 1;
  let lastNl = -1;
  for (let i = 0; i < nul; i++)
    if (sniff[i] === 10) {
      l++;
      lastNl = i;
    }
  const column = nul - lastNl;
  return {
    line: l,
    column,
    endLine: l,
    endColumn: column + 1,
    severity: "error",
    code: "binary-file",
    message: `this is not a text file (NUL byte at offset ${nul}): a JSONL dataset is UTF-8 text, one JSON record per line`,
  };
}

/**
 * "little-endian" / "big-endian" when the sniffed bytes are UTF-16: a byte order mark, or (without
 * one) text whose every other byte is NUL, as UTF-16 writes ASCII; null otherwise.
 */
export function utf16Kind(b: Uint8Array): "little-endian" | "big-endian" | null {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return "little-endian";
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return "big-endian";
  const pairs = Math.floor(b.length / 2);
  if (pairs < 2) return null;
  let evenNul = 0,
    oddNul = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (b[i] === 0) evenNul++;
    if (b[i + 1] === 0) oddNul++;
  }
  // ASCII in UTF-16: one half of the bytes all NUL, the other half none.
  if (oddNul >= pairs * 0.9 && evenNul === 0) return "little-endian";
  if (evenNul >= pairs * 0.9 && oddNul === 0) return "big-endian";
  return null;
}

function emptySummary(sink: { errors: number; warnings: number; infos: number }, bytes: number): DatasetSummary {
  return {
    format: null,
    formats: {},
    records: 0,
    lines: 0,
    bytes,
    errors: sink.errors,
    warnings: sink.warnings,
    infos: sink.infos,
    duplicates: 0,
  };
}

/** Reads a dataset file into normalized records (plus its problems). */
export async function readDataset(path: string, options: StreamOptions = {}): Promise<Dataset> {
  const records: DatasetRecord[] = [];
  const v = await validateFile(path, {
    ...options,
    onRecord: (r) => {
      records.push(r);
      options.onRecord?.(r);
    },
  });
  return { path, container: v.container, records, problems: v.problems, summary: v.summary };
}
