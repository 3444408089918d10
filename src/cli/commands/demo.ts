// `seat demo` (what `npm run demo` runs): the embedded model fine-tuned on an example dataset with each
// method, every model probed, a table printed, runs/demo/report.json + report.html written.
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { type Command, ExitCode, UserError } from "../command";

const command: Command = {
  name: "demo",
  summary:
    "Fine-tune the embedded model with every method on two example sets, probe, and compare (minutes: one run per core at once)",
  usage: "[--dataset NAME|FILE] [--methods LIST] [--out DIR]",
  options: {
    dataset: {
      type: "string",
      arg: "NAME|FILE",
      help: "An example under examples/ or a train.jsonl path (default: new-people, then the harder contract-register)",
    },
    unknown: {
      type: "string",
      arg: "FILE",
      help: "Held-out unknown queries (default: unknown.jsonl beside the dataset)",
    },
    methods: {
      type: "string",
      arg: "LIST",
      help: "Comma-separated methods",
      default: "full,lora,sparse,full+kl,seat,ewc,replay",
    },
    model: { type: "string", arg: "DIR", help: "Base model folder (default: the bundled models/seat-tiny-world)" },
    out: {
      type: "string",
      arg: "DIR",
      help: "Output folder; its previous demo runs are replaced",
      default: "runs/demo",
    },
    epochs: { type: "string", arg: "N", help: "Epochs for every method (default: the demo's setting)" },
    jobs: {
      type: "string",
      arg: "N",
      help: "Jobs (a method trained and probed, the base probed, a share of the KL runs' teacher replies) at once, each on a worker thread (default: one per core)",
    },
    threads: { type: "string", arg: "N", help: "CPU threads per run (default: the cores shared out, at least 1)" },
    json: { type: "boolean", help: "Print report.json to stdout instead of the table" },
  },
  details:
    "Without --dataset: new-people, then the harder contract-register (320 records; about every third is\nprobed). Writes <out>/report.json (per method: ftScore, exactMatch, idkSM, idkGrounded, idkMisnamed,\nabstentionProb, heldOutAbstain, overRefusal, displacement, trainSeconds), <out>/report.html and\n<out>/probe-report.json for the first set, the same under <out>/contract-register/ for the second;\n--json prints one report, or an array of both.",
  async run(args, io) {
    const world = await import("../../world/index");
    const { availableMemory } = await import("../../seat/index");
    const { runDemoSets, formatDemoTable, formatDemoTimings, DEMO_METHODS, DEMO_DATASETS } =
      await import("../../world/demo");
    const dsArg = args.values["dataset"];
    const unknownArg = args.values["unknown"];
    if (typeof unknownArg === "string" && typeof dsArg !== "string")
      throw new UserError("--unknown needs --dataset (each example set has its own unknown.jsonl)");
    const model =
      typeof args.values["model"] === "string" ? resolve(io.cwd, args.values["model"]) : world.EMBEDDED_MODEL_DIR;
    if (!existsSync(join(model, "config.json")))
      throw new UserError(`${model}: not a model folder (run \`seat world build\` to create the embedded model)`);
    const methods = String(args.values["methods"])
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean);
    for (const m of methods)
      if (!(DEMO_METHODS as readonly string[]).includes(m))
        throw new UserError(`unknown method '${m}' (known: ${DEMO_METHODS.join(", ")})`);
    const num = (k: string) => {
      const v = args.values[k];
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) throw new UserError(`--${k} must be a positive integer, got '${String(v)}'`);
      return n;
    };
    const epochs = num("epochs");
    const cores = availableParallelism();
    // One job per core, as many as the free memory holds (a job's worker thread peaks near 300 MB on
    // the embedded model; measured 608 MB for the whole demo with two at once).
    const jobs = num("jobs") ?? Math.max(1, Math.min(cores, Math.floor(availableMemory() / (512 * 2 ** 20))));
    // Each run's sessions get their share of the cores: on the embedded model one run with one thread
    // uses its core better than one run with all of them (the model's matrices are small).
    const threads = num("threads") ?? Math.max(1, Math.floor(cores / jobs));
    const outRoot = resolve(io.cwd, String(args.values["out"]));

    // One dataset named on the command line, or the demo's sets: the first writes to <out>, the others
    // to <out>/<name>.
    const sets =
      typeof dsArg === "string"
        ? [{ name: dsArg, ...DEMO_DATASETS.find((d) => d.name === dsArg) }]
        : DEMO_DATASETS.map((d) => ({ name: d.name, training: d.training, probeEvery: d.probeEvery }));
    const started = Date.now();
    const demoSets = sets.map((set, i) => {
      const data = existsSync(join(world.EXAMPLES_DIR, set.name, "train.jsonl"))
        ? join(world.EXAMPLES_DIR, set.name, "train.jsonl")
        : resolve(io.cwd, set.name);
      if (!existsSync(data))
        throw new UserError(`no dataset '${set.name}': not an example under ${world.EXAMPLES_DIR} and not a file`);
      const sibling = join(resolve(data, ".."), "unknown.jsonl");
      const unknown =
        typeof unknownArg === "string" ? resolve(io.cwd, unknownArg) : existsSync(sibling) ? sibling : undefined;
      if (unknown && !existsSync(unknown)) throw new UserError(`${unknown}: no such file`);
      return {
        name: set.name,
        data,
        ...(unknown ? { unknown } : {}),
        outDir: i === 0 ? outRoot : join(outRoot, set.name),
        ...(set.training ? { training: set.training } : {}),
        ...(set.probeEvery ? { probeEvery: set.probeEvery } : {}),
      };
    });
    const results = await runDemoSets({
      model,
      sets: demoSets,
      methods: methods as never,
      common: epochs ? { train: { epochs } } : undefined,
      threads,
      jobs,
      signal: io.signal,
      log: (line) => io.err(`${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s ${line}\n`),
    });
    const reports = results.map((report, i) => ({ report, outDir: demoSets[i].outDir, name: demoSets[i].name }));
    if (args.values["json"])
      io.out(JSON.stringify(reports.length === 1 ? reports[0].report : reports.map((r) => r.report), null, 2) + "\n");
    else {
      for (const { report, outDir, name } of reports) {
        io.out(`\n${name} (${report.probedRecords ?? "?"} training questions probed)\n${formatDemoTable(report)}\n`);
        io.out(`Wrote ${join(outDir, "report.json")} and ${join(outDir, "report.html")}\n`);
      }
      io.out("\n");
      for (const n of reports[0].report.notes) io.out(`  * ${n}\n`);
      const { jobs: n, threads: t } = reports[0].report.schedule ?? { jobs: 1, threads: 0 };
      io.out(
        `\nWhere the time went (seconds; ${n} run(s) at once, ${t || "all"} CPU thread(s) each; probe columns: building the session, greedy answers, P(abstain) scoring, hidden states, the rest):\n`,
      );
      for (const { report, name } of reports) io.out(`\n${name}\n${formatDemoTimings(report)}\n`);
      io.out(`\nTotal ${Math.round((Date.now() - started) / 1000)} s\n`);
    }
    return ExitCode.ok;
  },
};
export default command;
