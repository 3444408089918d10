// The SeatShell the areas receive: trust, model choice, runs folder, and how to start the CLI in a
// child process. Owns the shared output channel and the change events.
import * as vscode from "vscode";
import * as path from "node:path";
import * as fs from "node:fs";
import type { RunSummary, SeatShell, SelectedModel } from "./shell";
import { listRunFolders } from "./runs/runFolders";

export const BUNDLED_MODEL = "seat-tiny-world";

export interface ShellImpl extends SeatShell {
  fireModelChanged(): void;
  fireRunsChanged(): void;
}

export function createShell(context: vscode.ExtensionContext): ShellImpl {
  const log = vscode.window.createOutputChannel("SEAT Tuner", { log: true });
  const modelEmitter = new vscode.EventEmitter<SelectedModel | undefined>();
  const runsEmitter = new vscode.EventEmitter<void>();
  context.subscriptions.push(log, modelEmitter, runsEmitter);

  const shell: ShellImpl = {
    extensionUri: context.extensionUri,
    log,
    isTrusted: () => vscode.workspace.isTrusted,
    requireTrust(action) {
      if (vscode.workspace.isTrusted) return true;
      void vscode.window
        .showWarningMessage(
          `SEAT: ${action} is off in Restricted Mode, because it loads model files and starts processes that this workspace's settings can steer. Trust the workspace to enable it.`,
          "Manage Workspace Trust",
        )
        .then((pick) => pick && vscode.commands.executeCommand("workbench.trust.manage"));
      return false;
    },
    selectedModel: () => selectedModel(context),
    onDidChangeModel: modelEmitter.event,
    runsRoot: () => runsRoot(),
    async listRuns(): Promise<RunSummary[]> {
      const root = runsRoot();
      return root ? listRunFolders(root.fsPath) : [];
    },
    onDidChangeRuns: runsEmitter.event,
    cliCommand: () => cliCommand(context),
    fireModelChanged: () => modelEmitter.fire(selectedModel(context)),
    fireRunsChanged: () => runsEmitter.fire(),
  };

  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("seatTuner.modelPath")) shell.fireModelChanged();
      if (e.affectsConfiguration("seatTuner.runsFolder")) shell.fireRunsChanged();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      shell.fireModelChanged();
      shell.fireRunsChanged();
    }),
  );
  return shell;
}

/** Models shipped inside the extension (models/<name>/config.json). */
export function bundledModelsDir(context: vscode.ExtensionContext): string {
  return path.join(context.extensionUri.fsPath, "models");
}

function selectedModel(context: vscode.ExtensionContext): SelectedModel | undefined {
  if (!vscode.workspace.isTrusted) return undefined;
  const configured = vscode.workspace.getConfiguration("seatTuner").get<string>("modelPath", "").trim();
  if (configured) {
    const abs = resolveWorkspacePath(configured);
    return { path: abs, name: path.basename(abs), bundled: false };
  }
  const bundled = path.join(bundledModelsDir(context), BUNDLED_MODEL);
  if (fs.existsSync(path.join(bundled, "config.json"))) return { path: bundled, name: BUNDLED_MODEL, bundled: true };
  return undefined;
}

/** Relative paths in settings are relative to the first workspace folder; `~` is the home folder. */
export function resolveWorkspacePath(p: string): string {
  if (p.startsWith("~/")) return path.join(process.env.HOME ?? "", p.slice(2));
  if (path.isAbsolute(p)) return p;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? path.join(folder.uri.fsPath, p) : path.resolve(p);
}

function runsRoot(): vscode.Uri | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return undefined;
  const setting = vscode.workspace.getConfiguration("seatTuner").get<string>("runsFolder", "runs").trim() || "runs";
  return vscode.Uri.file(path.isAbsolute(setting) ? setting : path.join(folder.uri.fsPath, setting));
}

function cliCommand(context: vscode.ExtensionContext): {
  command: string;
  args: string[];
  env: Record<string, string>;
} {
  const nodePath = vscode.workspace.getConfiguration("seatTuner").get<string>("trainer.nodePath", "").trim();
  const script = path.join(context.extensionUri.fsPath, "dist", "cli.js");
  // The editor's own runtime runs plain Node scripts when ELECTRON_RUN_AS_NODE is set (desktop VS Code
  // is Electron; code-server is already Node, where the variable is ignored).
  return {
    command: nodePath || process.execPath,
    args: [script],
    env: nodePath ? {} : { ELECTRON_RUN_AS_NODE: "1" },
  };
}
