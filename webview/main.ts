// The probes panel: per-example table (filter, sort, search, click to reveal the dataset line), method
// summary, live training curves and the activation PCA. Talks to the extension only through the typed
// protocol in src/presentation/webview.ts; keeps its view state with setState so a reload restores it.
import "./styles.css";
import {
  validatePanelViewState,
  DEFAULT_VIEW_STATE,
  RECORD_FILTERS,
  type HostMessage,
  type PanelViewState,
  type WebviewMessage,
  type CurveSeries,
  type RecordFilter,
  type SortKey,
  type PanelTab,
} from "../src/presentation/webview";
import type { ProbeReport, ModelProbeResult, RunComparison, AbstentionRates } from "../src/eval/types";
import { applyTrainEvent } from "../src/presentation/curves";
import { calibrationSvg, lineChartSvg, pcaSvg } from "../src/presentation/svg";
import { autoEpochsLine } from "../src/seat/stopRule";
import { calibrationCostText, candidateSecondsText } from "../src/seat/calibrationText";
import { abstentionLabel, abstentionMark } from "../src/presentation/abstentionLabel";
import { buildRows, visibleRows, meanAbstentionProb, type TableRow } from "./model";
import { h, svgNode, fmt, pct } from "./dom";
import * as ui from "./toolkit";
import { createChat } from "./chat";

interface VsCodeApi {
  postMessage(m: WebviewMessage): void;
  getState(): unknown;
  setState(s: PanelViewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const MAX_ROWS = 2000;

let view: PanelViewState = (() => {
  const r = validatePanelViewState(vscode.getState());
  return r.ok ? r.value : { ...DEFAULT_VIEW_STATE };
})();
let report: ProbeReport | null = null;
let datasetLabel = "";
let curves: CurveSeries[] = [];
let probe: Extract<HostMessage, { type: "probe-status" }> | null = null;
let trusted = true;

const post = (m: WebviewMessage) => vscode.postMessage(m);
/** A clause as a sentence: its first letter capitalised. */
const sentence = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);
const save = () => vscode.setState(view);
function update(patch: Partial<PanelViewState>): void {
  view = { ...view, ...patch };
  save();
  render();
}

window.addEventListener("error", (e) =>
  post({ type: "log", level: "error", message: String(e.message).slice(0, 4000) }),
);

// ---- header ---------------------------------------------------------------------------------------

function header(): HTMLElement {
  const running = probe?.status === "running";
  const status = h("div", { class: "status", role: "status", "aria-live": "polite" });
  if (running) {
    status.append(
      ui.progressRing(),
      h("span", {}, `${probe!.message}${probe!.total ? ` (${probe!.done ?? 0}/${probe!.total})` : ""}`),
      ui.button("Cancel", () => post({ type: "cancel-probes" }), { id: "cancel-probes" }),
    );
  } else if (probe) {
    status.append(h("span", { class: `status-${probe.status}` }, probe.message));
  }
  const run = ui.button("Run probes", () => post({ type: "run-probes" }), {
    primary: true,
    id: "run-probes",
    title: "Probe the base model and the selected runs on this dataset",
  });
  ui.setDisabled(run, running || !trusted);
  const compare = ui.button("Compare runs…", () => post({ type: "compare" }), { id: "compare-runs" });
  ui.setDisabled(compare, running || !trusted);
  const exp = ui.button("Export…", () => post({ type: "export" }), {
    id: "export-report",
    title: "Export the report as HTML, JSON or CSV",
  });
  ui.setDisabled(exp, !report);
  return h(
    "header",
    {},
    h(
      "div",
      { class: "title" },
      h("h1", {}, "SEAT probes"),
      h("span", { class: "dataset" }, datasetLabel || "no dataset yet"),
    ),
    h("div", { class: "actions" }, run, compare, exp),
    status,
    trusted
      ? null
      : h("p", { class: "warning" }, "This workspace is in Restricted Mode: probes cannot run until you trust it."),
  );
}

// ---- examples -------------------------------------------------------------------------------------

const FILTER_LABELS: Record<RecordFilter, string> = {
  all: "All examples",
  regressed: "Regressed",
  "not-learned": "Not learned",
  hallucinating: "Hallucinating",
};
const SORT_LABELS: Record<SortKey, string> = {
  line: "Line",
  rouge: "ROUGE-L recall",
  abstention: "Abstains on neighbours",
  "abstention-prob": "Abstention probability",
};

function neighbourChips(row: TableRow): HTMLElement {
  const cur = row.current;
  const wrap = h("span", { class: "chips" });
  if (!cur) return wrap;
  cur.perturbations.forEach((p, j) => {
    const b = row.base?.perturbations[j];
    const mark = abstentionMark(p);
    const tip = [
      `${p.question}`,
      `→ ${p.answer}`,
      p.abstains ? abstentionLabel(p) : "answers (no abstention phrase)",
      `P(abstain) ${fmt(p.abstentionProb)}`,
      b ? `base: ${b.abstains ? "abstained" : "answered"} (P ${fmt(b.abstentionProb)})` : "",
    ]
      .filter(Boolean)
      .join("\n");
    wrap.append(
      h(
        "span",
        {
          class: `chip ${p.abstains ? "chip-ok" : "chip-bad"}${b && b.abstains && !p.abstains ? " chip-lost" : ""}`,
          title: tip,
        },
        mark,
      ),
    );
  });
  return wrap;
}

function flagsText(row: TableRow): string {
  const f = row.flags;
  if (!f) return "";
  return [f.regressed && "regressed", f.hallucinating && "hallucinating", f.notLearned && "not learned"]
    .filter(Boolean)
    .join(", ");
}

function examplesView(): HTMLElement {
  if (!report)
    return h(
      "p",
      { class: "empty" },
      'No probe results yet. Run probes to see, example by example, what the model learned and whether it still says "I don\'t know".',
    );
  const rows = buildRows(report, view.run);
  const shown = visibleRows(rows, view);
  const runs = report.runs;
  const controls = h("div", { class: "controls" });
  if (runs.length > 1) {
    controls.append(
      h(
        "label",
        {},
        "Run ",
        ui.dropdown(
          runs.map((r, i) => ({ value: String(i), label: r.model.label })),
          String(Math.min(view.run, runs.length - 1)),
          (v) => update({ run: Number(v) }),
          "Run the flags refer to",
          "run-select",
        ),
      ),
    );
  }
  controls.append(
    ui.dropdown(
      RECORD_FILTERS.map((f) => ({ value: f, label: FILTER_LABELS[f] })),
      view.filter,
      (v) => update({ filter: v }),
      "Filter",
      "filter",
    ),
    ui.dropdown(
      (Object.keys(SORT_LABELS) as SortKey[]).map((s) => ({ value: s, label: `Sort: ${SORT_LABELS[s]}` })),
      view.sort,
      (v) => update({ sort: v }),
      "Sort",
      "sort",
    ),
    ui.checkbox("Descending", view.descending, (v) => update({ descending: v }), "descending"),
    ui.textField(
      "Search questions and answers",
      view.search,
      (v) => {
        view = { ...view, search: v };
        save();
        renderTableOnly();
      },
      "Search",
      "search",
    ),
    h("span", { class: "count", id: "row-count" }, `${shown.length} of ${rows.length}`),
  );
  return h("div", {}, controls, h("div", { id: "table-host" }, table(shown)));
}

function table(rows: TableRow[]): HTMLElement {
  if (!report) return h("div");
  const runs = report.runs;
  const head = h(
    "tr",
    {},
    h("th", {}, "Line"),
    h("th", {}, "Question"),
    h("th", {}, "Reference"),
    report.base ? h("th", {}, "Base answer") : null,
    ...runs.map((r) => h("th", {}, `${r.model.label} answer`)),
    h("th", { title: "Greedy answer vs reference: exact match or ROUGE-L recall above the threshold" }, "Learned"),
    h("th", { title: "ROUGE-L recall of the answer against the reference" }, "ROUGE-L"),
    h(
      "th",
      {
        title:
          "Each neighbour question (entity replaced by a fictitious look-alike): ✓ abstains and names the entity, ✓~ abstains but misnames it, ✓? abstains generically, ✗ answers",
      },
      "Neighbours",
    ),
    h(
      "th",
      { title: "Mean probability that the answer starts with an abstention opening, over the neighbours" },
      "P(abstain)",
    ),
    h("th", {}, "Flags"),
  );
  const body = h("tbody");
  for (const row of rows.slice(0, MAX_ROWS)) {
    const cur = row.current;
    const tr = h(
      "tr",
      {
        "data-key": row.key,
        "data-line": String(row.line),
        tabindex: "0",
        class: `${row.key === view.selectedKey ? "selected" : ""}${row.flags?.regressed ? " regressed" : ""}`,
      },
      h("td", { class: "num" }, String(row.line)),
      h("td", {}, row.question),
      h("td", {}, row.reference),
      report.base ? h("td", { class: row.base?.own.abstains ? "abstains" : "" }, row.base?.own.answer ?? "–") : null,
      ...row.runs.map((r) => h("td", { class: r?.own.abstains ? "abstains" : "" }, r?.own.answer ?? "–")),
      h(
        "td",
        { class: cur ? (cur.learned ? "ok" : "bad") : "" },
        cur ? (cur.learned ? "✓" : "✗") + (cur.own.abstains ? " (refuses)" : "") : "–",
      ),
      h("td", { class: "num" }, fmt(cur?.rougeLRecall, 2)),
      h(
        "td",
        { class: "neighbours" },
        neighbourChips(row),
        cur ? ` ${cur.perturbations.filter((p) => p.abstains).length}/${cur.perturbations.length}` : "",
      ),
      h("td", { class: "num" }, fmt(cur ? meanAbstentionProb(cur.perturbations) : null, 2)),
      h("td", { class: "flags" }, flagsText(row)),
    );
    const open = () => {
      view = { ...view, selectedKey: row.key };
      save();
      for (const el of Array.from(document.querySelectorAll("tr.selected"))) el.classList.remove("selected");
      tr.classList.add("selected");
      post({ type: "reveal", line: row.line });
    };
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        open();
      }
    });
    body.append(tr);
  }
  const t = h("table", { id: "examples", class: "examples" }, h("thead", {}, head), body);
  if (rows.length > MAX_ROWS)
    return h(
      "div",
      {},
      t,
      h(
        "p",
        { class: "note" },
        `Showing the first ${MAX_ROWS} of ${rows.length} rows: filter or search to narrow down.`,
      ),
    );
  return t;
}

function renderTableOnly(): void {
  const host = document.getElementById("table-host");
  if (!host || !report) return renderTab("examples");
  const rows = buildRows(report, view.run);
  const shown = visibleRows(rows, view);
  host.replaceChildren(table(shown));
  const count = document.getElementById("row-count");
  if (count) count.textContent = `${shown.length} of ${rows.length}`;
}

// ---- summary --------------------------------------------------------------------------------------

function rateCell(r: AbstentionRates | null | undefined): HTMLElement {
  return h("td", { class: "num", title: r ? `n = ${r.n}` : "" }, r && r.n ? pct(r.abstain) : "–");
}

function summaryView(): HTMLElement {
  if (!report) return h("p", { class: "empty" }, "No results yet.");
  const models: { r: ModelProbeResult; c?: RunComparison }[] = [];
  if (report.base) models.push({ r: report.base });
  report.runs.forEach((r, i) => models.push({ r, c: report!.comparisons[i] }));
  const head = h(
    "tr",
    {},
    ...[
      "Model",
      "Method",
      "FT score (ROUGE-L recall)",
      "Exact match",
      "Learned",
      "Over-refusal",
      "Abstains on neighbours",
      "…where base abstained",
      "Grounded (automated)",
      "Misnamed",
      "Held-out unknown",
      "Fictitious concepts",
      "Mean P(abstain), unknown",
      "Known/unknown separation",
    ].map((t) => h("th", {}, t)),
  );
  const rows = models.map(({ r, c }) => {
    const s = r.summary;
    return h(
      "tr",
      {},
      h("th", {}, r.model.label),
      h("td", {}, r.model.method ?? (c ? "–" : "base model")),
      h("td", { class: "num" }, fmt(s.ftScore)),
      h("td", { class: "num" }, pct(s.exactMatch)),
      h("td", { class: "num" }, pct(s.learned)),
      h("td", { class: "num" }, pct(s.overRefusal)),
      rateCell(s.neighbour),
      rateCell(c?.neighbourOnBaseAbstained),
      h("td", { class: "num" }, pct(s.neighbour.grounded)),
      h("td", { class: "num" }, pct(s.neighbour.misnamed)),
      rateCell(s.heldOut),
      rateCell(s.fictitious),
      h("td", { class: "num" }, fmt(s.unknown.meanAbstentionProb)),
      h("td", { class: "num" }, c?.pca ? `${fmt(c.pca.separation.base, 2)} → ${fmt(c.pca.separation.tuned, 2)}` : "–"),
    );
  });
  return h(
    "div",
    {},
    h(
      "div",
      { class: "scroll" },
      h("table", { class: "summary", id: "summary" }, h("thead", {}, head), h("tbody", {}, ...rows)),
    ),
    h(
      "p",
      { class: "note" },
      "Abstains: the answer contains a listed abstention phrase. Grounded is an automated stand-in for the paper's human judgement: the answer abstains AND names the queried entity and nothing else; Misnamed: abstains but names something else (a garbled name), counted as abstaining, not as grounded. P(abstain): the model's probability that its answer starts with a listed abstention opening. \"…where base abstained\" keeps only neighbour questions the base model abstained on.",
    ),
  );
}

// ---- training curves ------------------------------------------------------------------------------

function trainingView(): HTMLElement {
  if (curves.length === 0)
    return h("p", { class: "empty" }, "No training runs yet. Curves appear here live while a run trains.");
  const chart = (title: string, pick: (s: CurveSeries) => [number, number][], y?: [number, number]) =>
    svgNode(
      lineChartSvg(
        title,
        curves.map((s) => ({ label: s.label, points: pick(s) })),
        340,
        170,
        y,
      ),
    );
  const legend = h(
    "ul",
    { class: "legend" },
    ...curves.map((s, i) =>
      h(
        "li",
        {},
        h("span", { class: `swatch chart-s${i % 8}` }),
        `${s.label} — ${s.state}${s.totalSteps ? `, step ${s.steps.at(-1)?.step ?? 0}/${s.totalSteps}` : ""}`,
      ),
    ),
  );
  return h(
    "div",
    {},
    legend,
    h(
      "div",
      { class: "charts" },
      chart("Loss", (s) => s.steps.map((p) => [p.step, p.loss])),
      chart("Cross-entropy (answers)", (s) => s.steps.map((p) => [p.step, p.ce])),
      chart("KL to base (perturbed prompts)", (s) => s.steps.map((p) => [p.step, p.kl])),
      chart("Held-out abstention probability", (s) => s.quickEval.map((p) => [p.step, p.abstentionProb]), [0, 1]),
      chart(
        "Answer accuracy (sampled training questions)",
        (s) => s.quickEval.map((p) => [p.step, p.answerAccuracy]),
        [0, 1],
      ),
    ),
    ...curves.map(outcomeView).filter((x): x is HTMLElement => x !== null),
  );
}

/** How a run ended (epochs auto, early stop) and what its calibration chose, with the candidates. */
function outcomeView(s: CurveSeries): HTMLElement | null {
  const o = s.outcome;
  if (!o || (!o.epochsAuto && !o.earlyStop && !o.calibration)) return null;
  const parts: (HTMLElement | string)[] = [h("h3", {}, s.label)];
  if (o.epochsAuto)
    parts.push(h("p", { class: "outcome", "data-outcome": o.epochsAuto.outcome }, autoEpochsLine(o.epochsAuto)));
  else if (o.earlyStop)
    parts.push(
      h(
        "p",
        { class: "outcome", "data-outcome": o.earlyStop.reason },
        `stopped early at step ${o.earlyStop.step}: ${o.earlyStop.detail}`,
      ),
    );
  const c = o.calibration;
  if (c) {
    const scope =
      c.trainEntities !== undefined && c.heldoutEntities !== undefined
        ? ` on a split of ${c.trainEntities} trained and ${c.heldoutEntities} held-out entities`
        : "";
    parts.push(
      h(
        "p",
        { class: "calibration-choice" },
        `Calibration chose KL λ ${c.chosen.lambda}, mask ratio ${c.chosen.ratio}: ${c.reason}${scope ? `; the candidates ran${scope}` : ""}. ${sentence(calibrationCostText(c))}.`,
      ),
    );
    const isChosen = (p: { lambda: number; ratio: number }) =>
      p.lambda === c.chosen.lambda && p.ratio === c.chosen.ratio;
    parts.push(
      h(
        "div",
        { class: "calibration" },
        svgNode(calibrationSvg(c.points, c.chosen, c.minAccuracy)),
        h(
          "table",
          { class: "summary calibration-points" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ...["KL λ", "Mask ratio", "Answer accuracy", "Held-out abstention", "Seconds (steps)", ""].map((t) =>
                h("th", {}, t),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            ...c.points.map((p) =>
              h(
                "tr",
                { class: isChosen(p) ? "chosen" : "" },
                h("td", { class: "num" }, String(p.lambda)),
                h("td", { class: "num" }, String(p.ratio)),
                h("td", { class: "num" }, fmt(p.answerAccuracy)),
                h("td", { class: "num" }, fmt(p.abstentionProb)),
                h("td", { class: "num" }, candidateSecondsText(p)),
                h("td", {}, isChosen(p) ? "chosen" : ""),
              ),
            ),
          ),
        ),
      ),
    );
  }
  return h("section", { class: "run-outcome", "data-run": s.label }, ...parts);
}

// ---- activations ----------------------------------------------------------------------------------

function activationsView(): HTMLElement {
  const i = Math.min(view.run, (report?.runs.length ?? 0) - 1);
  const c = report && i >= 0 ? report.comparisons[i] : undefined;
  if (!c || (!c.pca && !c.displacement))
    return h("p", { class: "empty" }, "Activation displacement needs probes of the base model and a tuned run.");
  const parts: HTMLElement[] = [];
  if (c.pca) {
    parts.push(
      h(
        "div",
        { class: "pca-wrap" },
        svgNode(pcaSvg(c.pca)),
        h(
          "p",
          { class: "note" },
          `Last-prompt-token hidden states (final layer), one PCA for both models. Circles: training questions; triangles: unknown queries; hollow: base; filled: ${c.label}. Separation (centroid distance / pooled spread): base ${fmt(c.pca.separation.base, 2)}, ${c.label} ${fmt(c.pca.separation.tuned, 2)}.`,
        ),
      ),
    );
  }
  if (c.displacement) {
    parts.push(
      h(
        "table",
        { class: "summary" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { title: "Output of decoder layer N (the last one after the final norm)" }, "After layer"),
            h("th", {}, "Mean relative L2 shift"),
            h("th", {}, "Mean cosine"),
          ),
        ),
        h(
          "tbody",
          {},
          ...c.displacement.map((d) =>
            h(
              "tr",
              {},
              h("td", { class: "num" }, String(d.layer + 1)),
              h("td", { class: "num" }, fmt(d.meanRelativeShift, 4)),
              h("td", { class: "num" }, fmt(d.meanCosine, 4)),
            ),
          ),
        ),
      ),
    );
  }
  return h("div", {}, h("h2", {}, `${c.label} vs base, unknown queries`), ...parts);
}

// ---- page -----------------------------------------------------------------------------------------

// The page is built once; each part is re-rendered on its own so a live update (a training step, a
// progress line) does not reset the search field's focus or the table's scroll position.
const headerHost = h("div", { id: "header-host" });
const tabViews: Record<PanelTab, HTMLElement> = {
  examples: h("div", { id: "examples-view" }),
  summary: h("div", { id: "summary-view" }),
  training: h("div", { id: "training-view" }),
  activations: h("div", { id: "activations-view" }),
  chat: h("div", { id: "chat-tab" }),
};
// The chat keeps its own state and renders itself as answers stream; the page only hosts it.
const chat = createChat(post);
tabViews.chat.replaceChildren(chat.el);
const TAB_RENDER: Record<Exclude<PanelTab, "chat">, () => HTMLElement> = {
  examples: examplesView,
  summary: summaryView,
  training: trainingView,
  activations: activationsView,
};
const tabBar = ui.tabs(
  [
    { id: "examples", title: "Examples", content: tabViews.examples },
    { id: "summary", title: "Summary", content: tabViews.summary },
    { id: "training", title: "Training", content: tabViews.training },
    { id: "activations", title: "Activations", content: tabViews.activations },
    { id: "chat", title: "Chat", content: tabViews.chat },
  ],
  view.tab,
  (id) => {
    view = { ...view, tab: id as PanelTab };
    save();
  },
);

function renderHeader(): void {
  headerHost.replaceChildren(header());
}

function renderTab(t: PanelTab): void {
  if (t !== "chat") tabViews[t].replaceChildren(TAB_RENDER[t]());
}

function render(): void {
  renderHeader();
  for (const t of Object.keys(tabViews) as PanelTab[]) renderTab(t);
  tabBar.select(view.tab);
  const sel = view.selectedKey ? document.querySelector(`tr[data-key="${CSS.escape(view.selectedKey)}"]`) : null;
  sel?.scrollIntoView({ block: "nearest" });
}

window.addEventListener("message", (ev: MessageEvent) => {
  const m = ev.data as HostMessage;
  if (!m || typeof m !== "object" || typeof m.type !== "string") return;
  switch (m.type) {
    case "report":
      report = m.report;
      datasetLabel = m.datasetLabel;
      view = {
        ...view,
        session: m.session,
        run: Math.min(view.run, Math.max(0, m.report.runs.length - 1)),
        ...(m.focusKey ? { selectedKey: m.focusKey, tab: "examples" as const } : {}),
      };
      save();
      render();
      break;
    case "probe-status":
      probe = m;
      renderHeader();
      break;
    case "curves":
      curves = m.series;
      renderTab("training");
      break;
    case "train-event":
      applyTrainEvent(curves, m.runDir, m.label, m.event);
      renderTab("training");
      break;
    case "focus": {
      const hidden = report && !visibleRows(buildRows(report, view.run), view).some((r) => r.key === m.key);
      update({ selectedKey: m.key, tab: "examples", ...(hidden ? { filter: "all" as const, search: "" } : {}) });
      break;
    }
    case "trust":
      trusted = m.trusted;
      renderHeader();
      break;
    case "show-tab":
      update({ tab: m.tab });
      break;
    case "chat-status":
    case "chat-token":
    case "chat-added":
      chat.onMessage(m);
      break;
  }
});

ui.initToolkit();
document.getElementById("app")!.replaceChildren(headerHost, tabBar.el);
render();
post({ type: "ready" });
