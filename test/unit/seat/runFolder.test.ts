// Run-folder guards: the run lock (one trainer per run folder, stale locks of dead processes taken
// over), damaged checkpoints and configs reported as typed errors naming the file, and `resume`
// skipping a damaged newest checkpoint with a warning that names it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir, hostname } from "node:os";
import { join } from "node:path";
import {
  acquireRunLock,
  RunFolderError,
  RUN_FILES,
  CheckpointError,
  resolveConfig,
  train,
  resume,
} from "../../../src/seat/index";
import { readRunConfig } from "../../../src/seat/runFolder";
import { writeCheckpoint, readCheckpoint, checkpointName, type CheckpointState } from "../../../src/seat/checkpoint";
import type { TrainEvent } from "../../../src/protocol/events";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "seat-runfolder-"));
}

test("the run lock: a second holder is refused naming the holder; release frees it; a dead owner's lock is taken over", () => {
  const dir = tmp();
  try {
    const lock = join(dir, RUN_FILES.lock);
    const release = acquireRunLock(dir);
    assert.equal(JSON.parse(readFileSync(lock, "utf8")).pid, process.pid);
    assert.throws(
      () => acquireRunLock(dir),
      (e: unknown) =>
        e instanceof RunFolderError &&
        e.file === lock &&
        new RegExp(`in use by another training process \\(pid ${process.pid}`).test(e.message),
    );
    release();
    assert.ok(!existsSync(lock), "released");
    acquireRunLock(dir)();

    // A process that has exited: its pid is free (the lock a kill -9 leaves behind).
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const deadPid = Number(dead.stdout);
    assert.ok(Number.isInteger(deadPid) && deadPid > 0);
    writeFileSync(lock, JSON.stringify({ pid: deadPid, host: hostname(), started: "2026-01-01T00:00:00.000Z" }));
    const again = acquireRunLock(dir);
    assert.equal(JSON.parse(readFileSync(lock, "utf8")).pid, process.pid, "stale lock taken over");
    again();

    // A lock file with no readable owner yet is one being written: refused while fresh.
    writeFileSync(lock, "");
    assert.throws(
      () => acquireRunLock(dir),
      (e: unknown) => e instanceof RunFolderError && /being opened by another training process/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a damaged run config.json is a RunFolderError naming the file", async () => {
  const dir = tmp();
  try {
    assert.throws(
      () => readRunConfig(dir),
      (e: unknown) => e instanceof RunFolderError && /not a run folder \(no config\.json\)/.test(e.message),
    );
    const cfg = join(dir, "config.json");
    for (const text of ['{"model": ', "[1, 2]"]) {
      writeFileSync(cfg, text);
      assert.throws(
        () => readRunConfig(dir),
        (e: unknown) => e instanceof RunFolderError && e.file === cfg && e.message.startsWith(cfg),
      );
      await assert.rejects(resume(dir), (e: unknown) => e instanceof RunFolderError && e.file === cfg);
    }
    // Valid JSON, but not a config the trainer can run (a required setting is gone).
    writeFileSync(cfg, JSON.stringify({ model: "m", method: "seat" }));
    await assert.rejects(
      resume(dir),
      (e: unknown) =>
        e instanceof RunFolderError && e.file === cfg && /not a valid run config[\s\S]*dataset/.test(e.message),
    );
    assert.ok(!existsSync(join(dir, RUN_FILES.lock)), "refused before taking the lock");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("damaged checkpoints are CheckpointErrors naming the file: truncated tensors, bad offsets, garbage or wrong state.json", () => {
  const dir = tmp();
  try {
    const st: CheckpointState = {
      version: 1,
      step: 3,
      epoch: 1,
      batchInEpoch: 0,
      dataOrder: [1, 0],
      rng: {},
      trainSeconds: 1,
      tokens: 5,
      extra: {},
    };
    const tensors = new Map([["state/w", { shape: [4, 8], data: new Float32Array(32).fill(1.25) }]]);
    const ck = writeCheckpoint(dir, st, tensors, 5);
    assert.equal(readCheckpoint(ck).state.step, 3);
    const tf = join(ck, "tensors.safetensors");
    const sf = join(ck, "state.json");
    const intact = readFileSync(tf);
    const expectBad = (file: string, re: RegExp) =>
      assert.throws(
        () => readCheckpoint(ck),
        (e: unknown) =>
          e instanceof CheckpointError && e.file === file && e.message.startsWith(file) && re.test(e.message),
      );

    truncateSync(tf, statSync(tf).size - 4);
    expectBad(tf, /runs past the end of the file/);
    truncateSync(tf, 5);
    expectBad(tf, /truncated/);
    // A header whose offsets do not match the shape it declares.
    const h = JSON.parse(intact.subarray(8, 8 + Number(intact.readBigUInt64LE(0))).toString()) as Record<
      string,
      { data_offsets: number[] }
    >;
    h["state/w"].data_offsets = [0, 64];
    const hj = Buffer.from(JSON.stringify(h));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hj.length));
    writeFileSync(tf, Buffer.concat([len, hj, Buffer.alloc(128)]));
    expectBad(tf, /do not hold shape \[4,8\]/);
    writeFileSync(tf, intact);

    writeFileSync(sf, '{"version": 1, "step": ');
    expectBad(sf, /not valid JSON/);
    writeFileSync(sf, JSON.stringify({ ...st, step: 4 }));
    expectBad(sf, /"step" is 4 but the directory is step-0000003/);
    writeFileSync(sf, JSON.stringify({ ...st, dataOrder: "x" }));
    expectBad(sf, /"dataOrder"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("resume skips a damaged newest checkpoint with a warning naming the file, and refuses when none is intact", async () => {
  const dir = tmp();
  try {
    const out = join(dir, "run");
    const config = resolveConfig([
      {
        source: "test",
        layer: {
          model: "test/fixtures/models/tiny-llama",
          dataset: "test/fixtures/seat/facts.jsonl",
          outDir: out,
          method: "sparse",
          train: { epochs: 1, batchSize: 2 },
          checkpoint: { everySteps: 1, keep: 10 },
          eval: { samples: 0 },
          device: { provider: "cpu", threads: 1 },
        },
      },
    ]).config;
    const ac = new AbortController();
    const first = await train(config, {
      signal: ac.signal,
      onEvent: (e) => {
        if (e.type === "step" && e.step === 2) ac.abort();
      },
    });
    assert.equal(first.status, "cancelled");
    assert.equal(first.step, 2);
    assert.ok(!existsSync(join(out, RUN_FILES.lock)), "the lock is released when the run stops");
    const bad = join(out, "checkpoints", checkpointName(2), "tensors.safetensors");
    truncateSync(bad, statSync(bad).size - 100);
    const events: TrainEvent[] = [];
    const r = await resume(out, { onEvent: (e) => events.push(e) });
    assert.equal(r.status, "done");
    const warn = events.find((e) => e.type === "log" && e.level === "warn");
    assert.ok(
      warn?.type === "log" && warn.message.includes(bad) && /damaged and skipped/.test(warn.message),
      JSON.stringify(warn),
    );
    const start = events.find((e) => e.type === "run-start");
    assert.ok(start?.type === "run-start" && start.resumedFromStep === 1, JSON.stringify(start));
    assert.equal(
      readCheckpoint(join(out, "checkpoints", checkpointName(2))).state.step,
      2,
      "the run rewrote step 2 when it got there again",
    );

    // Every checkpoint damaged: refused, naming the newest damaged file; nothing is deleted.
    for (const s of [1, 2, 3]) writeFileSync(join(out, "checkpoints", checkpointName(s), "state.json"), "garbage");
    await assert.rejects(
      resume(out),
      (e: unknown) =>
        e instanceof CheckpointError &&
        e.file === join(out, "checkpoints", checkpointName(3), "state.json") &&
        /no intact checkpoint/.test(e.message),
    );
    for (const s of [1, 2, 3]) assert.ok(existsSync(join(out, "checkpoints", checkpointName(s))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("resume config: a run made before kl.names / earlyStop.patience existed goes on as it started", async () => {
  const { resumeConfig } = await import("../../../src/seat/trainer");
  const dir = tmp();
  try {
    const { config } = resolveConfig([{ source: "test", layer: { model: "m", dataset: "d.jsonl" } }]);
    assert.equal(config.kl.names, "dataset", "the default for new runs");
    const old = JSON.parse(JSON.stringify(config)) as {
      kl: Record<string, unknown>;
      earlyStop: Record<string, unknown>;
    };
    delete old.kl["names"];
    delete old.earlyStop["patience"];
    writeFileSync(join(dir, RUN_FILES.config), JSON.stringify(old));
    assert.equal(resumeConfig(dir).kl.names, "generic");
    assert.equal(
      resumeConfig(dir).earlyStop.patience,
      1,
      "runs before earlyStop.patience stopped at the first low eval",
    );
    assert.equal(config.earlyStop.patience, 3);
    writeFileSync(join(dir, RUN_FILES.config), JSON.stringify(config));
    assert.equal(resumeConfig(dir).kl.names, "dataset", "a run that recorded the setting keeps its value");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
