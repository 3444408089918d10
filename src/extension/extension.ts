// Entry point in the VS Code extension host. Builds the shell (trust, model choice, runs, CLI launch),
// registers the shell's commands and views, then lets each editor area plug in. Anything heavy (model
// weights, training, probing) runs in a child process started through shell.cliCommand().
import * as vscode from "vscode";
import { COMMAND_TABLE, type CommandArea } from "./commands";
import { createShell } from "./shellImpl";
import { registerShellCommands } from "./shellCommands";
import { areaActivators, type AreaActivator } from "./areas";
import { VIEW } from "./contextValues";

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const shell = createShell(context);
  registerShellCommands(context, shell);

  const failed = new Map<CommandArea, string>();
  for (const [area, activateArea] of Object.entries(areaActivators) as [CommandArea, AreaActivator][]) {
    try {
      await activateArea(context, shell);
    } catch (err) {
      // One broken area must not take the others down; its commands then explain what failed.
      const message = err instanceof Error ? err.message : String(err);
      failed.set(area, message);
      shell.log.error(`activating ${area} failed: ${err instanceof Error ? (err.stack ?? message) : message}`);
      registerPlaceholderView(context, area, `Datasets view failed to start: ${message}`);
    }
  }
  await registerMissing(context, failed);
  shell.log.info(`SEAT Tuner activated (${vscode.workspace.isTrusted ? "trusted" : "Restricted Mode"})`);
}

/**
 * The commands of an area that failed to start get a handler that says why, instead of VS Code's
 * "command not found".
 */
async function registerMissing(context: vscode.ExtensionContext, failed: Map<CommandArea, string>): Promise<void> {
  if (failed.size === 0) return;
  const registered = new Set(await vscode.commands.getCommands(true));
  for (const { id, area } of COMMAND_TABLE) {
    if (registered.has(id) || !failed.has(area)) continue;
    const why = `the ${area} part failed to start: ${failed.get(area)}`;
    context.subscriptions.push(
      vscode.commands.registerCommand(id, () => {
        void vscode.window.showErrorMessage(`SEAT: '${id}' is unavailable: ${why}.`);
      }),
    );
  }
}

/** A view whose area failed to start says so (instead of VS Code's "no data provider"). */
function registerPlaceholderView(context: vscode.ExtensionContext, area: CommandArea, text: string): void {
  if (area !== "datasets") return;
  const item = new vscode.TreeItem(text);
  item.iconPath = new vscode.ThemeIcon("warning");
  try {
    context.subscriptions.push(
      vscode.window.registerTreeDataProvider(VIEW.datasets, {
        getChildren: () => [item],
        getTreeItem: (i: vscode.TreeItem) => i,
      }),
    );
  } catch {
    // The area registered its view before failing; its own view stays.
  }
}

export function deactivate(): void {
  // Disposables on context.subscriptions (views, tasks, child processes) are released by VS Code.
}
