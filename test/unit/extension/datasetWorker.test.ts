// The dataset worker thread: the open-document validator's lines are checked there (none on the
// calling thread), edits made while a batch is out are honoured, a failing worker falls back to the
// calling thread, and whole-file statistics and validation through it equal the direct calls.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  datasetStats,
  IncrementalValidator,
  parseDatasetText,
  validateFile,
  type LineResults,
} from "../../../src/data/index";
import { DatasetWorker, DatasetWorkerUnavailable } from "../../../src/extension/datasets/datasetWorkerClient";
import { toValidateOptions, type PlainValidateOptions } from "../../../src/extension/datasets/datasetWorkerProtocol";
import {
  DocumentSync,
  validateInSlices,
  type LineChange,
  type LineCheckService,
} from "../../../src/extension/datasets/model";

const worker = new DatasetWorker();
const dir = mkdtempSync(join(tmpdir(), "seat-dsworker-"));
after(async () => {
  await worker.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const record = (i: number) =>
  i % 97 === 5
    ? `{"question":"Who is Q${i % 7}?","answer":${i}}`
    : i % 211 === 9
      ? ""
      : `{"question":"Who is Qorvath ${i % 5000}?","answer":"A."}`;

/** A document as the editor holds it (lines), changed the way the editor reports changes. */
class Doc {
  constructor(public lines: string[]) {}
  get lineCount() {
    return this.lines.length;
  }
  lineText(i: number) {
    return this.lines[i];
  }
  get text() {
    return this.lines.join("\n");
  }
  /** Replaces lines [start, end) by `repl`; returns the change event. */
  replaceLines(start: number, end: number, repl: string[]): LineChange {
    const endLine = Math.min(end, this.lines.length - 1);
    const change: LineChange =
      end < this.lines.length
        ? {
            startLine: start,
            startCharacter: 0,
            endLine: end,
            endCharacter: 0,
            text: repl.map((l) => l + "\n").join(""),
          }
        : {
            startLine: start,
            startCharacter: 0,
            endLine,
            endCharacter: this.lines[endLine].length,
            text: repl.join("\n"),
          };
    this.lines.splice(start, end - start, ...(end < this.lines.length ? repl : repl.length ? repl : [""]));
    return change;
  }
}

/** Counts lines checked on this thread. */
function hostChecks<T>(fn: () => Promise<T>): Promise<{ value: T; checked: number }> {
  const proto = IncrementalValidator.prototype as unknown as { checkLine: (...a: unknown[]) => unknown };
  const orig = proto.checkLine;
  let checked = 0;
  proto.checkLine = function (this: unknown, ...a: unknown[]) {
    checked++;
    return orig.apply(this, a);
  };
  return fn()
    .then((value) => ({ value, checked }))
    .finally(() => {
      proto.checkLine = orig;
    });
}

const OPTS: PlainValidateOptions = { detectEntities: true, maxProblems: 100_000 };
const fullOf = (doc: Doc) => parseDatasetText(doc.text, { container: "jsonl", ...toValidateOptions(OPTS) }).problems;

test("an open document's lines are checked on the worker: problems equal a full validation, none checked here", async () => {
  const doc = new Doc(Array.from({ length: 30_000 }, (_, i) => record(i)).concat([""]));
  const sync = new DocumentSync(toValidateOptions(OPTS), doc);
  const { value, checked } = await hostChecks(() =>
    validateInSlices(sync.validator, () => true, { service: worker, options: OPTS }),
  );
  assert.equal(checked, 0, "lines were checked on the calling thread");
  assert.deepEqual(value, fullOf(doc));
});

test("edits that arrive while a batch is on the worker: moved lines keep their results, replaced ones are checked again", async () => {
  let seed = 5;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const doc = new Doc(Array.from({ length: 12_000 }, (_, i) => record(i)).concat([""]));
  const sync = new DocumentSync(toValidateOptions(OPTS), doc);
  let edits = 0;
  // The editor keeps typing while the first 15 batches are out: 1-3 edits (often at the top) before
  // each result lands.
  let batches = 0;
  const typing: LineCheckService = {
    async checkLines(options, texts, firstIndex): Promise<LineResults> {
      const r = await worker.checkLines(options, texts, firstIndex);
      if (++batches > 15) return r;
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
        const start = rnd() < 0.3 ? 0 : Math.floor(rnd() * (doc.lineCount - 1));
        const end = Math.min(doc.lineCount - 1, start + Math.floor(rnd() * 3));
        const repl = Array.from({ length: Math.floor(rnd() * 3) }, (_, j) => record(Math.floor(rnd() * 1000) + j));
        sync.change([doc.replaceLines(start, end, repl)], doc.lineCount);
        edits++;
      }
      return r;
    },
  };
  const problems = await validateInSlices(sync.validator, () => true, { service: typing, options: OPTS });
  assert.ok(edits >= 15, `only ${edits} edits happened while batches were out`);
  assert.equal(sync.validator.lineCount, doc.lineCount);
  assert.deepEqual(problems, fullOf(doc));
});

test("a superseded run stops after its batch and keeps the work done; a worker that fails leaves the lines to this thread", async () => {
  const doc = new Doc(Array.from({ length: 20_000 }, (_, i) => record(i)).concat([""]));
  const sync = new DocumentSync(toValidateOptions(OPTS), doc);
  let batches = 0;
  const stopAfterTwo = await validateInSlices(sync.validator, () => ++batches < 2, { service: worker, options: OPTS });
  assert.equal(stopAfterTwo, null);
  const errors: string[] = [];
  const broken: LineCheckService = { checkLines: () => Promise.reject(new Error("dataset worker exited (code 1)")) };
  const { value, checked } = await hostChecks(() =>
    validateInSlices(sync.validator, () => true, {
      service: broken,
      options: OPTS,
      onError: (e) => errors.push(e.message),
    }),
  );
  assert.deepEqual(errors, ["dataset worker exited (code 1)"]);
  assert.ok(checked > 0 && checked < 20_001, `the two worker batches were kept: ${checked} lines checked here`);
  assert.deepEqual(value, fullOf(doc));
});

test("file statistics and validation through the worker equal the direct calls; cancel stops them; a stopped worker refuses", async () => {
  const file = join(dir, "d.jsonl");
  writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => record(i)).join("\n") + "\n");
  const opts = { maxProblems: 1000, chunkBytes: 64 * 1024 };
  assert.deepEqual(await worker.stats(file, opts), await datasetStats(file, opts));
  assert.deepEqual(
    await worker.validateFile(file, { ...opts, detectEntities: true }),
    await validateFile(file, { ...toValidateOptions({ ...opts, detectEntities: true }) }),
  );
  const ac = new AbortController();
  const job = worker.validateFile(file, { chunkBytes: 1024 }, ac.signal);
  ac.abort(new Error("cancelled"));
  await assert.rejects(job, /cancel/);
  await assert.rejects(worker.stats(join(dir, "missing.jsonl"), {}), /ENOENT|no such file/);
  const stopped = new DatasetWorker();
  await stopped.dispose();
  await assert.rejects(
    stopped.stats(file, {}),
    (e: Error) => e instanceof DatasetWorkerUnavailable && /dataset worker stopped/.test(e.message),
  );
  // A worker that cannot start fails its jobs the same way (callers then work on their own thread).
  const missing = new DatasetWorker(() => {
    throw new Error("no script here");
  });
  await assert.rejects(
    missing.validateFile(file, {}),
    (e: Error) => e instanceof DatasetWorkerUnavailable && /did not start: no script here/.test(e.message),
  );
});
