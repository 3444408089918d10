// The record editor (SEAT sidebar): the record under the cursor as a form. Every control asks the host
// for a change (RecordViewMessage); the host applies it as one undoable edit of the record's line and
// sends the new state back. Talks to the extension only through src/protocol/recordView.ts; builds its
// controls through ./toolkit (the component library) and ./dom (textContent only, never innerHTML).
import "./record.css";
import type {
  FieldProblem,
  RecordHostMessage,
  RecordOp,
  RecordViewMessage,
  RecordViewState,
} from "../src/protocol/recordView";
import { h } from "./dom";
import * as ui from "./toolkit";

interface VsCodeApi {
  postMessage(m: RecordViewMessage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const post = (m: RecordViewMessage) => vscode.postMessage(m);
ui.initToolkit();

const app = document.getElementById("app")!;
let state: RecordViewState | null = null;
/** A state that arrived while a field held uncommitted typing: drawn once the field is committed. */
let pending: RecordHostMessage | null = null;
let dirty = false;
let noticeText = "";

function edit(op: RecordOp): void {
  if (!state) return;
  dirty = false;
  post({ type: "edit", line: state.line, expected: state.expected, op });
}

const record = (action: "add" | "duplicate" | "delete" | "next" | "previous") => post({ type: "record", action });

function problemList(ps: readonly FieldProblem[], id?: string): HTMLElement | null {
  if (!ps.length) return null;
  return h(
    "ul",
    { class: "problems", id, role: "list" },
    ...ps.map((p) => h("li", { class: `problem ${p.severity}` }, `${p.severity}: ${p.message} (column ${p.column})`)),
  );
}

function toolbar(s: RecordViewState | null): HTMLElement {
  const bar = h("div", { class: "toolbar", role: "toolbar", "aria-label": "Record" });
  const nav = [
    ui.button("◀ Previous", () => record("previous"), { id: "prev", title: "Previous record (Alt+Up)" }),
    ui.button("Next ▶", () => record("next"), { id: "next", title: "Next record (Alt+Down)" }),
    ui.button("Add", () => record("add"), { id: "add", title: "Add an empty record after this one" }),
    ui.button("Duplicate", () => record("duplicate"), { id: "duplicate", title: "Copy this record to the next line" }),
    ui.button("Delete", () => record("delete"), { id: "delete", title: "Delete this record (undo restores it)" }),
  ];
  if (!s) for (const b of [nav[0], nav[1], nav[3], nav[4]]) ui.setDisabled(b, true);
  bar.append(...nav);
  return bar;
}

function fieldRow(
  label: string,
  value: string,
  id: string,
  problems: readonly FieldProblem[],
  commit: (v: string) => void,
): HTMLElement {
  const rows = Math.min(8, Math.max(2, Math.ceil(value.length / 40)));
  const area = ui.textArea(value, rows, {
    id,
    ariaLabel: label,
    onInput: () => {
      dirty = true;
    },
    onCommit: (v) => {
      if (v !== value) commit(v);
      else dirty = false;
      flushPending();
    },
  });
  return h(
    "div",
    { class: `field${problems.length ? " has-problem" : ""}` },
    h("label", { for: id }, label),
    area,
    problemList(problems, `${id}-problems`),
  );
}

function turnsSection(s: RecordViewState): HTMLElement | null {
  const t = s.turns;
  if (!t) return null;
  const box = h("section", { "aria-label": "Turns" }, h("h2", {}, `Turns (${t.items.length})`));
  t.items.forEach((turn, i) => {
    const roles = t.roles.includes(turn.role) || !turn.role ? t.roles : [turn.role, ...t.roles];
    const role = ui.dropdown(
      roles.map((r) => ({ value: r, label: r })),
      turn.role || t.roles[1],
      (r) => edit({ kind: "set", path: [t.arrayKey, i, t.roleKey], value: r }),
      `Role of turn ${i + 1}`,
      `turn-${i}-role`,
    );
    const actions = h(
      "div",
      { class: "turn-actions" },
      ui.button("↑", () => edit({ kind: "move-turn", from: i, to: i - 1 }), {
        id: `turn-${i}-up`,
        title: `Move turn ${i + 1} up`,
      }),
      ui.button("↓", () => edit({ kind: "move-turn", from: i, to: i + 1 }), {
        id: `turn-${i}-down`,
        title: `Move turn ${i + 1} down`,
      }),
      ui.button("✕", () => edit({ kind: "remove-turn", index: i }), {
        id: `turn-${i}-remove`,
        title: `Remove turn ${i + 1}`,
      }),
    );
    for (const b of Array.from(actions.children)) b.setAttribute("aria-label", (b as HTMLElement).title);
    if (i === 0) ui.setDisabled(actions.children[0] as HTMLElement, true);
    if (i === t.items.length - 1) ui.setDisabled(actions.children[1] as HTMLElement, true);
    const content = fieldRow(`Turn ${i + 1} ${t.contentKey}`, turn.content, `turn-${i}-content`, turn.problems, (v) =>
      edit({ kind: "set", path: [t.arrayKey, i, t.contentKey], value: v }),
    );
    box.append(
      h("div", { class: "turn", "data-turn": String(i) }, h("div", { class: "turn-head" }, role, actions), content),
    );
  });
  box.append(ui.button("Add turn", () => edit({ kind: "add-turn" }), { id: "add-turn" }));
  return box;
}

function seatSection(s: RecordViewState): HTMLElement {
  const box = h("section", { "aria-label": "SEAT" }, h("h2", {}, "Subject and stand-ins"));
  const stored = s.entities.stored;
  box.append(
    h(
      "div",
      { class: "entities", id: "entities" },
      h("span", { class: "muted" }, stored.length ? "Subject (stored): " : "Subject: none stored"),
      ...stored.map((e) => ui.tag(e, "stored in seat.entities")),
    ),
    problemList(s.seatProblems, "seat-problems") ?? "",
  );
  if (s.entities.detected.length) {
    box.append(
      h(
        "div",
        { class: "entities detected" },
        h("span", { class: "muted" }, "Detected: "),
        ...s.entities.detected.map((e) =>
          ui.button(`Use "${e}"`, () => edit({ kind: "set-entities", names: [e] }), {
            title: `Store "${e}" as the subject in seat.entities`,
          }),
        ),
      ),
    );
  }
  const subject = stored[0] ?? s.entities.detected[0] ?? "";
  const list = h("ul", { class: "perturbations", id: "perturbations", "aria-label": "Stored perturbations" });
  s.perturbations.forEach((p, i) => {
    const label = p.entity ? `${p.entity} → ${p.replacement}` : `${p.replacement || "(empty)"} (not a valid entry)`;
    list.append(
      h(
        "li",
        {},
        h("span", {}, `${label}${p.abstention !== undefined ? ` (base abstains ${p.abstention.toFixed(2)})` : ""}`),
        ui.button("Remove", () => edit({ kind: "remove-perturbation", index: i }), {
          id: `pert-${i}-remove`,
          title: `Remove the stand-in "${p.replacement}"`,
        }),
      ),
      problemList(p.problems ?? [], `pert-${i}-problems`) ?? "",
    );
  });
  box.append(h("h3", {}, `Stored perturbations (${s.perturbations.length})`), list);
  const field = ui.entryField(subject ? `stand-in for "${subject}"` : "stand-in name", {
    id: "new-perturbation",
    ariaLabel: "New stand-in name",
    onCommit: (v) => {
      if (v.trim() && subject) edit({ kind: "add-perturbation", entity: subject, replacement: v.trim() });
    },
  });
  const add = ui.button(
    "Add",
    () => {
      const v = field.value.trim();
      if (v && subject) edit({ kind: "add-perturbation", entity: subject, replacement: v });
    },
    { id: "add-perturbation", title: "Add this stand-in to seat.perturbations" },
  );
  if (!subject) ui.setDisabled(add, true);
  box.append(h("div", { class: "add-row" }, field, add));
  const sug = h("ul", { class: "suggestions", id: "suggestions", "aria-label": "Suggested stand-ins" });
  s.suggestions.forEach((p, i) => {
    sug.append(
      h(
        "li",
        {},
        h(
          "span",
          {},
          `${p.entity} → ${p.replacement}${p.abstention !== undefined ? ` · base abstains ${p.abstention.toFixed(2)}` : ""}`,
        ),
        ui.button(
          "Accept",
          () =>
            edit({
              kind: "add-perturbation",
              entity: p.entity,
              replacement: p.replacement,
              kindOf: p.kind,
              ...(p.abstention !== undefined ? { abstention: Math.round(p.abstention * 1000) / 1000 } : {}),
            }),
          { id: `sug-${i}-accept`, title: `Add "${p.replacement}"` },
        ),
      ),
    );
  });
  box.append(
    h("h3", {}, "Suggestions"),
    s.suggestions.length ? sug : h("p", { class: "muted" }, s.suggestionNote ?? "none"),
  );
  const verify = ui.button(
    s.verifying ? "Checking…" : s.verifyModel ? `Check with ${s.verifyModel}` : "Check with the base model",
    () => post({ type: "verify" }),
    { id: "verify", title: "Run the base model on each stand-in: keep those it does not know" },
  );
  if (s.verifyDisabled || s.verifying) ui.setDisabled(verify, true);
  box.append(
    h(
      "div",
      { class: "verify" },
      verify,
      s.verifyDisabled ? h("p", { class: "muted", id: "verify-reason" }, s.verifyDisabled) : null,
    ),
  );
  return box;
}

function render(m: RecordHostMessage): void {
  if (m.type === "notice") {
    noticeText = m.text;
    const n = document.getElementById("notice");
    if (n) n.textContent = noticeText;
    return;
  }
  // Keep the field the user is typing in focused across a re-render, but only while this view has the
  // focus: activeElement outlives a blur, and focusing it then would pull the focus out of whatever the
  // user is doing elsewhere (a quick pick closes when it loses focus).
  const focused = document.hasFocus() ? document.activeElement?.id : undefined;
  app.replaceChildren();
  const notice = h("p", { id: "notice", role: "status", class: "notice" }, noticeText);
  if (m.type === "empty") {
    state = null;
    app.append(toolbar(null), notice, h("p", { class: "muted", id: "empty" }, m.reason));
    return;
  }
  const s = m.state;
  if (state && (state.line !== s.line || state.file !== s.file)) noticeText = notice.textContent = "";
  state = s;
  const where = s.total ? `record ${s.ordinal} of ${s.total} · line ${s.line + 1}` : `line ${s.line + 1}`;
  app.append(
    toolbar(s),
    h(
      "header",
      {},
      h("span", { class: "file" }, s.file),
      h("span", { class: "muted", id: "where" }, where),
      h("span", { class: "format", id: "format" }, s.format ?? "unknown format"),
    ),
    notice,
    s.verdict
      ? h(
          "div",
          { class: "verdict", id: "verdict", title: s.verdict.details.join("\n") },
          `Latest probe: ${s.verdict.text}`,
        )
      : "",
    problemList(s.problems, "record-problems") ?? "",
    h(
      "section",
      { "aria-label": "Fields", id: "fields" },
      ...s.fields.map((f) =>
        fieldRow(f.label + (f.present ? "" : " (absent)"), f.value, `field-${f.label}`, f.problems, (v) =>
          edit({ kind: "set", path: f.path, value: v }),
        ),
      ),
    ),
    turnsSection(s) ?? "",
    seatSection(s),
  );
  if (focused) document.getElementById(focused)?.focus();
}

function flushPending(): void {
  if (!dirty && pending) {
    const p = pending;
    pending = null;
    render(p);
  }
}

window.addEventListener("message", (e: MessageEvent<RecordHostMessage>) => {
  const m = e.data;
  if (m.type !== "notice" && dirty) {
    pending = m;
    return;
  }
  render(m);
});

// Alt+Up / Alt+Down: previous / next record from anywhere in the form.
window.addEventListener("keydown", (e) => {
  if (!e.altKey || (e.key !== "ArrowDown" && e.key !== "ArrowUp")) return;
  e.preventDefault();
  record(e.key === "ArrowDown" ? "next" : "previous");
});

post({ type: "ready" });
