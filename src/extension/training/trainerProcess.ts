// Runs the trainer (`seat train|resume … --events-json`) as a child process and turns its stdout into
// typed events. Lines that are not events (and all of stderr) are passed on as text. Cancel sends
// SIGTERM: the trainer checkpoints and exits with a `cancelled` event, so the run stays resumable.
// No vscode import: unit-tested with a fake trainer script.
import { spawn, type ChildProcess } from "node:child_process";
import { parseEvent, type TrainEvent } from "../../protocol/events";
import { autoEpochsLine } from "../../seat/stopRule";

export interface TrainerLaunch {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

export interface TrainerHandlers {
  onEvent(event: TrainEvent): void;
  /** Text output (stderr, or stdout lines that are not JSON events) without the trailing newline. */
  onText(line: string, stream: "stdout" | "stderr"): void;
  /** A stdout line that looked like an event but failed validation. */
  onBadEvent?(error: string): void;
}

export interface TrainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lifecycle event seen (done, error, cancelled), if any. */
  last?: TrainEvent;
}

export class TrainerProcess {
  private child: ChildProcess | undefined;
  private lastLifecycle: TrainEvent | undefined;
  private cancelRequested = false;
  readonly exited: Promise<TrainerExit>;

  constructor(launch: TrainerLaunch, handlers: TrainerHandlers) {
    let resolveExit!: (e: TrainerExit) => void;
    this.exited = new Promise((r) => (resolveExit = r));
    const child = spawn(launch.command, launch.args, {
      cwd: launch.cwd,
      env: { ...process.env, ...launch.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    let n = 0;
    lines(child.stdout!, (line) => {
      n++;
      if (line.startsWith("{")) {
        const r = parseEvent(line, `trainer stdout line ${n}`);
        if (r.ok) {
          if (r.event.type === "done" || r.event.type === "error" || r.event.type === "cancelled")
            this.lastLifecycle = r.event;
          handlers.onEvent(r.event);
          return;
        }
        handlers.onBadEvent?.(r.error);
      }
      handlers.onText(line, "stdout");
    });
    lines(child.stderr!, (line) => handlers.onText(line, "stderr"));
    child.on("error", (err) => {
      handlers.onText(`could not start the trainer (${launch.command}): ${err.message}`, "stderr");
      resolveExit({ code: null, signal: null, last: this.lastLifecycle });
    });
    child.on("close", (code, signal) => {
      this.child = undefined;
      resolveExit({ code, signal, last: this.lastLifecycle });
    });
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get cancelling(): boolean {
    return this.cancelRequested;
  }

  /** Asks the trainer to stop at the next step boundary (it writes a checkpoint first). A second call kills it. */
  cancel(): void {
    if (!this.child) return;
    if (this.cancelRequested) this.child.kill("SIGKILL");
    else this.child.kill("SIGTERM");
    this.cancelRequested = true;
  }
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i).replace(/\r$/, ""));
      buf = buf.slice(i + 1);
    }
  });
  stream.on("end", () => {
    if (buf) onLine(buf);
    buf = "";
  });
}

/** One line for the terminal / status bar per event. */
export function describeEvent(e: TrainEvent): string | undefined {
  switch (e.type) {
    case "run-start":
      return `run ${e.runDir}: ${e.method} on ${e.dataset} with ${e.model} (${e.provider}); ${e.totalSteps} steps, ${e.epochs} epochs; ${e.trainableParams.toLocaleString("en-US")} of ${e.totalParams.toLocaleString("en-US")} parameters trainable${e.resumedFromStep !== undefined ? `; resumed from step ${e.resumedFromStep}` : ""}`;
    case "phase":
      return `${e.phase}: ${e.message}${e.progress !== undefined ? ` (${Math.round(e.progress * 100)}%)` : ""}`;
    case "step":
      return `step ${e.step}/${e.totalSteps} (epoch ${e.epoch})  loss ${e.loss.toFixed(4)}  ce ${e.ce.toFixed(4)}  kl ${e.kl.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${Math.round(e.tokensPerSec)} tok/s  ETA ${formatDuration(e.etaSeconds)}`;
    case "quick-eval":
      return `eval @ step ${e.step}: held-out abstention ${(e.abstentionProb * 100).toFixed(1)}% (${e.abstentionSamples}), answer accuracy ${(e.answerAccuracy * 100).toFixed(1)}% (${e.accuracySamples})`;
    case "checkpoint":
      return `checkpoint @ step ${e.step}: ${e.path}`;
    case "early-stop":
      return `early stop @ step ${e.step} (${e.reason}): ${e.detail}`;
    case "done":
      return `done: ${e.summary.steps} steps in ${formatDuration(e.summary.trainSeconds)}, final loss ${e.summary.finalLoss.toFixed(4)}; model in ${e.summary.modelDir}${e.summary.calibration ? `; calibration chose KL lambda ${e.summary.calibration.chosen.lambda}, mask ratio ${e.summary.calibration.chosen.ratio}` : ""}${e.summary.epochsAuto ? `; ${autoEpochsLine(e.summary.epochsAuto)}` : ""}`;
    case "error":
      return `error${e.step !== undefined ? ` at step ${e.step}` : ""}${e.term ? ` (${e.term})` : ""}: ${e.message}`;
    case "cancelled":
      return `cancelled at step ${e.step}${e.checkpoint ? `; resume from ${e.checkpoint}` : "; no checkpoint written"}`;
    case "log":
      return `${e.level === "warn" ? "warning: " : ""}${e.message}`;
  }
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
