// `seat` tasks: a TaskProvider whose tasks run the trainer in a child process (CustomExecution +
// Pseudoterminal), stream its events to the terminal and a status-bar item, and keep the Runs view
// current. Ctrl+C in the terminal, closing it, or SEAT: Cancel Run sends SIGTERM (resumable stop).
import * as vscode from "vscode";
import * as path from "node:path";
import type { TrainEvent } from "../../protocol/events";
import { CONTEXT_KEY } from "../contextValues";
import type { ShellImpl } from "../shellImpl";
import { resolveWorkspacePath } from "../shellImpl";
import {
  buildExportJobInvocation,
  buildTrainInvocation,
  newRunName,
  SETTING_TO_CONFIG,
  type SeatTaskDefinitionLike,
  type TrainInvocation,
} from "./trainArgs";
import { TrainerProcess, describeEvent, formatDuration } from "./trainerProcess";

export const TASK_TYPE = "seat";

export interface SeatTaskDefinition extends vscode.TaskDefinition, SeatTaskDefinitionLike {
  type: typeof TASK_TYPE;
}

interface ActiveRun {
  proc: TrainerProcess;
  runDir?: string;
  label: string;
  lastLine?: string;
}

export class TrainingManager implements vscode.TaskProvider {
  private readonly active = new Set<ActiveRun>();
  private readonly status: vscode.StatusBarItem;
  private readonly runEnded = new vscode.EventEmitter<{ runDir?: string; last?: TrainEvent; code: number | null }>();
  /** Fires when a trainer process exits (tests and the panel can wait on it). */
  readonly onDidEndRun = this.runEnded.event;
  private readonly eventEmitter = new vscode.EventEmitter<{ runDir?: string; event: TrainEvent }>();
  /** Every event of every run started from this window (the probes panel draws live curves from it). */
  readonly onDidReceiveEvent = this.eventEmitter.event;

  constructor(
    context: vscode.ExtensionContext,
    private readonly shell: ShellImpl,
  ) {
    this.status = vscode.window.createStatusBarItem("seat.training", vscode.StatusBarAlignment.Left, 50);
    this.status.name = "SEAT Training";
    this.status.command = "workbench.action.terminal.focus";
    context.subscriptions.push(
      this.status,
      this.runEnded,
      this.eventEmitter,
      vscode.tasks.registerTaskProvider(TASK_TYPE, this),
      {
        dispose: () => {
          // Closing the window must not orphan a trainer: it is asked to checkpoint and stop.
          for (const run of this.active) run.proc.cancel();
        },
      },
    );
  }

  activeRunDirs(): ReadonlySet<string> {
    return new Set([...this.active].map((r) => r.runDir).filter((d): d is string => !!d));
  }

  isRunning(): boolean {
    return this.active.size > 0;
  }

  /** Cancels the run writing `runDir`, or the only/most recent active run. Returns false if none. */
  cancel(runDir?: string): boolean {
    const runs = [...this.active];
    const target = runDir
      ? runs.find((r) => r.runDir && path.resolve(r.runDir) === path.resolve(runDir))
      : runs[runs.length - 1];
    if (!target) return false;
    target.proc.cancel();
    return true;
  }

  async provideTasks(): Promise<vscode.Task[]> {
    // Offer "train <dataset>" for datasets in the workspace; a handful is enough for the picker.
    if (!vscode.workspace.isTrusted) return [];
    const files = await vscode.workspace.findFiles("**/*.jsonl", "{**/node_modules/**,**/runs/**,**/.git/**}", 20);
    return files.map((uri) =>
      this.createTask({ type: TASK_TYPE, dataset: vscode.workspace.asRelativePath(uri, false) }),
    );
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as SeatTaskDefinition;
    if (def.type !== TASK_TYPE) return undefined;
    return this.createTask(def, task.scope);
  }

  createTask(def: SeatTaskDefinition, scope?: vscode.Task["scope"]): vscode.Task {
    const name = def.resume
      ? `resume ${path.basename(def.resume)}`
      : `train ${def.dataset ? path.basename(def.dataset) : "?"}${def.method ? ` (${def.method})` : ""}`;
    const target = scope ?? vscode.workspace.workspaceFolders?.[0] ?? vscode.TaskScope.Workspace;
    const task = new vscode.Task(
      def,
      target,
      name,
      "SEAT",
      new vscode.CustomExecution(async (resolved) => this.terminal(resolved as SeatTaskDefinition)),
    );
    task.presentationOptions = {
      reveal: vscode.TaskRevealKind.Always,
      panel: vscode.TaskPanelKind.Dedicated,
      clear: true,
    };
    task.isBackground = false;
    return task;
  }

  private terminal(def: SeatTaskDefinition): vscode.Pseudoterminal {
    const write = new vscode.EventEmitter<string>();
    const close = new vscode.EventEmitter<number>();
    const say = (line: string) => write.fire(line.replace(/\r?\n/g, "\r\n") + "\r\n");
    let run: ActiveRun | undefined;
    return {
      onDidWrite: write.event,
      onDidClose: close.event,
      open: () => {
        if (!vscode.workspace.isTrusted) {
          say(
            "SEAT: training is off in Restricted Mode (it loads model weights and runs a trainer process). Trust the workspace to enable it.",
          );
          close.fire(1);
          return;
        }
        let invocation;
        try {
          invocation = buildTrainInvocation(this.resolvePaths(def), this.userSettings());
        } catch (err) {
          say(`SEAT: ${(err as Error).message}`);
          close.fire(2);
          return;
        }
        const cli = this.shell.cliCommand();
        say(`\x1b[1mSEAT ${invocation.summary}\x1b[0m`);
        say(`$ seat ${invocation.args.map(quote).join(" ")}`);
        this.shell.log.info(`starting trainer: ${cli.command} ${[...cli.args, ...invocation.args].join(" ")}`);
        const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
        run = {
          label: def.resume ? `resume ${path.basename(def.resume)}` : "training",
          proc: undefined as unknown as TrainerProcess,
          runDir: def.resume ?? def.outDir,
        };
        const current = run;
        current.proc = new TrainerProcess(
          { command: cli.command, args: [...cli.args, ...invocation.args], env: cli.env, cwd },
          {
            onEvent: (e) => this.onEvent(current, e, say),
            onText: (line, stream) => say(stream === "stderr" ? `\x1b[2m${line}\x1b[0m` : line),
            onBadEvent: (error) => this.shell.log.warn(error),
          },
        );
        this.active.add(current);
        this.updateStatus();
        void current.proc.exited.then((exit) => {
          this.active.delete(current);
          this.updateStatus();
          this.shell.fireRunsChanged();
          const code = exit.last?.type === "done" ? 0 : (exit.code ?? 1);
          if (!exit.last)
            say(exit.signal ? `trainer stopped by ${exit.signal}` : `trainer exited with code ${exit.code}`);
          this.runEnded.fire({ runDir: current.runDir, last: exit.last, code: exit.code });
          close.fire(code);
        });
      },
      close: () => {
        run?.proc.cancel();
      },
      handleInput: (data: string) => {
        if (data === "\x03" && run?.proc.running) {
          say(
            run.proc.cancelling
              ? "stopping now…"
              : "cancelling: the trainer writes a checkpoint and stops (Ctrl+C again to kill)…",
          );
          run.proc.cancel();
        }
      },
    };
  }

  private onEvent(run: ActiveRun, e: TrainEvent, say: (l: string) => void): void {
    if (e.type === "run-start") {
      run.runDir = path.resolve(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? ".", e.runDir);
      this.shell.fireRunsChanged();
    }
    if (e.type === "step") {
      run.lastLine = `step ${e.step}/${e.totalSteps} · loss ${e.loss.toFixed(3)} · ETA ${formatDuration(e.etaSeconds)}`;
      this.updateStatus();
    } else if (e.type === "phase") {
      run.lastLine = `${e.phase}${e.progress !== undefined ? ` ${Math.round(e.progress * 100)}%` : ""}`;
      this.updateStatus();
    }
    if (e.type === "checkpoint" || e.type === "done" || e.type === "error" || e.type === "cancelled")
      this.shell.fireRunsChanged();
    const line = describeEvent(e);
    if (line) say(e.type === "error" ? `\x1b[31m${line}\x1b[0m` : e.type === "done" ? `\x1b[32m${line}\x1b[0m` : line);
    this.eventEmitter.fire({ runDir: run.runDir, event: e });
  }

  private updateStatus(): void {
    void vscode.commands.executeCommand("setContext", CONTEXT_KEY.runActive, this.active.size > 0);
    const runs = [...this.active];
    if (runs.length === 0) {
      this.status.hide();
      return;
    }
    const r = runs[runs.length - 1];
    this.status.text = `$(sync~spin) SEAT ${r.lastLine ?? "starting…"}${runs.length > 1 ? ` (+${runs.length - 1})` : ""}`;
    this.status.tooltip =
      "SEAT training in progress: click to show the terminal; SEAT: Cancel Run stops it (resumable).";
    this.status.show();
  }

  /** The same run as a task of `def` would train, as `seat export-job` arguments writing `jobDir`. */
  exportJobInvocation(def: SeatTaskDefinition, jobDir: string): TrainInvocation {
    return buildExportJobInvocation(this.resolvePaths(def), this.userSettings(), jobDir);
  }

  private resolvePaths(def: SeatTaskDefinition): SeatTaskDefinitionLike {
    const abs = (p: string | undefined) => (p ? resolveWorkspacePath(p) : undefined);
    const model = abs(def.model) ?? this.shell.selectedModel()?.path;
    // A new run goes under seatTuner.runsFolder unless the task names its folder.
    let outDir = abs(def.outDir);
    const root = this.shell.runsRoot();
    if (!outDir && !def.resume && root)
      outDir = path.join(
        root.fsPath,
        newRunName(def.method ?? vscode.workspace.getConfiguration("seatTuner").get<string>("training.method", "seat")),
      );
    return { ...def, dataset: abs(def.dataset), model, config: abs(def.config), outDir, resume: abs(def.resume) };
  }

  /** Only the settings the user set: contributed defaults must not override the method's preset. */
  private userSettings(): Record<string, unknown> {
    const cfg = vscode.workspace.getConfiguration("seatTuner");
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(SETTING_TO_CONFIG)) {
      const i = cfg.inspect(key);
      const v = i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
      if (v !== undefined) out[key] = v;
    }
    return out;
  }
}

function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}
