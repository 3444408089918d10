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
import { IncrementalValidator } from "../../../src/data/index";
import { applyChanges, DocumentSync, type LineChange } from "../../../src/extension/datasets/model";
import { TrainerProcess } from "../../../src/extension/training/trainerProcess";
import type { TrainEvent } from "../../../src/protocol/events";
import { relCase, measure } from "./helpers";

const LINES = 1_000_000;
/** Structural bound: no synchronous slice may handle more lines than this. */
const MAX_LINES_PER_SLICE = 10_000;
/** The editor adapter's slice budget (src/extension/datasets/diagnostics.ts SLICE_MS). */
const SLICE_MS = 15;

function bigDocument(): string {
  const parts: string[] = new Array(LINES);
  for (let i = 0; i < LINES; i++) {
    // Every 1000th line has a problem, so the problem list and the sort are not trivially empty.
    parts[i] = i % 1000 === 7 ? `{"question": "Who is Q${i}?", "answer": ${i}}` : `{"question": "Who is Q${i}?", "answer": "A${i}."}`;
  }
  return parts.join("\n") + "\n";
}

type Priv = { checkLine: (...a: unknown[]) => unknown };

/** Counts checkLine calls (lines validated) while `fn` runs. */
function countingChecks<T>(fn: (count: () => number) => T): T {
  const proto = IncrementalValidator.prototype as unknown as Priv;
  const orig = proto.checkLine;
  let n = 0;
  proto.checkLine = function (this: unknown, ...a: unknown[]) { n++; return orig.apply(this, a); };
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

const CHUNK_CASE = "1M-line document: loading, validating and a one-line edit are cut into bounded slices (virtual clock)";
relCase("responsiveness", CHUNK_CASE, () => {
  const text = bigDocument();
  const v = new IncrementalValidator({ maxProblems: 10_000 });
  countingChecks((checked) => withVirtualClock(() => {
    // Loading: each step adds a bounded number of lines.
    const load = v.resetSteps(text);
    let before = 0;
    let maxLoad = 0;
    let loadSteps = 0;
    while (!load.next().done) {
      maxLoad = Math.max(maxLoad, v.lineCount - before);
      before = v.lineCount;
      loadSteps++;
    }
    maxLoad = Math.max(maxLoad, v.lineCount - before);
    assert.equal(v.lineCount, LINES + 1);
    assert.ok(maxLoad <= MAX_LINES_PER_SLICE, `a load step added ${maxLoad} lines`);
    assert.ok(loadSteps >= LINES / MAX_LINES_PER_SLICE - 1);

    // Validation + aggregation: each step validates a bounded number of lines; the aggregation pass
    // over the per-line table yields at least every 4096 lines.
    const drive = (): { maxChecked: number; aggSteps: number; problems: number } => {
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
    };
    const first = drive();
    assert.equal(checked(), LINES + 1, "every line validated once (the empty line after the final newline too)");
    assert.ok(first.maxChecked <= MAX_LINES_PER_SLICE, `a validation step checked ${first.maxChecked} lines`);
    assert.ok(first.aggSteps >= Math.floor(LINES / 4096) - 1, `aggregation yielded ${first.aggSteps} times for ${LINES} lines`);
    assert.equal(first.problems, 1000, "one problem per 1000 lines");

    // A one-line edit in the middle: only that line is re-validated, the aggregation stays chunked.
    const mid = 500_000;
    assert.ok(applyChanges(v, [{ startLine: mid, startCharacter: 0, endLine: mid, endCharacter: v.lineText(mid).length, text: '{"question": "Who?", "answer": 3}' }], LINES + 1));
    const beforeEdit = checked();
    const second = drive();
    assert.equal(checked() - beforeEdit, 1, "only the edited line was re-validated");
    assert.ok(second.aggSteps >= Math.floor(LINES / 4096) - 1);
    assert.equal(second.problems, 1001);
  }));
}, 120_000);

const TIMING_CASE = "1M-line document driven like the editor adapter (15 ms slices + setImmediate): measured event-loop delay";
relCase("responsiveness", TIMING_CASE, async () => {
  // Noise floor of this machine right now: the same monitor with nothing to do.
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await new Promise((r) => setTimeout(r, 500));
  idle.disable();
  measure(TIMING_CASE, "idleControlMaxDelayMs", +(idle.max / 1e6).toFixed(1));
  // Slices are cut by wall-clock time: on a machine with more runnable processes than cores a 15 ms
  // slice can take several times that, so the load is part of the measurement.
  measure(TIMING_CASE, "loadAverage1m", +loadavg()[0].toFixed(1));
  measure(TIMING_CASE, "cpus", cpus().length);

  const text = bigDocument();
  const h = monitorEventLoopDelay({ resolution: 1 });
  let longest = 0;
  let longestWhat = "";
  const perPhase: Record<string, number> = {};
  const timed = <T>(what: string, f: () => T): T => {
    const t0 = performance.now();
    const r = f();
    const dt = performance.now() - t0;
    if (dt > longest) { longest = dt; longestWhat = what; }
    perPhase[what] = Math.max(perPhase[what] ?? 0, dt);
    return r;
  };
  h.enable();
  const v = new IncrementalValidator({ maxProblems: 10_000 });
  // The same loop as DatasetDiagnostics.run: steps until SLICE_MS has passed, then give the loop back.
  const slices = async (g: Generator<void, unknown>, what: string) => {
    for (;;) {
      const t0 = performance.now();
      let done = false;
      while (performance.now() - t0 < SLICE_MS) {
        if (timed(what, () => g.next()).done) { done = true; break; }
      }
      await new Promise((r) => setImmediate(r));
      if (done) return;
    }
  };
  // The editor's path (DatasetDiagnostics): DocumentSync reads the document a range of lines at a
  // time (no whole-document string), applies small changes at once and queues big ones as steps.
  let docLines = text.split("\n");
  const source = { get lineCount() { return docLines.length; }, lines: (a: number, b: number) => docLines.slice(a, b) };
  const sync = new DocumentSync(v, source);
  await slices(sync.steps(), "load step (DocumentSync)");
  await slices(v.problemSteps(), "validate/aggregate step");
  // The heap with 1M lines held (garbage not yet collected included): its size sets the length of
  // every major GC pause in the host.
  measure(TIMING_CASE, "heapUsedMBWith1MLinesInclGarbage", Math.round(process.memoryUsage().heapUsed / 2 ** 20));
  const mid = 500_000;
  const oneLine: LineChange = { startLine: mid, startCharacter: 0, endLine: mid, endCharacter: docLines[mid].length, text: '{"question": "Who?", "answer": 3}' };
  docLines[mid] = oneLine.text;
  timed("one-line edit (DocumentSync.change, applied at once)", () => sync.change([oneLine], docLines.length));
  await slices(sync.steps(), "apply step after a one-line edit");
  await slices(v.problemSteps(), "re-validate step after an edit");
  const pasted = Array.from({ length: 200_000 }, (_, i) => `{"question": "P${i}?", "answer": "p."}`);
  docLines = [...docLines.slice(0, 10), ...pasted, ...docLines.slice(10)];
  timed("pasting 200k lines (DocumentSync.change, queued)", () => sync.change([{ startLine: 10, startCharacter: 0, endLine: 10, endCharacter: 0, text: pasted.join("\n") + "\n" }], docLines.length));
  await slices(sync.steps(), "apply step of a 200k-line paste");
  await slices(v.problemSteps(), "validate step after a 200k-line paste");
  h.disable();
  measure(TIMING_CASE, "eventLoopMaxDelayMs", +(h.max / 1e6).toFixed(1));
  measure(TIMING_CASE, "eventLoopP99DelayMs", +(h.percentile(99) / 1e6).toFixed(1));
  measure(TIMING_CASE, "longestSyncSliceMs", +longest.toFixed(1));
  measure(TIMING_CASE, "longestSyncSliceWas", longestWhat);
  for (const [what, ms] of Object.entries(perPhase)) measure(TIMING_CASE, `longest single step: ${what} (ms)`, +ms.toFixed(1));
  // Correctness of what was measured (the timing itself is recorded, not asserted).
  assert.equal(v.lineCount, LINES + 1 + 200_000);
  assert.equal(v.problems().length, 1001);
}, 120_000);

const STREAM_CASE = "training progress stream (20k events from a child) parsed by the editor's TrainerProcess: bounded per turn, measured delay";
relCase("responsiveness", STREAM_CASE, async () => {
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
  const tick = () => { turn++; maxPerTurn = Math.max(maxPerTurn, perTurn); perTurn = 0; if (ticking) setImmediate(tick); };
  setImmediate(tick);
  h.enable();
  const got: TrainEvent[] = [];
  const tp = new TrainerProcess({ command: process.execPath, args: ["-e", script] }, { onEvent: (e) => { got.push(e); perTurn++; }, onText: () => {} });
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
}, 60_000);
