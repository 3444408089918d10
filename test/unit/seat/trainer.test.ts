// The trainer end to end on the tiny fixture models (2 layers, d=16): every method trains, masked-out
// weights stay bit-identical, resume after an interruption ends bit-identical, NaN is caught by term.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig, train, resume, exportRun, METHODS, TrainError, DatasetError, type SeatConfig } from "../../../src/seat/index";
import { readCheckpoint, listCheckpoints, checkpointName } from "../../../src/seat/checkpoint";
import { parseEventLog, type TrainEvent, type StepEvent } from "../../../src/protocol/events";
import { readSafetensorsHeader, readTensorBytes } from "../../../src/model/index";

const LLAMA = "test/fixtures/models/tiny-llama"; // bf16 weights
const QWEN = "test/fixtures/models/tiny-qwen2"; // f32, sharded, tied embeddings, qkv bias
const DATA = "test/fixtures/seat/facts.jsonl";

function tmp(): string {
  return mkdtempSync(join(tmpdir(), "seat-train-"));
}

function cfg(out: string, layer: Record<string, unknown>): SeatConfig {
  return resolveConfig([{
    source: "test",
    layer: {
      model: LLAMA, dataset: DATA, outDir: out,
      train: { epochs: 2, batchSize: 2 }, kl: { maxResponseTokens: 4 }, eval: { samples: 0 },
      device: { provider: "cpu", threads: 1 }, ...layer,
    },
  }]).config;
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
      const r = await train(cfg(out, { method, train: { epochs: 1, batchSize: 2, maxSteps: 2 } }), { onEvent: (e) => events.push(e) });
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
      assert.deepEqual(log.events.map((e) => e.type).filter((t) => t !== "phase" && t !== "log"), ["run-start", "step", "step", "checkpoint", "done"]);
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
    const ck = readCheckpoint(join(out, "checkpoints", checkpointName(listCheckpoints(join(out, "checkpoints")).pop()!)));
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

test("a run cancelled mid-way and resumed ends bit-identical to an uninterrupted run", async () => {
  const dir = tmp();
  try {
    const layer = { method: "seat", train: { epochs: 3, batchSize: 2 }, checkpoint: { everySteps: 2 }, eval: { samples: 2 } };
    const full = join(dir, "full");
    const fullEvents: TrainEvent[] = [];
    await train(cfg(full, layer), { onEvent: (e) => fullEvents.push(e) });

    const cut = join(dir, "cut");
    const ac = new AbortController();
    const r1 = await train(cfg(cut, layer), { signal: ac.signal, onEvent: (e) => { if (e.type === "step" && e.step === 5) ac.abort(); } });
    assert.equal(r1.status, "cancelled");
    assert.equal(r1.step, 5);
    const resumedEvents: TrainEvent[] = [];
    const r2 = await resume(cut, { onEvent: (e) => resumedEvents.push(e) });
    assert.equal(r2.status, "done");
    const start = resumedEvents.find((e) => e.type === "run-start");
    assert.equal(start?.type === "run-start" && start.resumedFromStep, 5);

    const a = steps(fullEvents).slice(5).map((s) => [s.step, s.loss, s.ce, s.kl, s.gradNorm]);
    const b = steps(resumedEvents).map((s) => [s.step, s.loss, s.ce, s.kl, s.gradNorm]);
    assert.deepEqual(b, a);
    const ca = readCheckpoint(join(full, "checkpoints", checkpointName(9)));
    const cb = readCheckpoint(join(cut, "checkpoints", checkpointName(9)));
    assert.deepEqual([...cb.tensors.keys()].sort(), [...ca.tensors.keys()].sort());
    for (const [k, t] of ca.tensors) assert.deepEqual(new Uint8Array(cb.tensors.get(k)!.data.buffer), new Uint8Array(t.data.buffer), k);
    assert.deepEqual(readFileSync(join(cut, "model", "model.safetensors")), readFileSync(join(full, "model", "model.safetensors")));
    const qa = fullEvents.filter((e) => e.type === "quick-eval").slice(-1);
    const qb = resumedEvents.filter((e) => e.type === "quick-eval").slice(-1);
    assert.deepEqual(qb.map((e) => ({ ...e, time: "" })), qa.map((e) => ({ ...e, time: "" })));

    // `seat export` of the last checkpoint reproduces the run's own model byte for byte.
    const exp = exportRun(cut, { out: join(dir, "exported") });
    assert.equal(exp.step, 9);
    assert.deepEqual(readFileSync(join(dir, "exported", "model.safetensors")), readFileSync(join(cut, "model", "model.safetensors")));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a non-finite loss stops the run with the step and the term", async () => {
  const dir = tmp();
  try {
    const events: TrainEvent[] = [];
    await assert.rejects(
      train(cfg(join(dir, "nan"), { method: "full", optim: { lr: 1e30, clipNorm: 0 }, train: { epochs: 3, batchSize: 2 } }), { onEvent: (e) => events.push(e) }),
      (e: unknown) => e instanceof TrainError && e.term === "ce" && e.step === 2 && /non-finite CE term .* at step 2/.test(e.message),
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
    await assert.rejects(train(cfg(join(dir, "run"), { dataset: bad })), (e: unknown) => e instanceof DatasetError && /bad\.jsonl:2:\d+: /.test((e as Error).message));
    await assert.rejects(train(cfg(join(dir, "run"), {})), /already holds a run/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("full fine-tuning lowers the answer loss on the fixture", async () => {
  const dir = tmp();
  try {
    const events: TrainEvent[] = [];
    await train(cfg(join(dir, "fit"), { method: "full", optim: { lr: 3e-3 }, train: { epochs: 8, batchSize: 6 } }), { onEvent: (e) => events.push(e) });
    const st = steps(events);
    assert.ok(st[st.length - 1].ce < st[0].ce * 0.8, `CE ${st[0].ce} -> ${st[st.length - 1].ce}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
