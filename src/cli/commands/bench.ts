// `seat bench`: speed and memory against PyTorch eager and the measured MatMul ceiling (see src/bench).
import { resolve } from "node:path";
import { type Command, ExitCode, UserError } from "../command";
import { runBench, runCase, writeBenchReport, benchMarkdown } from "../../bench";

const command: Command = {
  name: "bench",
  summary: "Measure training, generation, validation and activation speed against PyTorch and the MatMul ceiling",
  usage: "[--quick] [--out DIR] [--threads N]",
  options: {
    quick: { type: "boolean", help: "Reduced set (embedded model only, fewer repetitions): under ~2 minutes" },
    out: { type: "string", arg: "DIR", default: "bench/results", help: "Where latest.json and latest.md go" },
    threads: { type: "string", arg: "N", default: "2", help: "Intra-op threads for ours and PyTorch alike" },
    case: { type: "string", arg: "ID", help: "Run one case in this process and print its JSON (used by the orchestrator)" },
  },
  details: "PyTorch figures come from Debian's python3-torch (apt-get install python3-torch); without it the\nratios are reported as failed, never estimated.",
  async run(args, io) {
    const threads = Number(args.values.threads);
    if (!Number.isInteger(threads) || threads < 1) throw new UserError(`--threads must be a positive integer, got '${args.values.threads}'`);
    const plan = { quick: Boolean(args.values.quick), threads, root: io.cwd };
    if (typeof args.values.case === "string") {
      io.out(JSON.stringify(await runCase(args.values.case, plan)) + "\n");
      return ExitCode.ok;
    }
    const self = [process.execPath, ...process.execArgv, process.argv[1]];
    const report = await runBench(plan, self, (l) => io.err(l + "\n"), io.signal);
    const files = writeBenchReport(report, resolve(io.cwd, String(args.values.out)));
    io.out(benchMarkdown(report));
    io.out(`\nwrote ${files.json} and ${files.md}\n`);
    return Object.keys(report.errors).length ? ExitCode.problems : ExitCode.ok;
  },
};
export default command;
