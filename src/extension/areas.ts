// The editor areas that plug into the shell, each registering its views and its commands of the
// command table (commands.ts).
import type * as vscode from "vscode";
import type { CommandArea } from "./commands";
import type { SeatShell } from "./shell";
import { activateDatasets } from "./datasets/index";
import { activatePerturbations } from "./perturb/index";
import { activatePanel } from "./panel/index";

export type AreaActivator = (context: vscode.ExtensionContext, shell: SeatShell) => void | Promise<void>;

export const areaActivators: Record<Exclude<CommandArea, "shell">, AreaActivator> = {
  datasets: activateDatasets,
  perturb: activatePerturbations,
  panel: activatePanel,
};
