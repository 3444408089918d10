// `seat export-csv FILE [-o OUT.csv]`: a dataset -> CSV that imports back to equal records.
import { relative, join, dirname, basename, extname } from "node:path";
import { type Command, ExitCode, inputAndOutput, UserError } from "../command";
import { exportCsvFile, CsvInputError, JSON_SUFFIX } from "../../data/index";

const command: Command = {
  name: "export-csv",
  summary: "Export a JSONL/JSON dataset to CSV (one column per field)",
  usage: "FILE [-o OUT.csv] [--force]",
  options: {
    output: { type: "string", short: "o", arg: "OUT", help: "Output CSV file (default: FILE.csv next to the input)" },
    force: { type: "boolean", help: "Overwrite OUT if it exists" },
  },
  details: `Text fields become plain columns; fields holding other JSON (numbers, seat, messages), or missing from some records, become "key${JSON_SUFFIX}" columns, so \`seat import-csv\` restores the same records. Records that are not JSON objects (or a JSON array that does not parse) are reported with their line and column and left out (exit status 1).`,
  async run(args, io) {
    const [file] = args.positionals;
    if (!file || args.positionals.length > 1) throw new UserError("give exactly one dataset: seat export-csv FILE");
    const { input, output } = inputAndOutput(file, args, io, (i) => join(dirname(i), basename(i, extname(i)) + ".csv"));
    let r;
    try {
      r = await exportCsvFile(input, output, { signal: io.signal, overwrite: Boolean(args.values.force) });
    } catch (e) {
      if (!(e instanceof CsvInputError)) throw e;
      const { line, col, message } = e.issue;
      throw new UserError(`${file}:${line}${col ? `:${col}` : ""}: ${message}; nothing written`, ExitCode.problems);
    }
    for (const s of r.skipped) io.err(`${file}:${s.line}${s.col ? `:${s.col}` : ""}: ${s.message}\n`);
    io.out(`wrote ${relative(io.cwd, output)}: ${r.rows} rows, columns: ${r.columns.join(", ")}\n`);
    return r.skipped.length ? ExitCode.problems : ExitCode.ok;
  },
};
export default command;
