// The one adapter between the pure validator and VS Code's Problems: an incremental validator per open
// dataset document kept in step by a DocumentSync (loading and big changes in steps, read from the
// document's lines, never its whole text), debounced re-validation, all in time-boxed slices (the
// extension host never runs more than SLICE_MS of this work at a stretch), and the DiagnosticCollection
// it owns.
import * as vscode from "vscode";
import { IncrementalValidator, type Problem, type ValidateOptions } from "../../data/index";
import { DocumentSync, problemRange, type LineSource } from "./model";

export const DIAGNOSTIC_SOURCE = "seat";
const DEBOUNCE_MS = 250;
const SLICE_MS = 15;

/** A document is validated when it is JSON Lines (by language or extension). */
export function isDatasetDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === "jsonl" || /\.jsonl$/i.test(doc.fileName);
}

function severity(p: Problem): vscode.DiagnosticSeverity {
  return p.severity === "error" ? vscode.DiagnosticSeverity.Error : p.severity === "warning" ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
}

export function toDiagnostic(uri: vscode.Uri, p: Problem): vscode.Diagnostic {
  const [l, c, el, ec] = problemRange(p);
  const d = new vscode.Diagnostic(new vscode.Range(l, c, el, ec), p.message, severity(p));
  d.source = DIAGNOSTIC_SOURCE;
  d.code = p.code;
  if (p.related) d.relatedInformation = [new vscode.DiagnosticRelatedInformation(new vscode.Location(uri, new vscode.Position(p.related.line - 1, 0)), p.related.message)];
  return d;
}

interface Tracked {
  sync: DocumentSync;
  /** The loop driving sync.steps() in slices, while one runs (runs and validateNow share it). */
  pumping?: Promise<void>;
  timer?: ReturnType<typeof setTimeout>;
  /** Bumped on every change so a validation started for older text stops. */
  generation: number;
  closed: boolean;
}

/** A document's lines a range at a time: one string per range, split at the document's line break. */
function lineSource(doc: vscode.TextDocument): LineSource {
  return {
    get lineCount() { return doc.lineCount; },
    lines(start, end) {
      if (end <= start) return [];
      const text = doc.getText(new vscode.Range(start, 0, end - 1, doc.lineAt(end - 1).text.length));
      return text.split(doc.eol === vscode.EndOfLine.CRLF ? "\r\n" : "\n");
    },
  };
}

/** Gives the event loop back (a macrotask, so I/O and timers run in between). */
const yieldToHost = () => new Promise<void>((done) => setImmediate(done));

export class DatasetDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection("seat-datasets");
  /** The Problem behind each published diagnostic, for quick fixes. */
  private readonly problemOf = new WeakMap<vscode.Diagnostic, Problem>();
  private readonly docs = new Map<string, Tracked>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  /** Fires after a document's diagnostics were republished. */
  readonly onDidUpdate = this.changed.event;

  constructor(private readonly options: () => ValidateOptions) {
    this.disposables.push(
      this.collection,
      this.changed,
      vscode.workspace.onDidOpenTextDocument((d) => this.open(d)),
      vscode.workspace.onDidCloseTextDocument((d) => this.close(d)),
      vscode.workspace.onDidChangeTextDocument((e) => this.change(e)),
    );
    for (const d of vscode.workspace.textDocuments) this.open(d);
  }

  problemFor(d: vscode.Diagnostic): Problem | undefined {
    return this.problemOf.get(d);
  }

  /** Validates now (no debounce) and resolves when the diagnostics are published. */
  async validateNow(doc: vscode.TextDocument): Promise<Problem[]> {
    const t = this.track(doc);
    clearTimeout(t.timer);
    return this.run(doc, t);
  }

  private open(doc: vscode.TextDocument) {
    if (!isDatasetDocument(doc)) return;
    const t = this.track(doc);
    this.schedule(doc, t, 0);
  }

  private track(doc: vscode.TextDocument): Tracked {
    const key = doc.uri.toString();
    let t = this.docs.get(key);
    if (!t) {
      t = { sync: new DocumentSync(new IncrementalValidator(this.options()), lineSource(doc)), generation: 0, closed: false };
      this.docs.set(key, t);
    }
    return t;
  }

  private close(doc: vscode.TextDocument) {
    const key = doc.uri.toString();
    const t = this.docs.get(key);
    if (!t) return;
    clearTimeout(t.timer);
    t.generation++;
    t.closed = true;
    this.docs.delete(key);
    // Problems of closed files stay listed only when they came from an explicit "Validate Dataset".
    this.collection.delete(doc.uri);
  }

  private change(e: vscode.TextDocumentChangeEvent) {
    const t = this.docs.get(e.document.uri.toString());
    if (!t || e.contentChanges.length === 0) return;
    // Small changes are applied here and now; big ones are queued and applied in slices by pump().
    t.sync.change(e.contentChanges.map((c) => ({
      startLine: c.range.start.line, startCharacter: c.range.start.character, endLine: c.range.end.line, endCharacter: c.range.end.character, text: c.text,
    })), e.document.lineCount);
    this.schedule(e.document, t, DEBOUNCE_MS);
  }

  private schedule(doc: vscode.TextDocument, t: Tracked, delay: number) {
    clearTimeout(t.timer);
    t.generation++;
    t.timer = setTimeout(() => void this.run(doc, t), delay);
  }

  /**
   * Brings the validator up to date with the document in time-boxed slices. Not cancelled by new
   * changes (they join its queue), so typing during a big load or paste cannot starve it.
   */
  private pump(t: Tracked): Promise<void> {
    if (!t.sync.busy) return Promise.resolve();
    t.pumping ??= (async () => {
      try {
        const steps = t.sync.steps();
        let t0 = performance.now();
        while (!t.closed && !steps.next().done) {
          if (performance.now() - t0 > SLICE_MS) {
            await yieldToHost();
            t0 = performance.now();
          }
        }
      } finally {
        t.pumping = undefined;
      }
    })();
    return t.pumping;
  }

  private async run(doc: vscode.TextDocument, t: Tracked): Promise<Problem[]> {
    const gen = ++t.generation;
    await this.pump(t);
    if (gen !== t.generation || t.sync.busy) return [];
    // Time-boxed slices with a macrotask between them keep the host responsive on big documents.
    let t0 = performance.now();
    const steps = t.sync.validator.problemSteps();
    let r = steps.next();
    while (!r.done) {
      if (performance.now() - t0 > SLICE_MS) {
        await yieldToHost();
        if (gen !== t.generation) return [];
        t0 = performance.now();
      }
      r = steps.next();
    }
    const problems = r.value;
    if (doc.eol === vscode.EndOfLine.CRLF) {
      const n = Math.max(0, doc.lineCount - 1);
      const len = doc.lineAt(0).text.length;
      problems.unshift({
        line: 1, column: len + 1, endLine: 1, endColumn: len + 1, severity: "warning", code: "crlf",
        message: `Windows line endings (CRLF)${n > 1 ? ` on ${n} lines` : ""}: JSONL tools expect LF`,
        fix: { title: "Convert line endings to LF", file: "eol-lf" },
      });
    }
    this.publish(doc.uri, problems);
    return problems;
  }

  /** Publishes problems for a file (open or not). */
  publish(uri: vscode.Uri, problems: Problem[]) {
    const diags = problems.map((p) => {
      const d = toDiagnostic(uri, p);
      this.problemOf.set(d, p);
      return d;
    });
    this.collection.set(uri, diags);
    this.changed.fire(uri);
  }

  /** Current validator summary of an open document, if tracked. */
  summaryOf(uri: vscode.Uri) {
    const t = this.docs.get(uri.toString());
    // While loading or applying a big change the validator lags behind the document: no summary yet.
    return t && !t.sync.busy ? t.sync.validator.summary() : undefined;
  }

  dispose() {
    for (const t of this.docs.values()) {
      clearTimeout(t.timer);
      t.closed = true;
    }
    this.docs.clear();
    for (const d of this.disposables) d.dispose();
  }
}

/** Quick fixes for problems whose fix is unambiguous (trim, role aliases, blank lines, line endings). */
export class DatasetQuickFixes implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  constructor(private readonly diagnostics: DatasetDiagnostics) {}

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE) continue;
      const p = this.diagnostics.problemFor(d);
      if (!p?.fix) continue;
      const edit = new vscode.WorkspaceEdit();
      if (p.fix.file === "eol-lf") edit.set(doc.uri, [vscode.TextEdit.setEndOfLine(vscode.EndOfLine.LF)]);
      else if (p.fix.edits?.length && !p.fix.file) {
        for (const e of p.fix.edits) edit.replace(doc.uri, new vscode.Range(e.line - 1, e.column - 1, e.endLine - 1, e.endColumn - 1), e.newText);
      } else continue; // a BOM is not part of the editor text: nothing to edit here
      const action = new vscode.CodeAction(p.fix.title, vscode.CodeActionKind.QuickFix);
      action.edit = edit;
      action.diagnostics = [d];
      action.isPreferred = true;
      out.push(action);
    }
    return out;
  }
}
