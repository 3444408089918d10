// Every method at a real model's shape, as a user runs it: the SmolLM2-135M body with the real Llama-3
// tokenizer (vocab 128,256; test/fixtures/realShapes.ts), random bf16 weights, through the `seat` CLI in
// child processes: train 3 steps of each method, cancel, kill -9 + resume (bit-identical on CPU),
// export, probe. Slow by nature (a minute or two per method on 2 cores); CI runs it.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureRealShape } from "../../fixtures/realShapes";
import { seatChild } from "../reliability/helpers";
import { readCheckpoint, checkpointName } from "../../../src/seat/checkpoint";
import { loadModelFolder, readTensorF32 } from "../../../src/model/index";
import { METHODS } from "../../../src/seat/config";

/** Per CLI run: loading, compiling and a teacher pass of a 180M-parameter model on a busy 2-core machine. */
const RUN_TIMEOUT_MS = 15 * 60_000;
const STEPS = 3;

let model = "";
let dir = "";
let data = "";

before(() => {
  model = ensureRealShape("smollm2-135m");
  dir = mkdtempSync(join(tmpdir(), "seat-135m-"));
  // 8 QA records of the example set (4 people): short, like real QA data
  data = join(dir, "facts.jsonl");
  writeFileSync(
    data,
    readFileSync("examples/new-people/train.jsonl", "utf8").split("\n").filter(Boolean).slice(0, 8).join("\n") + "\n",
  );
});

process.on("exit", () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const common = (out: string, extra: string[] = []) => [
  "--model",
  model,
  "--out",
  out,
  "--device",
  "cpu",
  "--batch",
  "2",
  "--max-steps",
  String(STEPS),
  "--checkpoint-every",
  "1",
  "--eval-samples",
  "2",
  "--set",
  "kl.maxResponseTokens=8",
  "--quiet",
  ...extra,
];

const runs = new Map<string, string>();

for (const method of METHODS) {
  test(
    `135M shape: ${method} trains ${STEPS} steps, writes checkpoints and a loadable merged model`,
    { timeout: RUN_TIMEOUT_MS },
    async () => {
      const out = join(dir, method.replace("+", "-"));
      const r = await seatChild(["train", data, "--method", method, ...common(out)], { timeoutMs: RUN_TIMEOUT_MS });
      assert.equal(r.code, 0, r.err.slice(-3000));
      assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace on stderr");
      const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
      assert.equal(summary.steps, STEPS);
      assert.ok(Number.isFinite(summary.finalLoss) && summary.finalLoss > 0, `final loss ${summary.finalLoss}`);
      const merged = loadModelFolder(join(out, "model"));
      assert.equal(merged.config.vocabSize, 128256);
      runs.set(method, out);
    },
  );
}

test(
  "135M shape: SEAT changes only masked entries of a linear weight; embeddings stay bit-identical",
  { timeout: RUN_TIMEOUT_MS },
  () => {
    const out = runs.get("seat");
    assert.ok(out, "the seat run above must have passed");
    const base = loadModelFolder(model),
      tuned = loadModelFolder(join(out, "model"));
    const ck = readCheckpoint(join(out, "checkpoints", checkpointName(STEPS)));
    const name = "model.layers.3.mlp.down_proj.weight";
    const mask = ck.tensors.get(`mask/${name}`)!.data as Int32Array;
    const allowed = new Set(mask);
    const a = readTensorF32(base.weights.entries.get(name)!),
      b = readTensorF32(tuned.weights.entries.get(name)!);
    let changed = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) {
        assert.ok(allowed.has(i), `entry ${i} of ${name} changed outside the mask`);
        changed++;
      }
    }
    assert.ok(changed > 0, "some masked entries moved");
    const e = "model.embed_tokens.weight";
    assert.deepEqual(readTensorF32(tuned.weights.entries.get(e)!), readTensorF32(base.weights.entries.get(e)!));
  },
);

test(
  "135M shape: kill -9 after step 1, resume: the checkpoint at the last step is bit-identical to the uninterrupted run",
  { timeout: 2 * RUN_TIMEOUT_MS },
  async () => {
    const ref = runs.get("seat");
    assert.ok(ref, "the seat run above must have passed");
    const out = join(dir, "seat-killed");
    const killed = await seatChild(["train", data, "--method", "seat", ...common(out), "--events-json"], {
      timeoutMs: RUN_TIMEOUT_MS,
      onStdoutLine: (line, kill) => {
        if (line.includes('"type":"checkpoint"') && line.includes('"step":1')) kill("SIGKILL");
      },
    });
    assert.equal(
      killed.signal,
      "SIGKILL",
      `the run was to be killed after its first checkpoint: ${killed.err.slice(-2000)}`,
    );
    assert.ok(!existsSync(join(out, "summary.json")));
    const resumed = await seatChild(["resume", out, "--quiet"], { timeoutMs: RUN_TIMEOUT_MS });
    assert.equal(resumed.code, 0, resumed.err.slice(-3000));
    const a = readCheckpoint(join(ref, "checkpoints", checkpointName(STEPS))).tensors;
    const b = readCheckpoint(join(out, "checkpoints", checkpointName(STEPS))).tensors;
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
    for (const [k, t] of a)
      assert.ok(Buffer.from(t.data.buffer).equals(Buffer.from(b.get(k)!.data.buffer)), `${k} differs after resume`);
  },
);

test(
  "135M shape: SIGINT cancels with a resumable checkpoint; export and probe accept the run",
  { timeout: 2 * RUN_TIMEOUT_MS },
  async () => {
    const out = join(dir, "lora-cancel");
    const r = await seatChild(["train", data, "--method", "lora", ...common(out), "--events-json"], {
      timeoutMs: RUN_TIMEOUT_MS,
      onStdoutLine: (line, kill) => {
        if (line.includes('"type":"step"')) kill("SIGINT");
      },
    });
    assert.equal(r.code, 130, r.err.slice(-3000));
    assert.ok(existsSync(join(out, "checkpoints", checkpointName(1))), "cancel checkpoint at step 1");
    const exported = join(dir, "lora-export");
    const ex = await seatChild(["export", out, "--out", exported], { timeoutMs: RUN_TIMEOUT_MS });
    assert.equal(ex.code, 0, ex.err.slice(-3000));
    assert.equal(loadModelFolder(exported).config.numLayers, 30);
    const probe = await seatChild(
      [
        "probe",
        "--model",
        exported,
        "--data",
        data,
        "--json",
        "--no-cache",
        "--max-new-tokens",
        "8",
        "--neighbours",
        "1",
        "--hidden-queries",
        "0",
      ],
      { timeoutMs: RUN_TIMEOUT_MS },
    );
    assert.equal(probe.code, 0, probe.err.slice(-3000));
    const summary = JSON.parse(probe.out).runs[0].summary;
    assert.equal(summary.records, 8);
    assert.ok(summary.neighbour.n > 0, "look-alike questions were probed");
    assert.ok(
      summary.neighbour.meanAbstentionProb >= 0 && summary.neighbour.meanAbstentionProb <= 1,
      `P(abstain) ${summary.neighbour.meanAbstentionProb}`,
    );
  },
);
