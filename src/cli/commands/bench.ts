// `seat bench`: speed and memory against PyTorch eager and the measured MatMul ceiling (see src/bench).
import { mkdirSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Command, ExitCode, UserError } from "../command";
import { runBench, runCase, writeBenchReport, benchMarkdown } from "../../bench";
import { summarizeProfileFile } from "../../bench/profile";
import { isScaleModel, SCALE_MODELS } from "../../bench/scale";
import { PROFILE_ENV } from "../../runtime";

const command: Command = {
  name: "bench",
  summary: "Measure training, generation, validation and activation speed against PyTorch and the MatMul ceiling",
  usage: "[--quick | --scale [--only MODELS]] [--out DIR] [--threads N] | --case ID [--profile DIR]",
  options: {
    quick: { type: "boolean", help: "Reduced set (embedded model only, fewer repetitions): under ~2 minutes" },
    scale: {
      type: "boolean",
      help: "The real-shape rows alone (135M, 0.5B, 1B; fixture folders written once under .cache/real-shapes)",
    },
    only: {
      type: "string",
      arg: "MODELS",
      help: "With --scale: only these real shapes, comma-separated (135m,0.5b,1b)",
    },
    out: {
      type: "string",
      arg: "DIR",
      default: "bench/results",
      help: "Where latest.json and latest.md go (scale.json and scale.md with --scale)",
    },
    threads: { type: "string", arg: "N", default: "2", help: "Intra-op threads for ours and PyTorch alike" },
    case: {
      type: "string",
      arg: "ID",
      help: "Run one case in this process and print its JSON (used by the orchestrator), e.g. train:100m:seat",
    },
    profile: {
      type: "string",
      arg: "DIR",
      help: "With --case: write onnxruntime profiles of the case's sessions to DIR and print a per-operator summary",
    },
  },
  details:
    "PyTorch figures come from Debian's python3-torch with an optimized BLAS (apt-get install python3-torch\nlibopenblas0-pthread); without them the ratios are reported as failed, never estimated. See bench/README.md.",
  async run(args, io) {
    const threads = Number(args.values.threads);
    if (!Number.isInteger(threads) || threads < 1)
      throw new UserError(`--threads must be a positive integer, got '${args.values.threads}'`);
    if (args.values.quick && args.values.scale)
      throw new UserError(
        "--quick and --scale exclude each other: --quick is the embedded model only, --scale the real-shape rows only",
      );
    const only =
      typeof args.values.only === "string"
        ? args.values.only
            .split(",")
            .map((x) => x.trim())
            .filter(Boolean)
        : undefined;
    const unknown = only?.find((m) => !isScaleModel(m));
    if (unknown !== undefined)
      throw new UserError(`--only: unknown real shape '${unknown}' (known: ${Object.keys(SCALE_MODELS).join(", ")})`);
    if (only && !args.values.scale) throw new UserError("--only selects real-shape rows: use it with --scale");
    const plan = {
      quick: Boolean(args.values.quick),
      scale: Boolean(args.values.scale),
      threads,
      root: io.cwd,
      ...(only ? { only } : {}),
    };
    if (typeof args.values.case === "string") {
      const id = args.values.case;
      if (typeof args.values.profile !== "string") {
        io.out(JSON.stringify(await runCase(id, plan)) + "\n");
        return ExitCode.ok;
      }
      const dir = resolve(io.cwd, args.values.profile);
      mkdirSync(dir, { recursive: true });
      const prefix = id.replace(/[^\w.-]+/g, "_");
      process.env[PROFILE_ENV] = join(dir, prefix);
      const result = await runCase(id, plan);
      const profiles = Object.fromEntries(
        readdirSync(dir)
          .filter((f) => f.startsWith(prefix + "-") && f.endsWith(".json"))
          .map((f) => {
            // sessions run once (quick eval, teacher prefill) have no warm-up run to drop
            try {
              return [f, summarizeProfileFile(join(dir, f), 1)];
            } catch {
              return [f, summarizeProfileFile(join(dir, f), 0)];
            }
          }),
      );
      io.out(JSON.stringify({ result, profiles }) + "\n");
      return ExitCode.ok;
    }
    if (args.values.profile !== undefined)
      throw new UserError("--profile needs --case ID (profile one case at a time)");
    const self = [process.execPath, ...process.execArgv, process.argv[1]];
    const out = resolve(io.cwd, String(args.values.out));
    // the partial report after each real-shape case: a run cut short still leaves what it measured
    const name = plan.scale ? "scale" : "latest";
    const report = await runBench(
      plan,
      self,
      (l) => io.err(l + "\n"),
      io.signal,
      (partial) => writeBenchReport(partial, out, name),
    );
    const files = writeBenchReport(report, out, name);
    io.out(benchMarkdown(report));
    io.out(`\nwrote ${files.json} and ${files.md}\n`);
    return Object.keys(report.errors).length ? ExitCode.problems : ExitCode.ok;
  },
};
export default command;
