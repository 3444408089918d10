// The shell's own commands and views: Models, Runs, training (SEAT: Train…, cancel, resume), export,
// demo, GPU setup, the example dataset. Trust checks and error reporting are the table's (register.ts).
import * as vscode from "vscode";
import * as fs from "node:fs";
import * as path from "node:path";
import type { CommandFactories } from "./commands";
import { registerAreaCommands } from "./register";
import { VIEW } from "./contextValues";
import type { ShellImpl } from "./shellImpl";
import { ModelsView, ortBinaryDir } from "./models/modelsView";
import { RunsView } from "./runs/runsView";
import { TrainingManager, TASK_TYPE, type SeatTaskDefinition } from "./training/trainTask";
import { pickTraining } from "./training/trainPicks";
import { newRunName } from "./training/trainArgs";
import { setupGpu } from "./gpuSetup";
import { EXPORT_PICKS, runExport } from "./deploy/exportModel";
import type { RunDetails } from "./runs/runFolders";

export interface ShellParts {
  models: ModelsView;
  runs: RunsView;
  training: TrainingManager;
}

export const EXAMPLE_DATASET = path.join("examples", "new-people", "train.jsonl");

export function registerShellCommands(context: vscode.ExtensionContext, shell: ShellImpl): ShellParts {
  const models = new ModelsView(context, shell);
  const training = new TrainingManager(context, shell);
  const runs = new RunsView(context, shell, () => training.activeRunDirs());
  context.subscriptions.push(
    vscode.window.createTreeView(VIEW.models, { treeDataProvider: models, showCollapseAll: true }),
    vscode.window.createTreeView(VIEW.runs, { treeDataProvider: runs, showCollapseAll: true }),
  );

  // The handlers close over the views and the training manager above; the table (commands.ts) says
  // which need trust and what they are called in messages.
  const factories: CommandFactories<"shell", void> = {
    refreshModels: () => () => models.refresh(),

    refreshRuns: () => () => runs.refresh(),

    selectModel: () => async (arg?: unknown) => {
      let dir = typeof arg === "string" ? arg : uriOf(arg)?.fsPath;
      if (!dir) {
        const usable = models.models().filter((m) => !m.info.error);
        const pick = await vscode.window.showQuickPick(
          usable.map((m) => ({
            label: m.info.name,
            description: m.bundled ? "embedded" : undefined,
            detail: m.info.dir,
            dir: m.info.dir,
          })),
          { title: "SEAT: Select Model", placeHolder: "Model to train and probe" },
        );
        dir = pick?.dir;
      }
      if (!dir) return;
      const bundled = models.models().find((m) => m.info.dir === path.resolve(dir!) && m.bundled);
      // The embedded model is the default: selecting it clears the setting instead of pinning a path inside the extension.
      const target = vscode.workspace.workspaceFolders
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
      await vscode.workspace.getConfiguration("seatTuner").update("modelPath", bundled ? undefined : dir, target);
      shell.fireModelChanged();
      models.refresh();
    },

    addModelFolder: () => async () => {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        title: "A model folder (config.json, *.safetensors, tokenizer.json) or a folder of them",
      });
      if (!picked?.[0]) return;
      const cfg = vscode.workspace.getConfiguration("seatTuner");
      const list = cfg.get<string[]>("modelFolders", []);
      if (!list.includes(picked[0].fsPath))
        await cfg.update("modelFolders", [...list, picked[0].fsPath], vscode.ConfigurationTarget.Global);
      models.refresh();
    },

    train: () => async (arg?: unknown) => {
      const picked = await pickTraining(shell, models, uriOf(arg));
      if (!picked) return;
      if (picked.elsewhere) return exportJob(shell, training, picked.def);
      await vscode.tasks.executeTask(training.createTask(picked.def));
    },

    // Run Elsewhere…: from a run (its config.json, the settings it trained with) or a fresh Train flow.
    runElsewhere: () => async (arg?: unknown) => {
      const run = runOf(arg);
      if (run) {
        const dir = await pickJobFolder(run.name);
        if (dir)
          await runCliTask(shell, `export-job ${run.name}`, [
            "export-job",
            "--config",
            path.join(run.dir, "config.json"),
            "--target",
            "torchrun",
            "--out",
            dir,
          ]);
        return;
      }
      const picked = await pickTraining(shell, models, uriOf(arg), { elsewhere: true });
      if (picked) await exportJob(shell, training, picked.def);
    },

    // A run folder trained elsewhere (a job's run/): checked, copied under the runs folder, listed here.
    importRun: () => async () => {
      const root = shell.runsRoot();
      if (!root) throw new Error("open a workspace folder first: imported runs go to its runs/ folder");
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        openLabel: "Import run",
        title: "A run folder from a torchrun job (config.json, events.jsonl, model/)",
      });
      if (!picked?.[0]) return;
      const { importRun } = await import("../job/importRun");
      const r = importRun(picked[0].fsPath, root.fsPath);
      runs.refresh();
      void vscode.window.showInformationMessage(
        `SEAT: imported ${path.basename(r.dir)} (${r.method}, ${r.steps} steps); it is in the Runs view.`,
      );
    },

    cancelRun: () => (arg?: unknown) => {
      const dir = runOf(arg)?.dir;
      if (!training.cancel(dir))
        void vscode.window.showInformationMessage("SEAT: no training run started from this window is running.");
    },

    resumeRun: () => async (arg?: unknown) => {
      let dir = runOf(arg)?.dir;
      if (!dir) {
        const resumable = runs.runs().filter((r) => r.state === "cancelled" || r.state === "failed");
        const pick = await vscode.window.showQuickPick(
          resumable.map((r) => ({ label: r.name, description: `${r.state} · ${r.detail ?? ""}`, dir: r.dir })),
          { title: "SEAT: Resume Run", ignoreFocusOut: true },
        );
        dir = pick?.dir;
      }
      if (!dir) return;
      const def: SeatTaskDefinition = { type: TASK_TYPE, resume: dir };
      await vscode.tasks.executeTask(training.createTask(def));
    },

    exportModel: () => async (arg?: unknown) => {
      let run = runOf(arg);
      if (!run) {
        const done = runs.runs().filter((r) => r.state === "finished");
        const pick = await vscode.window.showQuickPick(
          done.map((r) => ({ label: r.name, description: r.detail, run: r })),
          // a multi-step flow: a click elsewhere (to check a run) does not throw away the steps taken
          { title: "SEAT: Export Model — which run?", ignoreFocusOut: true },
        );
        run = pick?.run;
      }
      if (!run) return;
      const format = await vscode.window.showQuickPick(EXPORT_PICKS, {
        title: `SEAT: Export Model — ${run.name} as…`,
        ignoreFocusOut: true,
      });
      if (!format) return;
      const out = await vscode.window.showOpenDialog({
        // Opens where the run's folder is (runs/ of the workspace), so accepting the default puts the export beside it.
        defaultUri: vscode.Uri.file(path.dirname(run.dir)),
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: "Export here",
        title: "Folder to export into (a new subfolder is created)",
      });
      if (!out?.[0]) return;
      const target = path.join(out[0].fsPath, `${run.name}-${format.format}${format.quant ? `-${format.quant}` : ""}`);
      const written = await runExport(shell.cliCommand(), run, format, target, (l) => shell.log.info(l));
      if (written === undefined) {
        void vscode.window.showInformationMessage(
          `SEAT: export of ${run.name} cancelled; nothing was left half-written.`,
        );
        return;
      }
      const open = await vscode.window.showInformationMessage(
        `SEAT: exported ${run.name} (${format.label}) to ${written}`,
        "Reveal",
      );
      if (open === "Reveal") await vscode.commands.executeCommand("revealInExplorer", vscode.Uri.file(written));
    },

    runDemo: () => async () => {
      await runCliTask(shell, "demo", ["demo"]);
    },

    setupGpu: () => () => setupGpu(context, shell, ortBinaryDir(context)),

    openExample: () => async () => {
      const candidates = [
        ...(vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, EXAMPLE_DATASET)),
        path.join(context.extensionUri.fsPath, EXAMPLE_DATASET),
      ];
      const file = candidates.find((f) => fs.existsSync(f));
      if (!file) throw new Error(`no example dataset found (looked for ${candidates.join(", ")})`);
      await vscode.window.showTextDocument(vscode.Uri.file(file));
    },

    openRunFolder: () => async (arg?: unknown) => {
      const run = runOf(arg);
      if (run) await vscode.commands.executeCommand("revealInExplorer", vscode.Uri.file(run.dir));
    },
  };
  registerAreaCommands(context, shell, "shell", factories, undefined);

  return { models, runs, training };
}

async function pickJobFolder(name: string): Promise<string | undefined> {
  const out = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: "Write job here",
    title: "Folder to write the torchrun job into (a new subfolder is created)",
  });
  return out?.[0] ? path.join(out[0].fsPath, `${name}-job`) : undefined;
}

/** Writes the picked run as a job folder with `seat export-job` in a terminal (it prints the memory estimate and the commands). */
async function exportJob(shell: ShellImpl, training: TrainingManager, def: SeatTaskDefinition): Promise<void> {
  const dir = await pickJobFolder(newRunName(def.method ?? "seat"));
  if (!dir) return;
  const inv = training.exportJobInvocation(def, dir);
  await runCliTask(shell, inv.summary, inv.args);
}

/** A command argument from a tree item, explorer or editor: Uri, {uri}, {resourceUri}. */
export function uriOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === "object" && arg !== null) {
    const o = arg as { uri?: unknown; resourceUri?: unknown };
    if (o.uri instanceof vscode.Uri) return o.uri;
    if (o.resourceUri instanceof vscode.Uri) return o.resourceUri;
  }
  return undefined;
}

function runOf(arg: unknown): RunDetails | undefined {
  if (typeof arg === "object" && arg !== null && "run" in arg) return (arg as { run: RunDetails }).run;
  return undefined;
}

/** Runs `seat <args>` in its own terminal (outside the extension host); the terminal shows its output and exit code. */
async function runCliTask(shell: ShellImpl, name: string, args: string[]): Promise<void> {
  const cli = shell.cliCommand();
  const folder = vscode.workspace.workspaceFolders?.[0];
  shell.log.info(`running: ${cli.command} ${[...cli.args, ...args].join(" ")}`);
  const terminal = vscode.window.createTerminal({
    name: `SEAT ${name}`,
    shellPath: cli.command,
    shellArgs: [...cli.args, ...args],
    env: cli.env,
    cwd: folder?.uri,
  });
  terminal.show();
}
