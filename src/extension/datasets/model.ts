// The editor-independent half of the Datasets feature: applying editor content changes to the
// incremental validator, deciding which files are datasets, and the tree item texts. No `vscode`
// import here, so it is unit-tested with plain objects.
import { IncrementalValidator } from "../../data/index";
import type { DatasetSummary, LineReader, LineResults, Problem, RecordFormat, ValidateOptions } from "../../data/index";
import type { PlainValidateOptions } from "./datasetWorkerProtocol";

/** A content change as the editor reports it: 0-based positions in the document before the change. */
export interface LineChange {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
  text: string;
}

/** Number of line breaks in `text` (CRLF, CR and LF, as the editor splits lines). */
export function countLineBreaks(text: string): number {
  let n = 0;
  if (text.indexOf("\r") < 0) {
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
    return n;
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) n++;
    else if (c === 13) {
      n++;
      if (text.charCodeAt(i + 1) === 10) i++;
    }
  }
  return n;
}

/**
 * Applies one editor change event to a validator that reads the document (a LineReader): the editor
 * lists a batch's changes so that applying them one after another in order is correct (multi-cursor
 * edits come last-position first), and each replaces lines [startLine, endLine] by as many lines as its
 * text makes. Only the per-line state moves (native copies); no line is read until validation. Returns
 * false when the change does not fit (then re-read the document); `expectedLineCount` is the
 * document's line count after the event.
 */
export function applyChanges(
  v: IncrementalValidator,
  changes: readonly LineChange[],
  expectedLineCount: number,
): boolean {
  for (const c of changes) {
    if (c.endLine >= v.lineCount || c.startLine < 0 || c.startLine > c.endLine) return false;
    v.replace(c.startLine, c.endLine + 1, countLineBreaks(c.text) + 1);
  }
  return v.lineCount === expectedLineCount;
}

/**
 * The longest stretch of validation work the editor adapter runs before it gives the event loop back.
 * Kept short: a step can overrun it by a V8 pause (string-table growth inside JSON.parse, up to ~30 ms
 * at a million distinct short values), and the host's bound is 50 ms.
 */
export const SLICE_MS = 8;

/** A document's current lines (the editor's TextDocument behind it). */
export interface LineSource extends LineReader {
  readonly lineCount: number;
}

/**
 * Keeps an IncrementalValidator in step with an open document without blocking the editor. The
 * validator reads lines from the document itself when it checks them, so opening a document and every
 * change event (a keystroke or a 200k-line paste) only move per-line state with native copies; the
 * reading and checking happen in problemSteps(), which callers drive in time slices.
 */
export class DocumentSync {
  readonly validator: IncrementalValidator;

  constructor(
    options: ValidateOptions,
    private readonly source: LineSource,
  ) {
    this.validator = new IncrementalValidator(options, source);
    this.reload();
  }

  /** Starts over from the document's current lines (all marked for checking). */
  reload(): void {
    this.validator.replace(0, this.validator.lineCount, this.source.lineCount);
  }

  /** One editor change event; `lineCount` is the document's line count after it. */
  change(changes: readonly LineChange[], lineCount: number): void {
    if (!applyChanges(this.validator, changes, lineCount)) this.reload();
  }
}

/** Lines (and characters) per batch sent to the dataset worker: a few ms of host work to read and send. */
const BATCH_LINES = 4_000;
const BATCH_CHARS = 1 << 20;

/** What the validation driver needs of the dataset worker (DatasetWorker). */
export interface LineCheckService {
  checkLines(options: PlainValidateOptions, texts: string[], firstIndex: number): Promise<LineResults>;
}

/** Gives the event loop back (a macrotask, so I/O and timers run in between). */
export const yieldToHost = () => new Promise<void>((done) => setImmediate(done));

/**
 * Brings the validator up to date: dirty lines are read here (the document's own strings) and checked
 * on the worker a batch at a time, the results stored when they come back (lines edited meanwhile stay
 * dirty). Then the cross-line pass runs here in SLICE_MS slices. Resolves to the problems, or null when
 * `current()` turned false on the way (a newer run takes over; the work done so far is kept). Without
 * a worker, or when it fails, the lines are checked here too, in the same slices.
 */
export async function validateInSlices(
  v: IncrementalValidator,
  current: () => boolean,
  worker?: { service: LineCheckService; options: PlainValidateOptions; onError?: (e: Error) => void },
  stats?: { longestStretchMs: number; lastStretchMs: number },
  onProgress?: (checked: number, total: number) => void,
): Promise<Problem[] | null> {
  const total = v.pendingLines;
  // Each stretch of this function's own work between two awaits: cut at SLICE_MS, timed for `stats`.
  let stretch = performance.now();
  const endStretch = () => {
    if (!stats) return;
    stats.lastStretchMs = performance.now() - stretch;
    stats.longestStretchMs = Math.max(stats.longestStretchMs, stats.lastStretchMs);
  };
  while (worker && v.hasPending) {
    const batch = v.takeBatch(BATCH_LINES, BATCH_CHARS);
    if (!batch) break;
    let results: LineResults;
    endStretch();
    try {
      results = await worker.service.checkLines(worker.options, batch.texts, batch.firstIndex);
    } catch (e) {
      stretch = performance.now();
      v.dropBatch(batch);
      worker.onError?.(e as Error);
      break;
    }
    stretch = performance.now();
    v.applyBatch(batch, results);
    if (!current()) return null;
    onProgress?.(total - v.pendingLines, total);
  }
  // The slice budget counts the whole stretch since the last await (the last batch's results too).
  const steps = v.problemSteps();
  let r = steps.next();
  while (!r.done) {
    if (performance.now() - stretch > SLICE_MS) {
      endStretch();
      await yieldToHost();
      stretch = performance.now();
      if (!current()) return null;
    }
    r = steps.next();
  }
  endStretch();
  return r.value;
}

/** Which files the Datasets view lists: *.jsonl, and *.json whose start looks like an array of records. */
export function looksLikeDataset(fileName: string, head: string): boolean {
  if (/\.jsonl$/i.test(fileName)) return true;
  if (!/\.json$/i.test(fileName)) return false;
  const t = head.replace(/^\uFEFF/, "").trimStart();
  return (
    t.startsWith("[") && /"(question|answer|messages|instruction|conversations|prompt|completion|seat)"\s*:/.test(t)
  );
}

export interface DatasetInfo {
  summary: DatasetSummary;
  distinctEntities: number;
  withEntities: number;
  topEntities: Array<[string, number]>;
  perturbations: number;
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;

/** "120 records · qa · 2 errors, 1 warning" */
export function describeDataset(s: DatasetSummary): string {
  const parts = [plural(s.records, "record"), s.format ?? "no format"];
  const issues: string[] = [];
  if (s.errors) issues.push(plural(s.errors, "error"));
  if (s.warnings) issues.push(plural(s.warnings, "warning"));
  parts.push(issues.length ? issues.join(", ") : "no problems");
  return parts.join(" · ");
}

/** The child rows under a dataset in the tree: label and description. */
export function datasetDetails(info: DatasetInfo): Array<{ label: string; description: string }> {
  const s = info.summary;
  const formats =
    (Object.entries(s.formats) as Array<[RecordFormat, number]>).map(([f, n]) => `${f} ${n}`).join(", ") || "none";
  return [
    { label: "Records", description: `${s.records} in ${plural(s.lines, "line")}` },
    { label: "Formats", description: formats },
    {
      label: "Problems",
      description: `${plural(s.errors, "error")}, ${plural(s.warnings, "warning")}${s.duplicates ? `, ${plural(s.duplicates, "duplicate")}` : ""}`,
    },
    {
      label: "Entities",
      description: `${info.distinctEntities} distinct in ${plural(info.withEntities, "record")}${
        info.topEntities.length
          ? ` — ${info.topEntities
              .slice(0, 3)
              .map(([e]) => e)
              .join(", ")}`
          : ""
      }`,
    },
    { label: "Perturbations", description: String(info.perturbations) },
  ];
}

/** Zero-based range of a problem, as the editor wants it. */
export function problemRange(p: Problem): [number, number, number, number] {
  return [p.line - 1, p.column - 1, p.endLine - 1, p.endColumn - 1];
}

/** Default name for a converted copy: data.jsonl -> data.chat.jsonl. */
export function convertedName(fileName: string, format: string): string {
  const m = /^(.*?)(\.jsonl|\.json)?$/i.exec(fileName)!;
  return `${m[1]}.${format}.jsonl`;
}
