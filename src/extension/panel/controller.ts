// The probes panel's host side: one panel at a time, its session (dataset, base model, runs), the probe
// child process (progress, cancel), report export, live curves, reveal-on-click, and restore after a
// reload. Every message from the webview is validated; every path from outside is confined.
import * as vscode from "vscode";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ProbeReport } from "../../eval/types";
import { reportToCsv, reportToHtml, reportToJson, seriesFromEvents } from "../../presentation/index";
import { parseEventLog, type TrainEvent } from "../../protocol/events";
import {
  validatePanelViewState,
  validateWebviewMessage,
  type CurveSeries,
  type ExportFormat,
  type HostMessage,
  type PanelSession,
  type WebviewMessage,
} from "../../presentation/webview";
import type { SeatShell, RunSummary } from "../shell";
import { makeNonce, panelHtml } from "./html";
import type { InlineVerdicts, OpenAtRecordArgs } from "./inline";
import { confinePath } from "./paths";
import { probeArgs, runProbeProcess, ProbeProcessError } from "./probeProcess";
import { ChatHost } from "./chat";

export const VIEW_TYPE = "seat.probes";
const EVENTS_FILE = "events.jsonl";

export class ProbesController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private session: PanelSession | undefined;
  private report: ProbeReport | undefined;
  private running: AbortController | undefined;
  private pendingFocus: string | undefined;
  /**
   * A tab asked for before the webview could take it: a message posted while the panel's page is still
   * loading (or reloading on reveal) is lost, so "ready" posts it again (Chat with Model… sometimes
   * opened on the Examples tab).
   */
  private pendingTab: "chat" | undefined;
  private curves: CurveSeries[] = [];
  /** Re-sent on "ready": messages posted while the page was still loading are lost. */
  private lastStatus: Extract<HostMessage, { type: "probe-status" }> | undefined;
  private readonly subs: vscode.Disposable[] = [];
  /** Watches runs' events.jsonl while the panel is open: curves stay live even for runs started elsewhere (CLI, another window). */
  private watcher: vscode.Disposable | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  private readonly chat: ChatHost;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly shell: SeatShell,
    private readonly inline: InlineVerdicts,
  ) {
    this.subs.push(shell.onDidChangeRuns(() => void this.refreshCurves()));
    this.chat = new ChatHost(
      shell,
      (m) => this.post(m),
      () => shell.cliCommand(),
    );
    this.subs.push(this.chat);
  }

  // ---- roots and paths -------------------------------------------------------------------------

  private roots(): string[] {
    const r = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const runs = this.shell.runsRoot();
    if (runs) r.push(runs.fsPath);
    return r;
  }

  /** A session restored from webview state is as untrusted as a message: keep only confined paths. */
  private confineSession(s: PanelSession): PanelSession | undefined {
    const roots = this.roots();
    const dataset = confinePath(s.dataset, roots);
    if (!dataset) {
      this.shell.log.warn(`probes panel: dropped restored dataset outside the workspace: ${s.dataset}`);
      return undefined;
    }
    const selected = this.shell.selectedModel()?.path;
    const base = s.base && (s.base === selected ? selected : confinePath(s.base, roots));
    const runs = s.runs.map((r) => confinePath(r, roots)).filter((r): r is string => r !== undefined);
    return base ? { dataset, base, runs } : { dataset, runs };
  }

  // ---- panel -----------------------------------------------------------------------------------

  private post(m: HostMessage): void {
    if (m.type === "probe-status") this.lastStatus = m;
    void this.panel?.webview.postMessage(m);
  }

  private setup(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    const dist = vscode.Uri.joinPath(this.context.extensionUri, "dist");
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [dist, vscode.Uri.joinPath(this.context.extensionUri, "media")],
    };
    panel.iconPath = new vscode.ThemeIcon("beaker");
    panel.webview.html = panelHtml({
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, "webview.js")).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, "webview.css")).toString(),
    });
    panel.webview.onDidReceiveMessage(
      (raw: unknown) => {
        const v = validateWebviewMessage(raw);
        if (!v.ok) {
          this.shell.log.warn(`probes panel: refused a malformed message: ${v.error}`);
          return;
        }
        void this.onMessage(v.value);
      },
      undefined,
      this.subs,
    );
    panel.onDidDispose(
      () => {
        this.running?.abort();
        this.panel = undefined;
        this.watcher?.dispose();
        this.watcher = undefined;
      },
      undefined,
      this.subs,
    );
    this.watchRuns();
  }

  private watchRuns(): void {
    this.watcher?.dispose();
    const root = this.shell.runsRoot();
    if (!root) return;
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(root, `*/${EVENTS_FILE}`));
    const soon = () => {
      // At most one re-read per second however fast the trainer writes.
      if (this.refreshTimer) return;
      this.refreshTimer = setTimeout(() => {
        this.refreshTimer = undefined;
        void this.refreshCurves();
      }, 1000);
    };
    w.onDidChange(soon);
    w.onDidCreate(soon);
    this.watcher = w;
  }

  private ensurePanel(): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.reveal(undefined, true);
      return this.panel;
    }
    const p = vscode.window.createWebviewPanel(
      VIEW_TYPE,
      "SEAT Probes",
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.context.extensionUri, "dist")] },
    );
    this.setup(p);
    return p;
  }

  /** Re-attaches a panel VS Code restored after a reload (WebviewPanelSerializer). */
  async restore(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    this.setup(panel);
    const v = validatePanelViewState(state);
    if (!v.ok) {
      if (state !== undefined) this.shell.log.warn(`probes panel: ignored restored state: ${v.error}`);
      return;
    }
    if (v.value.session) this.session = this.confineSession(v.value.session);
  }

  private async onMessage(m: WebviewMessage): Promise<void> {
    switch (m.type) {
      case "ready":
        this.post({ type: "trust", trusted: this.shell.isTrusted() });
        if (this.pendingTab) this.post({ type: "show-tab", tab: this.pendingTab });
        this.pendingTab = undefined;
        if (this.lastStatus) this.post(this.lastStatus);
        if (this.report && this.session)
          this.post({
            type: "report",
            report: this.report,
            datasetLabel: this.label(this.session.dataset),
            session: this.session,
            ...(this.pendingFocus ? { focusKey: this.pendingFocus } : {}),
          });
        else if (this.session && this.shell.isTrusted()) void this.runProbes();
        await this.refreshCurves();
        break;
      case "reveal":
        await this.revealLine(m.line);
        break;
      case "run-probes":
        await this.runProbes();
        break;
      case "cancel-probes":
        this.running?.abort();
        break;
      case "compare":
        await this.compareRuns();
        break;
      case "export":
        await this.exportReport(m.format);
        break;
      case "chat-ask":
      case "chat-stop":
      case "chat-add":
        await this.onChat(m);
        break;
      case "log":
        if (m.level === "error") this.shell.log.error(`probes panel: ${m.message}`);
        else this.shell.log.info(`probes panel: ${m.message}`);
        break;
    }
  }

  /** The newest run of the session is the tuned model (its checkpoint merged in the child); else the selected model alone. */
  private async onChat(m: Extract<WebviewMessage, { type: "chat-ask" | "chat-stop" | "chat-add" }>): Promise<void> {
    if (m.type === "chat-stop") return this.chat.stop(m.id);
    if (!this.shell.requireTrust("Chatting with a model")) return;
    if (m.type === "chat-add") {
      if (!this.session)
        return void vscode.window.showWarningMessage("SEAT: open the panel on a dataset to add records to it.");
      const line = await this.chat.addToDataset(this.session.dataset, m.question, m.answer);
      if (line !== undefined) this.post({ type: "chat-added", line, dataset: this.label(this.session.dataset) });
      return;
    }
    const base = this.session?.base ?? this.shell.selectedModel()?.path;
    const tuned = this.session?.runs[this.session.runs.length - 1] ?? base;
    if (!tuned)
      return void vscode.window.showWarningMessage("SEAT: select a model or open the panel on a run to chat.");
    this.chat.configure({ tuned, ...(base && base !== tuned ? { base } : {}) });
    this.chat.ask(m.id, m.prompt);
  }

  /** Opens the panel on `arg` (a run, a dataset) with the Chat tab in front, the models loading. */
  async openChat(arg?: unknown): Promise<void> {
    const { session } = await this.sessionFrom(arg);
    if (session) this.session = session;
    this.ensurePanel();
    this.pendingTab = "chat";
    this.post({ type: "show-tab", tab: "chat" });
    const base = this.session?.base ?? this.shell.selectedModel()?.path;
    const tuned = this.session?.runs[this.session.runs.length - 1] ?? base;
    if (tuned && this.shell.isTrusted()) this.chat.configure({ tuned, ...(base && base !== tuned ? { base } : {}) });
  }

  private label(dataset: string): string {
    return vscode.workspace.asRelativePath(dataset);
  }

  private async revealLine(line: number): Promise<void> {
    if (!this.session) return;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(this.session.dataset));
    const l = Math.min(line - 1, doc.lineCount - 1);
    const range = doc.lineAt(Math.max(0, l)).range;
    await vscode.window.showTextDocument(doc, {
      viewColumn: vscode.ViewColumn.One,
      selection: range,
      preserveFocus: false,
    });
  }

  // ---- sessions --------------------------------------------------------------------------------

  private async finishedRunsFor(dataset: string): Promise<RunSummary[]> {
    const runs = await this.shell.listRuns();
    return runs.filter((r) => r.state === "finished" && r.dataset !== undefined && path.resolve(r.dataset) === dataset);
  }

  /** Which dataset/runs a command argument names: a file Uri, a run tree node, inline {dataset,key}, or nothing (active editor). */
  private async sessionFrom(arg: unknown): Promise<{ session?: PanelSession; focus?: string }> {
    const roots = this.roots();
    const base = this.shell.selectedModel()?.path;
    const a = arg as
      | { fsPath?: string; run?: RunSummary; dir?: string; dataset?: string; key?: string; resourceUri?: vscode.Uri }
      | undefined;
    let dataset: string | undefined;
    let runs: string[] | undefined;
    let focus: string | undefined;
    if (a instanceof vscode.Uri) dataset = a.fsPath;
    else if (a?.resourceUri instanceof vscode.Uri) dataset = a.resourceUri.fsPath;
    else if (typeof a?.dataset === "string" && typeof a.key === "string") {
      dataset = (a as OpenAtRecordArgs).dataset;
      focus = a.key;
    } else if (a?.run?.dir || typeof a?.dir === "string") {
      const run = a.run ?? (a as unknown as RunSummary);
      runs = [run.dir];
      const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      dataset = run.dataset && !path.isAbsolute(run.dataset) && ws ? path.resolve(ws, run.dataset) : run.dataset;
    }
    if (!dataset) {
      const isData = (d: vscode.TextDocument | undefined) => !!d && /\.(jsonl|json)$/i.test(d.fileName);
      const doc = vscode.window.activeTextEditor?.document;
      // The one dataset on screen when focus is elsewhere (the palette, a panel) or the editor host has
      // not yet heard which editor is active.
      const shown = [...new Set(vscode.window.visibleTextEditors.map((e) => e.document).filter(isData))];
      if (isData(doc)) dataset = doc!.uri.fsPath;
      else if (this.session) dataset = this.session.dataset;
      else if (shown.length === 1) dataset = shown[0].uri.fsPath;
    }
    if (!dataset) {
      const files = await vscode.workspace.findFiles("**/*.jsonl", "**/{node_modules,runs,.git}/**", 200);
      const pick = await vscode.window.showQuickPick(
        files.map((f) => ({ label: vscode.workspace.asRelativePath(f), uri: f })),
        { title: "SEAT: probe which dataset?" },
      );
      if (!pick) return {};
      dataset = pick.uri.fsPath;
    }
    const confined = confinePath(dataset, roots);
    if (!confined) {
      void vscode.window.showErrorMessage(
        `SEAT: ${dataset} is outside the workspace; probes only read datasets inside it.`,
      );
      return {};
    }
    runs = (
      runs ??
      (this.session?.dataset === confined
        ? this.session.runs
        : (await this.finishedRunsFor(confined)).map((r) => r.dir))
    )
      .map((r) => confinePath(r, roots))
      .filter((r): r is string => r !== undefined);
    return {
      session: base ? { dataset: confined, base, runs } : { dataset: confined, runs },
      ...(focus ? { focus } : {}),
    };
  }

  async open(arg?: unknown): Promise<void> {
    const { session, focus } = await this.sessionFrom(arg);
    if (!session) return;
    const prev = this.session;
    const same =
      prev &&
      prev.dataset === session.dataset &&
      prev.base === session.base &&
      prev.runs.join("\n") === session.runs.join("\n") &&
      this.report;
    this.session = session;
    this.pendingFocus = focus;
    this.ensurePanel();
    if (same && this.report) {
      if (focus) this.post({ type: "focus", key: focus });
      return;
    }
    this.report = undefined;
    if (this.shell.isTrusted()) await this.runProbes();
    else this.post({ type: "trust", trusted: false });
  }

  /** seat.runProbes (trust is checked by the command table's wrapper). */
  async run(arg?: unknown): Promise<void> {
    const { session } = await this.sessionFrom(arg);
    if (!session) return;
    this.session = session;
    this.ensurePanel();
    await this.runProbes();
  }

  /** seat.compareRuns (trust is checked by the command table's wrapper). */
  async compareRuns(arg?: unknown): Promise<void> {
    const all = (await this.shell.listRuns()).filter((r) => r.state === "finished");
    if (all.length === 0) {
      void vscode.window.showInformationMessage("SEAT: no finished runs to compare yet.");
      return;
    }
    const current = new Set(this.session?.runs ?? []);
    const picks = await vscode.window.showQuickPick(
      all.map((r) => ({
        label: r.name,
        description: [r.method, r.dataset && vscode.workspace.asRelativePath(r.dataset)].filter(Boolean).join(" · "),
        picked: current.has(r.dir),
        run: r,
      })),
      { canPickMany: true, title: "SEAT: compare which runs (against the base model)?" },
    );
    if (!picks || picks.length === 0) return;
    const datasets = [...new Set(picks.map((p) => p.run.dataset).filter((d): d is string => !!d))];
    const { session } = await this.sessionFrom(
      arg ?? (datasets.length === 1 ? vscode.Uri.file(datasets[0]) : undefined),
    );
    if (!session) return;
    this.session = { ...session, runs: picks.map((p) => p.run.dir) };
    this.ensurePanel();
    await this.runProbes();
  }

  // ---- probing ---------------------------------------------------------------------------------

  /**
   * The phrase list for a run: the workspace's own `.seat/<name>` when it has one (an editable copy of
   * the shipped file), else the shipped file; entries of the setting are appended. Undefined when that
   * is just the shipped file (the CLI's default).
   */
  private listFile(name: string, extra: readonly string[]): string | undefined {
    const ws = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const own = ws ? confinePath(path.join(ws, ".seat", name), this.roots()) : undefined;
    const custom = own && fs.existsSync(own) ? own : undefined;
    if (extra.length === 0) return custom;
    const baseText = fs.readFileSync(custom ?? path.join(this.context.extensionUri.fsPath, "resources", name), "utf8");
    const file = path.join(this.context.globalStorageUri.fsPath, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      `${baseText.trimEnd()}\n# from the setting seatTuner.probes\n${extra.map((p) => p.replace(/[\r\n]+/g, " ")).join("\n")}\n`,
    );
    return file;
  }

  private async runProbes(): Promise<void> {
    const s = this.session;
    if (!s || this.running) return;
    if (!this.shell.requireTrust("Running probes")) return;
    if (!s.base && s.runs.length === 0) {
      void vscode.window.showErrorMessage(
        "SEAT: select a model first (SEAT: Select Model) so there is something to probe.",
      );
      return;
    }
    const cfg = vscode.workspace.getConfiguration("seatTuner");
    const phrases = this.listFile("abstention-phrases.txt", cfg.get<string[]>("probes.abstentionPhrases", []));
    const openings = this.listFile("abstention-openings.txt", cfg.get<string[]>("probes.abstentionOpenings", []));
    // Optional tuning settings; left out of the command line (CLI defaults) when not set.
    const extraArgs: string[] = [];
    const n = cfg.get<number>("probes.neighbours");
    if (Number.isInteger(n) && n! >= 0) extraArgs.push("--neighbours", String(n));
    const maxNew = cfg.get<number>("probes.maxNewTokens");
    if (Number.isInteger(maxNew) && maxNew! > 0) extraArgs.push("--max-new-tokens", String(maxNew));
    const sibling = path.join(path.dirname(s.dataset), "unknown.jsonl");
    const unknown = sibling !== s.dataset && fs.existsSync(sibling) ? sibling : undefined;
    const cli = this.shell.cliCommand();
    const ac = new AbortController();
    this.running = ac;
    this.post({ type: "probe-status", status: "running", message: "Starting probes…" });
    const started = Date.now();
    try {
      const report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: "SEAT probes" },
        async (progress) =>
          runProbeProcess(
            { ...cli, cwd: path.dirname(s.dataset) },
            probeArgs(
              {
                dataset: s.dataset,
                runs: s.runs,
                cacheDir: path.join(this.context.globalStorageUri.fsPath, "probe-cache"),
                extraArgs,
                ...(s.base ? { base: s.base } : {}),
                ...(unknown ? { unknown } : {}),
              },
              { ...(phrases ? { phrases } : {}), ...(openings ? { openings } : {}) },
            ),
            {
              signal: ac.signal,
              onProgress: (p) => {
                const message = p.cached ? `${p.model}: cached` : `${p.model}: ${p.message}`;
                progress.report({ message });
                this.post({ type: "probe-status", status: "running", message, done: p.done, total: p.total });
              },
              onWarning: (m) => this.shell.log.warn(`probes: ${m}`),
            },
          ),
      );
      this.report = report;
      this.inline.setReport(report);
      this.post({
        type: "report",
        report,
        datasetLabel: this.label(s.dataset),
        session: s,
        ...(this.pendingFocus ? { focusKey: this.pendingFocus } : {}),
      });
      this.post({
        type: "probe-status",
        status: "done",
        message: `Probed ${report.runs.length + (report.base ? 1 : 0)} model(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      });
    } catch (e) {
      const cancelled = ac.signal.aborted;
      const msg = (e as Error).message;
      this.post({
        type: "probe-status",
        status: cancelled ? "cancelled" : "failed",
        message: cancelled ? "Probes cancelled" : msg,
      });
      if (!cancelled) {
        this.shell.log.error(
          `probes failed: ${msg}${e instanceof ProbeProcessError && e.stderr ? `\n${e.stderr}` : ""}`,
        );
        void vscode.window.showErrorMessage(`SEAT: ${msg}`, "Show Log").then((c) => c && this.shell.log.show());
      }
    } finally {
      this.running = undefined;
      this.pendingFocus = undefined;
    }
  }

  cancel(): void {
    this.running?.abort();
  }

  // ---- export ----------------------------------------------------------------------------------

  async exportReport(format?: ExportFormat, arg?: unknown): Promise<void> {
    if (!this.report && arg !== undefined) await this.open(arg);
    const report = this.report;
    if (!report) {
      void vscode.window.showInformationMessage("SEAT: run probes first; there is no report to export yet.");
      return;
    }
    const fmt =
      format ??
      (
        await vscode.window.showQuickPick(
          [
            { label: "HTML", f: "html" as const },
            { label: "JSON", f: "json" as const },
            { label: "CSV", f: "csv" as const },
          ],
          { title: "Export probe report as" },
        )
      )?.f;
    if (!fmt) return;
    const dir = this.shell.runsRoot() ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    const suggested = `probe-report.${fmt}`;
    const target = await vscode.window.showSaveDialog({
      filters: { [fmt.toUpperCase()]: [fmt] },
      ...(dir ? { defaultUri: vscode.Uri.joinPath(dir, suggested) } : {}),
      title: "Export SEAT probe report",
    });
    if (!target) return;
    const text = fmt === "html" ? reportToHtml(report) : fmt === "csv" ? reportToCsv(report) : reportToJson(report);
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
    void vscode.window.showInformationMessage(
      `SEAT: probe report written to ${vscode.workspace.asRelativePath(target)}`,
    );
  }

  // ---- curves ----------------------------------------------------------------------------------

  private readonly seriesCache = new Map<string, { mtimeMs: number; size: number; series: CurveSeries }>();

  private async refreshCurves(): Promise<void> {
    if (!this.panel) return;
    const runs = await this.shell.listRuns();
    const series: CurveSeries[] = [];
    for (const r of runs) {
      const file = path.join(r.dir, EVENTS_FILE);
      try {
        // Re-parse only logs that changed since the last look (the watcher fires for every appended line).
        const st = await fs.promises.stat(file);
        const hit = this.seriesCache.get(file);
        if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) {
          series.push(hit.series);
          continue;
        }
        const text = await fs.promises.readFile(file, "utf8");
        const s = seriesFromEvents(r.dir, r.name, parseEventLog(text, file).events);
        this.seriesCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, series: s });
        series.push(s);
      } catch {
        // A run without readable events has no curve yet.
      }
    }
    this.curves = series;
    this.post({ type: "curves", series });
  }

  /** Forwards one live training event to the open panel (called by the training runner). */
  postTrainEvent(runDir: string, event: TrainEvent): void {
    if (!this.panel) return;
    this.post({ type: "train-event", runDir, label: path.basename(runDir), event });
  }

  /** For tests: the current report and session. */
  get state(): { session?: PanelSession; report?: ProbeReport; open: boolean; curves: number } {
    return {
      ...(this.session ? { session: this.session } : {}),
      ...(this.report ? { report: this.report } : {}),
      open: this.panel !== undefined,
      curves: this.curves.length,
    };
  }

  dispose(): void {
    this.running?.abort();
    clearTimeout(this.refreshTimer);
    this.watcher?.dispose();
    this.panel?.dispose();
    for (const s of this.subs) s.dispose();
  }
}
