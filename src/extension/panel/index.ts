// The probes panel area: the panel commands (open, run, compare, export; see commands.ts), the panel
// serializer (the panel survives a reload) and the inline verdicts in dataset editors. The shell calls
// activatePanel; the training runner calls postTrainEvent so an open panel draws live curves.
import * as vscode from "vscode";
import type { TrainEvent } from "../../protocol/events";
import type { CommandFactories } from "../commands";
import { registerAreaCommands } from "../register";
import type { SeatShell } from "../shell";
import { ProbesController, VIEW_TYPE } from "./controller";
import { InlineVerdicts } from "./inline";

let controller: ProbesController | undefined;
let verdicts: InlineVerdicts | undefined;

export { VIEW_TYPE as PROBES_VIEW_TYPE };

export function activatePanel(context: vscode.ExtensionContext, shell: SeatShell): void {
  const inline = new InlineVerdicts();
  verdicts = inline;
  const c = new ProbesController(context, shell, inline);
  controller = c;
  context.subscriptions.push(
    inline,
    c,
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      deserializeWebviewPanel: (panel, state) => c.restore(panel, state),
    }),
    {
      dispose: () => {
        if (controller === c) controller = undefined;
        if (verdicts === inline) verdicts = undefined;
      },
    },
  );
  registerAreaCommands(context, shell, "panel", PANEL_COMMANDS, c);
}

const PANEL_COMMANDS: CommandFactories<"panel", ProbesController> = {
  openProbes: (c) => (arg?: unknown) => c.open(arg),
  runProbes: (c) => (arg?: unknown) => c.run(arg),
  compareRuns: (c) => (arg?: unknown) => c.compareRuns(arg),
  exportReport: (c) => (arg?: unknown) => c.exportReport(undefined, arg),
  chatWithModel: (c) => (arg?: unknown) => c.openChat(arg),
};

/**
 * Sends one training event to the probes panel, if it is open (cheap no-op otherwise). Wire it to the
 * training runner: `manager.onDidReceiveEvent(({ runDir, event }) => postTrainEvent(runDir, event))`.
 * Without a run folder yet, the run-start event's own runDir is used.
 */
export function postTrainEvent(runDir: string | undefined, event: TrainEvent): void {
  const dir = runDir ?? (event.type === "run-start" ? event.runDir : undefined) ?? "(current run)";
  controller?.postTrainEvent(dir, event);
}

/** What the panel holds now (for end-to-end tests and other areas). */
export function probesPanelState(): ProbesController["state"] | undefined {
  return controller?.state;
}

/** The latest probe verdict of the record on `line` (0-based), for the record editor. */
export function recordVerdict(doc: vscode.TextDocument, line: number): { text: string; details: string[] } | undefined {
  const v = verdicts?.verdictAt(doc, line);
  return v ? { text: v.text, details: v.hover } : undefined;
}

/** Fires when probe verdicts change (a report was loaded or cleared). */
export function onDidChangeVerdicts(listener: () => void): vscode.Disposable {
  return verdicts?.onDidChangeCodeLenses(listener) ?? { dispose: () => undefined };
}
