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

/**
 * Applies one editor change event to the validator. The editor lists a batch's changes so that
 * applying them one after another in order is correct (multi-cursor edits come last-position
 * first). Returns false when the change does not fit the validator's copy (then re-read the
 * document); `expectedLineCount` is the document's line count after the event.
 */
export function applyChanges(v: IncrementalValidator, changes: readonly LineChange[], expectedLineCount: number): boolean {
  for (const c of changes) {
    if (c.endLine >= v.lineCount || c.startLine > c.endLine) return false;
    const first = v.lineText(c.startLine);
    const last = v.lineText(c.endLine);
    const merged = first.slice(0, c.startCharacter) + c.text + last.slice(c.endCharacter);
    v.edit(c.startLine, c.endLine + 1, merged.split(/\r?\n/));
  }
  return v.lineCount === expectedLineCount;
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
