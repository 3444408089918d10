// validateFile on worker threads (src/data/parallel.ts) gives exactly the sequential result: every
// fixture and generated files whose cross-line findings (duplicates, mixed formats, CRLF, BOM, blank
// lines, invalid UTF-8, over-long lines, the maxProblems cut-off) straddle the cuts between parts, with
// parts forced small so small files are cut many times. Plus: abort stops the workers, a worker failure
// names the file, and inside a worker validateFile stays on its thread.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { Worker } from "node:worker_threads";
import { validateFile, type StreamOptions } from "../../../src/data/index";
import { writeBenchDataset } from "../../../src/bench/validation";
import { planParts, validateParts, type PartPlan } from "../../../src/data/parallel";
import { detectSubjects } from "../../../src/entities/index";

const FIXTURES = join(__dirname, "../../fixtures/datasets");
/** How long a stopped worker is watched for signs of life. */
const QUIET_MS = 300;

async function planOf(path: string, options: StreamOptions): Promise<PartPlan | null> {
  const fh = await open(path, "r");
  try {
    return await planParts(fh, (await fh.stat()).size, options);
  } finally {
    await fh.close();
  }
}

/** (partBytes, threads) pairs: a part per line, a few lines a part, parts of several chunks. */
const CUTS: Array<[number, number]> = [
  [1, 2],
  [97, 3],
  [4096, 2],
];

/**
 * Validates `path` sequentially and in parts for each cut, checks every parallel result equals the
 * sequential one (also as JSON, key order included) and returns the sequential one.
 */
async function sameInParts(path: string, options: StreamOptions = {}, cuts = CUTS) {
  const seq = await validateFile(path, { ...options, threads: 1 });
  for (const [partBytes, threads] of cuts) {
    const opts = { ...options, partBytes, threads };
    const plan = await planOf(path, opts);
    // a file that makes one part is validated sequentially: the comparison would prove nothing
    assert.ok(plan && plan.ranges.length > 1, `${path} must be cut at partBytes ${partBytes}`);
    const par = await validateFile(path, opts);
    assert.deepStrictEqual(par, seq, `${path}, partBytes ${partBytes}, ${threads} threads`);
    assert.equal(JSON.stringify(par), JSON.stringify(seq));
  }
  return seq;
}

const codes = (v: { problems: Array<{ code: string }> }) => new Set(v.problems.map((p) => p.code));

const qa = (i: number) =>
  JSON.stringify({
    question: `When did Qorvath Lintel ${i % 50} first exhibit?`,
    answer: `In ${1800 + (i % 50)}, at the Hall of Venn.`,
    seat: { entities: [`Qorvath Lintel ${i % 50}`] },
  });
const chat = (i: number) =>
  JSON.stringify({
    messages: [
      { role: "user", content: `Who taught Belmora Tesk ${i % 20}?` },
      { role: "assistant", content: "Ilvane Durro did." },
    ],
  });

function withTemp(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "seat-parallel-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test("every fixture: parts on workers == sequential", async () => {
  let cut = 0;
  for (const name of readdirSync(FIXTURES).sort()) {
    const path = join(FIXTURES, name);
    // JSON arrays and binary files never reach the line reader; one-line and empty files make one part
    if (name.endsWith(".jsonl") && name !== "binary.jsonl" && (await planOf(path, { threads: 2, partBytes: 1 }))) {
      await sameInParts(path, {}, [[1, 2]]);
      await sameInParts(path, { detectEntities: detectSubjects }, [[1, 3]]);
      cut++;
    } else {
      assert.deepStrictEqual(
        await validateFile(path, { threads: 2, partBytes: 1 }),
        await validateFile(path, { threads: 1 }),
        name,
      );
    }
  }
  assert.ok(cut >= 10, `only ${cut} fixtures were cut into parts`);
});

test(
  "cross-part findings: first record late, mixed formats, duplicates, CRLF, blank lines, BOM, invalid UTF-8",
  withTemp(async (dir) => {
    const parts: Buffer[] = [Buffer.from('\uFEFF{"question": oops}\n'), Buffer.from("\n   \n[1, 2]\n")];
    for (let i = 0; i < 300; i++) {
      let line: Buffer;
      if (i % 41 === 7)
        line = Buffer.concat([Buffer.from('{"question":"caf'), Buffer.from([0xe9]), Buffer.from('","answer":"x"}')]);
      else if (i % 29 === 3) line = Buffer.from("");
      else line = Buffer.from(i % 3 === 0 ? chat(i) : qa(i));
      parts.push(line, Buffer.from(i % 17 === 5 ? "\r\n" : "\n"));
    }
    parts.push(Buffer.from(qa(1))); // no final newline, and a duplicate of an early record
    const path = join(dir, "mixed.jsonl");
    writeFileSync(path, Buffer.concat(parts));
    const seq = await sameInParts(path);
    for (const c of [
      "bom",
      "crlf",
      "blank-line",
      "invalid-json",
      "not-an-object",
      "invalid-utf8",
      "mixed-formats",
      "duplicate-record",
    ])
      assert.ok(codes(seq).has(c), c);
    // lines that are not UTF-8 are never decoded, so their "\r" does not count
    const crlfLines = Array.from({ length: 300 }, (_, i) => i).filter((i) => i % 17 === 5 && i % 41 !== 7).length;
    assert.equal(
      seq.problems.find((p) => p.code === "crlf")!.message,
      `Windows line endings (CRLF) on ${crlfLines} lines: JSONL tools expect LF`,
    );
    // the first record (line 5, chat) is after the parts of the bad lines above it at partBytes 1
    assert.match(seq.problems.find((p) => p.code === "mixed-formats")!.message, /the first record \(line 5\) is chat/);
    await sameInParts(path, { duplicates: false, detectEntities: detectSubjects });
  }),
);

test(
  "CRLF first seen in a later part; a BOM-less file; a BOM after line 1 is invalid JSON",
  withTemp(async (dir) => {
    const lines = Array.from({ length: 60 }, (_, i) => (i === 30 ? "\uFEFF" : "") + qa(i) + (i >= 40 ? "\r" : ""));
    const path = join(dir, "crlf-late.jsonl");
    writeFileSync(path, lines.join("\n") + "\n");
    const seq = await sameInParts(path);
    const crlf = seq.problems.filter((p) => p.code === "crlf");
    assert.equal(crlf.length, 1);
    assert.equal(crlf[0].line, 41);
    assert.ok(!codes(seq).has("bom"));
    assert.equal(seq.problems.find((p) => p.line === 31)?.code, "invalid-json");
  }),
);

test(
  "no records: the empty-file warning once, and none when there are errors",
  withTemp(async (dir) => {
    const blank = join(dir, "blank.jsonl");
    writeFileSync(blank, "\n \n\t\n\n");
    const small: Array<[number, number]> = [
      [1, 2],
      [2, 3],
    ];
    const b = await sameInParts(blank, {}, small);
    assert.equal(b.problems.filter((p) => p.code === "empty-file").length, 1);
    const broken = join(dir, "broken.jsonl");
    writeFileSync(broken, '{\n[\n{"a": 1}\n');
    const e = await sameInParts(broken, {}, small);
    assert.ok(!codes(e).has("empty-file"));
    assert.equal(e.summary.records, 0);
  }),
);

test(
  "lines longer than maxLineBytes, at and past the buffer size, in several parts",
  withTemp(async (dir) => {
    const CHUNK = 65_536; // the smallest read size; with maxLineBytes below it, lines of a whole buffer are too long
    const long = (n: number) => JSON.stringify({ question: "x".repeat(n - 30), answer: "y" }).padEnd(n, " ");
    const lines = [qa(1), long(CHUNK - 1), qa(2), long(CHUNK), long(CHUNK + 5000), qa(3), "x".repeat(3 * CHUNK), qa(1)];
    const opts = { chunkBytes: CHUNK, maxLineBytes: 1000 };
    const path = join(dir, "long.jsonl");
    writeFileSync(path, lines.join("\n") + "\n");
    const cuts: Array<[number, number]> = [
      [1, 2],
      [CHUNK, 3],
    ];
    const seq = await sameInParts(path, opts, cuts);
    assert.deepEqual(
      seq.problems.filter((p) => p.code === "line-too-long").map((p) => p.line),
      [4, 5, 7],
    );
    // an over-long line whose "\n" is the last byte of a read (every part's end is one) leaves an empty buffer
    const edge = join(dir, "edge.jsonl");
    writeFileSync(edge, "x".repeat(2 * CHUNK - 1) + "\n" + qa(1) + "\n");
    const e = await validateFile(edge, { ...opts, threads: 1 });
    assert.deepEqual(
      e.problems.map((p) => `${p.line} ${p.code}`),
      ["1 line-too-long"],
    );
    assert.equal(e.summary.lines, 2);
    assert.equal(e.summary.records, 1);
    // maxLineBytes above the read size: workers read less at a time (parallel.ts), lines are cut alike
    const big = { maxLineBytes: 4_500_000 };
    const huge = join(dir, "huge.jsonl");
    writeFileSync(
      huge,
      [qa(1), long(big.maxLineBytes - 1), long(big.maxLineBytes), qa(2), long(6_000_000), qa(3)].join("\n") + "\n",
    );
    const h = await sameInParts(huge, big, [[1, 2]]);
    assert.deepEqual(
      h.problems.filter((p) => p.code === "line-too-long").map((p) => p.line),
      [3, 5],
    );
    // a last line with no newline is read to the end of the file: exactly a buffer is parsed, one byte more is not
    for (const n of [CHUNK, CHUNK + 1]) {
      const last = join(dir, `last-${n}.jsonl`);
      writeFileSync(last, [qa(1), qa(2), long(n)].join("\n"));
      const v = await sameInParts(last, opts, [
        [1, 2],
        [100, 3],
      ]);
      assert.equal(codes(v).has("line-too-long"), n > CHUNK);
    }
  }),
);

test(
  "more problems than maxProblems: the same first ones and the same 'N more' note",
  withTemp(async (dir) => {
    const lines = Array.from({ length: 400 }, (_, i) => (i % 5 === 0 ? "{broken" : i % 7 === 0 ? "" : qa(i)));
    const path = join(dir, "many.jsonl");
    writeFileSync(path, lines.join("\n") + "\n");
    for (const maxProblems of [1, 10, 150]) {
      const seq = await sameInParts(path, { maxProblems, detectEntities: detectSubjects });
      const note = seq.problems[seq.problems.length - 1];
      assert.equal(note.code, "too-many-problems");
      assert.equal(seq.problems.length, maxProblems + 1);
      assert.match(
        note.message,
        new RegExp(`^${seq.summary.errors + seq.summary.warnings + seq.summary.infos - maxProblems} more problems`),
      );
    }
  }),
);

test(
  "a generated dataset: default parts on 2 threads equal the sequential result, progress reaches the size",
  withTemp(async (dir) => {
    const path = join(dir, "bench.jsonl");
    const bytes = await writeBenchDataset(path, 40_000); // ~10 MB: above the default smallest part twice
    const plan = await planOf(path, { threads: 2 });
    assert.ok(plan && plan.ranges.length >= 2 && plan.threads === 2);
    const seen: number[] = [];
    const par = await validateFile(path, {
      threads: 2,
      onProgress: (done, total) => {
        assert.equal(total, bytes);
        seen.push(done);
      },
    });
    assert.deepStrictEqual(par, await validateFile(path, { threads: 1 }));
    assert.equal(par.summary.records, 40_000);
    assert.equal(seen[seen.length - 1], bytes);
    assert.deepEqual(
      seen,
      [...seen].sort((a, b) => a - b),
    );
    // callers that want records or problems as they come stay on their thread
    assert.equal(await planOf(path, { threads: 2, onRecord: () => {} }), null);
    assert.equal(await planOf(path, { threads: 2, onProblem: () => {} }), null);
    assert.equal(await planOf(path, { threads: 2, detectEntities: () => [] }), null);
    assert.equal(await planOf(path, { threads: 1 }), null);
  }),
);

test(
  "abort: the promise rejects with the reason and every worker stops",
  withTemp(async (dir) => {
    const path = join(dir, "abort.jsonl");
    const size = await writeBenchDataset(path, 20_000);
    const opts = { threads: 2, partBytes: 256 * 1024, chunkBytes: 65_536 };
    const fh = await open(path, "r");
    const plan = (await planParts(fh, size, opts))!;
    await fh.close();
    // the real worker, plus a heartbeat written to a file while its thread lives
    const beats = join(dir, "beats");
    const worker = join(__dirname, "../../../src/entities/validateWorker.ts");
    const entry = {
      code: `require("tsx/cjs"); const fs = require("fs"); const { threadId } = require("worker_threads"); let n = 0;
      setInterval(() => fs.writeFileSync(${JSON.stringify(beats)} + threadId, String(++n)), 2); require(${JSON.stringify(worker)});`,
      eval: true,
    };
    const ac = new AbortController();
    const reason = new Error("stop here");
    const beating = () => readdirSync(dir).filter((f) => f.startsWith("beats"));
    const run = validateParts(
      path,
      size,
      plan,
      {
        ...opts,
        signal: ac.signal,
        onProgress: () => {
          if (beating().length === 2) ac.abort(reason);
        },
      },
      entry,
    );
    await assert.rejects(run, (e) => e === reason);
    const snapshot = () =>
      beating()
        .map((f) => readFileSync(join(dir, f), "utf8"))
        .join(",");
    const before = snapshot();
    await new Promise((r) => setTimeout(r, QUIET_MS));
    assert.equal(snapshot(), before, "no worker thread is running after the rejection");
    await assert.rejects(validateFile(path, { ...opts, signal: AbortSignal.abort(reason) }), (e) => e === reason);
  }),
);

test(
  "a failing worker rejects with an error naming the file",
  withTemp(async (dir) => {
    const path = join(dir, "gone.jsonl");
    const plan: PartPlan = {
      ranges: [
        [0, 10],
        [10, 20],
      ],
      threads: 2,
    };
    // the real worker cannot open the file
    await assert.rejects(
      validateParts(path, 20, plan, {}),
      (e: Error) => e.message.startsWith(`${path}: validation worker failed:`) && /ENOENT/.test(e.message),
    );
    // a worker that dies
    const entry = { code: "throw new Error('worker blew up')", eval: true };
    await assert.rejects(
      validateParts(path, 20, plan, {}, entry),
      (e: Error) => e.message === `${path}: validation worker failed: worker blew up`,
    );
  }),
);

test(
  "inside a worker thread validateFile does not start workers of its own",
  withTemp(async (dir) => {
    const path = join(dir, "w.jsonl");
    writeFileSync(path, [qa(1), qa(2), qa(3)].join("\n") + "\n");
    assert.ok(await planOf(path, { threads: 2, partBytes: 1 }), "on the main thread the file is cut");
    const parallel = join(__dirname, "../../../src/data/parallel.ts");
    const code = `require("tsx/cjs"); const { parentPort } = require("worker_threads"); const { open } = require("fs/promises");
    const { planParts } = require(${JSON.stringify(parallel)});
    (async () => { const fh = await open(${JSON.stringify(path)}); const plan = await planParts(fh, (await fh.stat()).size, { threads: 2, partBytes: 1 }); await fh.close(); parentPort.postMessage(plan); })();`;
    const w = new Worker(code, { eval: true });
    try {
      const plan = await new Promise((resolve, reject) => {
        w.once("message", resolve);
        w.once("error", reject);
      });
      assert.equal(plan, null);
    } finally {
      await w.terminate();
    }
  }),
);
