// An exported job on PyTorch (Debian's torch, CPU, gloo) against our own engine on the embedded model:
// 5 steps of seat and of full have the local trainer's losses within 1e-4 relative on the same
// batches (same teacher replies too); masked-out weights come back bit-identical to the base; two
// processes (torchrun --nproc_per_node 2, DDP; full also with ZeRO-sharded AdamW) give the
// one-process result within float32 tolerance; the run folder imports and probes like a local run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../src/cli/main";
import { resolveConfig, train } from "../../../src/seat/index";
import { parseEventLog, type StepEvent, type TrainEvent } from "../../../src/protocol/events";
import { readSafetensorsHeader, readTensorBytes } from "../../../src/model/index";
import { readSafetensorsFile } from "../../../src/seat/checkpoint";
import { python, runLocal, torchVersion } from "./python";
import { listRunFolders } from "../../../src/extension/runs/runFolders";

const MODEL = "models/seat-tiny-world";
const DATA = "examples/new-people/train.jsonl";
// Short teacher replies and a 2-row batch keep the four job runs within the unit-test budget.
const SETS = [
  "train.maxSteps=5",
  "train.batchSize=2",
  "kl.maxResponseTokens=8",
  "eval.samples=2",
  "checkpoint.everySteps=0",
];

function cli(args: string[], cwd = process.cwd()): Promise<{ code: number; out: string; err: string }> {
  let out = "",
    err = "";
  return main(args, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    isTty: false,
    cwd,
    signal: new AbortController().signal,
  }).then((code) => ({ code, out, err }));
}

function events(runDir: string): TrainEvent[] {
  const log = parseEventLog(readFileSync(join(runDir, "events.jsonl"), "utf8"));
  assert.deepEqual(log.errors, [], `${runDir}/events.jsonl parses as typed events`);
  return log.events;
}
const steps = (ev: TrainEvent[]) => ev.filter((e): e is StepEvent => e.type === "step");

function close(a: number, b: number, rel: number, what: string): void {
  const d = Math.abs(a - b) / Math.max(Math.abs(b), 1e-6);
  assert.ok(d <= rel, `${what}: ${a} vs ${b} (relative ${d.toExponential(2)} > ${rel})`);
}

function sameSteps(got: StepEvent[], want: StepEvent[], rel: number, what: string, klAbs = 1e-7): void {
  assert.equal(got.length, want.length, `${what}: step count`);
  got.forEach((s, i) => {
    close(s.loss, want[i].loss, rel, `${what} step ${i + 1} loss`);
    close(s.ce, want[i].ce, rel, `${what} step ${i + 1} ce`);
    // At step 1 tuned == base: both KLs are 0 up to rounding (the engine's can be -4e-9).
    if (Math.abs(want[i].kl) > klAbs) close(s.kl, want[i].kl, 10 * rel, `${what} step ${i + 1} kl`);
    else assert.ok(Math.abs(s.kl) <= klAbs, `${what} step ${i + 1} kl ${s.kl}`);
    close(s.gradNorm, want[i].gradNorm, 10 * rel, `${what} step ${i + 1} grad norm`);
    assert.equal(s.lr, want[i].lr);
  });
}

async function exportAndLocal(dir: string, method: string): Promise<{ job: string; local: TrainEvent[] }> {
  const job = join(dir, `job-${method}`);
  const r = await cli([
    "export-job",
    DATA,
    "--model",
    MODEL,
    "--method",
    method,
    ...SETS.flatMap((s) => ["--set", s]),
    "--device",
    "cpu",
    "--threads",
    "1",
    "--target",
    "torchrun",
    "--out",
    job,
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /memory per GPU \(estimate\)/);
  const layer: Record<string, unknown> = {
    model: MODEL,
    dataset: DATA,
    method,
    outDir: join(dir, `local-${method}`),
    device: { provider: "cpu", threads: 1 },
  };
  for (const s of SETS) {
    const [k, v] = s.split("=");
    const [a, b] = k.split(".");
    layer[a] = { ...(layer[a] as object), [b]: Number(v) };
  }
  const local: TrainEvent[] = [];
  await train(resolveConfig([{ source: "test", layer }]).config, { onEvent: (e) => local.push(e) });
  return { job, local };
}

test("seat: the torchrun job matches the local trainer, keeps masked-out weights, and agrees on 2 processes", async () => {
  torchVersion();
  const dir = mkdtempSync(join(tmpdir(), "seat-job-"));
  try {
    const { job, local } = await exportAndLocal(dir, "seat");
    runLocal(job, 1);
    const one = events(join(job, "run"));
    sameSteps(steps(one), steps(local), 1e-4, "seat 1 process vs engine");
    // The same teacher targets: the base model's greedy replies agree token for token.
    assert.deepEqual(
      JSON.parse(readFileSync(join(job, "run", "cache", "teacher.json"), "utf8")),
      JSON.parse(readFileSync(join(dir, "local-seat", "cache", "teacher.json"), "utf8")),
    );
    const qe = (ev: TrainEvent[]) => ev.find((e) => e.type === "quick-eval");
    const [a, b] = [qe(one), qe(local)];
    assert.ok(a?.type === "quick-eval" && b?.type === "quick-eval");
    close(a.abstentionProb, b.abstentionProb, 1e-4, "quick-eval abstention probability");
    assert.equal(a.accuracySamples, b.accuracySamples);

    // Masked-out weights: every byte of the exported model outside the mask is the base's.
    const mask = readSafetensorsFile(join(job, "masks.safetensors"));
    const base = readSafetensorsHeader(join(MODEL, "model.safetensors"));
    const tuned = readSafetensorsHeader(join(job, "run", "model", "model.safetensors"));
    let changed = 0;
    for (const [name, e] of base.tensors) {
      const x = Buffer.from(readTensorBytes(e)),
        y = Buffer.from(readTensorBytes(tuned.tensors.get(name)!));
      const idx = mask.get(name)?.data as Int32Array | undefined;
      const allowed = new Set(idx ?? []);
      const width = e.dtype === "F32" ? 4 : 2;
      for (let i = 0; i < x.length; i += width) {
        const same = x.subarray(i, i + width).equals(y.subarray(i, i + width));
        if (!same) {
          assert.ok(allowed.has(i / width), `${name}[${i / width}] changed outside the mask`);
          changed++;
        }
      }
    }
    assert.ok(changed > 0, "the masked entries did train");

    runLocal(job, 2, ["--out", join(job, "run2")]);
    sameSteps(steps(events(join(job, "run2"))), steps(one), 1e-5, "seat 2 processes vs 1");

    // The run folder comes back like a local run: import-run, then seat probe on the imported copy.
    const imp = await cli(["import-run", join(job, "run"), "--runs", join(dir, "runs")]);
    assert.equal(imp.code, 0, imp.err);
    const imported = imp.out.trim();
    // The Runs view (and through it the probes panel) lists it as a finished seat run with its model.
    const listed = listRunFolders(join(dir, "runs"));
    assert.equal(listed.length, 1);
    assert.equal(listed[0].state, "finished");
    assert.equal(listed[0].method, "seat");
    assert.equal(listed[0].modelDir, join(imported, "model"));
    assert.deepEqual(listed[0].problems, []);
    // ...tied to the dataset it was exported from (the panel finds a dataset's runs this way).
    assert.equal(listed[0].dataset, join(process.cwd(), DATA));
    assert.equal(JSON.parse(readFileSync(join(imported, "config.json"), "utf8")).dataset, join(process.cwd(), DATA));
    const probe = await cli([
      "probe",
      "--model",
      imported,
      "--data",
      DATA,
      "--json",
      "--no-cache",
      "--no-prob",
      "--neighbours",
      "1",
      "--hidden-queries",
      "0",
      "--max-new-tokens",
      "8",
    ]);
    assert.equal(probe.code, 0, probe.err);
    assert.ok(JSON.parse(probe.out), "probe report parses");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("full: the torchrun job matches the local trainer; 2 processes with ZeRO-sharded AdamW agree", async () => {
  torchVersion();
  const dir = mkdtempSync(join(tmpdir(), "seat-job-"));
  try {
    const { job, local } = await exportAndLocal(dir, "full");
    // One process without the launcher (seat's test covers run_local.sh 1).
    const solo = python(["-m", "seat_job"], { cwd: job });
    assert.equal(solo.status, 0, (solo.stdout + solo.stderr).slice(-3000));
    const one = steps(events(join(job, "run")));
    sameSteps(one, steps(local), 1e-4, "full 1 process vs engine");
    runLocal(job, 2, ["--zero", "--out", join(job, "run2")]);
    const two = events(join(job, "run2"));
    assert.match((two.find((e) => e.type === "run-start") as { provider: string }).provider, /ddp\+zero-cpu x2/);
    sameSteps(steps(two), one, 1e-5, "full 2 processes (ZeRO) vs 1");
    // The exported model differs from the base (every tensor trains) and has its layout.
    const t = readSafetensorsHeader(join(job, "run", "model", "model.safetensors"));
    const b = readSafetensorsHeader(join(MODEL, "model.safetensors"));
    assert.deepEqual([...t.tensors.keys()].sort(), [...b.tensors.keys()].sort());
    // The checkpoint is in our format: trainable values and AdamW moments per tensor.
    const ck = readSafetensorsFile(join(job, "run", "checkpoints", "step-0000005", "tensors.safetensors"));
    assert.ok(
      ck.has("state/model.embed_tokens.weight") &&
        ck.has("state/model.embed_tokens.weight.m") &&
        ck.has("state/model.embed_tokens.weight.v"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
