// Reliability: responsiveness under load (issue 11: the extension host is never blocked > 50 ms while
// a 1M-line dataset is edited and while a training run streams progress).
//
// Timing on a shared, noisy machine cannot be a unit assertion, so this file asserts the structural
// property that makes the host responsive (work is cut into bounded slices; checked with a virtual
// clock, so the result does not depend on machine speed) and *records* the measured figures
// (perf_hooks.monitorEventLoopDelay max/p99, longest synchronous slice, with an idle control for the
// machine's noise floor) in test-artifacts/reliability-summary.json.
import assert from "node:assert/strict";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { cpus, loadavg } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { IncrementalValidator } from "../../../src/data/index";
import {
  DocumentSync,
  SLICE_MS,
  validateInSlices,
  type LineChange,
  type LineSource,
} from "../../../src/extension/datasets/model";
import { DatasetWorker } from "../../../src/extension/datasets/datasetWorkerClient";
import { toValidateOptions, type PlainValidateOptions } from "../../../src/extension/datasets/datasetWorkerProtocol";
import { TrainerProcess } from "../../../src/extension/training/trainerProcess";
import type { TrainEvent } from "../../../src/protocol/events";
import { relCase, measure } from "./helpers";

const LINES = 1_000_000;
/** Structural bound: no synchronous slice may handle more lines than this. */
const MAX_LINES_PER_SLICE = 10_000;

/** The document's lines as the editor holds them: every 1000th line has a problem. */
function bigDocumentLines(n = LINES): string[] {
  const lines: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    lines[i] =
      i % 1000 === 7
        ? `{"question": "Who is Q${i}?", "answer": ${i}}`
        : `{"question": "Who is Q${i}?", "answer": "A${i}."}`;
  }
  lines.push(""); // the empty line after the final newline
  return lines;
}

/** An open document as the extension host holds it (its lines), read through the LineSource interface. */
class HostDocument implements LineSource {
  reads = 0;
  constructor(public lines: string[]) {}
  get lineCount() {
    return this.lines.length;
  }
  lineText(i: number) {
    this.reads++;
    return this.lines[i];
  }
}

type Priv = { checkLine: (...a: unknown[]) => unknown };

/** Counts checkLine calls (lines validated) while `fn` runs. */
function countingChecks<T>(fn: (count: () => number) => T): T {
  const proto = IncrementalValidator.prototype as unknown as Priv;
  const orig = proto.checkLine;
  let n = 0;
  proto.checkLine = function (this: unknown, ...a: unknown[]) {
    n++;
    return orig.apply(this, a);
  };
  try {
    return fn(() => n);
  } finally {
    proto.checkLine = orig;
  }
}

/** Runs `fn` with performance.now() replaced by a clock that advances 1 ms per call. */
function withVirtualClock<T>(fn: () => T): T {
  const perf = globalThis.performance as { now: () => number };
  const orig = perf.now;
  let t = 0;
  perf.now = () => ++t;
  try {
    return fn();
  } finally {
    perf.now = orig;
  }
}

/** Drives problemSteps() to the end; per step: lines validated, and whether it was an aggregation step. */
function drive(
  v: IncrementalValidator,
  checked: () => number,
): { maxChecked: number; aggSteps: number; problems: number } {
  const steps = v.problemSteps();
  let maxChecked = 0;
  let aggSteps = 0;
  let last = checked();
  for (;;) {
    const r = steps.next();
    const c = checked() - last;
    last = checked();
    maxChecked = Math.max(maxChecked, c);
    if (r.done) return { maxChecked, aggSteps, problems: r.value.length };
    if (c === 0) aggSteps++;
  }
}

const CHUNK_CASE =
  "1M-line document: opening and edits (one line, a 200k-line paste) read no line; validating is cut into bounded slices (virtual clock)";
relCase(
  "responsiveness",
  CHUNK_CASE,
  () => {
    const doc = new HostDocument(bigDocumentLines());
    countingChecks((checked) =>
      withVirtualClock(() => {
        // Opening: per-line state only; nothing is read or checked in the event handler.
        const sync = new DocumentSync({ maxProblems: 10_000 }, doc);
        const v = sync.validator;
        assert.equal(v.lineCount, LINES + 1);
        assert.equal(doc.reads, 0, "opening read lines");
        assert.equal(checked(), 0);

        // Validation + aggregation: each step validates a bounded number of lines; the aggregation pass
        // over the per-line table yields at least every 4096 lines.
        const first = drive(v, checked);
        assert.equal(checked(), LINES + 1, "every line validated once (the empty line after the final newline too)");
        assert.ok(first.maxChecked <= MAX_LINES_PER_SLICE, `a validation step checked ${first.maxChecked} lines`);
        assert.ok(
          first.aggSteps >= Math.floor(LINES / 4096) - 1,
          `aggregation yielded ${first.aggSteps} times for ${LINES} lines`,
        );
        assert.equal(first.problems, 1000, "one problem per 1000 lines");

        // A one-line edit in the middle: no line read by the change; only that line re-validated.
        const mid = 500_000;
        const text = '{"question": "Who?", "answer": 3}';
        const oneLine: LineChange = {
          startLine: mid,
          startCharacter: 0,
          endLine: mid,
          endCharacter: doc.lines[mid].length,
          text,
        };
        doc.lines[mid] = text;
        const readsBefore = doc.reads;
        sync.change([oneLine], doc.lineCount);
        assert.equal(doc.reads, readsBefore, "a one-line change read lines");
        const beforeEdit = checked();
        const second = drive(v, checked);
        assert.equal(checked() - beforeEdit, 1, "only the edited line was re-validated");
        assert.ok(second.aggSteps >= Math.floor(LINES / 4096) - 1);
        assert.equal(second.problems, 1001);

        // A 200k-line paste near the top: the change reads nothing; the 200k new lines are validated in
        // bounded slices, nothing else.
        const pasted = Array.from({ length: 200_000 }, (_, i) => `{"question": "P${i}?", "answer": "p."}`);
        const tail = doc.lines.slice(10);
        doc.lines.length = 10;
        for (const l of pasted) doc.lines.push(l);
        for (const l of tail) doc.lines.push(l);
        const readsBeforePaste = doc.reads;
        sync.change(
          [{ startLine: 10, startCharacter: 0, endLine: 10, endCharacter: 0, text: pasted.join("\n") + "\n" }],
          doc.lineCount,
        );
        assert.equal(doc.reads, readsBeforePaste, "the paste's change event read lines");
        assert.equal(v.lineCount, LINES + 1 + 200_000);
        const beforePaste = checked();
        const third = drive(v, checked);
        assert.equal(
          checked() - beforePaste,
          200_001,
          "the pasted lines (and the line they were pasted into) re-validated",
        );
        assert.ok(third.maxChecked <= MAX_LINES_PER_SLICE);
        assert.equal(third.problems, 1001);
      }),
    );
  },
  120_000,
);

/** Node's own full collector, for settling the heap before a measurement (as a long-open document is). */
function fullGc(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/**
 * Opens the 1M-line document and edits it (one line, a 200k-line paste, a 200k-line deletion), each
 * followed by validation through validateInSlices: the editor adapter's own code path. With `worker`
 * the lines are checked on the dataset worker thread, as in the extension; without, on this thread
 * (the adapter's fallback). Records the event-loop delay of this thread and the longest synchronous
 * step of each kind under `prefix`.
 */
async function measureEditing(caseName: string, prefix: string, worker: DatasetWorker | undefined): Promise<void> {
  const m = (key: string, value: number | string) => measure(caseName, prefix + key, value);
  // The document as the host holds it once open (building it is the editor's work, not measured).
  const doc = new HostDocument(bigDocumentLines());
  fullGc();
  // One delay monitor per stretch of the extension's work: a monitor that is disabled and enabled
  // again would count the pause in its next sample.
  const monitors = [monitorEventLoopDelay({ resolution: 1 })];
  let h = monitors[0];
  let longest = 0;
  let longestWhat = "";
  const perPhase: Record<string, number> = {};
  const timed = <T>(what: string, f: () => T): T => {
    const t0 = performance.now();
    const r = f();
    const dt = performance.now() - t0;
    if (dt > longest) {
      longest = dt;
      longestWhat = what;
    }
    perPhase[what] = Math.max(perPhase[what] ?? 0, dt);
    return r;
  };
  /** The editor's own work on its copy of the document (not the extension's): not monitored. */
  const editorWork = async (f: () => void) => {
    h.disable();
    f();
    h = monitorEventLoopDelay({ resolution: 1 });
    monitors.push(h);
    h.enable();
    // A few ticks first, so the monitor's next sample covers the change event handled right after.
    await new Promise((r) => setTimeout(r, 10));
  };
  h.enable();
  const options: PlainValidateOptions = { maxProblems: 10_000 };
  const sync = timed("opening (DocumentSync)", () => new DocumentSync(toValidateOptions(options), doc));
  const v = sync.validator;
  // Every synchronous piece of validateInSlices, timed: reading a batch, storing its results, and each
  // step of the cross-line pass (and of checking lines here, without a worker).
  const take = v.takeBatch.bind(v);
  v.takeBatch = (...a) => timed("read a batch of lines (takeBatch)", () => take(...a));
  const apply = v.applyBatch.bind(v);
  v.applyBatch = (...a) => timed("store a batch's results (applyBatch)", () => apply(...a));
  const steps = v.problemSteps.bind(v);
  v.problemSteps = function* () {
    const g = steps();
    for (;;) {
      const r = timed(worker ? "cross-line pass step" : "check lines / cross-line pass step", () => g.next());
      if (r.done) return r.value;
      yield;
    }
  };
  const validate = async () => {
    const problems = await validateInSlices(v, () => true, worker && { service: worker, options });
    assert.ok(problems);
    return problems;
  };
  await validate();
  m("heapUsedMBWith1MLinesInclGarbage", Math.round(process.memoryUsage().heapUsed / 2 ** 20));
  const mid = 500_000;
  const text = '{"question": "Who?", "answer": 3}';
  const oneLine: LineChange = {
    startLine: mid,
    startCharacter: 0,
    endLine: mid,
    endCharacter: doc.lines[mid].length,
    text,
  };
  await editorWork(() => {
    doc.lines[mid] = text;
  });
  timed("one-line edit (DocumentSync.change)", () => sync.change([oneLine], doc.lineCount));
  await validate();
  let pasteText = "";
  await editorWork(() => {
    const pasted = Array.from({ length: 200_000 }, (_, i) => `{"question": "P${i}?", "answer": "p."}`);
    pasteText = pasted.join("\n") + "\n";
    const tail = doc.lines.slice(10);
    doc.lines.length = 10;
    for (const l of pasted) doc.lines.push(l);
    for (const l of tail) doc.lines.push(l);
  });
  timed("pasting 200k lines (DocumentSync.change)", () =>
    sync.change([{ startLine: 10, startCharacter: 0, endLine: 10, endCharacter: 0, text: pasteText }], doc.lineCount),
  );
  await validate();
  await editorWork(() => {
    doc.lines.splice(10, 200_000);
  });
  timed("deleting 200k lines (DocumentSync.change)", () =>
    sync.change([{ startLine: 10, startCharacter: 0, endLine: 200_010, endCharacter: 0, text: "" }], doc.lineCount),
  );
  const problems = await validate();
  h.disable();
  m("eventLoopMaxDelayMs", +(Math.max(...monitors.map((x) => x.max)) / 1e6).toFixed(1));
  m("eventLoopP99DelayMsWorstStretch", +(Math.max(...monitors.map((x) => x.percentile(99))) / 1e6).toFixed(1));
  m("longestSyncStepMs", +longest.toFixed(1));
  m("longestSyncStepWas", longestWhat);
  for (const [what, ms] of Object.entries(perPhase)) m(`longest single step: ${what} (ms)`, +ms.toFixed(1));
  // Correctness of what was measured (the timing itself is recorded, not asserted).
  assert.equal(v.lineCount, LINES + 1);
  assert.equal(problems.length, 1001);
}

const TIMING_CASE = `1M-line document edited through the editor adapter's path (lines checked on the dataset worker; ${SLICE_MS} ms slices here): measured event-loop delay`;
relCase(
  "responsiveness",
  TIMING_CASE,
  async () => {
    // Noise floor of this machine right now: the same monitor with nothing to do.
    const idle = monitorEventLoopDelay({ resolution: 1 });
    idle.enable();
    await new Promise((r) => setTimeout(r, 500));
    idle.disable();
    measure(TIMING_CASE, "idleControlMaxDelayMs", +(idle.max / 1e6).toFixed(1));
    // Slices are cut by wall-clock time: on a machine with more runnable processes than cores a slice
    // can take several times that, so the load is part of the measurement.
    measure(TIMING_CASE, "loadAverage1m", +loadavg()[0].toFixed(1));
    measure(TIMING_CASE, "cpus", cpus().length);
    const worker = new DatasetWorker();
    try {
      await measureEditing(TIMING_CASE, "", worker);
    } finally {
      await worker.dispose();
    }
    // The same without the worker (the adapter's fallback), for comparison: JSON.parse on this thread
    // pauses for tens of ms when V8's string table grows (values of 10 characters or fewer are interned).
    await measureEditing(TIMING_CASE, "withoutWorker: ", undefined);
  },
  180_000,
);

const STREAM_CASE =
  "training progress stream (20k events from a child) parsed by the editor's TrainerProcess: bounded per turn, measured delay";
relCase(
  "responsiveness",
  STREAM_CASE,
  async () => {
    // A stand-in trainer that emits step events as fast as the pipe takes them: far more than a real
    // run (a few per second), so any per-event cost in the host would show.
    const N = 20_000;
    const script = `
    const ev = (o) => JSON.stringify({ v: 1, time: new Date().toISOString(), ...o });
    const out = [];
    out.push(ev({ type: "run-start", runDir: "runs/x", method: "seat", model: "m", dataset: "d.jsonl", totalSteps: ${N}, stepsPerEpoch: ${N}, epochs: 1, trainableParams: 1, totalParams: 2, provider: "cpu" }));
    for (let s = 1; s <= ${N}; s++) out.push(ev({ type: "step", step: s, totalSteps: ${N}, epoch: 1, loss: 1 / s, ce: 1 / s, kl: 0, lr: 1e-3, gradNorm: 1, tokensPerSec: 100, etaSeconds: 1 }));
    process.stdout.write(out.join("\\n") + "\\n");`;
    const h = monitorEventLoopDelay({ resolution: 1 });
    let turn = 0;
    let perTurn = 0;
    let maxPerTurn = 0;
    let ticking = true;
    const tick = () => {
      turn++;
      maxPerTurn = Math.max(maxPerTurn, perTurn);
      perTurn = 0;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    h.enable();
    const got: TrainEvent[] = [];
    const tp = new TrainerProcess(
      { command: process.execPath, args: ["-e", script] },
      {
        onEvent: (e) => {
          got.push(e);
          perTurn++;
        },
        onText: () => {},
      },
    );
    const exit = await tp.exited;
    ticking = false;
    h.disable();
    maxPerTurn = Math.max(maxPerTurn, perTurn);
    measure(STREAM_CASE, "eventLoopMaxDelayMs", +(h.max / 1e6).toFixed(1));
    measure(STREAM_CASE, "eventLoopP99DelayMs", +(h.percentile(99) / 1e6).toFixed(1));
    measure(STREAM_CASE, "maxEventsPerLoopTurn", maxPerTurn);
    measure(STREAM_CASE, "loopTurns", turn);
    assert.equal(exit.code, 0);
    assert.equal(got.length, N + 1, "every event arrived, in order");
    assert.ok(got.every((e, i) => i === 0 || (e.type === "step" && e.step === i)));
    // Structural: events are handled per pipe chunk, so the host gets turns while the stream flows;
    // one turn never handles the whole stream.
    assert.ok(turn > 10, `only ${turn} loop turns while ${N} events streamed`);
    assert.ok(maxPerTurn < N / 2, `${maxPerTurn} events handled in one loop turn`);
  },
  60_000,
);
