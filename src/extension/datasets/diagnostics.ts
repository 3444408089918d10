// The one adapter between the pure validator and VS Code's Problems: an incremental validator per open
// dataset document kept in step by a DocumentSync (change events move per-line state only; lines are
// read from the document's own strings when checked, never its whole text), debounced re-validation in
// time-boxed slices (the extension host never runs more than SLICE_MS of this work at a stretch), and
// the DiagnosticCollection it owns.
import * as vscode from "vscode";
import { basename } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { FILE_RULES, type Problem } from "../../data/index";
import type { DatasetWorker } from "./datasetWorkerClient";
import { toValidateOptions, type PlainValidateOptions } from "./datasetWorkerProtocol";
import { DocumentSync, problemRange, validateInSlices, type LineSource } from "./model";

export const DIAGNOSTIC_SOURCE = "seat";
const DEBOUNCE_MS = 250;
/** Documents at least this long get their validation time and the host's responsiveness logged. */
const BIG_DOCUMENT_LINES = 100_000;

/** A document is validated when it is JSON Lines (by language or extension). */
export function isDatasetDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === "jsonl" || /\.jsonl$/i.test(doc.fileName);
}

function severity(p: Problem): vscode.DiagnosticSeverity {
  return p.severity === "error"
    ? vscode.DiagnosticSeverity.Error
    : p.severity === "warning"
      ? vscode.DiagnosticSeverity.Warning
      : vscode.DiagnosticSeverity.Information;
}

export function toDiagnostic(uri: vscode.Uri, p: Problem): vscode.Diagnostic {
  const [l, c, el, ec] = problemRange(p);
  const d = new vscode.Diagnostic(new vscode.Range(l, c, el, ec), p.message, severity(p));
  d.source = DIAGNOSTIC_SOURCE;
  d.code = p.code;
  if (p.related)
    d.relatedInformation = [
      new vscode.DiagnosticRelatedInformation(
        new vscode.Location(uri, new vscode.Position(p.related.line - 1, 0)),
        p.related.message,
      ),
    ];
  return d;
}

interface Tracked {
  sync: DocumentSync;
  timer?: ReturnType<typeof setTimeout>;
  /** Bumped on every change so a validation started for older text stops. */
  generation: number;
  closed: boolean;
}

/** The document's lines as the validator reads them: the editor's own line strings, no copies. */
function lineSource(doc: vscode.TextDocument): LineSource {
  return {
    get lineCount() {
      return doc.lineCount;
    },
    lineText: (i) => doc.lineAt(i).text,
  };
}

/**
 * On a big document, how long validation took and how responsive the extension host stayed meanwhile:
 * its event loop as a whole (the editor's own work on its thread counts too) and this validation's own
 * longest stretch of work, for the log.
 */
class BigDocumentRun {
  private readonly t0 = performance.now();
  private readonly delay = monitorEventLoopDelay({ resolution: 1 });
  readonly stretches = { longestStretchMs: 0, lastStretchMs: 0 };
  constructor(readonly name: string) {
    this.delay.enable();
  }
  stop(): void {
    this.delay.disable();
  }
  /** The log line; `publishMs`: publishing, which runs on in the validation's last stretch. */
  finish(lines: number, problems: number, publishMs: number): string {
    this.stop();
    const own = Math.max(this.stretches.longestStretchMs, this.stretches.lastStretchMs + publishMs);
    const ms = (ns: number) => (ns / 1e6).toFixed(1);
    return `validated ${this.name} (${lines} lines) in ${((performance.now() - this.t0) / 1000).toFixed(1)} s: ${problems} problems; extension host event loop meanwhile: longest delay ${ms(this.delay.max)} ms, p99 ${ms(this.delay.percentile(99))} ms; longest stretch of this validation's own work ${own.toFixed(1)} ms`;
  }
}

/** A status-bar progress item for work that reports (done, total) and ends with end(). */
function statusBarProgress(title: string): { report: (done: number, total: number) => void; end: () => void } {
  let end = () => {};
  let report = (_done: number, _total: number) => {};
  const ended = new Promise<void>((resolve) => {
    end = resolve;
  });
  void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, (progress) => {
    let shown = 0;
    report = (done, total) => {
      const pct = Math.floor((100 * done) / total);
      if (pct > shown) progress.report({ message: `${pct}%`, increment: pct - shown });
      shown = pct;
    };
    return ended;
  });
  return { report: (done, total) => report(done, total), end: () => end() };
}

export class DatasetDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection("seat-datasets");
  /** The Problem behind each published diagnostic, for quick fixes. */
  private readonly problemOf = new WeakMap<vscode.Diagnostic, Problem>();
  private readonly docs = new Map<string, Tracked>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private workerFailed = false;
  /** Fires after a document's diagnostics were republished. */
  readonly onDidUpdate = this.changed.event;

  /**
   * `options`: validation options as plain data (they travel to the worker). `worker`: checks lines
   * off the host thread; without one (or after it fails) lines are checked here in slices.
   */
  constructor(
    private readonly options: () => PlainValidateOptions,
    private readonly worker?: DatasetWorker,
    private readonly log: (m: string) => void = () => {},
  ) {
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
      t = { sync: new DocumentSync(toValidateOptions(this.options()), lineSource(doc)), generation: 0, closed: false };
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
    // Only per-line state moves here (native copies, whatever the size of the change); the changed
    // lines are read and checked by the next run's time-boxed slices.
    t.sync.change(
      e.contentChanges.map((c) => ({
        startLine: c.range.start.line,
        startCharacter: c.range.start.character,
        endLine: c.range.end.line,
        endCharacter: c.range.end.character,
        text: c.text,
      })),
      e.document.lineCount,
    );
    this.schedule(e.document, t, DEBOUNCE_MS);
  }

  private schedule(doc: vscode.TextDocument, t: Tracked, delay: number) {
    clearTimeout(t.timer);
    t.generation++;
    t.timer = setTimeout(() => void this.run(doc, t), delay);
  }

  private async run(doc: vscode.TextDocument, t: Tracked): Promise<Problem[]> {
    const gen = ++t.generation;
    const big = doc.lineCount >= BIG_DOCUMENT_LINES ? new BigDocumentRun(basename(doc.uri.fsPath)) : undefined;
    // A long validation shows in the status bar (it ends with the run, whether it finishes or a newer run takes over).
    const progress =
      big && t.sync.validator.pendingLines >= BIG_DOCUMENT_LINES
        ? statusBarProgress(`SEAT: validating ${big.name}`)
        : undefined;
    const problems = await validateInSlices(
      t.sync.validator,
      () => gen === t.generation && !t.closed,
      this.worker && !this.workerFailed
        ? {
            service: this.worker,
            options: this.options(),
            onError: (e) => {
              // Checked on the host from now on (in slices); the reason goes to the log once.
              this.workerFailed = true;
              this.log(`dataset worker unavailable, validating on the extension host: ${e.message}`);
            },
          }
        : undefined,
      big?.stretches,
      progress?.report,
    ).finally(() => progress?.end());
    if (!problems) {
      big?.stop();
      return [];
    }
    const published = performance.now();
    if (doc.eol === vscode.EndOfLine.CRLF) {
      const n = Math.max(0, doc.lineCount - 1);
      const len = doc.lineAt(0).text.length;
      // The editor's text has no "\r" (it keeps the EOL apart): a zero-width range at line 1's end.
      problems.unshift(FILE_RULES.crlf(1, len, n, 0));
    }
    // The editor decodes UTF-16 itself, so the lines check clean; the file on disk is what training
    // and every other JSONL tool read.
    if (/^utf16/.test(doc.encoding)) {
      problems.unshift({
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        severity: "error",
        code: "utf16",
        message: `this file is UTF-16 (${doc.encoding === "utf16be" ? "big" : "little"}-endian) text, not UTF-8: a JSONL dataset is UTF-8; use the quick fix "Convert to UTF-8" (it writes a UTF-8 copy next to it)`,
        fix: { title: "Convert to UTF-8 (new file)", file: "utf8-copy" },
      });
    }
    this.publish(doc.uri, problems);
    if (big) this.log(big.finish(doc.lineCount, problems.length, performance.now() - published));
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

  provideCodeActions(
    doc: vscode.TextDocument,
    _range: vscode.Range,
    ctx: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics) {
      if (d.source !== DIAGNOSTIC_SOURCE) continue;
      const p = this.diagnostics.problemFor(d);
      if (!p?.fix) continue;
      const edit = new vscode.WorkspaceEdit();
      if (p.fix.file === "eol-lf") edit.set(doc.uri, [vscode.TextEdit.setEndOfLine(vscode.EndOfLine.LF)]);
      else if (p.fix.file === "utf8-copy") {
        // A new file (undoable, the original untouched): the editor's text, encoded as UTF-8 without a BOM.
        const target = doc.uri.with({ path: doc.uri.path.replace(/(\.jsonl)?$/i, ".utf8.jsonl") });
        edit.createFile(target, {
          contents: new TextEncoder().encode(doc.getText().replace(/^\uFEFF/, "")),
          ignoreIfExists: false,
        });
      } else if (p.fix.edits?.length && !p.fix.file) {
        for (const e of p.fix.edits)
          edit.replace(doc.uri, new vscode.Range(e.line - 1, e.column - 1, e.endLine - 1, e.endColumn - 1), e.newText);
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
