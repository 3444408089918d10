// CodeLens above each JSONL record: `SEAT: perturb "X" → A · B · C | add all`. Ranges come from a
// cheap line scan (a record line starts with "{"; on long documents only around the visible lines);
// the subject and stand-ins are computed only when VS Code resolves a visible lens, against a dataset
// context built in yielding slices.
import * as vscode from "vscode";
import type { DatasetContext } from "../../entities/index";
import { COMMANDS } from "../commands";
import {
  buildContextCooperatively,
  isRecordLine,
  lensContent,
  lensCount,
  lensWindows,
  SuggestionCache,
  type InsertArgs,
} from "./lensModel";

/** Stand-ins offered per record. Matches `seat perturb`'s default, so the lens and the CLI agree. */
export const LENS_K = 3;
export const LENS_SEED = 0;
/** Wait after the last resolve before asking VS Code to re-provide exact lens counts. */
const REFRESH_DEBOUNCE_MS = 400;
/** Longer documents get lenses only around the visible lines (see lensWindows), refreshed on scroll. */
const ALL_LINES_MAX = 5_000;
const WINDOW_MARGIN = 300;
const SCROLL_DEBOUNCE_MS = 150;
/**
 * The dataset context (entity counts for ranking, names the stand-ins must avoid) of a longer document
 * comes from its first lines: it is rebuilt after every edit, on the extension host.
 */
const CONTEXT_MAX_LINES = 20_000;

class RecordLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly uri: string,
    readonly line: number,
    readonly text: string,
    readonly slot: number,
  ) {
    super(range);
  }
}

interface DocState {
  version: number;
  ctx?: DatasetContext;
  building?: Promise<DatasetContext | undefined>;
  buildingVersion?: number;
}

export function codeLensEnabled(): boolean {
  return vscode.workspace.getConfiguration("seatTuner").get<boolean>("codeLens.enabled", true);
}

export class PerturbationLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  readonly cache = new SuggestionCache();
  private readonly docs = new Map<string, DocState>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private scrollTimer: NodeJS.Timeout | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor() {
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("seatTuner.codeLens.enabled")) this.changed.fire();
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.docs.delete(d.uri.toString())),
      vscode.window.onDidChangeTextEditorVisibleRanges((e) => {
        if (e.textEditor.document.lineCount > ALL_LINES_MAX) this.scheduleScrollRefresh();
      }),
    );
  }

  provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): vscode.CodeLens[] {
    if (!codeLensEnabled()) return [];
    const uri = doc.uri.toString();
    const lenses: vscode.CodeLens[] = [];
    const visible = vscode.window.visibleTextEditors
      .filter((e) => e.document.uri.toString() === uri)
      .flatMap((e) => e.visibleRanges.map((r): [number, number] => [r.start.line, r.end.line + 1]));
    for (const [start, end] of lensWindows(doc.lineCount, visible, ALL_LINES_MAX, WINDOW_MARGIN)) {
      for (let i = start; i < end; i++) {
        if ((i & 1023) === 1023 && token.isCancellationRequested) return [];
        const text = doc.lineAt(i).text;
        if (!isRecordLine(text)) continue;
        const range = new vscode.Range(i, 0, i, 0);
        const n = lensCount(this.cache.peek(text, LENS_K, LENS_SEED), LENS_K);
        for (let slot = 0; slot < n; slot++) lenses.push(new RecordLens(range, uri, i, text, slot));
      }
    }
    return lenses;
  }

  async resolveCodeLens(lens: vscode.CodeLens, token: vscode.CancellationToken): Promise<vscode.CodeLens> {
    if (!(lens instanceof RecordLens)) return lens;
    const known = this.cache.peek(lens.text, LENS_K, LENS_SEED) !== undefined;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === lens.uri);
    const ctx = doc ? await this.contextFor(doc, token) : undefined;
    const s = this.cache.get(lens.text, ctx, LENS_K, LENS_SEED);
    const c = lensContent(s, lens.slot);
    if (c.entries || c.subject) {
      const args: InsertArgs = {
        uri: lens.uri,
        line: lens.line,
        expected: lens.text,
        entries: c.entries ?? [],
        subject: c.subject,
      };
      lens.command = { title: c.title, tooltip: c.tooltip, command: COMMANDS.insertPerturbation, arguments: [args] };
    } else {
      lens.command = { title: c.title, command: "" };
    }
    // The provider guessed the lens count of an unseen line; ask again so the count becomes exact.
    if (!known && lensCount(s, LENS_K) !== lensCount(undefined, LENS_K)) this.scheduleRefresh();
    return lens;
  }

  /** Makes lenses re-resolve (after an insertion the line text changed anyway; this is for settings). */
  refresh(): void {
    this.changed.fire();
  }

  private scheduleScrollRefresh(): void {
    if (this.scrollTimer) clearTimeout(this.scrollTimer);
    this.scrollTimer = setTimeout(() => {
      this.scrollTimer = undefined;
      this.changed.fire();
    }, SCROLL_DEBOUNCE_MS);
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire();
    }, REFRESH_DEBOUNCE_MS);
  }

  /**
   * The dataset context of a document. A context from an older version is served while the new one is
   * built: it only ranks candidates and lists names to avoid, so being a few edits behind is harmless,
   * and waiting for it on every keystroke is not.
   */
  private async contextFor(
    doc: vscode.TextDocument,
    token: vscode.CancellationToken,
  ): Promise<DatasetContext | undefined> {
    const key = doc.uri.toString();
    let st = this.docs.get(key);
    if (!st) this.docs.set(key, (st = { version: -1 }));
    if (st.ctx && st.version === doc.version) return st.ctx;
    if (!st.building || st.buildingVersion !== doc.version) {
      const version = doc.version;
      const state = st;
      state.buildingVersion = version;
      state.building = buildContextCooperatively(
        Math.min(doc.lineCount, CONTEXT_MAX_LINES),
        (i) => doc.lineAt(i).text,
        undefined,
        () => doc.version !== version || doc.isClosed,
      ).then((ctx) => {
        if (ctx && doc.version === version) {
          state.ctx = ctx;
          state.version = version;
        }
        if (state.buildingVersion === version) state.building = undefined;
        return ctx;
      });
    }
    if (st.ctx) return st.ctx;
    const ctx = await st.building;
    return token.isCancellationRequested ? undefined : (ctx ?? st.ctx);
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.scrollTimer) clearTimeout(this.scrollTimer);
    this.changed.dispose();
    for (const d of this.subscriptions) d.dispose();
  }
}
