// The only module that knows the UI component library (@vscode/webview-ui-toolkit). The rest of the
// panel builds its controls through these factories, so replacing the library (it is archived upstream)
// means rewriting this file only.
import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeProgressRing,
  vsCodeTag,
  vsCodeTextArea,
  vsCodeTextField,
} from "@vscode/webview-ui-toolkit";

export function initToolkit(): void {
  provideVSCodeDesignSystem().register(
    vsCodeBadge(),
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeOption(),
    vsCodePanels(),
    vsCodePanelTab(),
    vsCodePanelView(),
    vsCodeProgressRing(),
    vsCodeTag(),
    vsCodeTextArea(),
    vsCodeTextField(),
  );
}

export function button(
  label: string,
  onClick: () => void,
  opts: { primary?: boolean; title?: string; id?: string } = {},
): HTMLElement {
  const b = document.createElement("vscode-button");
  b.textContent = label;
  b.setAttribute("appearance", opts.primary ? "primary" : "secondary");
  if (opts.title) b.title = opts.title;
  if (opts.id) b.id = opts.id;
  b.addEventListener("click", onClick);
  return b;
}

export function setDisabled(el: HTMLElement, disabled: boolean): void {
  if (disabled) el.setAttribute("disabled", "");
  else el.removeAttribute("disabled");
}

export interface Choice<T extends string> {
  value: T;
  label: string;
}

export function dropdown<T extends string>(
  choices: readonly Choice<T>[],
  value: T,
  onChange: (v: T) => void,
  ariaLabel: string,
  id?: string,
): HTMLElement {
  const d = document.createElement("vscode-dropdown") as HTMLElement & { value: string };
  d.setAttribute("aria-label", ariaLabel);
  if (id) d.id = id;
  for (const c of choices) {
    const o = document.createElement("vscode-option") as HTMLElement & { value: string };
    o.setAttribute("value", c.value);
    o.textContent = c.label;
    if (c.value === value) o.setAttribute("selected", "");
    d.appendChild(o);
  }
  d.addEventListener("change", () => {
    const v = choices.find((c) => c.value === d.value);
    if (v) onChange(v.value);
  });
  return d;
}

export function textField(
  placeholder: string,
  value: string,
  onInput: (v: string) => void,
  ariaLabel: string,
  id?: string,
): HTMLElement {
  const t = document.createElement("vscode-text-field") as HTMLElement & { value: string };
  t.setAttribute("placeholder", placeholder);
  t.setAttribute("aria-label", ariaLabel);
  t.setAttribute("value", value);
  if (id) t.id = id;
  t.addEventListener("input", () => onInput(t.value));
  return t;
}

/** A value the user edits and then commits: `onInput` on every keystroke, `onCommit` when it changes (blur). */
export interface EditableOptions {
  id?: string;
  ariaLabel: string;
  onInput?: (v: string) => void;
  onCommit: (v: string) => void;
}

/** A multi-line text box (grows with its rows). */
export function textArea(value: string, rows: number, opts: EditableOptions): HTMLElement & { value: string } {
  const t = document.createElement("vscode-text-area") as HTMLElement & { value: string };
  t.setAttribute("aria-label", opts.ariaLabel);
  t.setAttribute("rows", String(rows));
  t.setAttribute("resize", "vertical");
  t.value = value;
  if (opts.id) t.id = opts.id;
  t.addEventListener("input", () => opts.onInput?.(t.value));
  t.addEventListener("change", () => opts.onCommit(t.value));
  return t;
}

/** A one-line text box whose value is committed on change (blur) or Enter. */
export function entryField(placeholder: string, opts: EditableOptions): HTMLElement & { value: string } {
  const t = document.createElement("vscode-text-field") as HTMLElement & { value: string };
  t.setAttribute("placeholder", placeholder);
  t.setAttribute("aria-label", opts.ariaLabel);
  if (opts.id) t.id = opts.id;
  t.addEventListener("input", () => opts.onInput?.(t.value));
  t.addEventListener("keydown", (e) => {
    if ((e as KeyboardEvent).key === "Enter") opts.onCommit(t.value);
  });
  return t;
}

export function checkbox(label: string, checked: boolean, onChange: (v: boolean) => void, id?: string): HTMLElement {
  const c = document.createElement("vscode-checkbox") as HTMLElement & { checked: boolean };
  c.textContent = label;
  if (checked) c.setAttribute("checked", "");
  if (id) c.id = id;
  c.addEventListener("change", () => onChange(c.checked));
  return c;
}

export function progressRing(): HTMLElement {
  return document.createElement("vscode-progress-ring");
}

export function tag(text: string, title?: string): HTMLElement {
  const t = document.createElement("vscode-tag");
  t.textContent = text;
  if (title) t.title = title;
  return t;
}

export function badge(text: string): HTMLElement {
  const b = document.createElement("vscode-badge");
  b.textContent = text;
  return b;
}

export function divider(): HTMLElement {
  return document.createElement("vscode-divider");
}

/** Tabs; returns the container and a function that selects a tab by id. */
export function tabs(
  items: readonly { id: string; title: string; content: HTMLElement }[],
  active: string,
  onSelect: (id: string) => void,
): { el: HTMLElement; select(id: string): void } {
  const p = document.createElement("vscode-panels") as HTMLElement & { activeid: string };
  for (const it of items) {
    const t = document.createElement("vscode-panel-tab");
    t.id = `tab-${it.id}`;
    t.textContent = it.title;
    p.appendChild(t);
  }
  for (const it of items) {
    const v = document.createElement("vscode-panel-view");
    v.id = `view-${it.id}`;
    v.appendChild(it.content);
    p.appendChild(v);
  }
  p.setAttribute("activeid", `tab-${active}`);
  p.addEventListener("change", () => {
    const id = (p.activeid ?? "").replace(/^tab-/, "");
    if (items.some((i) => i.id === id)) onSelect(id);
  });
  return { el: p, select: (id) => p.setAttribute("activeid", `tab-${id}`) };
}
