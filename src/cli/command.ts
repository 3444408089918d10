// The shape every `seat <command>` module exports. Options are declared once (node:util parseArgs
// spec plus help text); main.ts derives parsing, `--help` and flag errors from the declaration.
import { existsSync, statSync } from "node:fs";
import { relative, resolve } from "node:path";
import type { ParseArgsConfig } from "node:util";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>[string] & {
  /** One line for `--help`; the value placeholder, e.g. "N", goes in `arg`. */
  help: string;
  arg?: string;
};

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal (progress bars are drawn only then). */
  isTty: boolean;
  cwd: string;
  /** Aborted on Ctrl-C / SIGTERM; long commands must stop cleanly and leave resumable state. */
  signal: AbortSignal;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  /** Usage after `seat <name>`, e.g. "FILE... [--json]". */
  usage: string;
  options: Record<string, OptionSpec>;
  /** Extra help text shown after the options. */
  details?: string;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

/** Exit codes scripts can rely on. */
export const ExitCode = {
  ok: 0,
  /** The command ran and found problems (e.g. validation errors). */
  problems: 1,
  /** Bad flags, missing or unreadable files: nothing was done. */
  usage: 2,
  /** The work failed (NaN loss, model load error, I/O error). */
  failed: 3,
  /** Cancelled by the user (SIGINT/SIGTERM); state is resumable. */
  cancelled: 130,
} as const;

/** An error whose message is meant for the user as-is (no stack trace). */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.usage,
  ) {
    super(message);
    this.name = "UserError";
  }
}

/**
 * The input file and output path of a command that writes a new file from it (`-o OUT`, `--force`):
 * the input must exist, the output defaults to `defaultOutput(input)`, and may neither be the input nor,
 * without --force, an existing file.
 */
export function inputAndOutput(
  file: string,
  args: ParsedArgs,
  io: CliIo,
  defaultOutput: (input: string) => string,
): { input: string; output: string } {
  const input = resolve(io.cwd, file);
  if (!existsSync(input) || !statSync(input).isFile()) throw new UserError(`${file}: no such file`);
  const output = typeof args.values.output === "string" ? resolve(io.cwd, args.values.output) : defaultOutput(input);
  if (output === input) throw new UserError("the output would overwrite the input: choose another -o");
  if (existsSync(output) && !args.values.force)
    throw new UserError(`${relative(io.cwd, output)} already exists (use --force to overwrite)`);
  return { input, output };
}
