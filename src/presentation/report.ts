// Report export: JSON (the ProbeReport itself), CSV (one row per model x query) and a self-contained
// HTML page (inline CSS and SVG, no scripts, a CSP that forbids every remote load).
import { abstentionLabel } from "./abstentionLabel";
import { escapeXml, pcaSvg } from "./svg";
import type { AbstentionRates, ModelProbeResult, ProbeReport, RecordFlags } from "../eval/types";

export function reportToJson(report: ProbeReport): string {
  return JSON.stringify(report, null, 1) + "\n";
}

/**
 * One CSV field (RFC 4180 quoting). Text that a spreadsheet would run as a formula (leading = + - @ or a
 * tab/CR) gets a leading apostrophe: answers are model output, and opening the CSV must not execute it.
 */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return "";
  let s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_COLUMNS = [
  "model",
  "kind",
  "key",
  "line",
  "question",
  "reference",
  "entity",
  "answer",
  "rougeL_recall",
  "exact_match",
  "learned",
  "abstains",
  "grounded",
  "abstention_prob",
  "neighbours",
  "neighbours_abstained",
  "neighbours_grounded",
  "neighbours_mean_abstention_prob",
  "regressed",
  "not_learned",
  "hallucinating",
] as const;

function modelRows(r: ModelProbeResult, flags: Record<string, RecordFlags> | undefined): string[][] {
  const rows: string[][] = [];
  for (const rec of r.records) {
    const n = rec.perturbations;
    const probs = n.map((p) => p.abstentionProb).filter((p): p is number => p !== null);
    const withEntity = n.filter((p) => p.grounded !== null);
    const f = flags?.[rec.key];
    rows.push(
      [
        r.model.label,
        "train",
        rec.key,
        rec.line,
        rec.question,
        rec.reference,
        rec.entity,
        rec.own.answer,
        rec.rougeLRecall,
        rec.exactMatch,
        rec.learned,
        rec.own.abstains,
        rec.own.grounded,
        rec.own.abstentionProb,
        n.length,
        n.filter((p) => p.abstains).length,
        withEntity.length ? withEntity.filter((p) => p.grounded).length : null,
        probs.length === n.length && n.length > 0 ? probs.reduce((a, b) => a + b, 0) / n.length : null,
        f?.regressed,
        f?.notLearned,
        f?.hallucinating,
      ].map(csvField),
    );
  }
  for (const [i, u] of r.unknown.entries()) {
    rows.push(
      [
        r.model.label,
        u.kind,
        `unknown:${i + 1}`,
        u.line,
        u.question,
        null,
        u.entity,
        u.answer,
        null,
        null,
        null,
        u.abstains,
        u.grounded,
        u.abstentionProb,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
      ].map(csvField),
    );
  }
  return rows;
}

export function reportToCsv(report: ProbeReport): string {
  const lines = [CSV_COLUMNS.join(",")];
  if (report.base) for (const row of modelRows(report.base, undefined)) lines.push(row.join(","));
  report.runs.forEach((run, i) => {
    for (const row of modelRows(run, report.comparisons[i]?.flags)) lines.push(row.join(","));
  });
  return lines.join("\r\n") + "\r\n";
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : (x * 100).toFixed(1) + "%";
const num = (x: number | null | undefined, d = 3) =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(d);
const rate = (r: AbstentionRates | null | undefined) =>
  r && r.n > 0 ? `${pct(r.abstain)} <span class="n">(n=${r.n})</span>` : "–";

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}.n{color:#656d76;font-size:12px}
.ok{color:#1a7f37}.bad{color:#cf222e}.note{color:#656d76;font-size:12px;max-width:900px}
.pca-frame{stroke:#d0d7de}.pca-axis{font-size:11px;fill:#656d76}
.pca-known{fill:#0969da;stroke:#0969da}.pca-unknown{fill:#cf222e;stroke:#cf222e}.pca-base{fill-opacity:0;stroke-width:1.5}.pca-tuned{fill-opacity:.8}
@media (prefers-color-scheme:dark){body{color:#e6edf3;background:#0d1117}th{background:#161b22}th,td{border-color:#30363d}}
`;

/** A self-contained HTML report: nothing is fetched (CSP default-src 'none'), no scripts. */
export function reportToHtml(report: ProbeReport, title = "SEAT Tuner probe report"): string {
  const e = escapeXml;
  const models: { label: string; r: ModelProbeResult; cmp?: ProbeReport["comparisons"][number] }[] = [];
  if (report.base) models.push({ label: report.base.model.label, r: report.base });
  report.runs.forEach((r, i) => models.push({ label: r.model.label, r, cmp: report.comparisons[i] }));

  const summaryRows = models.map(({ label, r, cmp }) => {
    const s = r.summary;
    return (
      `<tr><th>${e(label)}</th><td>${e(r.model.method ?? (cmp ? "–" : "base model"))}</td><td class="num">${num(s.ftScore)}</td><td class="num">${pct(s.exactMatch)}</td><td class="num">${pct(s.learned)}</td><td class="num">${pct(s.overRefusal)}</td>` +
      `<td class="num">${rate(s.neighbour)}</td><td class="num">${rate(cmp?.neighbourOnBaseAbstained)}</td><td class="num">${pct(s.neighbour.grounded)}</td><td class="num">${pct(s.neighbour.misnamed ?? null)}</td>` +
      `<td class="num">${rate(s.heldOut)}</td><td class="num">${rate(s.fictitious)}</td><td class="num">${num(s.unknown.meanAbstentionProb)}</td></tr>`
    );
  });

  const sections: string[] = [];
  for (const { label, cmp } of models) {
    if (!cmp) continue;
    if (cmp.displacement && cmp.displacement.length) {
      sections.push(
        `<h2>Activation displacement: ${e(label)} vs base (unknown queries, last prompt token)</h2><table><tr><th>after layer</th><th>mean relative L2 shift</th><th>mean cosine</th></tr>` +
          cmp.displacement
            .map(
              (d) =>
                `<tr><td class="num">${d.layer + 1}</td><td class="num">${num(d.meanRelativeShift, 4)}</td><td class="num">${num(d.meanCosine, 4)}</td></tr>`,
            )
            .join("") +
          `</table>`,
      );
    }
    if (cmp.pca) {
      sections.push(
        `<h2>PCA of hidden states: ${e(label)} vs base</h2><p class="note">Circles: known (training) questions; triangles: unknown queries. Hollow: base model; filled: ${e(label)}. Known/unknown separation (centroid distance / pooled spread, 2-D): base ${num(cmp.pca.separation.base)}, ${e(label)} ${num(cmp.pca.separation.tuned)}.</p>${pcaSvg(cmp.pca)}`,
      );
    }
  }

  const baseByKey = new Map((report.base?.records ?? []).map((r) => [r.key, r]));
  // Without tuned runs the base model's own records are the table (no base column, no flags).
  const tableRuns = report.runs.length ? report.runs : report.base ? [report.base] : [];
  const recordTables = tableRuns.map((run, i) => {
    const vsBase = report.runs.length > 0;
    const flags = report.comparisons[i]?.flags ?? {};
    const rows = run.records.map((rec) => {
      const b = vsBase ? baseByKey.get(rec.key) : undefined;
      const f = flags[rec.key];
      const abst = rec.perturbations.filter((p) => p.abstains).length;
      const tags = [
        f?.regressed ? "regressed" : "",
        f?.notLearned ? "not learned" : "",
        f?.hallucinating ? "hallucinating" : "",
      ]
        .filter(Boolean)
        .join(", ");
      return (
        `<tr><td class="num">${rec.line}</td><td>${e(rec.question)}</td><td>${e(rec.reference)}</td>${vsBase ? `<td>${b ? e(b.own.answer) : "–"}</td>` : ""}<td>${e(rec.own.answer)}</td>` +
        `<td class="num">${num(rec.rougeLRecall)}</td><td class="${rec.learned ? "ok" : "bad"}">${rec.learned ? "✓" : "✗"}</td>` +
        `<td class="num">${abst}/${rec.perturbations.length}</td><td class="num">${num(rec.perturbations.length ? rec.perturbations.reduce((a, p) => a + (p.abstentionProb ?? 0), 0) / rec.perturbations.length : null)}</td><td>${e(tags)}</td></tr>`
      );
    });
    return `<h2>Per example: ${e(run.model.label)}</h2><table><tr><th>line</th><th>question</th><th>reference</th>${vsBase ? "<th>base answer</th>" : ""}<th>${e(run.model.label)} answer</th><th>ROUGE-L recall</th><th>learned</th><th>abstains on neighbours</th><th>mean abstention prob</th><th>flags</th></tr>${rows.join("")}</table>`;
  });

  const unknownTable = (() => {
    const n = Math.max(0, ...models.map((m) => m.r.unknown.length));
    if (n === 0) return "";
    const head = models.map((m) => `<th>${e(m.label)} answer</th><th>abstains</th><th>abstention prob</th>`).join("");
    const rows: string[] = [];
    for (let i = 0; i < n; i++) {
      const first = models.find((m) => m.r.unknown[i])!.r.unknown[i];
      const cells = models.map(({ r }) => {
        const u = r.unknown[i];
        if (!u || u.question !== first.question) return "<td>–</td><td>–</td><td>–</td>";
        return `<td>${e(u.answer)}</td><td class="${u.abstains ? "ok" : "bad"}">${e(abstentionLabel(u))}</td><td class="num">${num(u.abstentionProb)}</td>`;
      });
      rows.push(`<tr><td>${e(first.kind)}</td><td>${e(first.question)}</td>${cells.join("")}</tr>`);
    }
    return `<h2>Dataset-level unknown queries</h2><table><tr><th>kind</th><th>question</th>${head}</tr>${rows.join("")}</table>`;
  })();

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title><style>${CSS}</style></head><body>
<h1>${e(title)}</h1>
<p class="note">Dataset ${e(report.dataset.path)} · created ${e(report.createdAt)}. FT score = mean ROUGE-L recall of the greedy answer vs the reference. Abstains = the answer contains a listed abstention phrase (IDK-SM). <b>Grounded</b> is an automated stand-in for the paper's human judgement (IDK-HA): the answer abstains AND names the queried entity. Abstention prob = the model's probability that its answer starts with a listed abstention opening.</p>
<h2>Summary</h2>
<table><tr><th>model</th><th>method</th><th>FT score</th><th>exact match</th><th>learned</th><th>over-refusal</th><th>abstains on neighbours</th><th>…where base abstained</th><th>grounded (auto)</th><th>misnamed (abstains, wrong name)</th><th>held-out unknown</th><th>fictitious concepts</th><th>mean abstention prob (unknown)</th></tr>
${summaryRows.join("\n")}</table>
${sections.join("\n")}
${recordTables.join("\n")}
${unknownTable}
</body></html>
`;
}

/** A plain-text summary for the terminal: one row per model, then one line per record of the last run. */
export function reportToText(report: ProbeReport): string {
  const models: { r: ModelProbeResult; cmp?: ProbeReport["comparisons"][number] }[] = [];
  if (report.base) models.push({ r: report.base });
  report.runs.forEach((r, i) => models.push({ r, cmp: report.comparisons[i] }));
  const p = (x: number | null | undefined) =>
    x === null || x === undefined || !Number.isFinite(x) ? "   -  " : `${(x * 100).toFixed(1).padStart(5)}%`;
  const width = Math.max(5, ...models.map((m) => m.r.model.label.length));
  const lines = [
    `${"model".padEnd(width)}  FT(RL-R)  learned  over-ref  abst-nbr  nbr|base  grounded  held-out  concepts  P(abst)`,
  ];
  for (const { r, cmp } of models) {
    const s = r.summary;
    lines.push(
      [
        r.model.label.padEnd(width),
        `  ${s.ftScore.toFixed(3).padStart(6)}  `,
        p(s.learned),
        "  ",
        p(s.overRefusal),
        "    ",
        p(s.neighbour.n ? s.neighbour.abstain : null),
        "    ",
        p(cmp?.neighbourOnBaseAbstained?.n ? cmp.neighbourOnBaseAbstained.abstain : null),
        "    ",
        p(s.neighbour.grounded),
        "    ",
        p(s.heldOut.n ? s.heldOut.abstain : null),
        "    ",
        p(s.fictitious.n ? s.fictitious.abstain : null),
        "   ",
        s.unknown.meanAbstentionProb === null ? "  -" : s.unknown.meanAbstentionProb.toFixed(3),
      ].join(""),
    );
  }
  const last = report.runs.length ? report.runs[report.runs.length - 1] : report.base;
  const cmp = report.runs.length ? report.comparisons[report.comparisons.length - 1] : undefined;
  if (last && last.records.length) {
    lines.push("", `per record (${last.model.label}):`);
    for (const rec of last.records) {
      const f = cmp?.flags[rec.key];
      const tags = [f?.regressed && "regressed", f?.notLearned && "not learned", f?.hallucinating && "hallucinating"]
        .filter(Boolean)
        .join(", ");
      const probs = rec.perturbations.map((q) => q.abstentionProb).filter((x): x is number => x !== null);
      lines.push(
        `  line ${String(rec.line).padStart(4)}  ${rec.learned ? "learned ✓" : "learned ✗"}  RL-R ${rec.rougeLRecall.toFixed(2)}  abstains ${rec.perturbations.filter((q) => q.abstains).length}/${rec.perturbations.length}` +
          (probs.length ? `  P(abst) ${(probs.reduce((a, b) => a + b, 0) / probs.length).toFixed(2)}` : "") +
          (rec.own.abstains ? "  over-refuses" : "") +
          (tags ? `  [${tags}]` : ""),
      );
    }
  }
  lines.push("", "Grounded = abstains and names the queried entity (automated stand-in for human judgement).");
  return lines.join("\n") + "\n";
}
