// `seat eval RUN`: the probe suite on a finished run: its model against the run's own dataset, with the
// run's base model for regressions and displacement. A thin front over `seat probe`, which owns the
// probes, the cache and the report formats.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Command, UserError } from "../command";

const command: Command = {
  name: "eval",
  summary: "Probe a finished run: facts learned, abstention on unknown look-alikes, displacement vs its base model",
  usage: "RUN_DIR [--unknown FILE] [--json] [-o OUT]",
  options: {
    unknown: { type: "string", arg: "FILE", help: "Held-out unknown queries (JSONL) in addition to the dataset's own" },
    json: { type: "boolean", help: "Print the report as JSON on stdout" },
    output: { type: "string", short: "o", arg: "OUT", help: "Write the report to OUT (.html, .json or .csv)" },
    "no-prob": { type: "boolean", help: "Skip the abstention probability (faster)" },
  },
  details:
    "Equivalent to `seat probe --model RUN_DIR/model --data <run dataset> --base <run model>`; see `seat probe --help`.",
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UserError("expected one run folder");
    const dir = resolve(io.cwd, args.positionals[0]);
    const cfgPath = join(dir, "config.json");
    if (!existsSync(cfgPath)) throw new UserError(`${dir}: not a run folder (no config.json)`);
    if (!existsSync(join(dir, "model")))
      throw new UserError(
        `${dir}: the run has no exported model yet (finish it with \`seat resume\`, or write one with \`seat export\`)`,
      );
    let cfg: { model?: unknown; dataset?: unknown };
    try {
      cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
    } catch (e) {
      throw new UserError(`${cfgPath}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof cfg.model !== "string" || typeof cfg.dataset !== "string")
      throw new UserError(`${cfgPath}: lacks "model" or "dataset"`);
    const { commandLoaders } = await import("./index");
    const probe = await commandLoaders.probe();
    const values: Record<string, string | boolean | string[]> = {
      model: [join(dir, "model")],
      data: cfg.dataset,
      base: cfg.model,
    };
    for (const k of ["unknown", "json", "output", "no-prob"])
      if (args.values[k] !== undefined) values[k] = args.values[k] as string | boolean;
    for (const [k, o] of Object.entries(probe.options))
      if (values[k] === undefined && o.default !== undefined) values[k] = o.default as string;
    return probe.run({ values, positionals: [] }, io);
  },
};
export default command;
