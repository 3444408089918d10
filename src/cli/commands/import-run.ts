// `seat import-run DIR`: checks a run folder written elsewhere (a torchrun job's run/) and copies it
// under ./runs, where `seat probe`, the Runs view and the probes panel treat it like a local run.
import { resolve } from "node:path";
import { type Command, ExitCode, UserError } from "../command";

const command: Command = {
  name: "import-run",
  summary: "Check a run folder trained elsewhere (e.g. by an exported torchrun job) and copy it into ./runs",
  usage: "DIR [--runs DIR]",
  options: {
    runs: { type: "string", arg: "DIR", help: "Runs folder to copy into (default: ./runs)" },
  },
  async run(args, io) {
    const job = await import("../../job/index");
    if (args.positionals.length !== 1) throw new UserError("expected one run folder, e.g. seat import-run job/run");
    const runs = resolve(io.cwd, typeof args.values.runs === "string" ? args.values.runs : "runs");
    try {
      const r = job.importRun(resolve(io.cwd, args.positionals[0]), runs);
      io.err(
        `seat: imported a finished ${r.method} run (${r.steps} steps, final loss ${r.summary.finalLoss.toFixed(4)})\n`,
      );
      io.out(r.dir + "\n");
      return ExitCode.ok;
    } catch (e) {
      if (e instanceof job.RunImportError || (e as Error).name === "ModelFormatError")
        throw new UserError((e as Error).message);
      throw e;
    }
  },
};
export default command;
