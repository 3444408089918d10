// `seat export-job`: writes a SEAT run as a torchrun job folder (src/job/exportJob.ts) that runs
// unchanged from one CPU process to many GPUs; `seat import-run` brings its run folder back.
import { resolve } from "node:path";
import { type Command, type OptionSpec, ExitCode, UserError } from "../command";
import { configFlagSpecs } from "../../seat/config";
import { datasetFromPositional, resolveFromFlags, runTraining } from "./train";

function options(): Record<string, OptionSpec> {
  const opts: Record<string, OptionSpec> = {
    target: { type: "string", arg: "torchrun", help: "Job type (torchrun: PyTorch DDP/FSDP, also under Slurm)" },
    config: { type: "string", arg: "FILE", help: "JSON config file (flags override it)" },
    set: {
      type: "string",
      multiple: true,
      arg: "KEY=VALUE",
      help: "Any setting by its key, e.g. --set train.maxSteps=5 (repeatable)",
    },
  };
  for (const [flag, s] of Object.entries(configFlagSpecs())) {
    opts[flag] = {
      type: s.type,
      help:
        flag === "out"
          ? "Job folder to write (required; must be new or empty)"
          : s.help.length > 110
            ? s.help.slice(0, 107) + "..."
            : s.help,
      ...(s.arg ? { arg: s.arg } : {}),
    };
  }
  return opts;
}

const command: Command = {
  name: "export-job",
  summary: "Write a training run as a self-contained torchrun job folder (DDP/FSDP, Slurm) to run on other machines",
  usage: "[DATASET] --model DIR [--method M] [--config FILE] [--set k=v]... --target torchrun --out DIR",
  options: options(),
  details: `
The job folder holds the resolved config, the dataset, the model (hard-linked when possible), the
perturbed prompts of every epoch, the mask or LoRA init, and the seat_job Python package. Run it with
  ./run_local.sh [N]          one machine, N processes (torchrun --standalone)
  ./run_multinode.sh          several machines (NNODES, NPROC_PER_NODE, RDZV_ENDPOINT)
  sbatch slurm.sbatch         a Slurm cluster
It writes its run folder to <job>/run; bring it back with \`seat import-run DIR\`.`,
  async run(args, io) {
    const seat = await import("../../seat/index");
    const job = await import("../../job/index");
    const values = { ...args.values };
    if (values.target !== "torchrun")
      throw new UserError(
        values.target === undefined
          ? "--target is required (torchrun)"
          : `--target ${String(values.target)}: only torchrun is supported`,
      );
    if (typeof values.out !== "string") throw new UserError("--out DIR is required: the job folder to write");
    const out = resolve(io.cwd, values.out);
    delete values.out;
    delete values.target;
    datasetFromPositional(values, args.positionals);
    return runTraining(async () => {
      const { config, warnings } = resolveFromFlags(seat, values, io.cwd);
      const abs = { ...config, model: resolve(io.cwd, config.model), dataset: resolve(io.cwd, config.dataset) };
      for (const w of warnings) io.err(`  warning: ${w}\n`);
      let r;
      try {
        r = await job.exportJob(abs, out, { signal: io.signal, log: (m) => io.err(`  ${m}\n`) });
      } catch (e) {
        if (e instanceof job.JobExportError) throw new UserError(e.message);
        throw e;
      }
      for (const w of r.warnings) io.err(`  warning: ${w}\n`);
      io.err(
        `seat: ${config.method} job written to ${r.dir}: ${r.examples} examples, ${r.trainableParams.toLocaleString("en-US")} of ${r.totalParams.toLocaleString("en-US")} weights trainable\n`,
      );
      io.err(`  memory per GPU (estimate):\n${r.memory.map((m) => `    ${job.formatEstimate(m)}`).join("\n")}\n`);
      io.err(
        `  run it: cd ${r.dir} && ./run_local.sh 1   (N processes: ./run_local.sh N; Slurm: sbatch slurm.sbatch)\n  bring the result back: seat import-run ${r.dir}/run\n`,
      );
      io.out(r.dir + "\n");
      return ExitCode.ok;
    });
  },
};
export default command;
