// The Runs view: one item per run folder (running, finished, failed, cancelled), details underneath.
import * as vscode from "vscode";
import * as path from "node:path";
import { CONTEXT_VALUE } from "../contextValues";
import type { ShellImpl } from "../shellImpl";
import { listRunFolders, type RunDetails } from "./runFolders";

type Node = { kind: "run"; run: RunDetails } | { kind: "detail"; label: string; value: string };

const ICON: Record<RunDetails["state"], vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon("sync~spin"),
  finished: new vscode.ThemeIcon("pass", new vscode.ThemeColor("testing.iconPassed")),
  failed: new vscode.ThemeIcon("error", new vscode.ThemeColor("testing.iconFailed")),
  cancelled: new vscode.ThemeIcon("circle-slash"),
};

export class RunsView implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(context: vscode.ExtensionContext, private readonly shell: ShellImpl, private readonly active: () => ReadonlySet<string>) {
    context.subscriptions.push(this.changed, shell.onDidChangeRuns(() => this.changed.fire()));
    const root = shell.runsRoot();
    if (root) {
      // Runs started from the CLI or another window appear too.
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(root, "*/events.jsonl"));
      let timer: NodeJS.Timeout | undefined;
      const poke = () => {
        clearTimeout(timer);
        timer = setTimeout(() => this.changed.fire(), 500);
      };
      context.subscriptions.push(watcher, watcher.onDidCreate(poke), watcher.onDidChange(poke), watcher.onDidDelete(poke), { dispose: () => clearTimeout(timer) });
    }
  }

  refresh(): void {
    this.changed.fire();
  }

  runs(): RunDetails[] {
    const root = this.shell.runsRoot();
    if (!root || !vscode.workspace.isTrusted) return [];
    return listRunFolders(root.fsPath, { active: this.active() });
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.runs().map((run) => ({ kind: "run", run }));
    if (node.kind !== "run") return [];
    const r = node.run;
    const out: Node[] = [];
    if (r.method) out.push({ kind: "detail", label: "method", value: r.method });
    if (r.dataset) out.push({ kind: "detail", label: "dataset", value: r.dataset });
    if (r.model) out.push({ kind: "detail", label: "model", value: r.model });
    if (r.start) out.push({ kind: "detail", label: "provider", value: r.start.provider });
    if (r.lastStep) out.push({ kind: "detail", label: "step", value: `${r.lastStep.step}/${r.lastStep.totalSteps} · loss ${r.lastStep.loss.toFixed(4)} · ce ${r.lastStep.ce.toFixed(4)} · kl ${r.lastStep.kl.toFixed(4)}` });
    if (r.checkpoints.length) out.push({ kind: "detail", label: "checkpoint", value: r.checkpoints[r.checkpoints.length - 1] });
    if (r.modelDir) out.push({ kind: "detail", label: "model out", value: path.relative(r.dir, r.modelDir) || "." });
    for (const p of r.problems.slice(0, 3)) out.push({ kind: "detail", label: "bad event", value: p });
    return out;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === "detail") {
      const item = new vscode.TreeItem(node.label);
      item.description = node.value;
      item.tooltip = node.value;
      return item;
    }
    const r = node.run;
    const item = new vscode.TreeItem(r.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `run:${r.dir}`;
    item.resourceUri = vscode.Uri.file(r.dir);
    item.description = `${r.state}${r.detail ? ` · ${r.detail}` : ""}`;
    item.tooltip = new vscode.MarkdownString(`**${r.name}** — ${r.state}\n\n${r.detail ?? ""}\n\n${r.dir}`);
    item.iconPath = ICON[r.state];
    item.contextValue = {
      running: CONTEXT_VALUE.runRunning,
      finished: CONTEXT_VALUE.runFinished,
      failed: CONTEXT_VALUE.runFailed,
      cancelled: CONTEXT_VALUE.runCancelled,
    }[r.state];
    return item;
  }
}
