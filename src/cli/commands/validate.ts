// `seat validate FILE...`: the same streaming validator the editor uses, headless. Prints
// `file:line:col: severity code: message` (or JSON) and exits 1 when any file has errors.
import { existsSync, statSync } from "node:fs";
import { resolve, relative } from "node:path";
import { type Command, ExitCode, UserError, type CliIo } from "../command";
import { validateFile, type FileValidation, type Problem, type ValidateOptions } from "../../data/index";
import { detectSubjects } from "../../entities/index";

export function formatProblem(file: string, p: Problem): string {
  return `${file}:${p.line}:${p.column}: ${p.severity} ${p.code}: ${p.message}`;
}

/** Draws "validating file  37%" on a terminal's stderr; returns a function that clears it. */
export function progressLine(io: CliIo, label: string): { update(done: number, total: number): void; clear(): void } {
  let last = -1;
  return {
    update(done, total) {
      if (!io.isTty || total < 8 * 1024 * 1024) return;
      const pct = Math.floor((done / total) * 100);
      if (pct !== last) io.err(`\r${label} ${String(pct).padStart(3)}%`);
      last = pct;
    },
    clear() {
      if (last >= 0) io.err("\r\x1b[K");
    },
  };
}

type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;

function positiveInt(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new UserError(`--${flag} must be a positive whole number, got '${String(v)}'`);
  return n;
}

/** Validation options from the shared flags (--model, --max-tokens, --no-entities, --max-problems). */
export async function datasetCheckOptions(values: Values, io: CliIo): Promise<ValidateOptions> {
  const options: ValidateOptions = { maxProblems: positiveInt(values["max-problems"], "max-problems") };
  if (!values["no-entities"]) options.detectEntities = detectSubjects;
  let maxTokens = positiveInt(values["max-tokens"], "max-tokens");
  if (typeof values.model === "string") {
    // loaded lazily so plain validation never pays for the model layer
    const { loadModelFolder, ModelFormatError } = await import("../../model/index");
    let folder;
    try {
      folder = loadModelFolder(resolve(io.cwd, values.model));
    } catch (e) {
      // A broken model folder is bad input (its message names the file): exit 2 without a stack trace.
      // (Added by the reliability suite, test/unit/reliability/models.test.ts.)
      if (e instanceof ModelFormatError) throw new UserError(e.message);
      throw e;
    }
    options.countTokens = (text) => folder.tokenizer.encode(text).length;
    maxTokens ??= folder.config.maxPositions;
  } else if (maxTokens !== undefined) {
    throw new UserError("--max-tokens needs --model DIR (its tokenizer counts the tokens)");
  }
  options.maxTokens = maxTokens;
  return options;
}

const command: Command = {
  name: "validate",
  summary: "Check JSONL/JSON datasets: syntax, record formats, roles, duplicates, encodings, lengths",
  usage: "FILE... [--json]",
  options: {
    json: { type: "boolean", help: "Print results as JSON ([{path, summary, problems}])" },
    model: {
      type: "string",
      arg: "DIR",
      help: "Model folder: flag records longer than its context (its tokenizer counts tokens)",
    },
    "max-tokens": { type: "string", arg: "N", help: "Context length to check against (default: the model's)" },
    "no-entities": { type: "boolean", help: "Skip the missing-subject-entity check" },
    "max-problems": { type: "string", arg: "N", help: "Stop listing after N problems per file", default: "10000" },
    threads: {
      type: "string",
      arg: "N",
      help: "Worker threads for files over a few MB (default: the cores but one, at most 8; 1: no workers)",
    },
  },
  details: "Exit status: 0 when no file has errors (warnings allowed), 1 when any has errors, 2 on bad usage.",
  async run(args, io) {
    const files = args.positionals;
    if (files.length === 0) throw new UserError("no files given: seat validate FILE...");
    for (const f of files) {
      const p = resolve(io.cwd, f);
      if (!existsSync(p)) throw new UserError(`${f}: no such file`);
      if (!statSync(p).isFile()) throw new UserError(`${f}: not a file`);
    }
    const options: ValidateOptions = await datasetCheckOptions(args.values, io);
    const threads = positiveInt(args.values.threads, "threads");
    const results: FileValidation[] = [];
    let errors = 0;
    let warnings = 0;
    for (const f of files) {
      const path = resolve(io.cwd, f);
      const shown = relative(io.cwd, path) || f;
      const progress = progressLine(io, `validating ${shown}`);
      const v = await validateFile(path, { ...options, threads, signal: io.signal, onProgress: progress.update });
      progress.clear();
      results.push({ ...v, path: shown });
      errors += v.summary.errors;
      warnings += v.summary.warnings;
      if (!args.values.json) {
        for (const p of v.problems) io.out(formatProblem(shown, p) + "\n");
      }
    }
    if (args.values.json) io.out(JSON.stringify(results, null, 2) + "\n");
    else {
      const records = results.reduce((n, r) => n + r.summary.records, 0);
      io.out(
        `${files.length} file${files.length === 1 ? "" : "s"}, ${records} records: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}\n`,
      );
    }
    return errors > 0 ? ExitCode.problems : ExitCode.ok;
  },
};
export default command;
