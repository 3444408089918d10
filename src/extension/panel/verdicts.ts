// Inline verdicts for dataset lines, as pure data: the compact text after a record's line, its hover,
// and where each record now sits in the (possibly edited) document. No vscode import: unit-tested.
import type { ProbeReport, RecordProbe } from "../../eval/types";
import { abstentionLabel } from "../../presentation/abstentionLabel";

export interface LineVerdict {
  key: string;
  /** 1-based line the record had when it was probed. */
  line: number;
  question: string;
  /** Shown after the line: "✓ learned · abstains 2/3 · P(abst) 0.71". */
  text: string;
  /** Hover lines, plain text (the first is the title); the caller escapes them. */
  hover: string[];
  learned: boolean;
  regressed: boolean;
}

const MAX_SCAN = 20_000_000;
const f2 = (x: number | null) => (x === null || !Number.isFinite(x) ? "–" : x.toFixed(2));

function meanProb(r: RecordProbe): number | null {
  const ps = r.perturbations.map((p) => p.abstentionProb).filter((p): p is number => p !== null);
  return ps.length && ps.length === r.perturbations.length ? ps.reduce((a, b) => a + b, 0) / ps.length : null;
}

/** Verdicts of the last tuned run (or of the base model when only it was probed). */
export function lineVerdicts(report: ProbeReport): LineVerdict[] {
  const run = report.runs.length ? report.runs[report.runs.length - 1] : report.base;
  if (!run) return [];
  const flags = report.runs.length ? report.comparisons[report.comparisons.length - 1]?.flags : undefined;
  const baseBy = new Map((report.base?.records ?? []).map((r) => [r.key, r]));
  return run.records.map((r) => {
    const k = r.perturbations.filter((p) => p.abstains).length;
    const n = r.perturbations.length;
    const p = meanProb(r);
    const fl = flags?.[r.key];
    const parts = [`${r.learned ? "✓" : "✗"} learned`];
    if (n) parts.push(`abstains ${k}/${n}`);
    if (p !== null) parts.push(`P(abst) ${f2(p)}`);
    if (r.own.abstains) parts.push("refuses its own question");
    if (fl?.regressed) parts.push("regressed");
    const b = baseBy.get(r.key);
    const hover = [
      `${run.model.label} on line ${r.line}: ${r.learned ? "learned" : "not learned"} (ROUGE-L recall ${f2(r.rougeLRecall)}${r.exactMatch ? ", exact match" : ""})`,
      `Answer: ${r.own.answer}`,
      ...(b ? [`Base answer: ${b.own.answer}`] : []),
      ...r.perturbations.map((q, j) => {
        const bq = b?.perturbations[j];
        return `Neighbour "${q.entity ?? q.question}": ${abstentionLabel(q)}${q.naming === "misnamed" ? ` ("${q.answer}")` : ""} · P(abst) ${f2(q.abstentionProb)}${bq ? ` · base ${bq.abstains ? "abstained" : "answered"}` : ""}`;
      }),
    ];
    // With several runs probed, say which one the verdict is about (the panel lists them all).
    const text = (report.runs.length > 1 ? `${run.model.label}: ` : "") + parts.join(" · ");
    return {
      key: r.key,
      line: r.line,
      question: r.question,
      text,
      hover,
      learned: r.learned,
      regressed: fl?.regressed === true,
    };
  });
}

/** Read access to a document's lines (an editor document or a plain array). */
export interface LineSource {
  lineCount: number;
  lineAt(i: number): string;
}

export const linesOf = (lines: readonly string[]): LineSource => ({ lineCount: lines.length, lineAt: (i) => lines[i] });

/**
 * Where each verdict belongs in the current text: its original line if that line still contains the
 * record's question (as it appears inside a JSON string), else the first free line that does, else
 * nowhere (the record was edited or removed: a stale verdict is worse than none). Only the verdicts'
 * own lines are read unless records moved, so a huge dataset costs one line read per verdict.
 * Returns 0-based line -> verdict.
 */
export function placeVerdicts(doc: LineSource, verdicts: readonly LineVerdict[]): Map<number, LineVerdict> {
  const out = new Map<number, LineVerdict>();
  const needle = (q: string) => JSON.stringify(q).slice(1, -1);
  const moved: LineVerdict[] = [];
  for (const v of verdicts) {
    const at = v.line - 1;
    if (at < doc.lineCount && !out.has(at) && doc.lineAt(at).includes(needle(v.question))) out.set(at, v);
    else moved.push(v);
  }
  // Re-finding moved records scans lines x moved questions: skip it when that is too much work.
  if (moved.length === 0 || doc.lineCount * moved.length > MAX_SCAN) return out;
  const hits = new Map<string, number[]>(moved.map((v) => [needle(v.question), []]));
  for (let i = 0; i < doc.lineCount; i++) {
    if (out.has(i)) continue;
    const l = doc.lineAt(i);
    for (const [q, list] of hits) if (l.includes(q)) list.push(i);
  }
  for (const v of moved) {
    const free = hits.get(needle(v.question))!.find((i) => !out.has(i));
    if (free !== undefined) out.set(free, v);
  }
  return out;
}
