// Registers an area's commands from the command table (commands.ts) through the one wrapper: trust
// check, then the handler, with any failure logged and shown as "SEAT: <what> failed: <reason>".
import * as vscode from "vscode";
import { COMMAND_TABLE, guardCommand, type CommandArea, type CommandFactories, type CommandHost } from "./commands";
import type { SeatShell } from "./shell";

export function commandHost(shell: SeatShell): CommandHost {
  return {
    requireTrust: (what) => shell.requireTrust(what),
    reportError(command, err) {
      shell.log.error(`${command.id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      void vscode.window.showErrorMessage(
        `SEAT: ${command.what} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    },
  };
}

export function registerAreaCommands<A extends CommandArea, Ctx>(
  context: vscode.ExtensionContext,
  shell: SeatShell,
  area: A,
  factories: CommandFactories<A, Ctx>,
  ctx: Ctx,
): void {
  const host = commandHost(shell);
  const byKey = factories as unknown as Record<string, (ctx: Ctx) => (...args: any[]) => unknown>;
  for (const command of COMMAND_TABLE) {
    if (command.area !== area) continue;
    context.subscriptions.push(
      vscode.commands.registerCommand(command.id, guardCommand(command, byKey[command.key](ctx), host)),
    );
  }
}
