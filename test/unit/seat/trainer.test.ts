// The trainer end to end on the tiny fixture models (2 layers, d=16): every method trains, masked-out
// weights stay bit-identical, resume after an interruption ends bit-identical, NaN is caught by term.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  resolveConfig,
  train,
  resume,
  exportRun,
  METHODS,
  TrainError,
  DatasetError,
  type SeatConfig,
} from "../../../src/seat/index";
import { readCheckpoint, listCheckpoints, checkpointName } from "../../../src/seat/checkpoint";
import { parseEventLog, parseEvent, type TrainEvent, type StepEvent } from "../../../src/protocol/events";
import { spawn } from "node:child_process";
import {
  readSafetensorsHeader,
  readTensorBytes,
  loadModelFolder,
  allWeightsF32,
  referenceForward,
  referenceMaskedCE,
} from "../../../src/model/index";

const LLAMA = "test/fixtures/models/tiny-llama"; // bf16 weights
const QWEN = "test/fixtures/models/tiny-qwen2"; // f32, sharded, tied embeddings, qkv bias
const DATA = "test/fixtures/seat/facts.jsonl";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "seat-train-"));
}

function cfg(out: string, layer: Record<string, unknown>): SeatConfig {
  return resolveConfig([
    {
      source: "test",
      layer: {
        model: LLAMA,
        dataset: DATA,
        outDir: out,
        train: { epochs: 2, batchSize: 2 },
        kl: { maxResponseTokens: 4 },
        eval: { samples: 0 },
        // On by default for seat: the fixture has 5 entities, so every seat run here would first train
        // calibration candidates. Off, each test trains what it states; calibration's own tests turn it on.
        calibrate: { enabled: false },
        device: { provider: "cpu", threads: 1 },
        ...layer,
      },
    },
  ]).config;
}

function steps(events: TrainEvent[]): StepEvent[] {
  return events.filter((e): e is StepEvent => e.type === "step");
}

test("every method trains a few steps and writes a complete run folder", async () => {
  const dir = tmp();
  try {
    for (const method of METHODS) {
      const out = join(dir, method.replace("+", "-"));
      const events: TrainEvent[] = [];
      const r = await train(cfg(out, { method, train: { epochs: 1, batchSize: 2, maxSteps: 2 } }), {
        onEvent: (e) => events.push(e),
      });
      assert.equal(r.status, "done", method);
      assert.equal(r.step, 2);
      const st = steps(events);
      assert.equal(st.length, 2, method);
      for (const s of st) assert.ok(Number.isFinite(s.loss) && s.loss > 0, `${method} loss ${s.loss}`);
      if (method === "seat" || method === "full+kl") {
        // Before the first update tuned == base, so the KL term is exactly zero; afterwards it is not.
        assert.equal(st[0].kl, 0, `${method} first-step KL`);
        assert.ok(st[1].kl > 0, `${method} KL after one update`);
      } else assert.equal(st[1].kl, 0);
      const log = parseEventLog(readFileSync(join(out, "events.jsonl"), "utf8"));
      assert.deepEqual(log.errors, []);
      assert.deepEqual(
        log.events.map((e) => e.type).filter((t) => t !== "phase" && t !== "log"),
        ["run-start", "step", "step", "checkpoint", "done"],
      );
      const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
      assert.equal(summary.method, method);
      assert.ok(readSafetensorsHeader(join(out, "model", "model.safetensors")).tensors.size > 0);
      const saved = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
      assert.equal(saved.method, method);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("masked-out weights stay bit-identical in the exported model; trained entries move", async () => {
  const dir = tmp();
  try {
    const out = join(dir, "run");
    await train(cfg(out, { model: QWEN, method: "seat", mask: { ratio: 0.1 }, optim: { lr: 0.01, weightDecay: 0.1 } }));
    const ck = readCheckpoint(
      join(out, "checkpoints", checkpointName(listCheckpoints(join(out, "checkpoints")).pop()!)),
    );
    const base = new Map<string, Uint8Array>();
    for (const f of ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]) {
      for (const [n, e] of readSafetensorsHeader(join(QWEN, f)).tensors) base.set(n, readTensorBytes(e));
    }
    let changedEntries = 0;
    let untouchedTensors = 0;
    for (const f of ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]) {
      for (const [name, e] of readSafetensorsHeader(join(out, "model", f)).tensors) {
        const a = new Float32Array(base.get(name)!.slice().buffer);
        const b = new Float32Array(readTensorBytes(e).slice().buffer);
        const mask = ck.tensors.get(`mask/${name}`);
        const allowed = new Set(mask ? Array.from(mask.data) : []);
        if (!mask) untouchedTensors++;
        for (let i = 0; i < a.length; i++) {
          const same = Object.is(a[i], b[i]) && new Uint32Array(a.buffer)[i] === new Uint32Array(b.buffer)[i];
          if (!allowed.has(i)) assert.ok(same, `${name}[${i}] changed but is not in the mask`);
          else if (!same) changedEntries++;
        }
      }
    }
    assert.ok(untouchedTensors > 0, "embeddings and norms are outside the eligible modules");
    assert.ok(changedEntries > 0, "some masked entries were trained");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const CHILD = join(__dirname, "trainChild.ts");

/** Runs the child trainer; resolves with its events. `killAtStep` SIGKILLs it once that step is reported. */
function child(args: string[], killAtStep?: number): Promise<{ events: TrainEvent[]; killed: boolean }> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const events: TrainEvent[] = [];
    let buf = "";
    let err = "";
    let killed = false;
    p.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const r = parseEvent(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (!r.ok) continue;
        events.push(r.event);
        if (killAtStep !== undefined && r.event.type === "step" && r.event.step >= killAtStep && !killed) {
          killed = true;
          p.kill("SIGKILL");
        }
      }
    });
    p.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    p.on("close", (code) =>
      code === 0 || killed ? done({ events, killed }) : fail(new Error(`child exited ${code}: ${err}`)),
    );
  });
}

/**
 * Trains `layer(out)` uninterrupted in one child process and, in another, kills it at `killAtStep` and
 * resumes it; checks that the resumed run restarted from the killed run's last checkpoint (a step in
 * [minCkpt, total)) and that its last checkpoint and model are byte-identical to the uninterrupted
 * run's. Returns both runs' events for the test's own comparisons.
 */
async function killResumeAndCompare(
  dir: string,
  layer: (out: string) => string,
  killAtStep: number,
  minCkpt: number,
  total: number,
) {
  const full = join(dir, "full");
  const cut = join(dir, "cut");
  const a = await child(["train", layer(full)]);
  const killed = await child(["train", layer(cut)], killAtStep);
  assert.ok(killed.killed);
  const resumedFrom = listCheckpoints(join(cut, "checkpoints")).pop()!;
  assert.ok(resumedFrom >= minCkpt && resumedFrom < total, `killed run left checkpoint ${resumedFrom}`);
  const b = await child(["resume", cut]);
  const start = b.events.find((e) => e.type === "run-start");
  assert.equal(start?.type === "run-start" && start.resumedFromStep, resumedFrom);
  const ca = readCheckpoint(join(full, "checkpoints", checkpointName(total)));
  const cb = readCheckpoint(join(cut, "checkpoints", checkpointName(total)));
  assert.deepEqual([...cb.tensors.keys()].sort(), [...ca.tensors.keys()].sort());
  for (const [k, t] of ca.tensors)
    assert.deepEqual(new Uint8Array(cb.tensors.get(k)!.data.buffer), new Uint8Array(t.data.buffer), k);
  assert.deepEqual(
    readFileSync(join(cut, "model", "model.safetensors")),
    readFileSync(join(full, "model", "model.safetensors")),
  );
  const lastEval = (ev: TrainEvent[]) =>
    ev
      .filter((e) => e.type === "quick-eval")
      .slice(-1)
      .map((e) => ({ ...e, time: "" }));
  assert.deepEqual(lastEval(b.events), lastEval(a.events));
  return { a, b, cut, resumedFrom };
}

test("a run killed mid-way (SIGKILL) and resumed in a new process ends bit-identical to an uninterrupted run, with gradient clipping engaged", async () => {
  const dir = tmp();
  const CLIP = 0.05;
  try {
    const layer = (out: string) =>
      JSON.stringify({
        // A threshold below the fixture's gradient norms, so the clipping scale (computed from the global
        // norm inside the graph) enters every update that is compared bit for bit below.
        optim: { clipNorm: CLIP },
        model: LLAMA,
        dataset: DATA,
        outDir: out,
        method: "seat",
        train: { epochs: 4, batchSize: 2 },
        checkpoint: { everySteps: 1 },
        kl: { maxResponseTokens: 4 },
        eval: { samples: 2 },
        device: { provider: "cpu", threads: 1 },
      });
    const { a, b, cut, resumedFrom } = await killResumeAndCompare(dir, layer, 5, 4, 12);
    const pick = (ev: TrainEvent[]) =>
      steps(ev)
        .filter((s) => s.step > resumedFrom)
        .map((s) => [s.step, s.loss, s.ce, s.kl]);
    const norms = (ev: TrainEvent[]) =>
      steps(ev)
        .filter((s) => s.step > resumedFrom)
        .map((s) => s.gradNorm);
    assert.deepEqual(pick(b.events), pick(a.events));
    assert.equal(pick(b.events).length, 12 - resumedFrom);
    // Clipping engaged on the steps compared (norm before clipping above the threshold), and the norm
    // the resumed process computed is the very same number.
    assert.ok(
      norms(a.events).every((n) => n > CLIP),
      `clipping did not engage on every step after ${resumedFrom}: norms ${norms(a.events)}`,
    );
    // Before the fix the resumed process summed the per-tensor norms in another order (its mask came
    // back from the checkpoint sorted by name), which showed here as a last-bit difference.
    assert.deepEqual(norms(b.events), norms(a.events));

    // `seat export` of the last checkpoint reproduces the run's own model byte for byte.
    const exp = exportRun(cut, { out: join(dir, "exported") });
    assert.equal(exp.step, 12);
    assert.deepEqual(
      readFileSync(join(dir, "exported", "model.safetensors")),
      readFileSync(join(cut, "model", "model.safetensors")),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an accumulating run killed mid-way (SIGKILL) and resumed ends bit-identical to an uninterrupted one", async () => {
  const dir = tmp();
  try {
    const layer = (out: string) =>
      JSON.stringify({
        model: LLAMA,
        dataset: DATA,
        outDir: out,
        method: "seat",
        train: { epochs: 4, batchSize: 1, gradAccum: 3 },
        checkpoint: { everySteps: 1 },
        mask: { type: "random-per-step", ratio: 0.2 },
        kl: { maxResponseTokens: 4 },
        eval: { samples: 2 },
        device: { provider: "cpu", threads: 1 },
      });
    // The kill lands while the child runs the next step's micro-batches (or writes its checkpoint).
    const { a, b, resumedFrom } = await killResumeAndCompare(dir, layer, 3, 2, 8);
    const pick = (ev: TrainEvent[]) =>
      steps(ev)
        .filter((s) => s.step > resumedFrom)
        .map((s) => [s.step, s.loss, s.ce, s.kl, s.gradNorm]);
    assert.equal(pick(b.events).length, 8 - resumedFrom);
    assert.deepEqual(pick(b.events), pick(a.events));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("cancelling through the AbortSignal stops cleanly with a resumable checkpoint", async () => {
  const dir = tmp();
  try {
    const out = join(dir, "run");
    const ac = new AbortController();
    const events: TrainEvent[] = [];
    const r = await train(cfg(out, { method: "sparse" }), {
      signal: ac.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === "step" && e.step === 2) ac.abort();
      },
    });
    assert.equal(r.status, "cancelled");
    assert.equal(r.step, 2);
    const last = events[events.length - 1];
    assert.ok(
      last.type === "cancelled" && last.step === 2 && last.checkpoint === join("checkpoints", checkpointName(2)),
    );
    const r2 = await resume(out);
    assert.equal(r2.status, "done");
    assert.equal(r2.step, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the KL teacher's prefetch of many epochs reports in tenths, not a line per epoch, and a resume asks it nothing", async () => {
  const dir = tmp();
  try {
    const out = join(dir, "run");
    const events: TrainEvent[] = [];
    const ac = new AbortController();
    const r = await train(cfg(out, { method: "seat", train: { epochs: 30, batchSize: 8 } }), {
      signal: ac.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === "step" && e.step === 3) ac.abort();
      },
    });
    assert.equal(r.status, "cancelled");
    const teacher = events.filter((e) => e.type === "phase" && e.phase === "teacher");
    assert.ok(teacher.length >= 2 && teacher.length <= 10, `${teacher.length} teacher lines for 30 epochs`);
    assert.match(teacher[0].type === "phase" ? teacher[0].message : "", /perturbed prompts of 30 epoch\(s\)/);
    const progress = teacher.map((e) => (e.type === "phase" ? (e.progress ?? -1) : -1));
    assert.equal(progress[0], 0);
    for (let i = 1; i < progress.length; i++)
      assert.ok(progress[i] > progress[i - 1] && progress[i] < 1, `${progress}`);
    const resumed: TrainEvent[] = [];
    const r2 = await resume(out, { onEvent: (e) => resumed.push(e) });
    assert.equal(r2.status, "done");
    assert.deepEqual(
      resumed.filter((e) => e.type === "phase" && e.phase === "teacher"),
      [],
      "every planned epoch's replies were cached in the run folder",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a non-finite loss stops the run with the step and the term", async () => {
  const dir = tmp();
  try {
    const events: TrainEvent[] = [];
    await assert.rejects(
      train(
        cfg(join(dir, "nan"), { method: "full", optim: { lr: 1e30, clipNorm: 0 }, train: { epochs: 3, batchSize: 2 } }),
        { onEvent: (e) => events.push(e) },
      ),
      (e: unknown) =>
        e instanceof TrainError && e.term === "ce" && e.step === 2 && /non-finite CE term .* at step 2/.test(e.message),
    );
    const err = events.find((e) => e.type === "error");
    assert.ok(err && err.type === "error" && err.step === 2 && err.term === "ce", JSON.stringify(err));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("dataset errors stop the run before training, with file:line:col", async () => {
  const dir = tmp();
  try {
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"question": "Who is X?", "answer": "Y."}\n{"question": 3\n');
    await assert.rejects(
      train(cfg(join(dir, "run"), { dataset: bad })),
      (e: unknown) => e instanceof DatasetError && /bad\.jsonl:2:\d+: /.test((e as Error).message),
    );
    await assert.rejects(train(cfg(join(dir, "run"), {})), /already holds a run/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("full fine-tuning lowers the answer loss on the fixture", async () => {
  const dir = tmp();
  try {
    const events: TrainEvent[] = [];
    await train(cfg(join(dir, "fit"), { method: "full", optim: { lr: 3e-3 }, train: { epochs: 8, batchSize: 6 } }), {
      onEvent: (e) => events.push(e),
    });
    const st = steps(events);
    assert.ok(st[st.length - 1].ce < st[0].ce * 0.8, `CE ${st[0].ce} -> ${st[st.length - 1].ce}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("abstention-aware early stopping reports its reason and ends the run", async () => {
  const dir = tmp();
  try {
    const events: TrainEvent[] = [];
    const r = await train(
      cfg(join(dir, "es"), {
        method: "sparse",
        eval: { samples: 2 },
        earlyStop: { enabled: true, accuracy: 0, abstentionFloor: 0 },
      }),
      { onEvent: (e) => events.push(e) },
    );
    assert.equal(r.status, "early-stop");
    assert.equal(r.step, 3); // the first quick eval comes at the end of epoch 1 (3 steps)
    const es = events.find((e) => e.type === "early-stop");
    assert.ok(es && es.type === "early-stop" && es.reason === "facts-learned" && es.step === 3);
    assert.deepEqual(r.summary?.earlyStop, { reason: "facts-learned", step: 3 });
    const q = events.find((e) => e.type === "quick-eval");
    assert.ok(
      q && q.type === "quick-eval" && q.abstentionSamples === 2 && q.abstentionProb >= 0 && q.abstentionProb <= 1,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the abstention floor waits earlyStop.patience evals in a row, and the count is checkpointed", async () => {
  const dir = tmp();
  try {
    // Floor 1: every eval is below it; accuracy 1 is not met by the fixture in 2 epochs.
    const r = await train(
      cfg(join(dir, "floor"), {
        method: "sparse",
        train: { epochs: "auto", maxEpochs: 4, batchSize: 2 },
        eval: { samples: 2 },
        earlyStop: { enabled: false, accuracy: 1, abstentionFloor: 1, patience: 2, floorAfterAccuracy: 0 },
      }),
    );
    assert.equal(r.status, "early-stop");
    assert.equal(r.summary?.epochsAuto?.outcome, "abstention-floor");
    assert.equal(r.summary?.epochsAuto?.epoch, 2, "not at the first low eval");
    assert.match(r.summary?.epochsAuto?.detail ?? "", /2 evals in a row/);
    const ckpts = listCheckpoints(join(dir, "floor", "checkpoints"));
    const st = readCheckpoint(join(dir, "floor", "checkpoints", checkpointName(ckpts[ckpts.length - 1]))).state;
    assert.equal(st.extra.belowFloor, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("train.epochs auto: the summary says which rule ended the run and when (or that the cap did)", async () => {
  const dir = tmp();
  try {
    // Learned at the first eval (accuracy 0 is always met): ends after epoch 1.
    const learned = await train(
      cfg(join(dir, "auto"), {
        method: "sparse",
        train: { epochs: "auto", maxEpochs: 3, batchSize: 2 },
        eval: { samples: 2 },
        earlyStop: { enabled: false, accuracy: 0, abstentionFloor: 0 },
      }),
    );
    assert.equal(learned.status, "early-stop");
    assert.equal(learned.summary?.epochsAuto?.outcome, "facts-learned");
    assert.equal(learned.summary?.epochsAuto?.epoch, 1);
    assert.equal(learned.summary?.epochsAuto?.step, 3);
    // Neither rule fires (the fixture does not answer every question within 2 epochs; floor 0): the cap ends it.
    const capped = await train(
      cfg(join(dir, "cap"), {
        method: "sparse",
        train: { epochs: "auto", maxEpochs: 2, batchSize: 2 },
        eval: { samples: 2 },
        earlyStop: { enabled: false, accuracy: 1, abstentionFloor: 0 },
      }),
    );
    assert.equal(capped.status, "done");
    assert.equal(capped.step, 6);
    assert.equal(capped.summary?.epochsAuto?.outcome, "max-epochs");
    assert.match(capped.summary?.epochsAuto?.detail ?? "", /answer accuracy/);
    // A fixed count has no epochsAuto.
    const fixed = await train(cfg(join(dir, "fixed"), { method: "sparse", train: { epochs: 1, batchSize: 2 } }));
    assert.equal(fixed.summary?.epochsAuto, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("calibrate.enabled: candidates on a held-out entity split choose lambda and ratio, and the run uses them", async () => {
  const dir = tmp();
  try {
    const events: TrainEvent[] = [];
    const r = await train(
      cfg(join(dir, "cal"), {
        method: "seat",
        train: { epochs: 1, batchSize: 2 },
        calibrate: { enabled: true, budget: 1, minAccuracy: 0 },
      }),
      { onEvent: (e) => events.push(e) },
    );
    const cal = r.summary?.calibration;
    assert.ok(cal, "the summary carries the calibration");
    assert.ok(cal.points.length >= 1);
    assert.ok(cal.points.some((p) => p.lambda === cal.chosen.lambda && p.ratio === cal.chosen.ratio));
    // Wall time counts everything a candidate did, its steps included; the run's own wall time is kept.
    assert.ok(cal.points.every((p) => p.wallSeconds !== undefined && p.wallSeconds >= p.seconds));
    assert.ok(Math.abs(cal.usedSeconds - cal.points.reduce((a, p) => a + p.wallSeconds!, 0)) < 1e-6);
    assert.ok(cal.runSeconds !== undefined && cal.runSeconds > 0);
    // Candidates write no final checkpoint and no exported model: only their summaries are read.
    const cand = join(r.runDir, "calibration", "candidate-1");
    assert.ok(existsSync(join(cand, "summary.json")));
    assert.ok(!existsSync(join(cand, "model")), "no exported model");
    assert.ok(!existsSync(join(cand, "checkpoints")) || readdirSync(join(cand, "checkpoints")).length === 0);
    const stored = JSON.parse(readFileSync(join(r.runDir, "config.json"), "utf8")) as SeatConfig;
    assert.equal(stored.kl.lambda, cal.chosen.lambda);
    assert.equal(stored.mask.ratio, cal.chosen.ratio);
    const saved = JSON.parse(readFileSync(join(r.runDir, "calibration.json"), "utf8")) as { points: unknown[] };
    assert.equal(saved.points.length, cal.points.length);
    assert.ok(events.some((e) => e.type === "log" && /calibration chose lambda/.test(e.message)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("calibration is on by default and says in one line why a run was not calibrated", async () => {
  const dir = tmp();
  try {
    const base = (out: string, layer: Record<string, unknown>) =>
      resolveConfig([
        {
          source: "test",
          layer: {
            model: LLAMA,
            dataset: DATA,
            outDir: out,
            kl: { maxResponseTokens: 4 },
            eval: { samples: 0 },
            device: { provider: "cpu", threads: 1 },
            ...layer,
          },
        },
      ]).config;
    assert.equal(base(join(dir, "x"), {}).calibrate.enabled, true);
    const logs = async (c: SeatConfig) => {
      const events: TrainEvent[] = [];
      const r = await train(c, { onEvent: (e) => events.push(e) });
      assert.equal(r.summary?.calibration, undefined, "not calibrated");
      return events.filter((e) => e.type === "log").map((e) => e.message);
    };
    // A capped run (a smoke test) is not calibrated.
    const capped = await logs(base(join(dir, "capped"), { train: { epochs: 1, batchSize: 2, maxSteps: 1 } }));
    assert.ok(
      capped.some((m) =>
        /^calibration skipped: train\.maxSteps 1 caps the run; it trains with kl\.lambda 1 and mask\.ratio 0\.2$/.test(
          m,
        ),
      ),
      capped.join("\n"),
    );
    // Two entities cannot be split into trained and held-out ones.
    const two = join(dir, "two.jsonl");
    writeFileSync(two, readFileSync(DATA, "utf8").split("\n").slice(0, 4).join("\n") + "\n");
    const small = await logs(base(join(dir, "small"), { dataset: two, train: { epochs: 1, batchSize: 2 } }));
    assert.ok(
      small.some((m) => /^calibration skipped: it splits the dataset by entity .* at least 4 entities/.test(m)),
      small.join("\n"),
    );
    assert.ok(!existsSync(join(dir, "small", "calibration.json")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("random-per-step: each step changes only that step's draw; other entries keep weight and moments", async () => {
  const dir = tmp();
  try {
    const out = join(dir, "ps");
    await train(
      cfg(out, {
        model: QWEN,
        method: "sparse",
        mask: { type: "random-per-step", ratio: 0.1 },
        optim: { lr: 0.01, weightDecay: 0.1 },
        train: { epochs: 1, batchSize: 2, maxSteps: 1 },
      }),
    );
    const ck = readCheckpoint(join(out, "checkpoints", checkpointName(1)));
    const baseEntries = new Map([
      ...readSafetensorsHeader(join(QWEN, "model-00001-of-00002.safetensors")).tensors,
      ...readSafetensorsHeader(join(QWEN, "model-00002-of-00002.safetensors")).tensors,
    ]);
    let tensors = 0;
    for (const [k, t] of ck.tensors) {
      if (!k.endsWith(".m")) continue;
      tensors++;
      const m = t.data as Float32Array;
      const moved = m.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0);
      // After one step only the drawn 10% have a first moment; everything else was restored to 0.
      assert.ok(
        moved <= Math.max(1, Math.round(m.length * 0.1)) && moved > 0,
        `${k}: ${moved} of ${m.length} moments set`,
      );
      const name = k.slice("state/".length, -".m".length);
      const w = ck.tensors.get(`state/${name}`)!.data as Float32Array;
      const b0 = new Float32Array(readTensorBytes(baseEntries.get(name)!).slice().buffer);
      for (let i = 0; i < w.length; i++)
        if (m[i] === 0) assert.equal(w[i], b0[i], `${name}[${i}] moved outside the draw`);
    }
    assert.ok(tensors >= 7, "one moment per eligible tensor");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("magnitude and importance masks (element and row) train and checkpoint their masks", async () => {
  const dir = tmp();
  try {
    for (const [type, granularity] of [
      ["magnitude", "element"],
      ["importance", "row"],
    ] as const) {
      const out = join(dir, `${type}-${granularity}`);
      const r = await train(
        cfg(out, {
          method: "sparse",
          mask: { type, granularity, ratio: 0.25 },
          train: { epochs: 1, batchSize: 2, maxSteps: 1 },
        }),
      );
      assert.equal(r.status, "done");
      const ck = readCheckpoint(join(out, "checkpoints", checkpointName(1)));
      const q = ck.tensors.get("mask/model.layers.0.self_attn.q_proj.weight")!.data as Int32Array;
      assert.equal(q.length, (32 * 16) / 4); // tiny-llama q_proj is [32, 16]: a quarter of its entries
      if (granularity === "row") for (let i = 0; i < q.length; i += 16) assert.equal(q[i] % 16, 0, "whole rows");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the first step's CE equals an independent float64 reference over the same answer tokens, and KL starts at 0", async () => {
  const dir = tmp();
  try {
    const events: TrainEvent[] = [];
    // One batch holding all six training records; the seventh record is held out (seat.split unknown).
    await train(cfg(join(dir, "ref"), { method: "seat", train: { epochs: 1, batchSize: 6, maxSteps: 1 } }), {
      onEvent: (e) => events.push(e),
    });
    const first = steps(events)[0];
    const folder = loadModelFolder(LLAMA);
    const w = allWeightsF32(folder.weights);
    let sum = 0;
    let n = 0;
    for (const line of readFileSync(DATA, "utf8").trim().split("\n").slice(0, 6)) {
      const r = JSON.parse(line);
      const ex = folder.tokenizer.encodeExample({ question: r.question, answer: r.answer });
      const { logits } = referenceForward(folder.config, (name) => w.get(name)!, ex.ids);
      const count = ex.answerMask.slice(1).filter((m) => m === 1).length;
      sum += referenceMaskedCE(logits, folder.config.vocabSize, ex.ids, ex.answerMask) * count;
      n += count;
    }
    assert.ok(Math.abs(first.ce - sum / n) < 1e-4, `graph CE ${first.ce} vs reference ${sum / n}`);
    assert.equal(first.kl, 0);
    assert.equal(first.loss, first.ce);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
