// What the shell offers the other editor areas (datasets, perturb, panel). Each area's activate
// function receives the ExtensionContext (register disposables on context.subscriptions) and this.
import type * as vscode from "vscode";

export interface SelectedModel {
  /** Absolute path of the model folder. */
  path: string;
  /** Display name (folder name, or the bundled model's name). */
  name: string;
  bundled: boolean;
}

export interface RunSummary {
  /** Absolute path of the run folder. */
  dir: string;
  name: string;
  state: "running" | "finished" | "failed" | "cancelled";
  dataset?: string;
  model?: string;
  method?: string;
}

export interface SeatShell {
  readonly extensionUri: vscode.Uri;
  /** One output channel for the whole extension ("SEAT Tuner"). */
  readonly log: vscode.LogOutputChannel;
  /** False in Restricted Mode: no model loading, training or probing. */
  isTrusted(): boolean;
  /** Shows why an action is unavailable in Restricted Mode and offers to manage trust. Returns isTrusted(). */
  requireTrust(action: string): boolean;
  /** The model the user selected (setting `seatTuner.modelPath`, else the bundled model); undefined if none is usable. */
  selectedModel(): SelectedModel | undefined;
  readonly onDidChangeModel: vscode.Event<SelectedModel | undefined>;
  /** The folder runs are written to (may not exist yet); undefined without a workspace folder. */
  runsRoot(): vscode.Uri | undefined;
  listRuns(): Promise<RunSummary[]>;
  /** Fires when a run starts, reports progress milestones, or ends. */
  readonly onDidChangeRuns: vscode.Event<void>;
  /**
   * How to start the headless CLI outside the extension host: the executable, the leading arguments
   * (the CLI script) and environment. Append the subcommand and its flags.
   */
  cliCommand(): { command: string; args: string[]; env: Record<string, string> };
}
