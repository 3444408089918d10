// The job folder and its edges without running torch: export-job's refusals and what it writes, the
// memory estimate, the editor's export invocation, import-run's checks, and the FSDP version gate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../../src/cli/main";
import { estimateMemory, checkRunFolder, RunImportError } from "../../../src/job/index";
import { resolveConfig } from "../../../src/seat/index";
import { loadModelFolder } from "../../../src/model/index";
import { buildExportJobInvocation } from "../../../src/extension/training/trainArgs";
import { python, runLocal } from "./python";

const MODEL = "models/seat-tiny-world";
const DATA = "examples/new-people/train.jsonl";

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
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
    cwd: process.cwd(),
    signal: new AbortController().signal,
  }).then((code) => ({ code, out, err }));
}

test("export-job refuses what a job cannot run, with one line each", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-jobf-"));
  try {
    const noTarget = await cli(["export-job", DATA, "--model", MODEL, "--out", join(dir, "a")]);
    assert.equal(noTarget.code, 2);
    assert.match(noTarget.err, /--target is required \(torchrun\)/);
    const perStep = await cli([
      "export-job",
      DATA,
      "--model",
      MODEL,
      "--mask",
      "random-per-step",
      "--target",
      "torchrun",
      "--out",
      join(dir, "b"),
    ]);
    assert.equal(perStep.code, 2);
    assert.match(perStep.err, /random-per-step" is not supported by torchrun jobs/);
    writeFileSync(join(dir, "c"), "x");
    const notEmpty = await cli(["export-job", DATA, "--model", MODEL, "--target", "torchrun", "--out", dir]);
    assert.equal(notEmpty.code, 2);
    assert.match(notEmpty.err, /exists and is not empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a lora job folder holds its config, plan, LoRA init, model, dataset, package and launchers", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-jobf-"));
  try {
    const job = join(dir, "job");
    const r = await cli([
      "export-job",
      DATA,
      "--model",
      MODEL,
      "--method",
      "lora",
      "--target",
      "torchrun",
      "--out",
      job,
    ]);
    assert.equal(r.code, 0, r.err);
    for (const f of [
      "config.json",
      "plan.json",
      "lora_init.safetensors",
      "model/model.safetensors",
      "model/tokenizer.json",
      "data/train.jsonl",
      "seat_job/train.py",
      "run_local.sh",
      "run_multinode.sh",
      "slurm.sbatch",
      "README.md",
    ]) {
      assert.ok(existsSync(join(job, f)), f);
    }
    // The job's config is the local run's config (same resolution), with job-relative paths.
    const cfg = JSON.parse(readFileSync(join(job, "config.json"), "utf8"));
    const local = resolveConfig([{ source: "t", layer: { method: "lora", model: MODEL, dataset: DATA } }]).config;
    assert.deepEqual({ ...cfg, model: 0, dataset: 0, outDir: 0 }, { ...local, model: 0, dataset: 0, outDir: 0 });
    const plan = JSON.parse(readFileSync(join(job, "plan.json"), "utf8"));
    assert.equal(plan.examples.length, 60);
    assert.equal(plan.parts.params, "lora");
    assert.match(
      readFileSync(join(job, "run_local.sh"), "utf8"),
      /--standalone --nproc_per_node "\$N" --redirects 2 --tee 2 -m seat_job/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("memory estimate: FSDP divides weights and trainable state by the GPU count, activations stay", () => {
  const c = loadModelFolder(MODEL).config;
  const config = resolveConfig([{ source: "t", layer: { method: "full", model: MODEL, dataset: DATA } }]).config;
  const shape = { T: 64, Tk: 0, K: 0 };
  const one = estimateMemory(c, config, 8e9, 8e9, shape, 1, "ddp");
  const eight = estimateMemory(c, config, 8e9, 8e9, shape, 8, "fsdp");
  // full: float32 weights 4 B + gradient and moments 12 B per trainable scalar.
  assert.equal(one.weightsGiB, Math.round((32e9 / 1024 ** 3) * 10) / 10);
  assert.equal(one.trainableStateGiB, Math.round((96e9 / 1024 ** 3) * 10) / 10);
  assert.equal(eight.weightsGiB, Math.round((4e9 / 1024 ** 3) * 10) / 10);
  assert.equal(eight.activationsGiB, one.activationsGiB);
});

test("the editor's Run Elsewhere… passes the same layers to export-job as Train would to train", () => {
  const def = { dataset: "/w/d.jsonl", model: "/m", method: "seat", settings: { "train.epochs": 3 } };
  const inv = buildExportJobInvocation(def, { "training.lr": 0.02 }, "/jobs/x");
  assert.deepEqual(inv.args, [
    "export-job",
    "--data",
    "/w/d.jsonl",
    "--model",
    "/m",
    "--method",
    "seat",
    "--set",
    "optim.lr=0.02",
    "--set",
    "train.epochs=3",
    "--target",
    "torchrun",
    "--out",
    "/jobs/x",
  ]);
  assert.throws(() => buildExportJobInvocation({ resume: "/r" }, {}, "/j"), /cannot be exported/);
});

test("import-run refuses folders that are not finished runs of ours, naming the file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-jobf-"));
  try {
    assert.throws(
      () => checkRunFolder(dir),
      (e: Error) => e instanceof RunImportError && /not a run folder \(no config.json\)/.test(e.message),
    );
    const cfg = resolveConfig([{ source: "t", layer: { model: MODEL, dataset: DATA } }]).config;
    writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
    writeFileSync(
      join(dir, "events.jsonl"),
      `{"v":1,"time":"2026-12-02T00:00:00.000Z","type":"run-start","runDir":"r","method":"seat","model":"m","dataset":"d","totalSteps":1,"stepsPerEpoch":1,"epochs":1,"trainableParams":1,"totalParams":2,"provider":"p"}\nnot json\n`,
    );
    assert.throws(() => checkRunFolder(dir), /events\.jsonl:2: not JSON/);
    writeFileSync(join(dir, "events.jsonl"), readFileSync(join(dir, "events.jsonl"), "utf8").split("\n")[0] + "\n");
    assert.throws(() => checkRunFolder(dir), /the run did not finish/);
    const r = await cli(["import-run", dir, "--runs", join(dir, "runs")]);
    assert.equal(r.code, 2);
    assert.match(r.err, /^seat import-run: .*did not finish/);
    assert.ok(!existsSync(join(dir, "runs")), "nothing is copied when the check fails");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--strategy fsdp: refused in one line where this torch cannot run FSDP, else 2 FSDP processes match 1 DDP process", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-jobf-"));
  try {
    const job = join(dir, "job");
    const r = await cli([
      "export-job",
      DATA,
      "--model",
      MODEL,
      "--method",
      "seat",
      "--set",
      "train.maxSteps=2",
      "--set",
      "train.batchSize=2",
      "--set",
      "kl.maxResponseTokens=4",
      "--set",
      "eval.samples=0",
      "--target",
      "torchrun",
      "--out",
      job,
    ]);
    assert.equal(r.code, 0, r.err);
    // The gate (torch >= 2.1 and a clean import of torch.distributed.fsdp) agrees with this torch.
    const gate = python([
      "-c",
      `
import importlib, sys; sys.path.insert(0, "resources/job")
from seat_job.dist import fsdp_supported, torch_version, FSDP_MIN
try:
    importlib.import_module("torch.distributed.fsdp"); imports = True
except Exception:
    imports = False
print(fsdp_supported()[0], imports and torch_version() >= FSDP_MIN)`,
    ]);
    assert.equal(gate.status, 0, gate.stderr);
    const [verdict, expected] = gate.stdout.trim().split(" ");
    assert.equal(verdict, expected, "the FSDP gate's verdict");
    if (verdict === "False") {
      // Debian 12's torch 1.13: torch.distributed.fsdp does not import under Python 3.11.
      const run = python(["-m", "seat_job", "--strategy", "fsdp"], { cwd: job });
      assert.notEqual(run.status, 0);
      assert.match(run.stderr, /seat_job: --strategy fsdp needs torch >= 2\.1 \(/);
      assert.ok(
        !existsSync(join(job, "run", "events.jsonl")) ||
          !readFileSync(join(job, "run", "events.jsonl"), "utf8").includes('"step"'),
        "no training happened",
      );
      return;
    }
    runLocal(job, 1, ["--strategy", "ddp", "--out", join(job, "ddp")]);
    runLocal(job, 2, ["--strategy", "fsdp", "--out", join(job, "fsdp")]);
    const steps = (d: string) =>
      readFileSync(join(job, d, "events.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .filter((e) => e.type === "step");
    const [a, b] = [steps("fsdp"), steps("ddp")];
    assert.equal(a.length, 2);
    a.forEach((s: { loss: number }, i: number) =>
      assert.ok(Math.abs(s.loss - b[i].loss) / b[i].loss < 1e-5, `FSDP step ${i + 1}: ${s.loss} vs DDP ${b[i].loss}`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
