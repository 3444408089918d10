// `seat train`: one training run (SEAT or a baseline) from flags, a config file, or both. Progress is a
// bar on a terminal's stderr, plain lines otherwise, and with --events-json the typed JSON-lines events
// on stdout (what the VS Code task reads). Exit codes: 0 done, 2 bad flags/config/files, 3 training
// failed (NaN, model error), 130 cancelled (a resumable checkpoint was written).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Command, type CliIo, type OptionSpec, ExitCode, UserError } from "../command";
import type { TrainEvent } from "../../protocol/events";
import { formatEvent } from "../../protocol/events";
import { autoEpochsLine } from "../../seat/stopRule";
import { calibrationCostText } from "../../seat/calibrationText";
// The config module is pure and cheap (no model or runtime code), so flags are derived from it eagerly;
// the trainer itself is imported only when a command runs.
import { configFlagSpecs } from "../../seat/config";

type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** Renders events for a person: a redrawn bar on a TTY, one line per step otherwise. */
export function progressPrinter(io: CliIo, quiet: boolean): (e: TrainEvent) => void {
  let barShown = false;
  const clearBar = () => {
    if (barShown) {
      io.err("\r\x1b[K");
      barShown = false;
    }
  };
  const line = (s: string) => {
    clearBar();
    io.err(s + "\n");
  };
  return (e) => {
    switch (e.type) {
      case "run-start":
        line(
          `seat: ${e.method} on ${e.dataset}: ${e.totalSteps} steps (${e.epochs} epochs), ${e.trainableParams.toLocaleString("en-US")} of ${e.totalParams.toLocaleString("en-US")} weights trainable, ${e.provider}${e.resumedFromStep !== undefined ? `, resumed at step ${e.resumedFromStep}` : ""}\n  run folder: ${e.runDir}`,
        );
        break;
      case "phase":
        if (!quiet)
          line(`  ${e.phase}: ${e.message}${e.progress !== undefined ? ` (${Math.round(e.progress * 100)}%)` : ""}`);
        break;
      case "log":
        if (e.level === "warn" || !quiet) line(`  ${e.level === "warn" ? "warning: " : ""}${e.message}`);
        break;
      case "step": {
        const stats = `loss ${e.loss.toFixed(4)} ce ${e.ce.toFixed(4)} kl ${e.kl.toExponential(2)} lr ${e.lr.toExponential(1)} ${Math.round(e.tokensPerSec)} tok/s eta ${formatSeconds(e.etaSeconds)}`;
        if (io.isTty) {
          const width = 24;
          const filled = Math.round((e.step / Math.max(1, e.totalSteps)) * width);
          io.err(
            `\r\x1b[K[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${e.step}/${e.totalSteps} ep ${e.epoch} ${stats}`,
          );
          barShown = true;
        } else if (!quiet) {
          io.err(`step ${e.step}/${e.totalSteps} epoch ${e.epoch} ${stats}\n`);
        }
        break;
      }
      case "quick-eval":
        line(
          `  eval @${e.step}: held-out abstention probability ${e.abstentionProb.toFixed(3)} (n=${e.abstentionSamples}), answer accuracy ${e.answerAccuracy.toFixed(3)} (n=${e.accuracySamples})`,
        );
        break;
      case "checkpoint":
        if (!quiet) line(`  checkpoint: ${e.path}`);
        break;
      case "early-stop":
        line(`  early stop (${e.reason}): ${e.detail}`);
        break;
      case "cancelled":
        line(
          `seat: cancelled at step ${e.step}${e.checkpoint ? `; resume with \`seat resume\` (checkpoint ${e.checkpoint})` : ""}`,
        );
        break;
      case "error":
        clearBar();
        break;
      case "done":
        if (e.summary.calibration) {
          const c = e.summary.calibration;
          line(`  calibration: KL lambda ${c.chosen.lambda}, mask ratio ${c.chosen.ratio} (${c.reason})`);
          line(`    ${calibrationCostText(c)}`);
          for (const p of c.points)
            line(
              `    lambda ${p.lambda}, ratio ${p.ratio}: answer accuracy ${p.answerAccuracy.toFixed(3)}, held-out abstention ${p.abstentionProb.toFixed(3)}${p.wallSeconds !== undefined ? ` (${p.wallSeconds.toFixed(0)} s)` : ""}`,
            );
        }
        if (e.summary.epochsAuto) line(`  ${autoEpochsLine(e.summary.epochsAuto)}`);
        line(
          `seat: done, ${e.summary.steps} steps in ${formatSeconds(e.summary.trainSeconds)} (${Math.round(e.summary.meanTokensPerSec)} tok/s); final loss ${e.summary.finalLoss.toFixed(4)}; model in ${e.summary.modelDir}/`,
        );
        break;
    }
  };
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const m = Math.floor(s / 60);
  const sec = Math.round(s % 60);
  return m ? `${m}m${String(sec).padStart(2, "0")}s` : `${s < 10 ? s.toFixed(1) : sec}s`;
}

/** Event consumer for the command line: JSON lines on stdout and/or the human printer on stderr. */
export function cliEventSink(io: CliIo, values: Values): (e: TrainEvent) => void {
  const human = progressPrinter(io, Boolean(values.quiet));
  const json = Boolean(values["events-json"]);
  return (e) => {
    if (json) io.out(formatEvent(e) + "\n");
    human(e);
  };
}

/** Maps trainer errors to exit codes: config/data/file problems are usage errors, the rest failures. */
export async function runTraining<T>(fn: () => Promise<T>): Promise<T> {
  const seat = await import("../../seat/index");
  try {
    return await fn();
  } catch (e) {
    if (e instanceof seat.ConfigError) throw new UserError(`invalid configuration:\n${e.message}`, ExitCode.usage);
    if (e instanceof seat.DatasetError) throw new UserError(e.message, ExitCode.usage);
    if (e instanceof seat.MemoryPlanError) throw new UserError(e.message, ExitCode.usage);
    if (e instanceof seat.TrainError) throw new UserError(e.message, ExitCode.failed);
    // Not a usable run folder (damaged config.json, no intact checkpoint, held by another process):
    // nothing was done, and the message names the file.
    if (e instanceof seat.RunFolderError || e instanceof seat.CheckpointError)
      throw new UserError(e.message, ExitCode.usage);
    const name = (e as Error).name;
    if (name === "ModelFormatError") throw new UserError((e as Error).message, ExitCode.usage);
    // Disk full / permission denied / path under a file: the OS message names the problem (and usually
    // the path); a stack trace would bury it. Checkpoints are written atomically, so the previous one
    // is intact and the run can be resumed. (Added by the reliability suite, test/unit/reliability.)
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === "string" && typeof (e as NodeJS.ErrnoException).syscall === "string") {
      const hint =
        code === "ENOSPC" || code === "EDQUOT"
          ? "; free some disk space, then `seat resume` the run"
          : code === "EACCES" || code === "EPERM" || code === "EROFS"
            ? "; make the run folder writable, then `seat resume` the run"
            : "";
      throw new UserError(`${(e as Error).message}${hint}`, ExitCode.failed);
    }
    throw e;
  }
}

export const EVENT_OPTIONS: Record<string, OptionSpec> = {
  "events-json": { type: "boolean", help: "Print training events as JSON lines on stdout (for tools and the editor)" },
  quiet: { type: "boolean", help: "Only warnings, evals and the final line on stderr" },
};

function trainOptions(): Record<string, OptionSpec> {
  const opts: Record<string, OptionSpec> = {
    config: { type: "string", arg: "FILE", help: "JSON config file (flags override it)" },
    set: {
      type: "string",
      multiple: true,
      arg: "KEY=VALUE",
      help: "Any setting by its key, e.g. --set optim.eps=1e-6 (repeatable)",
    },
  };
  for (const [flag, s] of Object.entries(configFlagSpecs())) {
    opts[flag] = {
      type: s.type,
      help: s.help.length > 110 ? s.help.slice(0, 107) + "..." : s.help,
      ...(s.arg ? { arg: s.arg } : {}),
    };
  }
  return { ...opts, ...EVENT_OPTIONS };
}

const command: Command = {
  name: "train",
  summary: "Fine-tune a local model on a dataset with SEAT or a baseline (full, lora, sparse, full+kl, ewc, replay)",
  usage: "[DATASET] --model DIR [--method M] [--config FILE] [options]",
  options: trainOptions(),
  details: `
Settings come from (later wins): defaults, the method's preset, --config FILE, flags, --set.
The run folder (--out, default runs/<date>-<method>) receives config.json, events.jsonl,
checkpoints/, model/ (merged, Hugging Face layout) and summary.json.
Exit codes: 0 done, 2 bad flags/config/files, 3 training failed, 130 cancelled (resumable).`,
  async run(args, io) {
    const seat = await import("../../seat/index");
    const values = { ...args.values };
    datasetFromPositional(values, args.positionals);
    return runTraining(async () => {
      const { config, warnings } = resolveFromFlags(seat, values, io.cwd);
      const result = await seat.train(config, {
        signal: io.signal,
        onEvent: cliEventSink(io, values),
        cwd: io.cwd,
        warnings,
      });
      return result.status === "cancelled" ? ExitCode.cancelled : ExitCode.ok;
    });
  },
};
export default command;

type SeatModule = typeof import("../../seat/index");

/** `seat train DATASET` and `--data DATASET` are the same; both at once is a usage error. */
export function datasetFromPositional(values: Record<string, unknown>, positionals: readonly string[]): void {
  if (positionals.length > 1) throw new UserError(`expected at most one dataset, got ${positionals.join(", ")}`);
  if (positionals[0]) {
    if (values.data !== undefined)
      throw new UserError("give the dataset either as an argument or with --data, not both");
    values.data = positionals[0];
  }
}

/** The run's config from --config FILE and the flags (as `seat train` resolves it; export-job too). */
export function resolveFromFlags(
  seat: SeatModule,
  values: Record<string, unknown>,
  cwd: string,
): ReturnType<SeatModule["resolveConfig"]> {
  const layers = [];
  if (typeof values.config === "string") {
    const file = resolve(cwd, values.config);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new UserError(
        `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    layers.push(seat.layerFromConfigText(text, values.config));
  }
  layers.push(...seat.layerFromFlags(values as never));
  return seat.resolveConfig(layers);
}
