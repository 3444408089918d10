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
          common: { train: { epochs: 1, batchSize: 4 }, kl: { maxResponseTokens: 4 } },
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
        // Each run's phases were timed: a trained run has training and probing parts, the base only probing.
        const t = r.timings!;
        assert.deepEqual(Object.keys(t).sort(), ["base", "full", "seat"]);
        for (const m of ["full", "seat"])
          for (const k of ["compile", "train", "generate", "pAbstain"]) assert.ok(k in t[m], `${m} ${k}`);
        assert.ok("teacher" in t.seat && !("teacher" in t.full), "only the KL run asks the teacher");
        assert.ok(!("train" in t.base) && "generate" in t.base);
        assert.match(formatDemoTimings(r), /^model .*P\(abstain\).* run\n[- ]+\nbase .*\nfull .*\nseat .*\nsum /);
      }
      assert.equal(two[0].probedRecords, 6);
      assert.equal(two[1].probedRecords, 3, "every second record probed in the second set");
      assert.notDeepEqual(rows(two[0]).full, rows(two[0]).base, "a trained row, not a copy of the base");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
