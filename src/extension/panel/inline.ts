// Probe verdicts inside the dataset editor: a CodeLens above each probed record ("✓ learned · abstains
// 2/3 · P(abst) 0.71", click = open the panel at that record) and a hover with the answers. With
// CodeLens turned off (seatTuner.codeLens.enabled) the verdict is drawn after the line instead.
import * as vscode from "vscode";
import type { ProbeReport } from "../../eval/types";
import { COMMANDS } from "../commands";
import { lineVerdicts, placeVerdicts, type LineVerdict } from "./verdicts";

export interface OpenAtRecordArgs {
  dataset: string;
  key: string;
}

const sameFile = (a: string, b: string) =>
  process.platform === "win32" ? a.toLowerCase() === b.toLowerCase() : a === b;

export class InlineVerdicts implements vscode.CodeLensProvider, vscode.HoverProvider, vscode.Disposable {
  private readonly byDataset = new Map<string, LineVerdict[]>();
  private readonly placements = new WeakMap<
    vscode.TextDocument,
    { version: number; verdicts: LineVerdict[]; placed: Map<number, LineVerdict> }
  >();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    after: { margin: "0 0 0 2em", color: new vscode.ThemeColor("editorCodeLens.foreground") },
  });
  private readonly subs: vscode.Disposable[] = [];

  constructor() {
    const selector: vscode.DocumentSelector = [{ scheme: "file", pattern: "**/*.{jsonl,json}" }, { language: "jsonl" }];
    this.subs.push(
      vscode.languages.registerCodeLensProvider(selector, this),
      vscode.languages.registerHoverProvider(selector, this),
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorate()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (this.byDataset.has(e.document.uri.fsPath)) this.decorate();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("seatTuner.codeLens.enabled")) {
          this.changed.fire();
          this.decorate();
        }
      }),
      this.changed,
      this.decoration,
    );
  }

  private lensesOn(): boolean {
    return vscode.workspace.getConfiguration("seatTuner").get<boolean>("codeLens.enabled", true);
  }

  /** Shows the verdicts of a report on its dataset (replacing earlier ones for that file). */
  setReport(report: ProbeReport): void {
    this.byDataset.set(report.dataset.path, lineVerdicts(report));
    this.changed.fire();
    this.decorate();
  }

  clear(dataset: string): void {
    this.byDataset.delete(dataset);
    this.changed.fire();
    this.decorate();
  }

  /** The verdict placed on `line` (0-based) of the document, if its dataset was probed. */
  verdictAt(doc: vscode.TextDocument, line: number): LineVerdict | undefined {
    return this.placed(doc)?.get(line);
  }

  private placed(doc: vscode.TextDocument): Map<number, LineVerdict> | undefined {
    const key = [...this.byDataset.keys()].find((k) => sameFile(k, doc.uri.fsPath));
    const verdicts = key ? this.byDataset.get(key) : undefined;
    if (!verdicts) return undefined;
    // Placing reads every line: once per document version and report, not on every hover.
    const hit = this.placements.get(doc);
    if (hit && hit.version === doc.version && hit.verdicts === verdicts) return hit.placed;
    const placed = placeVerdicts({ lineCount: doc.lineCount, lineAt: (i) => doc.lineAt(i).text }, verdicts);
    this.placements.set(doc, { version: doc.version, verdicts, placed });
    return placed;
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.lensesOn()) return [];
    const placed = this.placed(doc);
    if (!placed) return [];
    return [...placed].map(
      ([line, v]) =>
        new vscode.CodeLens(new vscode.Range(line, 0, line, 0), {
          title: v.text,
          tooltip: "Open this record in the SEAT probes panel",
          command: COMMANDS.openProbes,
          arguments: [{ dataset: doc.uri.fsPath, key: v.key } satisfies OpenAtRecordArgs],
        }),
    );
  }

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const v = this.placed(doc)?.get(pos.line);
    if (!v) return undefined;
    const md = new vscode.MarkdownString();
    // Answers are model output: appended as text, never interpreted as markdown or HTML.
    v.hover.forEach((line, i) => {
      if (i === 0) md.appendMarkdown("**");
      md.appendText(line);
      md.appendMarkdown(i === 0 ? "**  \n" : "  \n");
    });
    const args = encodeURIComponent(
      JSON.stringify([{ dataset: doc.uri.fsPath, key: v.key } satisfies OpenAtRecordArgs]),
    );
    md.appendMarkdown(`\n[Open in probes panel](command:${COMMANDS.openProbes}?${args})`);
    md.isTrusted = { enabledCommands: [COMMANDS.openProbes] };
    return new vscode.Hover(md);
  }

  private decorate(): void {
    const on = !this.lensesOn();
    for (const ed of vscode.window.visibleTextEditors) {
      const placed = on ? this.placed(ed.document) : undefined;
      ed.setDecorations(
        this.decoration,
        placed
          ? [...placed].map(([line, v]) => ({
              range: new vscode.Range(
                line,
                ed.document.lineAt(line).text.length,
                line,
                ed.document.lineAt(line).text.length,
              ),
              renderOptions: { after: { contentText: v.text } },
            }))
          : [],
      );
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
