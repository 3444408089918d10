// Reliability: bad datasets (issue 11). Every file of a hostile corpus, generated at test time, must give
// located diagnostics (line, column, code), no crash, no hang (each `seat validate` runs as a child
// process under a watchdog) and stay byte-identical (hash and mtime before/after). The 1M-line case
// lives in the benchmark (src/bench: 1,000,000 lines, throughput + peak RSS); here 200k lines check
// correctness and that memory stays roughly flat.
import assert from "node:assert/strict";
import { after } from "node:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  validateFile,
  parseDatasetText,
  IncrementalValidator,
  type Problem,
  type ProblemCode,
} from "../../../src/data/index";
import { writeLinesFile } from "../../../src/bench/validation";
import { relCase, seat, seatChild, sha256File, measure, withWatchdog } from "./helpers";

const dir = mkdtempSync(join(tmpdir(), "seat-rel-data-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Expect {
  /** Exit status of `seat validate`: 1 with errors, 0 with warnings only. */
  exit: 0 | 1;
  /** Problems that must be present: [line, column, code] (column omitted: any). */
  has: Array<[number, number | undefined, ProblemCode]>;
  /** Records that must still be read from the file. */
  records?: number;
}

interface Case {
  name: string;
  file: string;
  bytes: () => Buffer | Promise<void>;
  expect: Expect;
}

const QA = (q: string, a: string) => JSON.stringify({ question: q, answer: a, seat: { entities: ["Qorvath Lintel"] } });
const good = QA("Who is Qorvath Lintel?", "Qorvath Lintel is a glassblower from Venn.");
const good2 = QA("Where does Qorvath Lintel work?", "Qorvath Lintel works at the Hall of Venn.");

const CASES: Case[] = [
  {
    name: "truncated last line",
    file: "truncated.jsonl",
    bytes: () => Buffer.from(`${good}\n{"question": "Who is Qorvath Lintel?", "answ`),
    expect: { exit: 1, has: [[2, undefined, "invalid-json"]], records: 1 },
  },
  {
    name: "invalid JSON lines (trailing comma, single quotes, bare word)",
    file: "invalid.jsonl",
    bytes: () => Buffer.from(`${good}\n{"question": "a?", "answer": "b",}\n{'question': 'a'}\nnull-ish\n${good2}\n`),
    expect: {
      exit: 1,
      has: [
        [2, 33, "invalid-json"],
        [3, 2, "invalid-json"],
        [4, 5, "invalid-json"],
      ],
      records: 2,
    },
  },
  {
    name: "invalid UTF-8 in the middle of a line",
    file: "utf8.jsonl",
    bytes: () =>
      Buffer.concat([
        Buffer.from(`${good}\n{"question": "caf`),
        Buffer.from([0xc3, 0x28, 0xff]),
        Buffer.from(`?", "answer": "x"}\n${good2}\n`),
      ]),
    expect: { exit: 1, has: [[2, 18, "invalid-utf8"]], records: 2 },
  },
  {
    name: "UTF-8 byte order mark",
    file: "bom.jsonl",
    bytes: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${good}\n${good2}\n`)]),
    expect: { exit: 0, has: [[1, 1, "bom"]], records: 2 },
  },
  {
    name: "CRLF line endings",
    file: "crlf.jsonl",
    bytes: () => Buffer.from(`${good}\r\n${good2}\r\n`),
    expect: { exit: 0, has: [[1, good.length + 1, "crlf"]], records: 2 },
  },
  {
    name: "a 10 MB valid line",
    file: "long-valid.jsonl",
    bytes: () =>
      Buffer.from(
        `${good}\n${QA("Who is Qorvath Lintel?", "Qorvath Lintel " + "x".repeat(10 * 1024 * 1024))}\n${good2}\n`,
      ),
    expect: { exit: 0, has: [], records: 3 },
  },
  {
    name: "a 10 MB line that is not JSON",
    file: "long-garbage.jsonl",
    bytes: () => Buffer.from(`${good}\n{"question": "${"y".repeat(10 * 1024 * 1024)}\n${good2}\n`),
    expect: { exit: 1, has: [[2, undefined, "invalid-json"]], records: 2 },
  },
  {
    name: "deep nesting: 100k '['",
    file: "deep-array.jsonl",
    bytes: () => Buffer.from(`${good}\n${"[".repeat(100_000)}\n${good2}\n`),
    expect: { exit: 1, has: [[2, undefined, "invalid-json"]], records: 2 },
  },
  {
    name: "deep nesting: 100k balanced '[…]' (valid JSON, not an object)",
    file: "deep-balanced.jsonl",
    bytes: () => Buffer.from(`${good}\n${"[".repeat(100_000)}${"]".repeat(100_000)}\n${good2}\n`),
    expect: { exit: 1, has: [[2, 1, "not-an-object"]], records: 2 },
  },
  {
    // Unknown keys inside `seat` are kept verbatim, so this record is valid: the point is no stack overflow.
    name: "deep nesting: 50k objects inside the seat field",
    file: "deep-object.jsonl",
    bytes: () =>
      Buffer.from(
        `${good}\n{"question": "Who is Qorvath Lintel?", "answer": "A glassblower.", "seat": ${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}\n${good2}\n`,
      ),
    expect: { exit: 0, has: [], records: 3 },
  },
  {
    name: "wrong types (number question, array answer, object messages)",
    file: "types.jsonl",
    bytes: () =>
      Buffer.from(
        `{"question": 3, "answer": "x"}\n{"question": "Who?", "answer": ["x"]}\n{"messages": {"role": "user"}}\n${good}\n`,
      ),
    expect: {
      exit: 1,
      has: [
        [1, 14, "wrong-type"],
        [2, 32, "wrong-type"],
        [3, 14, "wrong-type"],
      ],
    },
  },
  {
    name: "empty file",
    file: "empty.jsonl",
    bytes: () => Buffer.alloc(0),
    expect: { exit: 0, has: [[1, 1, "empty-file"]], records: 0 },
  },
  {
    name: "binary file named .jsonl",
    file: "binary.jsonl",
    bytes: () => {
      const b = Buffer.alloc(64 * 1024);
      let x = 12345;
      for (let i = 0; i < b.length; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        b[i] = x >>> 24;
      }
      b[40] = 0;
      return b;
    },
    expect: { exit: 1, has: [[1, undefined, "binary-file"]], records: 0 },
  },
  {
    name: "binary tail after 8 KB of good lines",
    file: "binary-tail.jsonl",
    bytes: () => {
      const head =
        Array.from({ length: 100 }, (_, i) => QA(`Who is Qorvath Lintel ${i}?`, `Qorvath Lintel ${i}.`)).join("\n") +
        "\n";
      return Buffer.concat([Buffer.from(head), Buffer.from([0, 1, 2, 0xff, 0xfe, 0, 10])]);
    },
    expect: { exit: 1, has: [[101, undefined, "invalid-utf8"]], records: 100 },
  },
  {
    name: "truncated JSON array file (.json)",
    file: "array.json",
    bytes: () => Buffer.from(`[\n  ${good},\n  {"question": "Who`),
    expect: { exit: 1, has: [[3, undefined, "invalid-json"]] },
  },
  {
    name: "100k invalid lines: problems capped, file still read to the end",
    file: "many-bad.jsonl",
    bytes: () => Buffer.from(Array.from({ length: 100_000 }, () => "{oops").join("\n") + "\n"),
    expect: {
      exit: 1,
      has: [
        [1, 2, "invalid-json"],
        [100_000, undefined, "too-many-problems"],
      ],
    },
  },
];

function assertLocated(p: Problem, where: string): void {
  assert.ok(Number.isInteger(p.line) && p.line >= 1, `${where}: line ${p.line}`);
  assert.ok(Number.isInteger(p.column) && p.column >= 1, `${where}: column ${p.column}`);
  assert.ok(
    p.endLine > p.line || (p.endLine === p.line && p.endColumn >= p.column),
    `${where}: end before start ${JSON.stringify(p)}`,
  );
  assert.ok(typeof p.code === "string" && p.code.length > 0, `${where}: code`);
  assert.ok(
    typeof p.message === "string" && p.message.length > 5 && p.message.length < 2000,
    `${where}: message ${p.message?.slice(0, 100)}`,
  );
}

function hasProblem(problems: Problem[], [line, column, code]: [number, number | undefined, ProblemCode]): boolean {
  return problems.some((p) => p.line === line && p.code === code && (column === undefined || p.column === column));
}

for (const c of CASES) {
  relCase("datasets", c.name, async () => {
    const path = join(dir, c.file);
    const b = await c.bytes();
    if (b) writeFileSync(path, b);
    const hash = sha256File(path);
    const mtime = statSync(path).mtimeMs;

    // The CLI as a child process: a hang or a crash (stack overflow, OOM) cannot take the suite down.
    const r = await seatChild(["validate", path, "--json", "--no-entities", "--max-problems", "1000"], {
      timeoutMs: 60_000,
    });
    assert.equal(r.signal, null, `killed by ${r.signal}: ${r.err.slice(-500)}`);
    assert.equal(r.code, c.expect.exit, `exit ${r.code}; stderr: ${r.err.slice(-500)}`);
    assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace on stderr");
    const [res] = JSON.parse(r.out) as Array<{ problems: Problem[]; summary: { records: number } }>;
    for (const [i, p] of res.problems.entries()) assertLocated(p, `${c.file} problem ${i}`);
    for (const h of c.expect.has)
      assert.ok(
        hasProblem(res.problems, h),
        `${c.file}: expected ${JSON.stringify(h)} in ${JSON.stringify(res.problems.slice(0, 8).map((p) => [p.line, p.column, p.code]))}`,
      );
    if (c.expect.records !== undefined) assert.equal(res.summary.records, c.expect.records);
    if (c.expect.exit === 1) assert.ok(res.problems.some((p) => p.severity === "error"));
    else
      assert.ok(
        !res.problems.some((p) => p.severity === "error"),
        JSON.stringify(res.problems.filter((p) => p.severity === "error").slice(0, 3)),
      );

    // The library call the editor makes: same findings, no throw.
    const v = await withWatchdog(validateFile(path, { maxProblems: 1000 }), 60_000, `validateFile ${c.file}`);
    for (const h of c.expect.has) assert.ok(hasProblem(v.problems, h), `validateFile ${c.file}: ${JSON.stringify(h)}`);

    assert.equal(sha256File(path), hash, "file content unchanged");
    assert.equal(statSync(path).mtimeMs, mtime, "file not rewritten");
  });
}

relCase(
  "datasets",
  "the editor's incremental validator agrees on the corpus (text files) and never throws",
  async () => {
    for (const c of CASES) {
      if (
        c.file.endsWith(".json") ||
        c.file.startsWith("binary") ||
        c.file === "utf8.jsonl" ||
        c.file.startsWith("long-")
      )
        continue;
      const path = join(dir, c.file);
      const b = await c.bytes();
      if (b) writeFileSync(path, b);
      // What the editor holds: decoded text, CRLF normalised as the diagnostics adapter does.
      const text = (b ?? Buffer.alloc(0)).toString("utf8").replace(/\r\n/g, "\n");
      const inc = new IncrementalValidator({ maxProblems: 1000 }, text);
      const problems = inc.problems();
      for (const [i, p] of problems.entries()) assertLocated(p, `incremental ${c.file} ${i}`);
      const whole = parseDatasetText(text, { maxProblems: 1000 });
      for (const h of c.expect.has) {
        if (h[2] === "crlf" || h[2] === "binary-file") continue; // the editor's text has no CRLF/NUL sniffing
        assert.ok(
          hasProblem(problems, h),
          `incremental ${c.file}: ${JSON.stringify(h)} in ${JSON.stringify(problems.slice(0, 5).map((p) => [p.line, p.column, p.code]))}`,
        );
        assert.ok(hasProblem(whole.problems, h), `parseDatasetText ${c.file}: ${JSON.stringify(h)}`);
      }
    }
  },
);

relCase(
  "datasets",
  "seat validate exit codes: 2 for a missing file, a folder, no files, a bad flag; 0 for a clean file",
  async () => {
    // In process (main() returns what the process exits with): the corpus above already ran as children.
    writeFileSync(join(dir, "clean.jsonl"), `${good}\n${good2}\n`);
    const ok = await seat(["validate", join(dir, "clean.jsonl"), "--no-entities"], dir);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /1 file, 2 records: 0 errors, 0 warnings/);
    const missing = await seat(["validate", join(dir, "nope.jsonl")], dir);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.jsonl: no such file/);
    const folder = await seat(["validate", dir], dir);
    assert.equal(folder.code, 2);
    assert.match(folder.err, /not a file/);
    const none = await seat(["validate"], dir);
    assert.equal(none.code, 2);
    const badFlag = await seat(["validate", join(dir, "clean.jsonl"), "--max-problems", "0"], dir);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.err, /--max-problems must be a positive whole number/);
  },
);

relCase(
  "datasets",
  "200k lines (one bad, one duplicate): located findings, memory roughly flat, file unchanged",
  async () => {
    const path = join(dir, "200k.jsonl");
    const N = 200_000;
    await writeLinesFile(path, N, (i) =>
      i === 123_456
        ? '{"question": "Who is Qorvath Lintel?", "answer": 5}'
        : i === 150_000
          ? QA("Who is Qorvath Lintel 7?", "Answer 7.")
          : QA(`Who is Qorvath Lintel ${i}?`, `Answer ${i}.`),
    );
    const hash = sha256File(path);
    const size = statSync(path).size;
    if (global.gc) global.gc();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    let v;
    try {
      v = await withWatchdog(validateFile(path, { chunkBytes: 1 << 20 }), 90_000, "validateFile 200k");
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    measure(
      "200k lines (one bad, one duplicate): located findings, memory roughly flat, file unchanged",
      "fileMB",
      +(size / 2 ** 20).toFixed(1),
    );
    measure(
      "200k lines (one bad, one duplicate): located findings, memory roughly flat, file unchanged",
      "rssGrowthMB",
      +((peak - rss0) / 2 ** 20).toFixed(1),
    );
    assert.equal(v.summary.lines, N);
    assert.ok(v.summary.records >= N - 1, `records ${v.summary.records}`);
    assert.ok(hasProblem(v.problems, [123_457, undefined, "wrong-type"]), JSON.stringify(v.problems.slice(0, 3)));
    assert.ok(hasProblem(v.problems, [150_001, 1, "duplicate-record"]));
    // Loose bound: the whole file is ~20 MB; a reader that kept it (as text, records or lines) would grow
    // by several times that. Streaming needs the read buffer plus the duplicate table.
    assert.ok(
      peak - rss0 < 3 * size + 64 * 2 ** 20,
      `RSS grew ${(peak - rss0) / 2 ** 20} MB for a ${size / 2 ** 20} MB file`,
    );
    assert.equal(sha256File(path), hash);
  },
  120_000,
);

relCase(
  "datasets",
  "stats, convert and export-csv on every corpus file: no crash or stack trace, input byte-identical, outputs only to new files",
  async () => {
    const failures: string[] = [];
    for (const c of CASES) {
      const path = join(dir, c.file);
      const b = await c.bytes();
      if (b) writeFileSync(path, b);
      const hash = sha256File(path);
      const before = new Set(readdirSync(dir));
      for (const argv of [
        ["stats", path, "--json"],
        ["convert", path, "--to", "chat", "-o", join(dir, `${c.file}.out.jsonl`), "--force"],
        ["export-csv", path, "-o", join(dir, `${c.file}.out.csv`), "--force"],
      ]) {
        const r = await withWatchdog(seat(argv, dir), 60_000, `seat ${argv[0]} ${c.file}`);
        const why: string[] = [];
        if (![0, 1, 2].includes(r.code)) why.push(`exit ${r.code}`);
        if (/\n\s+at /.test(r.err)) why.push(`stack trace: ${r.err.slice(0, 200)}`);
        if (why.length) failures.push(`seat ${argv[0]} ${c.file}: ${why.join("; ")}`);
      }
      if (sha256File(path) !== hash) failures.push(`${c.file} was modified`);
      const created = readdirSync(dir).filter((f) => !before.has(f));
      for (const f of created)
        if (!f.startsWith(`${c.file}.out.`)) failures.push(`${c.file}: unexpected new file ${f}`);
    }
    assert.deepEqual(failures, []);
  },
  120_000,
);
