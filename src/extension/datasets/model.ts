// The editor-independent half of the Datasets feature: applying editor content changes to the
// incremental validator, deciding which files are datasets, and the tree item texts. No `vscode`
// import here, so it is unit-tested with plain objects.
import type { IncrementalValidator, DatasetSummary, Problem, RecordFormat } from "../../data/index";

/** A content change as the editor reports it: 0-based positions in the document before the change. */
export interface LineChange {
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
  text: string;
}

/** Lines split from a change's text per step of applyChangesSteps(). */
const SPLIT_CHUNK = 5_000;

/**
 * Applies one editor change event to the validator. The editor lists a batch's changes so that
 * applying them one after another in order is correct (multi-cursor edits come last-position
 * first). Returns false when the change does not fit the validator's copy (then re-read the
 * document); `expectedLineCount` is the document's line count after the event.
 */
export function applyChanges(v: IncrementalValidator, changes: readonly LineChange[], expectedLineCount: number): boolean {
  const steps = applyChangesSteps(v, changes, expectedLineCount);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * applyChanges() in steps of bounded work (a few thousand lines each), so a huge paste does not block
 * the editor: each change's text is split a chunk per step (without building the merged text), then
 * handed to the validator's editSteps(). The validator must not change otherwise until done.
 */
export function* applyChangesSteps(v: IncrementalValidator, changes: readonly LineChange[], expectedLineCount: number): Generator<void, boolean> {
  for (const c of changes) {
    if (c.endLine >= v.lineCount || c.startLine > c.endLine) return false;
    const prefix = v.lineText(c.startLine).slice(0, c.startCharacter);
    const suffix = v.lineText(c.endLine).slice(c.endCharacter);
    // The lines of prefix + text + suffix split at "\r?\n": only the text holds line breaks.
    const lines: string[] = [];
    const text = c.text;
    let from = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
      let line = text.slice(from, nl);
      if (lines.length === 0) line = prefix + line;
      lines.push(line.endsWith("\r") ? line.slice(0, -1) : line);
      from = nl + 1;
      if (lines.length % SPLIT_CHUNK === 0) yield;
    }
    lines.push((lines.length === 0 ? prefix : "") + text.slice(from) + suffix);
    yield* v.editSteps(c.startLine, c.endLine + 1, lines);
  }
  return v.lineCount === expectedLineCount;
}

/** A document's current lines, read a range at a time (the editor's TextDocument behind it). */
export interface LineSource {
  readonly lineCount: number;
  /** Texts of lines [start, end), without line breaks. */
  lines(start: number, end: number): string[];
}

/** Lines read from the document per loading step. */
const LOAD_CHUNK = 5_000;
/** Changes up to this size are applied as they arrive; bigger ones go through steps. */
const SMALL_CHANGE_CHARS = 64 * 1024;
const SMALL_CHANGE_LINES = 2_000;

function isSmall(changes: readonly LineChange[]): boolean {
  let chars = 0;
  let lines = 0;
  for (const c of changes) {
    chars += c.text.length;
    lines += c.endLine - c.startLine;
  }
  return chars <= SMALL_CHANGE_CHARS && lines <= SMALL_CHANGE_LINES;
}

/**
 * Keeps an IncrementalValidator equal to an open document without blocking the editor: the document is
 * loaded LOAD_CHUNK lines per step straight from its lines (no whole-document string), small change
 * events are applied as they arrive, and big ones (a large paste or deletion) are queued and applied in
 * steps like a load. Callers drive steps() in time slices; while `busy`, the validator lags behind.
 */
export class DocumentSync {
  /** While loading: the document's lines [0, loaded) are in the validator; -1 when not loading. */
  private loaded = -1;
  private readonly queue: Array<{ changes: LineChange[]; lineCount: number }> = [];
  private job: Generator<void, void> | undefined;

  constructor(readonly validator: IncrementalValidator, private readonly source: LineSource) {
    this.reload();
  }

  /** True while loading or applying queued changes. */
  get busy(): boolean {
    return this.loaded >= 0 || this.job !== undefined || this.queue.length > 0;
  }

  /** Starts over from the document's current lines (which include every change so far). */
  reload(): void {
    this.loaded = 0;
    this.queue.length = 0;
    this.job = undefined;
    this.validator.edit(0, this.validator.lineCount, []);
  }

  /** One editor change event; `lineCount` is the document's line count after it. */
  change(changes: readonly LineChange[], lineCount: number): void {
    if (this.loaded >= 0) this.changeWhileLoading(changes);
    else if (!this.job && this.queue.length === 0 && isSmall(changes)) {
      if (!applyChanges(this.validator, changes, lineCount)) this.reload();
    } else this.queue.push({ changes: [...changes], lineCount });
  }

  /**
   * Lines not loaded yet are read later as they are then, so only changes that reach into the loaded
   * prefix matter: a small one inside it is applied, anything else cuts the prefix back to where the
   * change starts (those lines are read again).
   */
  private changeWhileLoading(changes: readonly LineChange[]): void {
    for (const c of changes) {
      if (c.startLine >= this.loaded) continue;
      if (c.endLine < this.loaded && isSmall([c])) {
        const before = this.validator.lineCount;
        applyChanges(this.validator, [c], -1);
        this.loaded += this.validator.lineCount - before;
      } else {
        this.validator.edit(c.startLine, this.loaded, []);
        this.loaded = c.startLine;
      }
    }
  }

  /**
   * The pending work as steps of bounded size (a few thousand lines each); ends when the validator
   * matches the document. Reads the state afresh at every step, so changes may arrive in between and
   * a new steps() may take over from an abandoned one.
   */
  *steps(): Generator<void, void> {
    for (;;) {
      if (this.loaded >= 0) {
        const n = this.source.lineCount;
        if (this.loaded >= n) {
          this.loaded = -1;
          continue;
        }
        const end = Math.min(n, this.loaded + LOAD_CHUNK);
        this.validator.edit(this.loaded, this.loaded, this.source.lines(this.loaded, end));
        this.loaded = end;
        yield;
        continue;
      }
      if (!this.job) {
        const next = this.queue.shift();
        if (!next) return;
        this.job = this.applyQueued(next.changes, next.lineCount);
      }
      const job = this.job;
      if (job.next().done) {
        if (this.job === job) this.job = undefined;
      } else yield;
    }
  }

  private *applyQueued(changes: LineChange[], lineCount: number): Generator<void, void> {
    if (!(yield* applyChangesSteps(this.validator, changes, lineCount))) this.reload();
  }
}

/** Which files the Datasets view lists: *.jsonl, and *.json whose start looks like an array of records. */
export function looksLikeDataset(fileName: string, head: string): boolean {
  if (/\.jsonl$/i.test(fileName)) return true;
  if (!/\.json$/i.test(fileName)) return false;
  const t = head.replace(/^\uFEFF/, "").trimStart();
  return t.startsWith("[") && /"(question|answer|messages|instruction|conversations|prompt|completion|seat)"\s*:/.test(t);
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
  const formats = (Object.entries(s.formats) as Array<[RecordFormat, number]>).map(([f, n]) => `${f} ${n}`).join(", ") || "none";
  return [
    { label: "Records", description: `${s.records} in ${plural(s.lines, "line")}` },
    { label: "Formats", description: formats },
    { label: "Problems", description: `${plural(s.errors, "error")}, ${plural(s.warnings, "warning")}${s.duplicates ? `, ${plural(s.duplicates, "duplicate")}` : ""}` },
    { label: "Entities", description: `${info.distinctEntities} distinct in ${plural(info.withEntities, "record")}${info.topEntities.length ? ` — ${info.topEntities.slice(0, 3).map(([e]) => e).join(", ")}` : ""}` },
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
