// `seat probe`: ignorance-awareness probes of a model (and optionally the base model) on a dataset:
// learned? per training record, abstention on each neighbour question and on held-out unknown queries,
// abstention probability, over-refusal, activation displacement. Results are cached per (model,
// dataset) content; the report goes to stdout (--json) or a file (-o report.html|.json|.csv).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { type Command, type CliIo, ExitCode, UserError } from "../command";
import { parseEventLog } from "../../protocol/events";
import { writeFileAtomic } from "../../util/files";
import { reportToCsv, reportToHtml, reportToJson, reportToText } from "../../presentation/index";

/** The method a run folder was trained with (its run-start event), for labelling comparisons. */
function runMethod(runDir: string): string | undefined {
  try {
    const { events } = parseEventLog(readFileSync(join(runDir, "events.jsonl"), "utf8"));
    const start = events.find((e) => e.type === "run-start");
    return start?.type === "run-start" ? start.method : undefined;
  } catch {
    return undefined;
  }
}

function modelFolder(dir: string, flag: string): { dir: string; label: string; method?: string } {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new UserError(`${flag} ${dir}: not a folder`);
  const hasWeights = (d: string) => existsSync(d) && readdirSync(d).some((n) => n.endsWith(".safetensors"));
  // A run folder holds its final model in model/: accept either.
  if (!hasWeights(abs) && hasWeights(join(abs, "model"))) {
    const method = runMethod(abs);
    return method
      ? { dir: join(abs, "model"), label: basename(abs), method }
      : { dir: join(abs, "model"), label: basename(abs) };
  }
  if (!hasWeights(abs))
    throw new UserError(`${flag} ${dir}: no .safetensors weights in this folder (nor in ${join(dir, "model")})`);
  return { dir: abs, label: basename(abs) === "model" ? basename(resolve(abs, "..")) : basename(abs) };
}

function intOption(v: unknown, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UserError(`--${flag} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(process.env.HOME || process.env.USERPROFILE || ".", ".cache");
  return join(base, "seat-tuner", "probes");
}

const command: Command = {
  name: "probe",
  summary: 'Probe what a tuned model learned and whether it still says "I don\'t know" about unknown names',
  usage: "--model DIR --data FILE [--unknown FILE] [--base DIR] [--json] [-o OUT]",
  options: {
    model: {
      type: "string",
      multiple: true,
      arg: "DIR",
      help: "Model (or run) folder to probe; repeat to compare several runs",
    },
    data: {
      type: "string",
      arg: "FILE",
      help: 'Training dataset (JSONL); records with seat.split "unknown" count as unknown queries',
    },
    unknown: {
      type: "string",
      arg: "FILE",
      help: 'Held-out unknown queries (JSONL; seat.probe "fictitious-concept" marks concept questions)',
    },
    base: {
      type: "string",
      arg: "DIR",
      help: "Base model folder: enables regressions, 'where base abstained' rates and displacement",
    },
    json: { type: "boolean", help: "Print the report as JSON on stdout" },
    output: { type: "string", short: "o", arg: "OUT", help: "Write the report to OUT (.html, .json or .csv)" },
    neighbours: {
      type: "string",
      arg: "K",
      default: "2",
      help: "Generated neighbour questions for records without stored perturbations",
    },
    "max-new-tokens": { type: "string", arg: "N", default: "48", help: "Greedy answer length limit" },
    "hidden-queries": {
      type: "string",
      arg: "N",
      default: "64",
      help: "Queries per group kept for displacement/PCA (0 = off)",
    },
    "no-prob": { type: "boolean", help: "Skip the abstention probability (faster)" },
    phrases: {
      type: "string",
      arg: "FILE",
      help: "Abstention phrase list (default: the shipped resources/abstention-phrases.txt)",
    },
    openings: {
      type: "string",
      arg: "FILE",
      help: "Abstention openings for the probability (default: resources/abstention-openings.txt)",
    },
    cache: { type: "string", arg: "DIR", help: "Cache folder (default: ~/.cache/seat-tuner/probes)" },
    "no-cache": { type: "boolean", help: "Neither read nor write cached results" },
    "progress-json": { type: "boolean", help: "Progress as JSON lines on stderr (for the editor)" },
  },
  details: `Abstains = the answer contains a listed phrase. Grounded = abstains AND names the queried entity: an
automated stand-in for the paper's human judgement. Abstention probability = the model's probability that
its answer starts with a listed opening. Exit code 0 when probing finished.`,
  async run(args, io: CliIo) {
    const v = args.values;
    const models = ((v.model as string[] | undefined) ?? []).map((d) => modelFolder(d, "--model"));
    const base = typeof v.base === "string" ? { ...modelFolder(v.base, "--base"), label: "base" } : undefined;
    if (models.length === 0 && !base)
      throw new UserError("--model DIR is required (or --base DIR to probe only the base model)");
    if (typeof v.data !== "string") throw new UserError("--data FILE is required");
    const data = resolve(io.cwd, v.data);
    if (!existsSync(data)) throw new UserError(`--data ${v.data}: no such file`);
    const unknown = typeof v.unknown === "string" ? resolve(io.cwd, v.unknown) : undefined;
    if (unknown && !existsSync(unknown)) throw new UserError(`--unknown ${v.unknown}: no such file`);
    const out = typeof v.output === "string" ? resolve(io.cwd, v.output) : undefined;
    const format = out ? extname(out).slice(1).toLowerCase() : "json";
    if (out && !["html", "json", "csv"].includes(format))
      throw new UserError(`-o ${v.output}: the extension must be .html, .json or .csv`);
    const labels = new Set<string>();
    for (const m of models) {
      let l = m.label;
      for (let i = 2; labels.has(l) || l === "base"; i++) l = `${m.label}-${i}`;
      m.label = l;
      labels.add(l);
    }

    const ev = await import("../../eval/index");
    let lists;
    try {
      lists = ev.loadAbstentionLists({
        phrasesFile: v.phrases as string | undefined,
        openingsFile: v.openings as string | undefined,
      });
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    const settings = {
      maxNewTokens: intOption(v["max-new-tokens"], "max-new-tokens", 1)!,
      hiddenStateQueries: intOption(v["hidden-queries"], "hidden-queries", 0)!,
      abstentionProbability: !v["no-prob"],
    };
    const progressJson = v["progress-json"] === true;
    let lastDraw = 0;
    const { makeProbeModelLoader } = await import("../../eval/loadModel");
    const note = (m: string) =>
      io.err(progressJson ? JSON.stringify({ type: "warning", message: m }) + "\n" : `${m}\n`);
    const run = ev.probeDataset({
      data,
      unknown,
      models,
      base,
      lists,
      settings,
      neighbours: intOption(v.neighbours, "neighbours", 0),
      cacheDir: v["no-cache"] ? undefined : resolve(io.cwd, (v.cache as string | undefined) ?? defaultCacheDir()),
      loadModel: makeProbeModelLoader(note),
      signal: io.signal,
      onWarning: (m) => note(`warning: ${m}`),
      onProgress: (p) => {
        if (progressJson)
          io.err(
            JSON.stringify({
              type: "progress",
              model: p.model,
              done: p.done,
              total: p.total,
              message: p.message,
              cached: p.cached === true,
            }) + "\n",
          );
        else if (io.isTty && (Date.now() - lastDraw > 100 || p.done === p.total)) {
          lastDraw = Date.now();
          io.err(`\r${p.model}: ${p.done}/${p.total} ${p.message}`.padEnd(70) + (p.done === p.total ? "\n" : ""));
        }
      },
    });
    let report;
    try {
      ({ report } = await run);
    } catch (e) {
      // A dataset that cannot be probed is the user's to fix: its located message, no stack trace.
      // (A bad model folder, ModelFormatError, is mapped the same way for every command in main.ts.)
      if (e instanceof ev.ProbeInputError) throw new UserError(e.message, ExitCode.usage);
      throw e;
    }

    if (out) {
      const text =
        format === "html" ? reportToHtml(report) : format === "csv" ? reportToCsv(report) : reportToJson(report);
      writeFileAtomic(out, text);
    }
    if (v.json) io.out(reportToJson(report));
    else io.out(reportToText(report) + (out ? `\nreport written to ${out}\n` : ""));
    return ExitCode.ok;
  },
};
export default command;
