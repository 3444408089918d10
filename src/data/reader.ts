// The line reader under validateFile: fixed-size reads of a byte range, whole-chunk UTF-8 checks and one
// decode per chunk, each line fed to a JsonlLines. A line that fills the whole buffer (grown up to
// maxLineBytes) is reported and skipped, never held. Used for a whole file (stream.ts) and for one part
// of it on a worker thread (validateWorker.ts).
import { isUtf8 } from "node:buffer";
import type { JsonlLines } from "./lines";
import type { Handle, StreamOptions } from "./stream";
import type { Problem } from "./types";

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Offset of the first byte where `bytes` stops being valid UTF-8. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
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

const DEFAULT_READ_BYTES = 4 * 1024 * 1024;
const MIN_READ_BYTES = 64 * 1024;

/**
 * The read size for these options: the buffer's starting size, so (with maxLineBytes) it decides which
 * lines are too long (those that fill a buffer that may not grow any more).
 */
export function readBytes(options: Pick<StreamOptions, "chunkBytes">): number {
  return Math.max(MIN_READ_BYTES, options.chunkBytes ?? DEFAULT_READ_BYTES);
}

/**
 * Feeds the lines of bytes [start, end) of the file to `lines`, numbered from 1 at `start`. `start` is a
 * line start; `end` is just past a "\n" or the file's end (the whole file in the sequential path, one
 * part in a validation worker). onProgress counts bytes from `start`.
 */
export async function readLines(
  fh: Handle,
  start: number,
  end: number,
  lines: JsonlLines,
  options: StreamOptions,
): Promise<void> {
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const chunkBytes = readBytes(options);
  const sink = lines.sink;
  const total = end - start;
  let buf = Buffer.alloc(chunkBytes);
  let filled = 0; // bytes in buf belonging to the current unfinished line(s)
  let pos = start;
  let line = 0;
  let skipping = false; // inside an over-long line: drop bytes up to the next newline
  let skipStartLine = 0;

  const lineProblem = (l: number, col: number, code: Problem["code"], message: string) =>
    sink.add({ line: l, column: col, endLine: l, endColumn: col + 1, severity: "error", code, message });

  // Processes complete lines in buf[0, end) (end is just past a "\n", or the range end).
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
        lineProblem(
          line,
          col,
          "invalid-utf8",
          `invalid UTF-8 byte 0x${bytes[bad].toString(16).padStart(2, "0")} at byte ${bad + 1} of the line: save the file as UTF-8`,
        );
        lines.lines = line;
      }
      s = nl + 1;
      if (nl === end) break;
    }
  };

  while (pos < end) {
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
    const { bytesRead } = await fh.read(buf, filled, Math.min(buf.length - filled, end - pos), pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    let from = filled;
    filled += bytesRead;
    if (skipping) {
      const nl = buf.indexOf(10, from);
      if (nl < 0 || nl >= filled) {
        filled = 0;
        continue;
      }
      line = skipStartLine;
      lines.lines = line;
      lineProblem(line, 1, "line-too-long", `line is longer than ${maxLine} bytes: not parsed`);
      skipping = false;
      buf.copy(buf, 0, nl + 1, filled);
      filled -= nl + 1;
      from = 0;
    }
    // (a negative offset would search from the buffer's end: stale bytes after a skipped line)
    const lastNl = filled > 0 ? buf.lastIndexOf(10, filled - 1) : -1;
    if (lastNl < 0) continue;
    if (line === 0 && lastNl > 0) {
      // Size the duplicate table from the first chunk's line density.
      let nl = 0;
      for (let i = buf.indexOf(10); i >= 0 && i <= lastNl; i = buf.indexOf(10, i + 1)) nl++;
      lines.checker.expectRecords(Math.ceil((total / (lastNl + 1)) * nl * 1.1));
    }
    processLines(lastNl + 1, false);
    buf.copy(buf, 0, lastNl + 1, filled);
    filled -= lastNl + 1;
    options.onProgress?.(pos - start, total);
  }
  if (skipping) {
    line = skipStartLine;
    lines.lines = line;
    lineProblem(line, 1, "line-too-long", `line is longer than ${maxLine} bytes: not parsed`);
  } else if (filled > 0) processLines(filled, true);
  options.onProgress?.(pos - start, total);
}
