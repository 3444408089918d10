// The editor-independent half of the perturbation CodeLens: which lines are records (cheap), the
// dataset context built cooperatively (yielding so the extension host never stalls on a 10k-line
// file), per-line suggestions cached by line text, lens titles, and the edits a click or the
// whole-file command makes. No `vscode` import: unit-tested headless.
import { addPerturbationsToLine, analyzeRecord, setSeatEntities } from "../../data/index";
import {
  addToIndex,
  emptyIndex,
  NameGuard,
  suggestPerturbations,
  toEntry,
  mentions,
  type DatasetContext,
  type EntityRecordView,
  type EntityRef,
  type PerturbationEntry,
  type RecordSuggestion,
} from "../../entities/index";

/** A record line of a JSONL file starts with "{" (after optional spaces): no parsing needed. */
export function isRecordLine(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0xfeff) continue;
    return c === 0x7b;
  }
  return false;
}

/** The fields detection reads, from one JSONL line; undefined when the line is not a valid record. */
export function viewOfLine(text: string): EntityRecordView | undefined {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return undefined;
  const a = analyzeRecord(o as Record<string, unknown>);
  if (!a.format) return undefined;
  const rawSeat = (o as { seat?: unknown }).seat;
  const rawEntities =
    typeof rawSeat === "object" && rawSeat !== null ? (rawSeat as { entities?: unknown }).entities : undefined;
  // Keep `{name, kind}` entity objects (src/data's view keeps names only) so a declared kind is used.
  const entities =
    Array.isArray(rawEntities) &&
    rawEntities.every(
      (e) =>
        typeof e === "string" ||
        (typeof e === "object" && e !== null && typeof (e as { name?: unknown }).name === "string"),
    )
      ? (rawEntities as EntityRef[])
      : a.entities;
  return {
    question: a.question,
    answer: a.answer,
    messages: a.turns ?? undefined,
    seat: { entities, perturbations: a.perturbations },
  };
}

/** Yields to the event loop (setImmediate in the extension host; injectable for tests). */
export type Yield = () => Promise<void>;
export const yieldToEventLoop: Yield = () => new Promise((r) => setImmediate(r));

/** At most this many lines, or SLICE_BUDGET_MS of work, between yields while building a dataset context. */
export const LINES_PER_SLICE = 100;
export const SLICE_BUDGET_MS = 8;

/**
 * The dataset context (ranking evidence + names to avoid) of a document's lines, built in slices
 * with a yield between them. Returns undefined when `cancelled()` turns true.
 */
export async function buildContextCooperatively(
  lineCount: number,
  lineAt: (i: number) => string,
  yieldFn: Yield = yieldToEventLoop,
  cancelled: () => boolean = () => false,
): Promise<DatasetContext | undefined> {
  const index = emptyIndex();
  let sliceStart = performance.now();
  let sliceLines = 0;
  for (let i = 0; i < lineCount; i++) {
    if (++sliceLines > LINES_PER_SLICE || performance.now() - sliceStart > SLICE_BUDGET_MS) {
      await yieldFn();
      if (cancelled()) return undefined;
      sliceStart = performance.now();
      sliceLines = 1;
    }
    const text = lineAt(i);
    if (!isRecordLine(text)) continue;
    const v = viewOfLine(text);
    if (v) addToIndex(index, v);
  }
  return { index, guard: new NameGuard(index.names) };
}

/**
 * Line windows [start, end) to give lenses for. VS Code asks for a whole document's lenses at once,
 * so a document longer than `allMax` lines gets them only around what its editors show (each visible
 * range widened by `margin`, merged), or its first lines while no editor shows it.
 */
export function lensWindows(
  lineCount: number,
  visible: ReadonlyArray<readonly [number, number]>,
  allMax: number,
  margin: number,
): Array<[number, number]> {
  if (lineCount <= allMax) return [[0, lineCount]];
  const wanted = (visible.length ? visible : [[0, 0] as const])
    .map(([a, b]): [number, number] => [Math.max(0, a - margin), Math.min(lineCount, b + margin)])
    .sort((x, y) => x[0] - y[0]);
  const out: Array<[number, number]> = [];
  for (const w of wanted) {
    const last = out[out.length - 1];
    if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
    else out.push([w[0], w[1]]);
  }
  return out;
}

/** Suggestions per line text (bounded; the oldest entries go first). */
export class SuggestionCache {
  private readonly map = new Map<string, RecordSuggestion | null>();
  constructor(private readonly max = 20_000) {}

  /** The suggestion for a line, computed on first use; null when the line is not a valid record. */
  get(lineText: string, ctx: DatasetContext | undefined, k: number, seed: number): RecordSuggestion | null {
    const key = `${k}\u0000${seed}\u0000${lineText}`;
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const v = viewOfLine(lineText);
    const s = v ? suggestPerturbations(v, 0, { k, seed, context: ctx }) : null;
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, s);
    return s;
  }

  /** A cached suggestion without computing one (for cheap lens counts). */
  peek(lineText: string, k: number, seed: number): RecordSuggestion | null | undefined {
    return this.map.get(`${k}\u0000${seed}\u0000${lineText}`);
  }

  clear(): void {
    this.map.clear();
  }
}

/**
 * How many lenses a record line gets: one per candidate plus "add all" (or one lens with the reason
 * when there is nothing to add), plus "subject…" to confirm or change the subject. Before the line is
 * analysed (`undefined`) the count is a guess of k + 2; the provider asks again after resolving, so
 * the count becomes exact.
 */
export function lensCount(s: RecordSuggestion | null | undefined, k: number): number {
  if (s === undefined) return k + 2;
  if (s === null) return 1;
  return (s.candidates.length ? s.candidates.length + 1 : 1) + 1;
}

export interface LensContent {
  title: string;
  tooltip?: string;
  /** Entries a click inserts; absent for an informational lens. */
  entries?: PerturbationEntry[];
  /** For the "subject…" lens: the current subject and the other names found in the question. */
  subject?: { current?: string; options: string[] };
}

/** The lens at position `slot` of a record line (0-based, in the order lensCount counts them). */
export function lensContent(s: RecordSuggestion | null, slot: number): LensContent {
  if (s === null) return { title: "SEAT: not a valid record" };
  const e = s.entity;
  const n = s.candidates.length;
  const subjectSlot = n ? n + 1 : 1;
  if (slot === subjectSlot) {
    const options = [...(e && e.inPrompt ? [e.name] : []), ...s.alternatives.map((a) => a.name)];
    return {
      title: n ? "subject…" : "set subject…",
      tooltip: "Confirm or change the record's subject entity (written to seat.entities)",
      subject: { current: e?.name, options: [...new Set(options)] },
    };
  }
  if (!n || !e) {
    return {
      title: e
        ? `SEAT: "${e.name}": ${s.reason ?? "no stand-in found"}`
        : `SEAT: ${s.reason ?? "no subject entity found"}`,
    };
  }
  if (slot < n) {
    const c = s.candidates[slot];
    const title = slot === 0 ? `SEAT: perturb "${e.name}" → ${c.replacement}` : c.replacement;
    return {
      title,
      tooltip: `Add "${c.replacement}" (${c.kind}) as a fictitious stand-in for "${e.name}" in seat.perturbations.\nPerturbed question: ${c.question ?? "(chat)"}\nSubject (${e.source === "seat" ? "from seat.entities" : "detected"}): ${e.evidence.join("; ")}`,
      entries: [toEntry(c)],
    };
  }
  if (slot === n) {
    return {
      title: "add all",
      tooltip: `Add all ${n} stand-ins for "${e.name}"`,
      entries: s.candidates.map((c) => toEntry(c)),
    };
  }
  return { title: "" };
}

/** The arguments `seat.insertPerturbation` takes (JSON-serializable: lens commands survive reloads). */
export interface InsertArgs {
  uri: string;
  /** 0-based line. */
  line: number;
  /** The line's text when the lens was made: a changed line is not edited blindly. */
  expected: string;
  entries: PerturbationEntry[];
  /** Set for the "subject…" lens: ask which entity is the subject and write seat.entities instead. */
  subject?: { current?: string; options: string[] };
}

/** The new line with `seat.entities` set to the chosen subject, or why not. */
export function subjectEditFor(
  args: InsertArgs,
  current: string | undefined,
  chosen: string,
): { text: string } | { error: string } {
  if (current === undefined) return { error: `line ${args.line + 1} no longer exists` };
  if (current !== args.expected) return { error: `the record on line ${args.line + 1} changed; nothing written` };
  const name = chosen.trim();
  if (!name) return { error: "the subject name is empty" };
  const v = viewOfLine(current);
  const inPrompt = v
    ? [v.question ?? "", ...(v.messages ?? []).filter((m) => m.role !== "assistant").map((m) => m.content)].some((t) =>
        mentions(t, name),
      )
    : false;
  if (!inPrompt)
    return { error: `"${name}" does not occur in the record's question: a subject must appear there to be replaced` };
  try {
    return { text: setSeatEntities(current, [name]) };
  } catch (e) {
    const col = (e as { column?: number }).column;
    return { error: `line ${args.line + 1}${col ? `, column ${col}` : ""}: ${(e as Error).message}` };
  }
}

/** The per-record result `seat perturb --json` prints (the subset the editor reads). */
export interface CliRecordReport {
  line: number;
  entity: { name: string; kind: string } | null;
  candidates: { replacement: string; kind: string; abstention?: number }[];
}

/**
 * Line replacements for a whole-file suggestion run: for each reported record, its current line text
 * with the candidates added. Lines whose text is no longer a record are reported as `skipped`.
 */
export function editsFromReport(
  records: readonly CliRecordReport[],
  lineAt: (line0: number) => string | undefined,
): { edits: { line: number; text: string; added: number }[]; skipped: number[] } {
  const edits: { line: number; text: string; added: number }[] = [];
  const skipped: number[] = [];
  for (const r of records) {
    if (!r.entity || !r.candidates.length) continue;
    const line0 = r.line - 1;
    const current = lineAt(line0);
    if (current === undefined || !isRecordLine(current)) {
      skipped.push(r.line);
      continue;
    }
    const entries: PerturbationEntry[] = r.candidates.map((c) => ({
      entity: r.entity!.name,
      replacement: c.replacement,
      kind: c.kind,
      ...(c.abstention !== undefined ? { abstention: c.abstention } : {}),
    }));
    try {
      const res = addPerturbationsToLine(current, entries);
      if (res.added.length) edits.push({ line: line0, text: res.text, added: res.added.length });
    } catch {
      skipped.push(r.line);
    }
  }
  return { edits, skipped };
}

/** Progress lines `seat perturb --progress` writes to stderr: {"type":"progress","done":n,"total":m}. */
export function parseProgressLine(line: string): { done: number; total: number } | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const o = JSON.parse(line) as { type?: unknown; done?: unknown; total?: unknown };
    if (o.type === "progress" && typeof o.done === "number" && typeof o.total === "number")
      return { done: o.done, total: o.total };
  } catch {
    // not a progress line: the caller shows it as an error message
  }
  return undefined;
}

/**
 * The new text of a record line after a click, or why nothing is inserted. `current` is the line as it
 * is now; a line that changed since the lens was made is left alone (the lens is refreshed instead).
 */
export function insertionFor(
  args: InsertArgs,
  current: string | undefined,
): { text: string; added: number } | { error: string } {
  if (current === undefined) return { error: `line ${args.line + 1} no longer exists` };
  if (current !== args.expected)
    return {
      error: `the record on line ${args.line + 1} changed since the suggestion was made; nothing inserted (the suggestions are being refreshed)`,
    };
  try {
    const r = addPerturbationsToLine(current, args.entries);
    if (!r.added.length)
      return {
        error: `line ${args.line + 1} already lists ${args.entries.map((e) => `"${e.replacement}"`).join(", ")}`,
      };
    return { text: r.text, added: r.added.length };
  } catch (e) {
    const col = (e as { column?: number }).column;
    return { error: `line ${args.line + 1}${col ? `, column ${col}` : ""}: ${(e as Error).message}` };
  }
}
