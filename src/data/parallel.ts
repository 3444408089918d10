// Validation of a big JSONL file on several threads, with exactly the sequential result. The file is cut
// into parts at line ends; a pool of workers (validateWorker.ts) validates one part at a time with the
// sequential reader, numbering lines from the part's start; the parts are merged in file order as they
// come in (lines.ts addPart), which adds what needs the lines before a part: line offsets, the checks
// against earlier records (mixed formats, duplicates), the file's first CRLF line, the empty-file
// warning and the maxProblems cut-off. The calling thread reads only the few bytes around each cut;
// workers stream their parts, so memory stays flat apart from 17 bytes a record of merge facts for the
// parts not merged yet.
import { Worker, isMainThread } from "node:worker_threads";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { workerScript } from "../util/workerScript";
import { JsonlLines, type PartResult } from "./lines";
import type { PlainValidateOptions } from "./plainOptions";
import { DEFAULT_MAX_LINE_BYTES, readBytes } from "./reader";
import type { FileValidation, Handle, StreamOptions } from "./stream";

/**
 * More threads gain little: the merge on the calling thread (a duplicate-table insert per record) and
 * the disk become the limit, and each worker costs its own heap and read buffer.
 */
export const MAX_VALIDATION_THREADS = 8;
/** The smallest default part: a worker's start-up (tens of ms) must stay small against its work. */
const MIN_PART_BYTES = 4 * 1024 * 1024;
/**
 * Per-worker memory (several isolates add up where one thread had one): a smaller read size, since each
 * decoded chunk is a large string that lives until a full GC, and a capped young generation (V8's default
 * lets each grow to ~48 MB). Measured on the 261 MB bench file, 2 workers: RSS growth 116-127 MB with
 * 4 MiB reads and the default young generation, 57-63 MB with these, at the same CPU time.
 */
const WORKER_READ_BYTES = 1024 * 1024;
const WORKER_YOUNG_GENERATION_MB = 8;
/** Parts per thread by default: a worker that finishes early (lines differ, neighbours steal a core) takes another. */
const PARTS_PER_THREAD = 2;

/** The file and the options a worker rebuilds (plain data: see plainOptions.ts). */
export interface PartJob {
  path: string;
  options: PlainValidateOptions & { chunkBytes?: number };
}
export interface PartRequest {
  index: number;
  start: number;
  end: number;
}
export type PartReply =
  { index: number; progress: number } | { index: number; part: PartResult } | { index: number; error: string };

export interface PartPlan {
  /** [start, end) byte ranges, in file order, cut just after a "\n". */
  ranges: Array<[number, number]>;
  threads: number;
}

/**
 * Default worker count: the available cores but one (the calling thread merges the parts), capped; so a
 * 2-core machine validates on one thread. Measured there (261 MB, 1M lines, nothing else running): 2
 * workers 161 MB/s wall at 1.9 cores busy vs one thread 140 MB/s at one core.
 */
export function defaultValidationThreads(): number {
  return Math.max(1, Math.min(availableParallelism() - 1, MAX_VALIDATION_THREADS));
}

/**
 * The parts to validate `size` bytes of JSONL in, or null to validate on this thread: inside a worker
 * (no workers of workers: the extension's dataset worker calls validateFile), with 1 thread, for a file
 * that makes one part, and when the caller wants records or problems as they are found (onRecord,
 * onProblem: in file order, on this thread) or gave a function a worker cannot rebuild (a tokenizer's
 * countTokens, an entity detector other than the built-in one).
 */
export async function planParts(fh: Handle, size: number, options: StreamOptions): Promise<PartPlan | null> {
  if (!isMainThread || options.onRecord || options.onProblem || options.countTokens) return null;
  if (options.detectEntities && !options.detectEntities.builtin) return null;
  const threads = options.threads ?? defaultValidationThreads();
  if (threads <= 1) return null;
  const partBytes = Math.max(
    1,
    options.partBytes ?? Math.max(MIN_PART_BYTES, Math.ceil(size / (threads * PARTS_PER_THREAD))),
  );
  if (size <= partBytes) return null;
  const ranges = await cutAtLines(fh, size, partBytes);
  return ranges.length > 1 ? { ranges, threads } : null;
}

/** Ranges of at least `partBytes` (the last one may be shorter), each ending just after a "\n" or at the end. */
async function cutAtLines(fh: Handle, size: number, partBytes: number): Promise<Array<[number, number]>> {
  const probe = Buffer.alloc(64 * 1024);
  const starts = [0];
  for (let at = partBytes - 1; at < size;) {
    const nl = await nextNewline(fh, at, size, probe);
    if (nl < 0 || nl + 1 >= size) break;
    starts.push(nl + 1);
    at = nl + partBytes;
  }
  return starts.map((s, i) => [s, starts[i + 1] ?? size]);
}

/** Offset of the first "\n" at or after `from`, or -1. */
async function nextNewline(fh: Handle, from: number, size: number, probe: Buffer): Promise<number> {
  for (let at = from; at < size;) {
    const { bytesRead } = await fh.read(probe, 0, Math.min(probe.length, size - at), at);
    if (bytesRead === 0) return -1;
    const nl = probe.subarray(0, bytesRead).indexOf(10);
    if (nl >= 0) return at + nl;
    at += bytesRead;
  }
  return -1;
}

/**
 * The worker script: validateWorker.js beside the bundle (dist/), or src/entities/validateWorker.ts run
 * from source (it sits above this layer because it rebuilds the built-in entity detector).
 */
export function validationWorkerEntry(): { code: string; eval: boolean } {
  return workerScript(__dirname, "validateWorker", "validation worker", join(__dirname, "..", "entities"));
}

/**
 * Validates the planned parts of the file at `path` on `plan.threads` workers and merges them. Aborting
 * `signal` or any worker failing terminates every worker; a failure rejects with an error naming the file.
 */
export function validateParts(
  path: string,
  size: number,
  plan: PartPlan,
  options: StreamOptions,
  entry = validationWorkerEntry(),
): Promise<FileValidation> {
  const { ranges } = plan;
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(signal.reason ?? new Error("cancelled"));
  // The read size decides which lines are too long only when maxLineBytes is below it: keep it then.
  const chunkBytes =
    readBytes(options) > (options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)
      ? options.chunkBytes
      : Math.min(readBytes(options), WORKER_READ_BYTES);
  const job: PartJob = {
    path,
    options: {
      maxProblems: options.maxProblems,
      maxLineBytes: options.maxLineBytes,
      duplicates: options.duplicates,
      maxTokens: options.maxTokens,
      chunkBytes,
      detectEntities: options.detectEntities?.builtin === true,
    },
  };
  const whole = new JsonlLines(options);
  return new Promise((resolve, reject) => {
    const workers: Worker[] = [];
    const done: Array<PartResult | undefined> = [];
    let next = 0; // next range to hand out
    let merged = 0; // ranges merged so far (a prefix of the file)
    let bytesDone = 0;
    let settled = false;
    const settle = (then: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      Promise.all(workers.map((w) => w.terminate())).then(then, then);
    };
    const fail = (e: unknown) => settle(() => reject(e));
    const failed = (what: string) => fail(new Error(`${path}: validation worker failed: ${what}`));
    const onAbort = () => fail(signal!.reason ?? new Error("cancelled"));
    signal?.addEventListener("abort", onAbort, { once: true });
    const handOut = (w: Worker) => {
      if (next >= ranges.length) return;
      const index = next++;
      w.postMessage({ index, start: ranges[index][0], end: ranges[index][1] } satisfies PartRequest);
    };
    const onReply = (w: Worker, m: PartReply) => {
      if (settled) return;
      if ("progress" in m) {
        bytesDone += m.progress;
        options.onProgress?.(bytesDone, size);
        return;
      }
      if ("error" in m) return failed(m.error);
      done[m.index] = m.part;
      handOut(w);
      // Merge in file order as soon as the parts before are in, so merge facts do not pile up.
      for (let p = done[merged]; p; p = done[merged]) {
        // size the duplicate table once, from the first part's record density
        if (merged === 0)
          whole.checker.expectRecords(
            Math.ceil(((p.records.line.length * size) / (ranges[0][1] - ranges[0][0])) * 1.1),
          );
        done[merged++] = undefined;
        whole.addPart(p);
      }
      if (merged < ranges.length) return;
      whole.finish(false);
      const v: FileValidation = { path, container: "jsonl", problems: whole.sink.list, summary: whole.summary(size) };
      settle(() => resolve(v));
    };
    try {
      for (let k = 0; k < Math.min(plan.threads, ranges.length); k++) {
        const w = new Worker(entry.code, {
          eval: entry.eval,
          workerData: job,
          resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
        });
        workers.push(w);
        w.on("message", (m: PartReply) => {
          try {
            onReply(w, m);
          } catch (e) {
            fail(e);
          }
        });
        w.on("error", (e) => failed(e.message));
        w.on("exit", (code) => failed(`exited with code ${code}`));
        handOut(w);
      }
    } catch (e) {
      fail(e);
    }
  });
}
