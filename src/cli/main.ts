// Entry point of the `seat` executable: dispatches to src/cli/commands/<name>.ts, turns the declared
// options into parsing and `--help`, and maps errors to exit codes.
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { commandLoaders } from "./commands/index";
import { type Command, type CliIo, ExitCode, UserError } from "./command";
import { ModelFormatError } from "../model/errors";

export function formatHelp(cmd: Command): string {
  const lines = [`Usage: seat ${cmd.name} ${cmd.usage}`.trimEnd(), "", cmd.summary, ""];
  const entries = Object.entries(cmd.options);
  if (entries.length) {
    lines.push("Options:");
    const rows = entries.map(([name, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.arg ?? "VALUE"}` : ""}`;
      const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : "";
      return [flag, o.help + def] as const;
    });
    const width = Math.max(...rows.map(([f]) => f.length));
    for (const [f, h] of rows) lines.push(`  ${f.padEnd(width)}  ${h}`);
    lines.push(`  ${"    --help".padEnd(width)}  Show this help`);
  }
  if (cmd.details) lines.push("", cmd.details.trim());
  return lines.join("\n") + "\n";
}

async function topHelp(): Promise<string> {
  const rows: string[] = [];
  for (const [name, load] of Object.entries(commandLoaders)) {
    const cmd = await load();
    rows.push(`  ${name.padEnd(11)} ${cmd.summary}`);
  }
  return [
    "Usage: seat <command> [options]",
    "",
    "SEAT Tuner: teach a local LLM new facts without teaching it to make things up.",
    "",
    "Commands:",
    ...rows,
    "",
    "Run `seat <command> --help` for a command's options.",
    "",
  ].join("\n");
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(await topHelp());
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === "--version") {
    io.out("0.1.0\n");
    return ExitCode.ok;
  }
  const load = commandLoaders[name];
  if (!load) {
    io.err(`seat: unknown command '${name}'. Commands: ${Object.keys(commandLoaders).join(", ")}\n`);
    return ExitCode.usage;
  }
  const cmd = await load();
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(formatHelp(cmd));
    return ExitCode.ok;
  }
  let parsed;
  try {
    const options = Object.fromEntries(Object.entries(cmd.options).map(([k, { help: _h, arg: _a, ...o }]) => [k, o]));
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (e) {
    io.err(`seat ${name}: ${(e as Error).message}\nRun \`seat ${name} --help\` for usage.\n`);
    return ExitCode.usage;
  }
  try {
    return await cmd.run(parsed as never, io);
  } catch (e) {
    if (e instanceof UserError) {
      io.err(`seat ${name}: ${e.message}\n`);
      return e.exitCode;
    }
    if (io.signal.aborted) {
      io.err(`seat ${name}: cancelled\n`);
      return ExitCode.cancelled;
    }
    // A bad model folder is the user's to fix, whichever command loads it: the error names the file
    // and what is wrong, so the message is all they need (2, as `validate --model` and `train` use).
    // The name check covers an error that crossed a worker boundary and lost its class.
    if (e instanceof ModelFormatError || (e as Error | undefined)?.name === "ModelFormatError") {
      io.err(`seat ${name}: ${(e as Error).message}\n`);
      return ExitCode.usage;
    }
    io.err(`${internalFailureLine(name, e)}\n`);
    return ExitCode.failed;
  }
}

/**
 * One line for a failure no check anticipated: what failed, what to try, and where the full trace
 * went (a log file, never the terminal).
 */
export function internalFailureLine(command: string, e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const first = (err.message.split("\n")[0] ?? "").trim() || err.name;
  let log: string | undefined;
  try {
    const dir = join(tmpdir(), "seat-tuner-logs");
    mkdirSync(dir, { recursive: true });
    log = join(dir, `seat-${command}-${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}.log`);
    writeFileSync(
      log,
      `seat ${command} (${new Date().toISOString()}, node ${process.version}, ${process.platform}-${process.arch})\n${err.stack ?? first}\n`,
    );
  } catch {
    log = undefined;
  }
  const memory = /alloc|out of memory|ENOMEM|Array buffer allocation failed/i.test(err.message);
  const hint = memory
    ? "the machine ran out of memory: lower --batch (with --grad-accum to keep the step), shorten --max-seq-len, or choose --method seat/lora"
    : "if it happens again, report it with the log";
  return `seat ${command}: internal error: ${first}; ${hint}${log ? ` (full trace: ${log})` : ""}`;
}

const isEntry = typeof require !== "undefined" && require.main === module;
if (isEntry) {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.cancelled);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  main(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTty: Boolean(process.stderr.isTTY),
    cwd: process.cwd(),
    signal: controller.signal,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(internalFailureLine(process.argv[2] ?? "", e) + "\n");
      process.exitCode = ExitCode.failed;
    },
  );
}
