// `seat export RUN [--format hf|gguf|adapter|onnx]`: writes a run's checkpoint in the format a user takes
// it to (see src/seat/exportRun.ts for what each format holds).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Command, ExitCode, UserError } from "../command";

const FORMATS = ["hf", "gguf", "adapter", "onnx"];
const QUANTS = ["f16", "q8_0"];

const command: Command = {
  name: "export",
  summary: "Write a run's fine-tuned model: Hugging Face folder, GGUF + Ollama Modelfile, LoRA adapter or ONNX",
  usage: "RUN_DIR [--format hf|gguf|adapter|onnx] [--quant f16|q8_0] [--step N] [--out DIR]",
  options: {
    format: {
      type: "string",
      arg: "FORMAT",
      help: "hf (merged safetensors, default), gguf (llama.cpp/Ollama), adapter (PEFT LoRA, LoRA runs), onnx",
    },
    quant: { type: "string", arg: "TYPE", help: "GGUF tensor type: f16 (default) or q8_0" },
    step: { type: "string", arg: "N", help: "Checkpoint step to export (default: the newest)" },
    out: {
      type: "string",
      arg: "DIR",
      help: "Output folder (default: RUN_DIR/model for hf, RUN_DIR/export-FORMAT otherwise)",
    },
  },
  details:
    "Prints the folder written on stdout, progress on stderr.\nExit codes: 0 written, 2 bad arguments, not a run folder or a format the run cannot be written in, 3 the export failed, 130 cancelled.",
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UserError("expected one run folder");
    const dir = resolve(io.cwd, args.positionals[0]);
    if (!existsSync(join(dir, "config.json"))) throw new UserError(`${dir}: not a run folder (no config.json)`);
    const format = String(args.values.format ?? "hf");
    if (!FORMATS.includes(format))
      throw new UserError(`--format must be one of ${FORMATS.join(", ")}, got '${format}'`);
    const quant = String(args.values.quant ?? "f16");
    if (!QUANTS.includes(quant)) throw new UserError(`--quant must be one of ${QUANTS.join(", ")}, got '${quant}'`);
    if (args.values.quant !== undefined && format !== "gguf")
      throw new UserError("--quant applies to --format gguf only");
    let step: number | undefined;
    if (args.values.step !== undefined) {
      step = Number(args.values.step);
      if (!Number.isInteger(step) || step < 0)
        throw new UserError(`--step must be a checkpoint step number, got '${String(args.values.step)}'`);
    }
    const { exportRun, listCheckpoints, ExportFormatError } = await import("../../seat/index");
    const { ModelFormatError } = await import("../../model/index");
    if (step !== undefined && !listCheckpoints(join(dir, "checkpoints")).includes(step)) {
      throw new UserError(
        `${dir}: no checkpoint for step ${step} (have: ${listCheckpoints(join(dir, "checkpoints")).join(", ") || "none"})`,
      );
    }
    let last = -1;
    try {
      const r = exportRun(dir, {
        format: format as "hf",
        quant: quant as "f16",
        signal: io.signal,
        ...(step !== undefined ? { step } : {}),
        ...(typeof args.values.out === "string" ? { out: resolve(io.cwd, args.values.out) } : {}),
        onProgress: (message, fraction) => {
          // One line per tenth on a pipe; a live line on a terminal.
          const tenth = Math.floor((fraction ?? 0) * 10);
          if (io.isTty) io.err(`\r\x1b[Kseat export: ${message}`);
          else if (tenth !== last) {
            last = tenth;
            io.err(`seat export: ${message}\n`);
          }
        },
      });
      if (io.isTty) io.err("\n");
      io.err(`seat export: step ${r.step}, ${r.format} -> ${r.files.join(", ")}\n`);
      io.out(r.modelDir + "\n");
      return ExitCode.ok;
    } catch (e) {
      if (io.signal.aborted)
        throw new UserError("export cancelled (nothing partial was left in place)", ExitCode.cancelled);
      if (e instanceof ExportFormatError || e instanceof ModelFormatError)
        throw new UserError(e.message, ExitCode.usage);
      throw new UserError((e as Error).message, ExitCode.failed);
    }
  },
};
export default command;
