// `seat export RUN`: writes the merged model (base folder layout, Hugging Face safetensors with the
// original tensor names and dtypes, tokenizer and config copied) of a run's checkpoint.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Command, ExitCode, UserError } from "../command";

const command: Command = {
  name: "export",
  summary: "Write a run's fine-tuned model (merged, Hugging Face layout) from any of its checkpoints",
  usage: "RUN_DIR [--step N] [--out DIR]",
  options: {
    step: { type: "string", arg: "N", help: "Checkpoint step to export (default: the newest)" },
    out: { type: "string", arg: "DIR", help: "Output folder (default: RUN_DIR/model)" },
  },
  details: "Exit codes: 0 written, 2 bad arguments or not a run folder, 3 the export failed.",
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UserError("expected one run folder");
    const dir = resolve(io.cwd, args.positionals[0]);
    if (!existsSync(join(dir, "config.json"))) throw new UserError(`${dir}: not a run folder (no config.json)`);
    let step: number | undefined;
    if (args.values.step !== undefined) {
      step = Number(args.values.step);
      if (!Number.isInteger(step) || step < 0) throw new UserError(`--step must be a checkpoint step number, got '${String(args.values.step)}'`);
    }
    const { exportRun, listCheckpoints } = await import("../../seat/index");
    if (step !== undefined && !listCheckpoints(join(dir, "checkpoints")).includes(step)) {
      throw new UserError(`${dir}: no checkpoint for step ${step} (have: ${listCheckpoints(join(dir, "checkpoints")).join(", ") || "none"})`);
    }
    try {
      const r = exportRun(dir, { ...(step !== undefined ? { step } : {}), ...(typeof args.values.out === "string" ? { out: resolve(io.cwd, args.values.out) } : {}) });
      io.err(`seat export: step ${r.step} -> ${r.modelDir}\n`);
      io.out(r.modelDir + "\n");
      return ExitCode.ok;
    } catch (e) {
      throw new UserError((e as Error).message, ExitCode.failed);
    }
  },
};
export default command;
