// `seat stats FILE...`: records, formats, lengths, entities, perturbations, duplicates (and tokens with --model).
import { existsSync, statSync } from "node:fs";
import { resolve, relative } from "node:path";
import { type Command, ExitCode, UserError } from "../command";
import { datasetStats, type DatasetStats, type LengthStats } from "../../data/index";
import { datasetCheckOptions, progressLine } from "./validate";

const fmt = (l: LengthStats) => `min ${l.min}, mean ${l.mean.toFixed(1)}, max ${l.max}`;

export function formatStats(name: string, s: DatasetStats & { problems: number }): string {
  const formats =
    Object.entries(s.formats)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ") || "none";
  const lines = [
    `${name}`,
    `  records        ${s.summary.records} (${s.summary.lines} lines, ${(s.summary.bytes / 1e6).toFixed(2)} MB)`,
    `  formats        ${formats}`,
    `  question chars ${fmt(s.questionChars)}`,
    `  answer chars   ${fmt(s.answerChars)}`,
    `  turns          ${fmt(s.turns)}`,
  ];
  if (s.tokens) lines.push(`  tokens         ${fmt(s.tokens)}, total ${s.tokens.total}`);
  lines.push(
    `  entities       ${s.withEntities} records name one; ${s.distinctEntities} distinct${s.topEntities.length ? ` (top: ${s.topEntities.map(([e, n]) => `${e} ×${n}`).join(", ")})` : ""}`,
    `  perturbations  ${s.perturbations} in ${s.withPerturbations} records`,
    `  duplicates     ${s.duplicates}`,
    `  problems       ${s.summary.errors} errors, ${s.summary.warnings} warnings (seat validate lists them)`,
  );
  return lines.join("\n") + "\n";
}

const command: Command = {
  name: "stats",
  summary: "Dataset statistics: records, formats, lengths, entities, perturbations, duplicates",
  usage: "FILE... [--json] [--model DIR]",
  options: {
    json: { type: "boolean", help: "Print statistics as JSON" },
    model: { type: "string", arg: "DIR", help: "Model folder whose tokenizer counts tokens" },
  },
  async run(args, io) {
    if (args.positionals.length === 0) throw new UserError("no files given: seat stats FILE...");
    const options = await datasetCheckOptions({ model: args.values.model, "no-entities": true }, io);
    const all: Array<{ path: string } & DatasetStats & { problems: number }> = [];
    for (const f of args.positionals) {
      const path = resolve(io.cwd, f);
      if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`${f}: no such file`);
      const progress = progressLine(io, `reading ${f}`);
      const s = await datasetStats(path, {
        ...options,
        maxTokens: undefined,
        signal: io.signal,
        onProgress: progress.update,
      });
      progress.clear();
      const shown = relative(io.cwd, path) || f;
      all.push({ path: shown, ...s });
      if (!args.values.json) io.out(formatStats(shown, s));
    }
    if (args.values.json) io.out(JSON.stringify(all, null, 2) + "\n");
    return ExitCode.ok;
  },
};
export default command;
