// `seat resume RUN`: continues an interrupted run from its newest checkpoint with the run's own saved
// config; on CPU the result is bit-identical to a run that was never interrupted.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Command, ExitCode, UserError } from "../command";
import { EVENT_OPTIONS, cliEventSink, runTraining } from "./train";

const command: Command = {
  name: "resume",
  summary: "Continue an interrupted training run from its newest checkpoint",
  usage: "RUN_DIR [--device PROVIDER] [--events-json] [--quiet]",
  options: {
    ...EVENT_OPTIONS,
    device: {
      type: "string",
      arg: "PROVIDER",
      help: "Continue on this execution provider instead of the run's own (e.g. cpu after a GPU failure)",
    },
  },
  details:
    "RUN_DIR is the run folder `seat train` printed (it holds config.json and checkpoints/).\nA damaged newest checkpoint is skipped with a warning naming it (the run continues from the newest\nintact one); only one process may train a run at a time (run.lock).\nExit codes: 0 done, 2 not a run folder / damaged config / no intact checkpoint / run in use, 3 training failed, 130 cancelled again (resumable).",
  async run(args, io) {
    if (args.positionals.length !== 1)
      throw new UserError("expected one run folder, e.g. `seat resume runs/20260101-120000-seat`");
    const dir = resolve(io.cwd, args.positionals[0]);
    if (!existsSync(join(dir, "config.json"))) throw new UserError(`${dir}: not a run folder (no config.json)`);
    const seat = await import("../../seat/index");
    const device = args.values["device"] as string | undefined;
    const { PROVIDERS } = await import("../../runtime/index");
    if (device !== undefined && !PROVIDERS.includes(device as never))
      throw new UserError(`--device ${device}: choose one of ${PROVIDERS.join(", ")}`);
    return runTraining(async () => {
      const result = await seat.resume(dir, {
        signal: io.signal,
        onEvent: cliEventSink(io, args.values),
        cwd: io.cwd,
        ...(device ? { provider: device as never } : {}),
      });
      return result.status === "cancelled" ? ExitCode.cancelled : ExitCode.ok;
    });
  },
};
export default command;
