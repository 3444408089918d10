// The record editor: a webview view in the SEAT sidebar showing the record under the cursor of the
// active dataset editor as a form. The webview only asks; this host turns each request into ONE
// undoable WorkspaceEdit of that record's line (built by the lossless src/data/recordForm.ts, so every
// untouched byte stays), or into a cursor move. Verifying stand-ins against the base model runs
// `seat perturb --verify` in a child process, like the whole-file command; it is off in Restricted Mode.
import * as vscode from "vscode";
import { basename } from "node:path";
import { applyRecordOp, emptyRecord, recordForm, type ProblemInput } from "../../data/recordForm";
import type { RecordFormat } from "../../data/types";
import { suggestPerturbations, type DatasetContext } from "../../entities/index";
import type {
  RecordHostMessage,
  RecordViewMessage,
  RecordViewState,
  SuggestedPerturbation,
} from "../../protocol/recordView";
import { isDatasetDocument, DIAGNOSTIC_SOURCE } from "../datasets/diagnostics";
import { makeNonce, panelHtml } from "../panel/html";
import { onDidChangeVerdicts, recordVerdict } from "../panel/index";
import { runCli } from "../perturb/cliRun";
import { LENS_K, LENS_SEED } from "../perturb/codeLens";
import { buildContextCooperatively, isRecordLine, viewOfLine, type CliRecordReport } from "../perturb/lensModel";
import type { SeatShell } from "../shell";
import { VIEW } from "../contextValues";

export const RECORD_VIEW_ID = VIEW.record;
/** Documents longer than this get no record count and no whole-file context for suggestions (cost per cursor move). */
const COUNT_MAX_LINES = 50_000;

interface Target {
  doc: vscode.TextDocument;
  line: number;
}

export class RecordView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view?: vscode.WebviewView;
  private lastUri?: string;
  private timer?: ReturnType<typeof setTimeout>;
  private readonly subs: vscode.Disposable[] = [];
  private readonly contexts = new WeakMap<
    vscode.TextDocument,
    { version: number; ctx: Promise<DatasetContext | undefined> }
  >();
  /** Stand-ins checked with the base model, by record text (a changed record is checked again). */
  private readonly verified = new Map<string, SuggestedPerturbation[]>();
  private verifying?: string;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly shell: SeatShell | undefined,
  ) {
    this.subs.push(
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (isDatasetDocument(e.textEditor.document)) this.schedule();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.toString() === this.lastUri) this.schedule();
      }),
      vscode.languages.onDidChangeDiagnostics((e) => {
        if (e.uris.some((u) => u.toString() === this.lastUri)) this.schedule();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.schedule()),
    );
    if (shell) this.subs.push(shell.onDidChangeModel(() => this.schedule()));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const dist = vscode.Uri.joinPath(this.context.extensionUri, "dist");
    view.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    const nonce = makeNonce();
    view.webview.html = panelHtml({
      cspSource: view.webview.cspSource,
      nonce,
      title: "SEAT record",
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, "record.js")).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(dist, "record.css")).toString(),
    });
    view.webview.onDidReceiveMessage(
      (m: RecordViewMessage) => void this.receive(m).catch((e: Error) => this.notice(`SEAT: ${e.message}`)),
    );
    view.onDidChangeVisibility(() => this.schedule());
    this.subs.push(onDidChangeVerdicts(() => this.schedule()));
  }

  /** The dataset editor the form is about: the active one, else the last one that was (still visible). */
  private target(): Target | undefined {
    const active = vscode.window.activeTextEditor;
    const ed =
      active && isDatasetDocument(active.document)
        ? active
        : vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === this.lastUri);
    if (!ed) return undefined;
    this.lastUri = ed.document.uri.toString();
    return { doc: ed.document, line: ed.selection.active.line };
  }

  schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.push(), 60);
  }

  private post(m: RecordHostMessage): void {
    void this.view?.webview.postMessage(m);
  }

  private notice(text: string): void {
    this.post({ type: "notice", text });
  }

  private async push(): Promise<void> {
    if (!this.view?.visible) return;
    const t = this.target();
    if (!t)
      return this.post({
        type: "empty",
        reason: "Open a JSONL dataset and put the cursor on a record to edit it here.",
      });
    const text = t.doc.lineAt(t.line).text;
    if (!isRecordLine(text))
      return this.post({
        type: "empty",
        reason: `Line ${t.line + 1} of ${basename(t.doc.uri.path)} is not a record. Move the cursor to a record, or add one.`,
      });
    this.post({ type: "state", state: await this.state(t, text) });
  }

  private async state(t: Target, text: string): Promise<RecordViewState> {
    const problems: ProblemInput[] = vscode.languages
      .getDiagnostics(t.doc.uri)
      .filter((d) => d.source === DIAGNOSTIC_SOURCE && d.range.start.line === t.line)
      .map((d) => ({
        column: d.range.start.character + 1,
        endColumn: d.range.end.character + 1,
        code: String(d.code ?? ""),
        message: d.message,
        severity:
          d.severity === vscode.DiagnosticSeverity.Error
            ? "error"
            : d.severity === vscode.DiagnosticSeverity.Warning
              ? "warning"
              : "info",
      }));
    const form = recordForm(text, problems);
    const { ordinal, total } = this.position(t);
    const v = viewOfLine(text);
    const suggestion = v
      ? suggestPerturbations(v, 0, { k: LENS_K, seed: LENS_SEED, context: await this.datasetContext(t.doc) })
      : undefined;
    const detected = suggestion
      ? [suggestion.entity?.name, ...suggestion.alternatives.map((a) => a.name)].filter(
          (n): n is string => !!n && !form.storedEntities.includes(n),
        )
      : [];
    const stored = new Set(form.perturbations.map((p) => p.replacement));
    const checked = this.verified.get(text);
    const suggestions = (
      checked ??
      suggestion?.candidates.map((c) => ({ entity: c.entity, replacement: c.replacement, kind: c.kind })) ??
      []
    ).filter((s) => !stored.has(s.replacement));
    const model = this.shell?.selectedModel();
    const trusted = this.shell?.isTrusted() ?? vscode.workspace.isTrusted;
    return {
      file: basename(t.doc.uri.path),
      line: t.line,
      ordinal,
      total,
      expected: text,
      format: form.format,
      fields: form.fields,
      turns: form.turns,
      problems: form.problems,
      entities: { stored: form.storedEntities, detected: [...new Set(detected)] },
      seatProblems: form.seatProblems,
      perturbations: form.perturbations,
      suggestions,
      suggestionNote: suggestions.length
        ? undefined
        : (suggestion?.reason ?? (v ? "no new stand-ins to suggest" : "fix the record's problems to get suggestions")),
      verdict: recordVerdict(t.doc, t.line),
      verifyDisabled: !trusted
        ? "Restricted Mode: checking stand-ins loads the base model, so it is off until you trust this workspace (editing stays on)."
        : !model
          ? "No model selected: pick one in the Models view to check stand-ins."
          : null,
      verifyModel: model?.name,
      verifying: this.verifying === text,
    };
  }

  private position(t: Target): { ordinal: number; total: number } {
    if (t.doc.lineCount > COUNT_MAX_LINES) return { ordinal: 0, total: 0 };
    let ordinal = 0;
    let total = 0;
    for (let i = 0; i < t.doc.lineCount; i++) {
      if (!isRecordLine(t.doc.lineAt(i).text)) continue;
      total++;
      if (i <= t.line) ordinal = total;
    }
    return { ordinal, total };
  }

  private datasetContext(doc: vscode.TextDocument): Promise<DatasetContext | undefined> {
    if (doc.lineCount > COUNT_MAX_LINES) return Promise.resolve(undefined);
    const hit = this.contexts.get(doc);
    if (hit && hit.version === doc.version) return hit.ctx;
    const ctx = buildContextCooperatively(doc.lineCount, (i) => doc.lineAt(i).text);
    this.contexts.set(doc, { version: doc.version, ctx });
    return ctx;
  }

  private async receive(m: RecordViewMessage): Promise<void> {
    if (m.type === "ready") return this.schedule();
    const t = this.target();
    if (!t) return this.notice("SEAT: no dataset editor is open.");
    if (m.type === "edit") {
      if (m.line >= t.doc.lineCount || t.doc.lineAt(m.line).text !== m.expected) {
        this.schedule();
        return this.notice(
          "SEAT: the record changed in the editor meanwhile; the form was refreshed, nothing was changed.",
        );
      }
      const next = applyRecordOp(m.expected, m.op);
      if (next === m.expected) return;
      const edit = new vscode.WorkspaceEdit();
      edit.replace(t.doc.uri, t.doc.lineAt(m.line).range, next);
      if (!(await vscode.workspace.applyEdit(edit)))
        this.notice("SEAT: the editor refused the edit; nothing was changed.");
      return;
    }
    if (m.type === "verify") return this.verify(t);
    return this.recordAction(t, m.action);
  }

  /** The record commands (palette, keys): the same as the form's buttons. */
  async command(action: "add" | "duplicate" | "delete" | "next" | "previous"): Promise<void> {
    const t = this.target();
    if (!t) {
      void vscode.window.showWarningMessage("SEAT: open a JSONL dataset first.");
      return;
    }
    await this.recordAction(t, action);
  }

  private async recordAction(t: Target, action: "add" | "duplicate" | "delete" | "next" | "previous"): Promise<void> {
    const { doc, line } = t;
    const text = doc.lineAt(line).text;
    if (action === "next" || action === "previous") {
      const step = action === "next" ? 1 : -1;
      for (let i = line + step; i >= 0 && i < doc.lineCount; i += step) {
        if (isRecordLine(doc.lineAt(i).text)) return this.moveTo(doc, i);
      }
      return this.notice(`SEAT: no ${action} record.`);
    }
    const edit = new vscode.WorkspaceEdit();
    if (action === "delete") {
      if (!isRecordLine(text)) return this.notice(`SEAT: line ${line + 1} is not a record.`);
      // The line with its line break (the one after it, or before it on the last line).
      const range =
        line + 1 < doc.lineCount
          ? new vscode.Range(line, 0, line + 1, 0)
          : new vscode.Range(
              line > 0 ? doc.lineAt(line - 1).range.end : new vscode.Position(line, 0),
              doc.lineAt(line).range.end,
            );
      edit.delete(doc.uri, range);
      if (!(await vscode.workspace.applyEdit(edit))) return;
      // To the record that took its place, else the one before it.
      let to = Math.min(line, doc.lineCount - 1);
      while (to > 0 && !isRecordLine(doc.lineAt(to).text)) to--;
      await this.moveTo(doc, to);
      return;
    }
    const format = (isRecordLine(text) ? recordForm(text).format : this.nearbyFormat(doc, line)) as RecordFormat | null;
    const newLine = action === "duplicate" ? text : emptyRecord(format);
    if (action === "duplicate" && !isRecordLine(text)) return this.notice(`SEAT: line ${line + 1} is not a record.`);
    const eol = doc.eol === vscode.EndOfLine.CRLF ? "\r\n" : "\n";
    // A blank line takes the new record; otherwise it goes on a new line after the current one.
    if (!text.trim() && action === "add") edit.replace(doc.uri, doc.lineAt(line).range, newLine);
    else edit.insert(doc.uri, doc.lineAt(line).range.end, eol + newLine);
    if (await vscode.workspace.applyEdit(edit))
      await this.moveTo(doc, !text.trim() && action === "add" ? line : line + 1);
  }

  private nearbyFormat(doc: vscode.TextDocument, line: number): RecordFormat | null {
    for (let i = line - 1; i >= 0; i--)
      if (isRecordLine(doc.lineAt(i).text)) return recordForm(doc.lineAt(i).text).format;
    for (let i = line + 1; i < doc.lineCount; i++)
      if (isRecordLine(doc.lineAt(i).text)) return recordForm(doc.lineAt(i).text).format;
    return null;
  }

  private async moveTo(doc: vscode.TextDocument, line: number): Promise<void> {
    const ed = vscode.window.visibleTextEditors.find((e) => e.document === doc);
    const pos = new vscode.Position(line, 0);
    await vscode.window.showTextDocument(doc, {
      viewColumn: ed?.viewColumn,
      preserveFocus: true,
      selection: new vscode.Range(pos, pos),
    });
    this.schedule();
  }

  /** `seat perturb --verify` on this one record, in a child process; the checked stand-ins replace the suggestions. */
  private async verify(t: Target): Promise<void> {
    const text = t.doc.lineAt(t.line).text;
    if (!this.shell?.requireTrust("checking stand-ins with the base model")) return;
    const model = this.shell.selectedModel();
    if (!model) return this.notice("SEAT: no model selected: pick one in the Models view.");
    const cli = this.shell.cliCommand();
    const args = [
      ...cli.args,
      "perturb",
      "-",
      "--json",
      "--k",
      String(LENS_K),
      "--seed",
      String(LENS_SEED),
      "--verify",
      "--model",
      model.path,
    ];
    this.shell.log.info(`record editor: ${cli.command} ${args.join(" ")}`);
    this.verifying = text;
    this.schedule();
    try {
      const res = await vscode.window.withProgress(
        { location: { viewId: RECORD_VIEW_ID }, title: "Checking stand-ins" },
        () => runCli(cli.command, args, { stdin: text + "\n", env: cli.env, onStderrLine: (l) => l.startsWith("{") }),
      );
      if (res.code !== 0)
        throw new Error(
          `checking failed: ${res.stderr.trim().split("\n").slice(-2).join(" ") || `exit code ${res.code}`}`,
        );
      const report = JSON.parse(res.stdout) as { records: CliRecordReport[] };
      const r = report.records[0];
      this.verified.set(
        text,
        (r?.candidates ?? []).map((c) => ({
          entity: r!.entity?.name ?? "",
          replacement: c.replacement,
          kind: c.kind,
          abstention: c.abstention,
        })),
      );
      if (!r?.candidates.length)
        this.notice(`SEAT: ${model.name} knows every stand-in suggested, or none was found; nothing to add.`);
    } finally {
      this.verifying = undefined;
      this.schedule();
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
  }
}
