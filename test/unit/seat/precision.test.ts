// Mixed precision (--precision): which provider/precision pairs are refused (one line each), the loss
// scaler's rule, and the fp16 training graphs run numerically. No GPU here has float16 shaders
// (SwiftShader lacks shader-f16: softwareAdapter.gpu.ts), but onnxruntime's CPU provider has float16
// kernels for every op these graphs use, so the stepper's test-only halfOnCpu runs the exact fp16
// graphs there: losses against the fp32 graphs, an overflowing step skipped and rerun, and the loss
// scaler's state carried through a checkpoint and resume.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "../../../src/engine";
import { loadModelFolder } from "../../../src/model/index";
import { resolveConfig, resume, train, ConfigError, type SeatConfig } from "../../../src/seat/index";
import { checkpointName, readCheckpoint } from "../../../src/seat/checkpoint";
import type { StepEvent, TrainEvent } from "../../../src/protocol/events";
import { randomBatch, T, TK, A, AK } from "./randomBatch";
import { drawMask, selectTensors } from "../../../src/seat/masks";
import { resolvePrecision } from "../../../src/seat/precision";
import { weightSpecs } from "../../../src/seat/specs";
import { openStepper, type MicroBatch, type StepperOptions } from "../../../src/seat/stepper";
import { buildTrainGraph } from "../../../src/seat/graphs";
import { Prng } from "../../../src/util/rng";

const LLAMA = "test/fixtures/models/tiny-llama";
const DATA = "test/fixtures/seat/facts.jsonl";

test("precision/provider pairs: auto and fp32 everywhere, fp16 on GPU providers, bf16 on cuda, one-line refusals", () => {
  for (const p of ["auto", "cpu", "webgpu", "cuda", "dml", "coreml"] as const) {
    assert.equal(resolvePrecision("auto", p).compute, "float32");
    assert.equal(resolvePrecision("fp32", p).compute, "float32");
  }
  for (const p of ["auto", "webgpu", "cuda"] as const)
    assert.deepEqual([resolvePrecision("fp16", p).compute, resolvePrecision("fp16", p).lossScale], ["float16", true]);
  assert.deepEqual(
    [resolvePrecision("bf16", "cuda").compute, resolvePrecision("bf16", "cuda").lossScale],
    ["bfloat16", false],
  );
  const refused: [SeatConfig["device"]["precision"], SeatConfig["device"]["provider"], RegExp][] = [
    ["fp16", "cpu", /^--precision fp16 needs a GPU provider \(--device webgpu or cuda\): the CPU trains in fp32/],
    ["bf16", "cpu", /^--precision bf16 needs a GPU provider \(--device cuda\)/],
    ["bf16", "webgpu", /^--precision bf16 needs --device cuda: onnxruntime's webgpu provider has no bf16 kernels/],
    ["bf16", "auto", /^--precision bf16 needs --device cuda/],
    ["fp16", "dml", /^--precision fp16 is implemented for --device webgpu and cuda, not dml$/],
  ];
  for (const [prec, prov, re] of refused) {
    assert.throws(() => resolvePrecision(prec, prov), { message: re });
    // the same line, located, from the config layer (flag, setting or file)
    let err: unknown;
    try {
      resolveConfig([
        { source: "--precision", layer: { model: LLAMA, dataset: DATA, device: { provider: prov, precision: prec } } },
      ]);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ConfigError, `${prec} on ${prov}`);
    assert.match((err as Error).message, /--precision: device\.precision: --precision/);
    assert.equal((err as Error).message.split("\n").filter((l) => /device\.precision/.test(l)).length, 1);
  }
});

test("loss scaler: halves and skips on a non-finite gradient norm, doubles after a run of good steps, stays in range", () => {
  const s = new E.LossScaler({ initial: 8, growthInterval: 3, min: 2, max: 32 });
  assert.equal(s.update(Infinity), false);
  assert.equal(s.scale, 4);
  assert.equal(s.update(NaN), false);
  assert.equal(s.scale, 2);
  assert.equal(s.update(Infinity), false);
  assert.equal(s.scale, 2, "not below min");
  assert.deepEqual([s.update(1), s.update(1)], [true, true]);
  assert.equal(s.scale, 2);
  assert.equal(s.update(0.5), true);
  assert.equal(s.scale, 4, "doubled after 3 good steps");
  for (let i = 0; i < 12; i++) s.update(1);
  assert.equal(s.scale, 32, "not above max");
  s.update(Infinity);
  assert.equal(s.scale, 16);
  assert.equal(s.goodSteps, 0, "an overflow restarts the count");
  assert.throws(() => new E.LossScaler({ initial: 1, min: 2 }), /LossScaler: needs 0 < min <= initial <= max/);
});

function config(precision: SeatConfig["device"]["precision"], gradAccum = 1): SeatConfig {
  return resolveConfig([
    {
      source: "test",
      layer: {
        model: LLAMA,
        dataset: DATA,
        method: "seat",
        train: { batchSize: 2, gradAccum },
        kl: { lambda: 0.7 },
        // fp16 needs a GPU provider in a config; the stepper below is told to build it for the CPU
        device: { provider: precision === "fp16" ? "webgpu" : "cpu", precision, threads: 1 },
      },
    },
  ]).config;
}

async function open(precision: SeatConfig["device"]["precision"], extra: Partial<StepperOptions> = {}, gradAccum = 1) {
  const folder = loadModelFolder(LLAMA);
  const c = config(precision, gradAccum);
  const names = selectTensors([...folder.weights.entries.keys()], c.mask.modules, "mask.modules");
  const mask = drawMask(
    names.map((name) => ({ name, shape: folder.weights.entries.get(name)!.shape })),
    c.mask,
    new Prng(3, 3),
  );
  const specs = weightSpecs(c, folder, mask);
  const rows = 2;
  const spec = { B: rows, T, A, kl: { K: rows, Tk: TK, Ak: AK, lambda: c.kl.lambda, direction: c.kl.direction } };
  const logs: string[] = [];
  const stepper = await openStepper(folder, specs, spec, c, {
    provider: "cpu",
    threads: 1,
    log: (m) => logs.push(m),
    halfOnCpu: true,
    ...extra,
  });
  await stepper.setState(stepper.initialState());
  return { stepper, logs, folder, specs, spec, c, V: folder.config.vocabSize };
}

const share = { ce: 1, kl: 1, ewc: 1 };
const micro = (feeds: Record<string, E.HostTensor>): MicroBatch[] => [{ feeds, share }];
const never = new AbortController().signal;

test("the fp16 training graph: float16 compute, float32 master inputs, a loss_scale input", () => {
  const folder = loadModelFolder(LLAMA);
  const c = config("fp16");
  const names = selectTensors([...folder.weights.entries.keys()], c.mask.modules, "mask.modules");
  const mask = drawMask(
    names.map((name) => ({ name, shape: folder.weights.entries.get(name)!.shape })),
    c.mask,
    new Prng(3, 3),
  );
  const tg = buildTrainGraph(
    folder,
    weightSpecs(c, folder, mask),
    {
      B: 2,
      T,
      A,
      precision: { compute: "float16", lossScale: true },
    },
    c,
  );
  const ins = new Map(tg.model.graph.inputs.map((t) => [t.name!, t.dtype]));
  assert.equal(ins.get("loss_scale"), "float32");
  assert.equal(tg.step.lossScaleInput, "loss_scale");
  for (const p of tg.model.params) {
    assert.equal(ins.get(p.input.name!), "float32", `${p.input.name} is a float32 master copy`);
    assert.equal(ins.get(`${p.input.name}.m`), "float32");
  }
  const m = E.toOnnx(tg.model.graph);
  assert.equal(m.outputs.find((o) => o.name === "loss")?.dtype, "float32");
  // every MatMul/Gemm of the model runs in float16: count the float16 Casts of weights vs float32 ones
  const graph = tg.model.graph;
  const mm = graph.nodes.filter((n) => n.op.name === "MatMul" || n.op.name === "Gemm");
  assert.ok(mm.length > 0);
  assert.deepEqual([...new Set(mm.map((n) => n.outputs[0]!.dtype))], ["float16"]);
});

// Measured 2026-12-02 (tiny-llama fixture, 3 SEAT steps with KL): fp32 6.30432, 7.39316, 7.23424 vs fp16
// 6.30265, 7.39181, 7.23177 (at most 3.4e-4 relative); the random fixture's gradients overflow fp16 at
// the initial scale 65536 and at 32768 on step 1, so the scaler settles at 16384.
const LOSS_TOL = 2e-3;

test("fp16 SEAT steps on the CPU provider's float16 kernels track the fp32 steps; an overflow is skipped and rerun", async () => {
  const f32 = await open("fp32");
  const f16 = await open("fp16");
  const f16low = await open("fp16", { lossScaler: { initial: 16384 } });
  try {
    for (let s = 1; s <= 3; s++) {
      const feeds = randomBatch(f32.V, 2, 40 + s);
      const a = (await f32.stepper.step(micro(feeds), 0.01, s, never))!;
      const b = (await f16.stepper.step(micro(feeds), 0.01, s, never))!;
      const c = (await f16low.stepper.step(micro(feeds), 0.01, s, never))!;
      assert.ok(Math.abs(a.loss - b.loss) <= LOSS_TOL * Math.abs(a.loss), `step ${s}: fp32 ${a.loss}, fp16 ${b.loss}`);
      assert.ok(Math.abs(a.gradNorm - b.gradNorm) <= 2e-2 * a.gradNorm, `step ${s}: ${a.gradNorm} vs ${b.gradNorm}`);
      assert.ok(Number.isFinite(b.gradNorm));
      assert.equal(b.lossScale, c.lossScale, `step ${s}`);
      assert.equal(b.loss, c.loss, `step ${s}`);
    }
    assert.ok(
      f16.logs.some((l) => /^precision: fp16 compute, fp32 master weights/.test(l)),
      f16.logs.join("\n"),
    );
    const overflows = f16.logs.filter((l) =>
      /^fp16: gradients overflowed at loss scale \d+ \(step 1\): update skipped, rerun at \d+$/.test(l),
    );
    assert.ok(overflows.length >= 1, `the fixture overflows at scale 65536:\n${f16.logs.join("\n")}`);
    assert.ok(!f16low.logs.some((l) => /overflowed/.test(l)), f16low.logs.join("\n"));
    // The skipped runs left nothing behind: the state equals, bit for bit, that of a run that started
    // at the scale the scaler settled on (weights, moments).
    const names = [...f16.stepper.stateNames];
    const [x, y] = [await f16.stepper.getState(names), await f16low.stepper.getState(names)];
    for (const n of names) assert.deepEqual(x[n]!.data, y[n]!.data, n);
  } finally {
    await f32.stepper.release();
    await f16.stepper.release();
    await f16low.stepper.release();
  }
});

test("fp16 with gradient accumulation: micro-batches of scaled gradients, unscaled and checked in the apply graph", async () => {
  const f32 = await open("fp32", {}, 2);
  // started high enough to overflow (the micro-batches' halved shares do not at 65536)
  const f16 = await open("fp16", { lossScaler: { initial: 2 ** 20 } }, 2);
  try {
    for (let s = 1; s <= 2; s++) {
      const parts = [randomBatch(f32.V, 2, 60 + s), randomBatch(f32.V, 2, 80 + s)];
      const mbs = parts.map((feeds) => ({ feeds, share: { ce: 0.5, kl: 0.5, ewc: 0.5 } }));
      const a = (await f32.stepper.step(mbs, 0.01, s, never))!;
      const b = (await f16.stepper.step(mbs, 0.01, s, never))!;
      assert.ok(Math.abs(a.loss - b.loss) <= LOSS_TOL * Math.abs(a.loss), `step ${s}: fp32 ${a.loss}, fp16 ${b.loss}`);
      assert.ok(Math.abs(a.gradNorm - b.gradNorm) <= 2e-2 * a.gradNorm, `step ${s}: ${a.gradNorm} vs ${b.gradNorm}`);
    }
    assert.ok(
      f16.logs.some((l) => /overflowed at loss scale 1048576 \(step 1\)/.test(l)),
      f16.logs.join("\n"),
    );
  } finally {
    await f32.stepper.release();
    await f16.stepper.release();
  }
});

test("loss scaler state: restore() takes a state() back and refuses one outside its range", () => {
  const a = new E.LossScaler({ initial: 64, growthInterval: 3, min: 2, max: 1024 });
  a.update(1);
  a.update(Infinity);
  a.update(1);
  const b = new E.LossScaler({ initial: 64, growthInterval: 3, min: 2, max: 1024 });
  b.restore(a.state());
  assert.deepEqual([b.scale, b.goodSteps], [32, 1]);
  for (const g of [1, 1, Infinity, 1]) assert.equal(b.update(g), a.update(g));
  assert.deepEqual(b.state(), a.state());
  assert.throws(
    () => b.restore({ scale: 4096, goodSteps: 0 }),
    /^Error: loss scale 4096 is outside the scaler's range \[2, 1024\]$/,
  );
  assert.throws(() => b.restore({ scale: 8, goodSteps: 1.5 }), /good-step count must be a non-negative integer/);
});

// A run cancelled at step K and resumed against the same run uninterrupted, through the trainer (train,
// cancel checkpoint, resume) with the fp16 graphs on the CPU's float16 kernels, fused and accumulating
// (batches of 2 as 2 micro-batches of 1; the same scales were measured). growthInterval 2 makes
// the scale move both ways within the run (measured: 65536, 65536, [131072 overflows] 65536,
// [65536 overflows] 32768, 32768, [65536 overflows] 32768, 32768, 65536), and at K = 4 the scaler is at
// 32768 with one good step counted: a resume at the initial 65536 with none runs step K+1 at another
// scale. (On this fixture the losses would still agree: a power-of-two scale is exact in fp16 unless
// gradients overflow, and an overflowed update is rerun; where small gradients underflow they differ.)
const K = 4,
  N = 8;
const half = { halfOnCpu: true, lossScaler: { growthInterval: 2 } };

function fp16Run(out: string, gradAccum: number): SeatConfig {
  return resolveConfig([
    {
      source: "test",
      layer: {
        model: LLAMA,
        dataset: DATA,
        outDir: out,
        method: "seat",
        train: { epochs: 4, batchSize: 2 / gradAccum, gradAccum, maxSteps: N },
        kl: { maxResponseTokens: 4 },
        eval: { samples: 0 },
        device: { provider: "webgpu", precision: "fp16", threads: 1 },
      },
    },
  ]).config;
}

const stepsOf = (ev: TrainEvent[]) =>
  ev.filter((e): e is StepEvent => e.type === "step").map((e) => [e.step, e.loss, e.ce, e.kl, e.gradNorm, e.lossScale]);
const logsOf = (ev: TrainEvent[], re: RegExp) => ev.filter((e) => e.type === "log" && re.test(e.message));

async function cancelAndResume(gradAccum: 1 | 2) {
  const dir = mkdtempSync(join(tmpdir(), "seat-fp16-resume-"));
  try {
    const full = join(dir, "full");
    const a: TrainEvent[] = [];
    await train(fp16Run(full, gradAccum), { stepper: half, onEvent: (e) => a.push(e) });
    const scales = stepsOf(a).map((s) => s[5]);
    assert.equal(scales.length, N);
    assert.ok(
      scales.every((x) => typeof x === "number"),
      `every fp16 step reports its scale: ${scales}`,
    );
    assert.ok(new Set(scales).size > 1, `the scale changed during the run: ${scales}`);

    const cut = join(dir, "cut");
    const ac = new AbortController();
    const b: TrainEvent[] = [];
    const r = await train(fp16Run(cut, gradAccum), {
      stepper: half,
      signal: ac.signal,
      onEvent: (e) => {
        b.push(e);
        if (e.type === "step" && e.step === K) ac.abort();
      },
    });
    assert.equal(r.status, "cancelled");
    assert.equal(r.step, K);
    const atK = readCheckpoint(join(cut, "checkpoints", checkpointName(K))).state.lossScaler;
    assert.ok(atK, "the fp16 checkpoint holds the loss scaler's state");
    assert.notDeepEqual(atK, { scale: 65536, goodSteps: 0 }, "the scaler has moved from its initial state by step K");
    assert.equal(atK.scale, scales[K - 1], "the scale of step K's update (no overflow since)");
    // Copies of the cancelled run for the checks after the resume: an old-format checkpoint, a CPU resume.
    const old = join(dir, "old");
    cpSync(cut, old, { recursive: true });
    const cpu = join(dir, "cpu");
    cpSync(cut, cpu, { recursive: true });

    const c: TrainEvent[] = [];
    const r2 = await resume(cut, { stepper: half, onEvent: (e) => c.push(e) });
    assert.equal(r2.step, N);
    assert.equal(logsOf(c, /loss-scaler state|is not used/).length, 0, "nothing to say on a current checkpoint");
    assert.deepEqual(stepsOf(c), stepsOf(a).slice(K), "losses, gradient norms and scales after the resume");
    const [ea, eb] = [
      readCheckpoint(join(full, "checkpoints", checkpointName(N))),
      readCheckpoint(join(cut, "checkpoints", checkpointName(N))),
    ];
    assert.deepEqual(eb.state.lossScaler, ea.state.lossScaler);
    assert.deepEqual([...eb.tensors.keys()].sort(), [...ea.tensors.keys()].sort());
    for (const [k, t] of ea.tensors)
      assert.deepEqual(new Uint8Array(eb.tensors.get(k)!.data.buffer), new Uint8Array(t.data.buffer), k);
    assert.deepEqual(
      readFileSync(join(cut, "model", "model.safetensors")),
      readFileSync(join(full, "model", "model.safetensors")),
    );

    // The old-format and CPU resumes do not depend on the step's shape: checked on the fused run.
    if (gradAccum !== 1) return;
    // An old-format checkpoint (no lossScaler field) still resumes, at the initial scale, said once.
    const stateFile = join(old, "checkpoints", checkpointName(K), "state.json");
    const st = JSON.parse(readFileSync(stateFile, "utf8"));
    delete st.lossScaler;
    writeFileSync(stateFile, JSON.stringify(st));
    const d: TrainEvent[] = [];
    const r3 = await resume(old, { stepper: half, onEvent: (e) => d.push(e) });
    assert.equal(r3.step, N);
    const warned = logsOf(d, /holds no loss-scaler state/);
    assert.equal(warned.length, 1);
    assert.match(
      warned[0]!.type === "log" ? warned[0]!.message : "",
      new RegExp(
        `^checkpoint ${checkpointName(K)} holds no loss-scaler state .*: the loss scale starts again at 65536$`,
      ),
    );
    assert.equal(stepsOf(d)[0]![5], 65536);
    assert.notEqual(scales[K], 65536, "the uninterrupted run's step K+1 ran at another scale");
    assert.ok(readCheckpoint(join(old, "checkpoints", checkpointName(N))).state.lossScaler, "written from then on");

    // Resumed on the CPU (fp32): the checkpoint's scale is not used, and the fp32 checkpoints hold none.
    const e: TrainEvent[] = [];
    const r4 = await resume(cpu, { provider: "cpu", onEvent: (ev) => e.push(ev) });
    assert.equal(r4.step, N);
    assert.equal(
      logsOf(
        e,
        new RegExp(
          `^this run trains without loss scaling: checkpoint ${checkpointName(K)}'s loss scale \\(${atK.scale}\\) is not used$`,
        ),
      ).length,
      1,
    );
    assert.ok(stepsOf(e).every((s) => s[5] === undefined));
    assert.equal(readCheckpoint(join(cpu, "checkpoints", checkpointName(N))).state.lossScaler, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("fp16: the loss scale is checkpointed; a run cancelled and resumed ends bit-identical to the uninterrupted one", () =>
  cancelAndResume(1));

test("fp16 with gradient accumulation: cancelled and resumed, bit-identical to the uninterrupted run", () =>
  cancelAndResume(2));
