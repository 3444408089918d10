// `seat import-csv FILE.csv [-o OUT.jsonl]`: CSV (header row) -> a new JSONL dataset.
import { relative, join, dirname, basename, extname } from "node:path";
import { type Command, ExitCode, inputAndOutput, UserError } from "../command";
import { importCsvFile, validateFile, JSON_SUFFIX } from "../../data/index";
import { formatProblem } from "./validate";

const command: Command = {
  name: "import-csv",
  summary: "Import a CSV file (header row) as a new JSONL dataset",
  usage: "FILE.csv [-o OUT.jsonl] [--force]",
  options: {
    output: { type: "string", short: "o", arg: "OUT", help: "Output JSONL file (default: FILE.jsonl next to the CSV)" },
    force: { type: "boolean", help: "Overwrite OUT if it exists" },
  },
  details: `Each column becomes a field of the same name holding the cell text; a column named "key${JSON_SUFFIX}" holds JSON (numbers, objects such as seat or messages) and an empty cell there means "no such field". The new file is validated afterwards.`,
  async run(args, io) {
    const [file] = args.positionals;
    if (!file || args.positionals.length > 1)
      throw new UserError("give exactly one CSV file: seat import-csv FILE.csv");
    const { input, output } = inputAndOutput(file, args, io, (i) =>
      join(dirname(i), basename(i, extname(i)) + ".jsonl"),
    );
    const r = await importCsvFile(input, output, { signal: io.signal, overwrite: Boolean(args.values.force) });
    for (const s of r.skipped) io.err(`${file}: row ${s.line}${s.column ? ` column ${s.column}` : ""}: ${s.message}\n`);
    const shownOut = relative(io.cwd, output);
    io.out(`wrote ${shownOut}: ${r.records} records from ${r.rows} rows (columns: ${r.columns.join(", ")})\n`);
    const v = await validateFile(output, { signal: io.signal });
    for (const p of v.problems) io.out(formatProblem(shownOut, p) + "\n");
    return r.skipped.length || v.summary.errors ? ExitCode.problems : ExitCode.ok;
  },
};
export default command;
