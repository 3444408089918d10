// The editor areas that plug into the shell. An entry is undefined while that area is not built yet;
// its commands then answer "not built yet" (see extension.ts) and its view shows a placeholder.
import type * as vscode from "vscode";
import type { CommandArea } from "./commands";
import type { SeatShell } from "./shell";
import { activateDatasets } from "./datasets/index";
import { activatePerturbations } from "./perturb/index";
import { activatePanel } from "./panel/index";

export type AreaActivator = (context: vscode.ExtensionContext, shell: SeatShell) => void | Promise<void>;

export const areaActivators: Record<Exclude<CommandArea, "shell">, AreaActivator | undefined> = {
  datasets: activateDatasets,
  perturb: activatePerturbations,
  panel: activatePanel,
};
