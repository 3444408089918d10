// The panel's view logic as pure functions (no DOM): which rows the per-example table shows, in which
// order, and the training curves built from events. Unit-tested under node.
import type { ProbeReport, QueryProbe, RecordFlags, RecordProbe } from "../src/eval/types";
import type { PanelViewState } from "../src/presentation/webview";

export interface TableRow {
  key: string;
  line: number;
  question: string;
  reference: string;
  base?: RecordProbe;
  /** One entry per tuned run (undefined when that run lacks the record). */
  runs: (RecordProbe | undefined)[];
  /** The selected run's record and flags. */
  current?: RecordProbe;
  flags?: RecordFlags;
}

export function meanAbstentionProb(qs: readonly QueryProbe[]): number | null {
  const ps = qs.map((q) => q.abstentionProb).filter((p): p is number => p !== null);
  return ps.length === 0 || ps.length !== qs.length ? null : ps.reduce((a, b) => a + b, 0) / ps.length;
}

export function abstainFraction(qs: readonly QueryProbe[]): number | null {
  return qs.length === 0 ? null : qs.filter((q) => q.abstains).length / qs.length;
}

/** All rows, keyed by record, in dataset order. */
export function buildRows(report: ProbeReport, run: number): TableRow[] {
  const keys: string[] = [];
  const info = new Map<string, { line: number; question: string; reference: string }>();
  const note = (r: RecordProbe) => {
    if (!info.has(r.key)) {
      keys.push(r.key);
      info.set(r.key, { line: r.line, question: r.question, reference: r.reference });
    }
  };
  report.base?.records.forEach(note);
  report.runs.forEach((x) => x.records.forEach(note));
  const baseBy = new Map((report.base?.records ?? []).map((r) => [r.key, r]));
  const runBy = report.runs.map((x) => new Map(x.records.map((r) => [r.key, r])));
  const sel = Math.min(run, report.runs.length - 1);
  return keys
    .map((key) => {
      const i = info.get(key)!;
      const row: TableRow = { key, ...i, runs: runBy.map((m) => m.get(key)) };
      const b = baseBy.get(key);
      if (b) row.base = b;
      if (sel >= 0) {
        const cur = runBy[sel].get(key);
        if (cur) row.current = cur;
        const f = report.comparisons[sel]?.flags[key];
        if (f) row.flags = f;
      } else if (b) {
        row.current = b; // only the base model was probed
      }
      return row;
    })
    .sort((a, b) => a.line - b.line);
}

function sortValue(row: TableRow, sort: PanelViewState["sort"]): number {
  const r = row.current;
  switch (sort) {
    case "line":
      return row.line;
    case "rouge":
      return r ? r.rougeLRecall : -1;
    case "abstention":
      return r ? (abstainFraction(r.perturbations) ?? -1) : -1;
    case "abstention-prob":
      return r ? (meanAbstentionProb(r.perturbations) ?? -1) : -1;
  }
}

/** The rows the table shows under the current filter, search and sort (ties broken by line). */
export function visibleRows(
  rows: readonly TableRow[],
  s: Pick<PanelViewState, "filter" | "sort" | "descending" | "search">,
): TableRow[] {
  const needle = s.search.trim().toLowerCase();
  const kept = rows.filter((row) => {
    if (s.filter === "regressed" && !row.flags?.regressed) return false;
    if (s.filter === "not-learned" && !(row.flags ? row.flags.notLearned : row.current && !row.current.learned))
      return false;
    if (s.filter === "hallucinating" && !row.flags?.hallucinating) return false;
    if (!needle) return true;
    const texts = [
      row.question,
      row.reference,
      row.base?.own.answer ?? "",
      ...row.runs.map((r) => r?.own.answer ?? ""),
    ];
    return texts.some((t) => t.toLowerCase().includes(needle));
  });
  const dir = s.descending ? -1 : 1;
  return kept.sort((a, b) => (sortValue(a, s.sort) - sortValue(b, s.sort)) * dir || a.line - b.line);
}
