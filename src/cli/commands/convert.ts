// `seat convert FILE --to chat|qa|alpaca [-o OUT]`: writes a converted copy; never touches the input.
import { readFile, writeFile } from "node:fs/promises";
import { relative, extname, basename, dirname, join } from "node:path";
import { type Command, ExitCode, inputAndOutput, UserError } from "../command";
import { writeNewFile } from "../../util/files";
import {
  convertJsonlText,
  convertRecordText,
  ConversionError,
  isJsonArrayText,
  scanJson,
  TARGET_FORMATS,
  type TargetFormat,
} from "../../data/index";

/** Default output name: data.jsonl -> data.chat.jsonl (next to the input). */
export function defaultOutput(input: string, to: TargetFormat): string {
  const ext = extname(input) || ".jsonl";
  return join(dirname(input), `${basename(input, ext)}.${to}${ext === ".json" ? ".jsonl" : ext}`);
}

const command: Command = {
  name: "convert",
  summary: "Convert a dataset to chat, QA or Alpaca records (other fields and line order kept)",
  usage: "FILE --to chat|qa|alpaca [-o OUT] [--force]",
  options: {
    to: { type: "string", arg: "FORMAT", help: "Target format: chat, qa or alpaca" },
    output: {
      type: "string",
      short: "o",
      arg: "OUT",
      help: "Output file (default: FILE with .<format> before the extension)",
    },
    force: { type: "boolean", help: "Overwrite OUT if it exists" },
  },
  details:
    "The input file is never modified. Records that cannot be converted without losing information (e.g. multi-turn chats to QA) are listed and copied unchanged; the exit status is then 1.",
  async run(args, io) {
    const [file, ...extra] = args.positionals;
    if (!file) throw new UserError("no input file: seat convert FILE --to chat|qa|alpaca");
    if (extra.length) throw new UserError(`one input file at a time (got ${args.positionals.length})`);
    const to = args.values.to;
    if (typeof to !== "string" || !TARGET_FORMATS.includes(to as TargetFormat))
      throw new UserError(`--to must be one of ${TARGET_FORMATS.join(", ")}`);
    const { input, output } = inputAndOutput(file, args, io, (i) => defaultOutput(i, to as TargetFormat));
    const text = await readFile(input, "utf8");
    let result;
    if (isJsonArrayText(text)) {
      // A JSON array converts to JSONL, one converted record a line.
      const scanned = scanJson(text.replace(/^\uFEFF/, ""));
      if (!scanned.ok)
        throw new UserError(
          `${file}: invalid JSON at offset ${scanned.error.offset}: ${scanned.error.message}`,
          ExitCode.problems,
        );
      const body = text.replace(/^\uFEFF/, "");
      const lines: string[] = [];
      const failures: Array<{ line: number; column: number; message: string }> = [];
      let converted = 0;
      for (const [i, item] of (scanned.root.items ?? []).entries()) {
        const rec = JSON.stringify(JSON.parse(body.slice(item.start, item.end)));
        try {
          lines.push(convertRecordText(rec, to as TargetFormat));
          converted++;
        } catch (e) {
          if (!(e instanceof ConversionError)) throw e;
          failures.push({
            line: body.slice(0, item.start).split("\n").length,
            column: 1,
            message: `element ${i + 1}: ${e.message}`,
          });
          lines.push(rec);
        }
      }
      result = { text: lines.map((l) => l + "\n").join(""), converted, failures, unchanged: 0 };
    } else {
      result = convertJsonlText(text, to as TargetFormat);
    }
    await writeNewFile(output, Boolean(args.values.force), (tmp) => writeFile(tmp, result.text, { flag: "wx" }));
    const shown = relative(io.cwd, file) || file;
    for (const f of result.failures) io.err(`${shown}:${f.line}:${f.column}: error: ${f.message} (copied unchanged)\n`);
    io.out(
      `wrote ${relative(io.cwd, output)}: ${result.converted} converted, ${result.unchanged} already ${to}, ${result.failures.length} not converted\n`,
    );
    return result.failures.length ? ExitCode.problems : ExitCode.ok;
  },
};
export default command;
