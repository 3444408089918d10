// SVG drawings shared by the HTML report and the panel: plain strings, every text escaped, colours from
// CSS classes/variables so the panel can theme them (the report defines the classes itself).
import type { PcaView } from "../eval/types";

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));

/**
 * PCA scatter: known (circles) vs unknown (triangles) queries, base (hollow) vs tuned (filled). Each mark
 * has a <title> so hovering names the query. Classes: pca-known, pca-unknown, pca-base, pca-tuned.
 */
export function pcaSvg(view: PcaView, width = 420, height = 320): string {
  const pad = 28;
  const xs = view.points.map((p) => p.x);
  const ys = view.points.map((p) => p.y);
  // 5% margin so marks on the extremes are not cut by the frame.
  const span = (v: number[]) => {
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    const m = (hi - lo) * 0.05;
    return hi > lo ? [lo - m, hi + m] : [lo - 1, hi + 1];
  };
  const [x0, x1] = span(xs);
  const [y0, y1] = span(ys);
  const sx = (x: number) => pad + ((x - x0) / (x1 - x0)) * (width - 2 * pad);
  const sy = (y: number) => height - pad - ((y - y0) / (y1 - y0)) * (height - 2 * pad);
  const marks = view.points.map((p) => {
    const cx = sx(p.x).toFixed(1);
    const cy = sy(p.y).toFixed(1);
    const cls = `pca-${p.group} pca-${p.model}`;
    const title = `<title>${escapeXml(`${p.model} · ${p.group} · ${p.key} (${fmt(p.x)}, ${fmt(p.y)})`)}</title>`;
    if (p.group === "known") return `<circle class="${cls}" cx="${cx}" cy="${cy}" r="4">${title}</circle>`;
    const x = Number(cx);
    const y = Number(cy);
    return `<polygon class="${cls}" points="${x},${(y - 5).toFixed(1)} ${(x - 4.5).toFixed(1)},${(y + 4).toFixed(1)} ${(x + 4.5).toFixed(1)},${(y + 4).toFixed(1)}">${title}</polygon>`;
  });
  const pc = (i: 0 | 1) => `PC${i + 1} (${(view.explained[i] * 100).toFixed(1)}%)`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="pca" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="PCA of last-prompt-token hidden states: known vs unknown queries, base vs tuned">`,
    `<rect class="pca-frame" x="${pad}" y="${pad}" width="${width - 2 * pad}" height="${height - 2 * pad}" fill="none"/>`,
    `<text class="pca-axis" x="${width / 2}" y="${height - 6}" text-anchor="middle">${pc(0)}</text>`,
    `<text class="pca-axis" x="10" y="${height / 2}" text-anchor="middle" transform="rotate(-90 10 ${height / 2})">${pc(1)}</text>`,
    ...marks,
    `</svg>`,
  ].join("\n");
}

export interface ChartSeries {
  label: string;
  points: readonly (readonly [number, number])[];
}

/**
 * A small line chart (one polyline per series, classes chart-s0..chart-s7 for colours), axes labelled
 * with the data range. Non-finite points are skipped, so a NaN step does not break the line's path.
 */
export function lineChartSvg(
  title: string,
  series: readonly ChartSeries[],
  width = 320,
  height = 160,
  fixedY?: [number, number],
): string {
  const padL = 44,
    padR = 8,
    padT = 20,
    padB = 22;
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const head = `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}"><text class="chart-title" x="${padL}" y="13">${escapeXml(title)}</text>`;
  if (pts.length === 0)
    return `${head}<text class="chart-empty" x="${width / 2}" y="${height / 2}" text-anchor="middle">no data yet</text></svg>`;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = fixedY ?? [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  // A constant series (a KL of 0, a flat loss) is drawn against zero rather than a made-up unit range.
  if (y1 === y0) [y0, y1] = y0 === 0 ? [0, 1] : [Math.min(0, y0), Math.max(0, y0)];
  const sx = (x: number) => padL + ((x - x0) / (x1 - x0)) * (width - padL - padR);
  const sy = (y: number) => height - padB - ((y - y0) / (y1 - y0)) * (height - padT - padB);
  const lines = series.map((s, i) => {
    const p = s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(" ");
    return `<polyline class="chart-line chart-s${i % 8}" fill="none" points="${p}"><title>${escapeXml(s.label)}</title></polyline>`;
  });
  const tick = (v: number) =>
    Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
  return [
    head,
    `<rect class="chart-frame" x="${padL}" y="${padT}" width="${width - padL - padR}" height="${height - padT - padB}" fill="none"/>`,
    `<text class="chart-tick" x="${padL - 4}" y="${padT + 8}" text-anchor="end">${tick(y1)}</text>`,
    `<text class="chart-tick" x="${padL - 4}" y="${height - padB}" text-anchor="end">${tick(y0)}</text>`,
    `<text class="chart-tick" x="${padL}" y="${height - 6}">${tick(x0)}</text>`,
    `<text class="chart-tick" x="${width - padR}" y="${height - 6}" text-anchor="end">step ${tick(x1)}</text>`,
    ...lines,
    `</svg>`,
  ].join("");
}

export interface CalibrationMark {
  lambda: number;
  ratio: number;
  answerAccuracy: number;
  abstentionProb: number;
}

/**
 * The calibration's trade-off: each candidate's answer accuracy on its training split (x) against its
 * held-out abstention probability (y), both on [0, 1]; a dashed line at the accuracy floor, the chosen
 * candidate ringed. Every mark is labelled with its knobs and has a <title> with its numbers. Classes:
 * cal-point, cal-chosen, cal-floor, cal-label (plus the chart-* frame and tick classes).
 */
export function calibrationSvg(
  points: readonly CalibrationMark[],
  chosen: { lambda: number; ratio: number },
  minAccuracy?: number,
  width = 340,
  height = 220,
): string {
  const padL = 44,
    padR = 12,
    padT = 22,
    padB = 34;
  const sx = (x: number) => padL + Math.min(1, Math.max(0, x)) * (width - padL - padR);
  const sy = (y: number) => height - padB - Math.min(1, Math.max(0, y)) * (height - padT - padB);
  const knob = (p: { lambda: number; ratio: number }) => `λ ${p.lambda}, ratio ${p.ratio}`;
  // Short enough for the chart's width (the axes name what is plotted).
  const title = "Calibration candidates";
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart calibration" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}">`,
    `<text class="chart-title" x="${padL}" y="14">${escapeXml(title)}</text>`,
    `<rect class="chart-frame" x="${padL}" y="${padT}" width="${width - padL - padR}" height="${height - padT - padB}" fill="none"/>`,
    `<text class="chart-tick" x="${padL - 4}" y="${padT + 8}" text-anchor="end">1</text>`,
    `<text class="chart-tick" x="${padL - 4}" y="${height - padB}" text-anchor="end">0</text>`,
    `<text class="chart-tick" x="${padL}" y="${height - padB + 12}">0</text>`,
    `<text class="chart-tick" x="${width - padR}" y="${height - padB + 12}" text-anchor="end">1</text>`,
    `<text class="chart-tick" x="${(padL + width - padR) / 2}" y="${height - 6}" text-anchor="middle">answer accuracy (training split)</text>`,
    `<text class="chart-tick" x="10" y="${(padT + height - padB) / 2}" text-anchor="middle" transform="rotate(-90 10 ${(padT + height - padB) / 2})">held-out abstention</text>`,
  ];
  if (minAccuracy !== undefined && Number.isFinite(minAccuracy)) {
    const x = sx(minAccuracy).toFixed(1);
    parts.push(
      `<line class="cal-floor" x1="${x}" y1="${padT}" x2="${x}" y2="${height - padB}" stroke-dasharray="4 3"><title>${escapeXml(`accuracy floor ${minAccuracy}`)}</title></line>`,
    );
  }
  // Candidates often land on one spot (every one learned the facts, abstention within noise): each label
  // moves down a line until it clears the labels already placed on its side.
  const placed: { x: number; y: number; right: boolean }[] = [];
  const LINE = 12;
  for (const p of points) {
    if (!Number.isFinite(p.answerAccuracy) || !Number.isFinite(p.abstentionProb)) continue;
    const cx = sx(p.answerAccuracy);
    const cy = sy(p.abstentionProb);
    const isChosen = p.lambda === chosen.lambda && p.ratio === chosen.ratio;
    const tip = `${knob(p)}: answer accuracy ${fmt(p.answerAccuracy)}, held-out abstention ${fmt(p.abstentionProb)}${isChosen ? " (chosen)" : ""}`;
    parts.push(
      `<circle class="cal-point${isChosen ? " cal-chosen" : ""}" cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${isChosen ? 6 : 4}"><title>${escapeXml(tip)}</title></circle>`,
    );
    // Labels sit left of points in the right half so they stay inside the frame.
    const right = cx > (padL + width - padR) / 2;
    const lx = cx + (right ? -8 : 8);
    let ly = cy - 6;
    while (placed.some((q) => q.right === right && Math.abs(q.x - lx) < 90 && Math.abs(q.y - ly) < LINE)) ly += LINE;
    placed.push({ x: lx, y: ly, right });
    parts.push(
      `<text class="cal-label" x="${lx.toFixed(1)}" y="${ly.toFixed(1)}" text-anchor="${right ? "end" : "start"}">${escapeXml(knob(p))}</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}
