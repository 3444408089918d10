// `seat perturb`: subject entities and fictitious look-alikes for every record of a dataset, printed as
// JSON or written into a new file's `seat.perturbations`; optionally checked against the base model.
import { readFileSync, existsSync, realpathSync } from "node:fs";
import { writeFileAtomic } from "../../util/files";
import { resolve } from "node:path";
import { type Command, type CliIo, type ParsedArgs, UserError, ExitCode } from "../command";
import { parseDatasetText, type DatasetRecord } from "../../data/index";
import {
  prepareDataset,
  suggestPerturbations,
  verifyUnknown,
  toEntry,
  applyRecordEdits,
  DEFAULT_ABSTENTION_THRESHOLD,
  type AbstentionScorer,
  type PerturbationCandidate,
  type RecordSuggestion,
  type VerifiedCandidate,
} from "../../entities/index";
import { loadAbstentionScorer } from "./perturbVerify";

function intOption(v: unknown, name: string, min: number, max: number): number {
  const n = Number(v);
  if (typeof v !== "string" || !/^-?\d+$/.test(v.trim()) || n < min || n > max)
    throw new UserError(`--${name} must be an integer from ${min} to ${max}, got '${String(v)}'`);
  return n;
}

function readInput(file: string, io: CliIo): { text: string; path: string } {
  if (file === "-") return { text: readFileSync(0, "utf8"), path: "<stdin>" };
  const path = resolve(io.cwd, file);
  if (!existsSync(path)) throw new UserError(`${file}: no such file`);
  try {
    return { text: readFileSync(path, "utf8"), path };
  } catch (e) {
    throw new UserError(`${file}: cannot read: ${(e as Error).message}`);
  }
}

/** One record's result as printed by --json (stable field names: the editor reads them). */
interface RecordReport {
  line: number;
  index: number;
  entity: { name: string; kind: string; source: string; score: number; evidence: string[] } | null;
  alternatives: { name: string; kind: string; score: number }[];
  candidates: { replacement: string; kind: string; question?: string; abstention?: number }[];
  /** Verified candidates the base model did not abstain on (shown, not inserted). */
  rejected?: { replacement: string; abstention: number }[];
  reason?: string;
}

function report(
  r: DatasetRecord,
  s: RecordSuggestion,
  kept: (PerturbationCandidate & { abstention?: number })[],
  rejected?: VerifiedCandidate[],
): RecordReport {
  const e = s.entity;
  const out: RecordReport = {
    line: r.line,
    index: r.index,
    entity: e ? { name: e.name, kind: e.kind, source: e.source, score: e.score, evidence: e.evidence } : null,
    alternatives: s.alternatives.map((a) => ({ name: a.name, kind: a.kind, score: a.score })),
    candidates: kept.map((c) => ({
      replacement: c.replacement,
      kind: c.kind,
      question: c.question,
      ...(c.abstention !== undefined ? { abstention: c.abstention } : {}),
    })),
  };
  if (rejected) out.rejected = rejected.map((c) => ({ replacement: c.replacement, abstention: c.abstention }));
  if (s.reason) out.reason = s.reason;
  return out;
}

const command: Command = {
  name: "perturb",
  summary: "Suggest fictitious look-alike entities (SEAT perturbations) for each record of a dataset",
  usage: "FILE [--k N] [--seed S] [--verify --model DIR] [--json | -o OUT]",
  options: {
    k: { type: "string", default: "3", arg: "N", help: "Stand-ins per record" },
    seed: { type: "string", default: "0", arg: "S", help: "Seed of the name generator (same seed, same names)" },
    verify: { type: "boolean", help: "Keep only stand-ins the base model abstains on (needs --model)" },
    model: { type: "string", arg: "DIR", help: "Base model folder for --verify" },
    threshold: {
      type: "string",
      arg: "P",
      help: `Abstention probability a verified stand-in needs (default ${DEFAULT_ABSTENTION_THRESHOLD})`,
    },
    json: { type: "boolean", help: "Print per-record suggestions as JSON" },
    output: { type: "string", short: "o", arg: "OUT", help: "Write a copy of FILE with seat.perturbations filled" },
    force: { type: "boolean", help: "Replace OUT if it exists" },
    fill: {
      type: "boolean",
      help: "With --json: suggest only what a record needs to reach N perturbations (what -o adds)",
    },
    progress: { type: "boolean", help: "Report progress as JSON lines on stderr (for editors)" },
    openings: {
      type: "string",
      arg: "FILE",
      help: "Abstention openings for --verify (default: the shipped resources/abstention-openings.txt)",
    },
  },
  details: `FILE may be '-' to read the dataset from standard input. The input is never modified.
Records whose seat.perturbations already hold N entries are left as they are; others are filled up to N.
With --verify each stand-in is scored by the base model's abstention probability on the perturbed question;
twice N candidates are tried and the best N the model abstains on are kept.`,
  async run(args: ParsedArgs, io: CliIo): Promise<number> {
    const v = args.values;
    const [file, ...extra] = args.positionals;
    if (!file) throw new UserError("missing FILE (a .jsonl dataset, or '-' for standard input)");
    if (extra.length) throw new UserError(`unexpected argument '${extra[0]}'`);
    const k = intOption(v.k, "k", 1, 50);
    const seed = intOption(v.seed, "seed", 0, 2 ** 31 - 1);
    const out = typeof v.output === "string" ? v.output : undefined;
    if (out !== undefined && v.json) throw new UserError("--json and -o/--output are alternatives: choose one");
    const verify = Boolean(v.verify);
    if (verify && typeof v.model !== "string")
      throw new UserError("--verify needs --model DIR (the base model to check stand-ins against)");
    if (!verify && v.model !== undefined) throw new UserError("--model is only used with --verify");
    let threshold = DEFAULT_ABSTENTION_THRESHOLD;
    if (v.threshold !== undefined) {
      threshold = Number(v.threshold);
      if (!(threshold >= 0 && threshold <= 1))
        throw new UserError(`--threshold must be a probability from 0 to 1, got '${String(v.threshold)}'`);
    }

    const input = readInput(file, io);
    let outPath: string | undefined;
    if (out !== undefined) {
      outPath = resolve(io.cwd, out);
      const same =
        input.path !== "<stdin>" && existsSync(outPath) && realpathSync(outPath) === realpathSync(input.path);
      if (same || outPath === input.path)
        throw new UserError(`${out}: refusing to overwrite the input file; choose another OUT`);
      if (existsSync(outPath) && !v.force) throw new UserError(`${out} exists; use --force to replace it`);
    }

    const dataset = parseDatasetText(input.text, { path: input.path });
    const errors = dataset.problems.filter((p) => p.severity === "error");
    if (errors.length) {
      const p = errors[0];
      io.err(
        `seat perturb: ${errors.length} problem(s) in ${file}; unreadable records are skipped${outPath ? " and copied unchanged" : ""} (first: line ${p.line}, column ${p.column}: ${p.message})\n`,
      );
    }
    if (!dataset.records.length) throw new UserError(`${file}: no readable records`, ExitCode.problems);

    let scorer: AbstentionScorer | undefined;
    let dispose = async () => {};
    if (verify) {
      const loaded = await loadAbstentionScorer(
        resolve(io.cwd, String(v.model)),
        io,
        typeof v.openings === "string" ? resolve(io.cwd, v.openings) : undefined,
      );
      scorer = loaded.scorer;
      dispose = loaded.dispose;
    }
    try {
      const ctx = prepareDataset(dataset.records);
      const total = dataset.records.length;
      const reports: RecordReport[] = [];
      const edits: { text: string; line: number; entries: ReturnType<typeof toEntry>[] }[] = [];
      let lastTick = 0;
      for (const r of dataset.records) {
        io.signal.throwIfAborted();
        const have = r.perturbations.length;
        const need = outPath || v.fill ? Math.max(0, k - have) : k;
        let kept: (PerturbationCandidate & { abstention?: number })[] = [];
        let rejected: VerifiedCandidate[] | undefined;
        let s: RecordSuggestion = { index: r.index, alternatives: [], candidates: [] };
        if (need > 0) {
          s = suggestPerturbations(r, r.index, { k: scorer ? 2 * need : need, seed, context: ctx });
          kept = s.candidates;
          if (scorer && s.candidates.length) {
            let res;
            try {
              res = await verifyUnknown(s.candidates, scorer, { threshold, signal: io.signal });
            } catch (e) {
              if (io.signal.aborted) throw e;
              throw new UserError(
                `line ${r.line}: scoring stand-ins with the base model failed: ${(e as Error).message}`,
                ExitCode.failed,
              );
            }
            kept = res.kept.slice(0, need);
            rejected = res.rejected;
            if (!kept.length) {
              const best = Math.max(...res.rejected.map((c) => c.abstention));
              s = {
                ...s,
                reason: `the base model did not treat any of ${res.rejected.length} stand-in(s) as unknown (best abstention probability ${best.toFixed(3)} < ${threshold})`,
              };
            }
          }
        } else {
          s = {
            ...suggestPerturbations(r, r.index, { k: 0, context: ctx }),
            reason: `already has ${have} perturbation(s)`,
          };
        }
        reports.push(report(r, s, kept, rejected));
        edits.push({ text: r.text, line: r.line, entries: kept.map((c) => toEntry(c)) });
        const done = reports.length;
        if (v.progress && (done === total || Date.now() - lastTick > 200)) {
          io.err(JSON.stringify({ type: "progress", done, total }) + "\n");
          lastTick = Date.now();
        }
      }

      if (v.json) {
        io.out(
          JSON.stringify(
            {
              file: input.path,
              k,
              seed,
              verified: verify,
              threshold: verify ? threshold : undefined,
              records: reports,
            },
            null,
            1,
          ) + "\n",
        );
        return ExitCode.ok;
      }
      if (outPath) {
        const result = applyRecordEdits(input.text, edits);
        // Atomic, so an interrupted run never leaves a half-written dataset.
        writeFileAtomic(outPath, result.text);
        const none = reports.filter((x) => x.candidates.length === 0 && !x.reason?.startsWith("already")).length;
        io.out(
          `wrote ${out}: ${result.added} perturbation(s) added to ${result.changedRecords} of ${total} record(s)${none ? `; ${none} record(s) got none (see --json for why)` : ""}\n`,
        );
        return ExitCode.ok;
      }
      for (const x of reports) {
        const head = `line ${x.line}: `;
        if (!x.entity || !x.candidates.length) {
          io.out(
            `${head}${x.entity ? `"${x.entity.name}" (${x.entity.kind}): ` : ""}${x.reason ?? "no stand-in passed"}\n`,
          );
          continue;
        }
        const names = x.candidates.map((c) =>
          c.abstention !== undefined ? `${c.replacement} (${c.abstention.toFixed(2)})` : c.replacement,
        );
        io.out(`${head}"${x.entity.name}" (${x.entity.kind}) → ${names.join(" · ")}\n`);
      }
      return ExitCode.ok;
    } finally {
      await dispose();
    }
  },
};
export default command;
