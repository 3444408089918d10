// `seat world ...`: the synthetic world behind the embedded model. `build` reproduces
// models/seat-tiny-world from scratch (world -> tokenizer -> corpus -> training -> gates); `examples`
// regenerates examples/; `corpus` writes the base model's training data; `gates` checks a model folder.
import { resolve } from "node:path";
import { writeFileSync } from "node:fs";
import { type Command, ExitCode, UserError } from "../command";

function intFlag(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new UserError(`--${name} must be a non-negative integer, got '${String(v)}'`);
  return n;
}

const SUBCOMMANDS = ["build", "examples", "corpus", "gates"] as const;

const command: Command = {
  name: "world",
  summary: "Build the embedded model from its synthetic world, regenerate examples, check the gates",
  usage: "build|examples|corpus|gates [options]",
  options: {
    out: {
      type: "string",
      arg: "PATH",
      help: "Output folder (build: models/seat-tiny-world; examples: examples) or file (corpus)",
    },
    seed: { type: "string", arg: "S", help: "World seed (default: the shipped model's)" },
    model: { type: "string", arg: "DIR", help: "gates: model folder to check (default: the bundled model)" },
    sample: { type: "string", arg: "N", help: "gates: at most N questions per set (default: all)" },
    epochs: { type: "string", arg: "N", help: "build: training epochs (default: the recipe's)" },
    threads: { type: "string", arg: "N", help: "build: CPU threads for training (default: all cores)" },
    json: { type: "boolean", help: "gates/build: print the gate report as JSON" },
  },
  details: `Subcommands:
  build     generate the world, train tokenizer and model with our engine, check the gates, write the folder
            (about 20-30 minutes on 2 CPU cores; a model that fails a gate is still written, exit code 1)
  examples  write the example new-knowledge datasets (train.jsonl + unknown.jsonl per dataset)
  corpus    write the base model's training corpus as QA JSONL
  gates     ask a model folder the gate questions: known facts, never-seen names, fictitious concepts`,
  async run(args, io) {
    const sub = args.positionals[0];
    if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw new UserError(`expected a subcommand: ${SUBCOMMANDS.join(", ")}${sub ? ` (got '${sub}')` : ""}`);
    }
    if (args.positionals.length > 1) throw new UserError(`unexpected argument '${args.positionals[1]}'`);
    const world = await import("../../world/index");
    const seed = intFlag(args.values["seed"], "seed") ?? world.DEFAULT_WORLD_SEED;
    const out = typeof args.values["out"] === "string" ? resolve(io.cwd, args.values["out"]) : undefined;

    if (sub === "examples") {
      const dir = out ?? world.EXAMPLES_DIR;
      const sets = world.writeExamples(world.generateWorld(seed), dir);
      for (const s of sets)
        io.out(`${dir}/${s.name}: ${s.train.length} training records, ${s.unknown.length} unknown queries\n`);
      return ExitCode.ok;
    }
    if (sub === "corpus") {
      const w = world.generateWorld(seed);
      const items = world.trainingCorpus(w);
      const text = world.corpusJsonl(items);
      if (out) writeFileSync(out, text);
      else io.out(text);
      if (out) io.out(`${out}: ${items.length} records\n`);
      return ExitCode.ok;
    }
    if (sub === "gates") {
      const { checkModelGates } = await import("../../world/build");
      const dir =
        typeof args.values["model"] === "string" ? resolve(io.cwd, args.values["model"]) : world.EMBEDDED_MODEL_DIR;
      const report = await checkModelGates(dir, {
        seed,
        maxPerSet: intFlag(args.values["sample"], "sample"),
        signal: io.signal,
        onProgress: (m) => io.err(m + "\n"),
      });
      if (args.values["json"]) io.out(JSON.stringify(report, null, 2) + "\n");
      else {
        io.out(`${dir}\n${world.formatGates(report)}\n`);
        for (const f of report.examples.slice(0, 6))
          io.out(`  e.g. ${f.question}\n    expected: ${f.expected}\n    got:      ${f.got}\n`);
      }
      return report.passed ? ExitCode.ok : ExitCode.problems;
    }
    const { buildEmbeddedModel } = await import("../../world/build");
    const result = await buildEmbeddedModel({
      outDir: out ?? world.EMBEDDED_MODEL_DIR,
      seed,
      epochs: intFlag(args.values["epochs"], "epochs"),
      threads: intFlag(args.values["threads"], "threads"),
      signal: io.signal,
      log: (line) => io.err(line + "\n"),
    });
    if (args.values["json"]) io.out(JSON.stringify(result, null, 2) + "\n");
    else io.out(`${result.outDir}\n${world.formatGates(result.gates)}\n`);
    return result.gates.passed ? ExitCode.ok : ExitCode.problems;
  },
};
export default command;
