// `seat demo`'s scheduler: the job pool runs the longest jobs first, never more than asked at once, and
// a failure stops the rest; and the demo's report does not depend on how many runs go at once (each run
// on its own worker thread vs one after another on this thread, the same CPU threads per run).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMBEDDED_MODEL_DIR, EXAMPLES_DIR } from "../../../src/world/index";
import { formatDemoTimings, runDemoSets, runJobPool, type DemoReport } from "../../../src/world/demo";

/** A promise with its resolve/reject outside. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
}

test("the job pool starts the costliest jobs first, runs at most `concurrency` at once, returns results in job order", async () => {
  const jobs = [1, 5, 3, 5, 2].map((cost, id) => ({ cost, id }));
  const gates = jobs.map(() => deferred<void>());
  const startedOrder: number[] = [];
  let running = 0;
  let most = 0;
  const pool = runJobPool(jobs, 2, async (job) => {
    startedOrder.push(job.id);
    running++;
    most = Math.max(most, running);
    await gates[job.id].promise;
    running--;
    return `r${job.id}`;
  });
  // Release the jobs one at a time in the order they started, so each release lets exactly one more start.
  for (let k = 0; k < jobs.length; k++) {
    await new Promise((r) => setImmediate(r));
    gates[startedOrder[k]].resolve();
  }
  assert.deepEqual(await pool, ["r0", "r1", "r2", "r3", "r4"]);
  assert.deepEqual(startedOrder, [1, 3, 2, 4, 0], "cost 5, 5 (job order breaks the tie), 3, 2, 1");
  assert.equal(most, 2);
});

test("a job starts only after the jobs it waits for, which go first when a long job waits for them", async () => {
  const jobs = [{ cost: 1 }, { cost: 1 }, { cost: 10, after: [0] }, { cost: 2 }, { cost: 3, after: [1, 3] }];
  const order: number[] = [];
  const out = await runJobPool(jobs, 1, async (_job, i) => {
    order.push(i);
    return i;
  });
  assert.deepEqual(out, [0, 1, 2, 3, 4]);
  // job 0 leads the chain 0 -> 2 (11); then 2 (10); then 3 -> 4 (5) before 1 -> 4 (4); 4 once 1 and 3 are done.
  assert.deepEqual(order, [0, 2, 3, 1, 4]);
  await assert.rejects(
    runJobPool([{ cost: 1, after: [1] }, { cost: 1 }], 2, async () => 0),
    /job 0 waits for job 1, not an earlier one/,
  );
});

test("a failing job cancels the running ones, starts no more, and its error is thrown", async () => {
  const jobs = [3, 2, 1].map((cost, id) => ({ cost, id }));
  const seen: { id: number; aborted: boolean }[] = [];
  const pool = runJobPool(jobs, 2, async (job, _i, signal) => {
    if (job.id === 1) {
      await new Promise((r) => setImmediate(r));
      throw new Error("job 1 failed");
    }
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    seen.push({ id: job.id, aborted: signal.aborted });
    return job.id;
  });
  await assert.rejects(pool, /job 1 failed/);
  assert.deepEqual(seen, [{ id: 0, aborted: true }], "job 0 was cancelled; job 2 never started");
});

test("aborting the caller's signal stops the pool with the abort reason", async () => {
  const ctl = new AbortController();
  const jobs = [{ cost: 1 }, { cost: 1 }, { cost: 1 }];
  let starts = 0;
  const pool = runJobPool(
    jobs,
    1,
    async (_job, _i, signal) => {
      starts++;
      ctl.abort(new Error("user pressed Ctrl-C"));
      assert.equal(signal.aborted, true);
    },
    ctl.signal,
  );
  await assert.rejects(pool, /user pressed Ctrl-C/);
  assert.equal(starts, 1);
});

/** The first `n` non-empty lines of `file`, written to `dir/name`. */
function head(file: string, n: number, dir: string, name: string): string {
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(0, n);
  const out = join(dir, name);
  writeFileSync(out, lines.join("\n") + "\n");
  return out;
}

/** A report's rows without the wall-clock training seconds (the only thing that may differ). */
function rows(r: DemoReport): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r.methods).map(([m, { trainSeconds: _t, ...row }]) => [m, row]));
}

test(
  "the demo reports the same rows with its runs on worker threads, two at once, as one after another",
  { timeout: 600_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "seat-demo-"));
    try {
      const data = head(join(EXAMPLES_DIR, "new-people", "train.jsonl"), 6, dir, "train.jsonl");
      const unknown = head(join(EXAMPLES_DIR, "new-people", "unknown.jsonl"), 6, dir, "unknown.jsonl");
      const run = (jobs: number, out: string) =>
        runDemoSets({
          model: EMBEDDED_MODEL_DIR,
          methods: ["full", "seat"],
          sets: [
            { name: "a", data, unknown, outDir: join(dir, out, "a") },
            { name: "b", data, unknown, outDir: join(dir, out, "b"), probeEvery: 2 },
          ],
          common: { train: { epochs: 2, batchSize: 4 }, kl: { maxResponseTokens: 4 } },
          threads: 1,
          jobs,
          log: () => {},
        });
      const one = await run(1, "sequential");
      const two = await run(2, "parallel");
      assert.equal(two.length, 2);
      for (const [i, r] of two.entries()) {
        assert.deepEqual(Object.keys(r.methods), ["base", "full", "seat"]);
        assert.deepEqual(rows(r), rows(one[i]), `set ${i}: same rows`);
        assert.deepEqual(r.schedule, { jobs: 2, threads: 1 });
        assert.deepEqual(one[i].schedule, { jobs: 1, threads: 1 });
        // Each run's phases were timed: a trained run has training and probing parts, the base only
        // probing; with two at once, two teacher jobs generated the KL run's replies (seat's own run
        // asked the teacher nothing), one after another the run generated them itself.
        const t = r.timings!;
        assert.deepEqual(Object.keys(t).sort(), ["base", "full", "seat", "teacher 1/2", "teacher 2/2"]);
        assert.deepEqual(Object.keys(one[i].timings!).sort(), ["base", "full", "seat"]);
        for (const m of ["full", "seat"])
          for (const k of ["compile", "train", "generate", "pAbstain"]) assert.ok(k in t[m], `${m} ${k}`);
        assert.ok("teacher" in t["teacher 1/2"] && "teacher" in t["teacher 2/2"] && !("teacher" in t.seat));
        assert.ok("teacher" in one[i].timings!.seat && !("teacher" in one[i].timings!.full));
        assert.ok(!("train" in t.base) && "generate" in t.base);
        assert.match(formatDemoTimings(r), /^model .*P\(abstain\).* run\n[- ]+\nbase .*\n(.*\n)*sum /);
      }
      // The shared replies are the ones seat's run generated itself, reply for reply.
      const cache = (out: string, set: string) =>
        JSON.parse(readFileSync(join(dir, out, set, "runs", "seat", "cache", "teacher.json"), "utf8")) as object;
      for (const set of ["a", "b"]) assert.deepEqual(cache("parallel", set), cache("sequential", set));
      assert.equal(two[0].probedRecords, 6);
      assert.equal(two[1].probedRecords, 3, "every second record probed in the second set");
      assert.notDeepEqual(rows(two[0]).full, rows(two[0]).base, "a trained row, not a copy of the base");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
