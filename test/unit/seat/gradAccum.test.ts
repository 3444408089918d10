// Gradient accumulation (train.gradAccum > 1): micro-batch gradient runs + one apply run must make the
// update of one big batch holding the same examples, with micro-batches of unequal token counts and the
// KL term active; each graph run holds one micro-batch; a cancel between micro-batches changes nothing;
// a killed accumulating run resumes bit-identical (trainer.test.ts, beside the other resume test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HostTensor } from "../../../src/engine";
import { FeedError } from "../../../src/runtime";
import { loadModelFolder } from "../../../src/model/index";
import { resolveConfig, train, type SeatConfig } from "../../../src/seat/index";
import { readCheckpoint, checkpointName } from "../../../src/seat/checkpoint";
import {
  batchFeeds,
  klFeeds,
  lossShares,
  makeBatch,
  makeKlBatch,
  type KlSequence,
  type LossShare,
  type TrainExample,
} from "../../../src/seat/data";
import { drawMask, selectTensors } from "../../../src/seat/masks";
import { Prng } from "../../../src/util/rng";
import { weightSpecs } from "../../../src/seat/specs";
import { openStepper, type MicroBatch, type Stepper, type StepOutputs } from "../../../src/seat/stepper";
import type { TrainGraphSpec } from "../../../src/seat/graphs";
import type { StepEvent, TrainEvent } from "../../../src/protocol/events";

const LLAMA = "test/fixtures/models/tiny-llama";
const DATA = "test/fixtures/seat/facts.jsonl";
const T = 12;
const TK = 10;
/** Rows of one micro-batch, and micro-batches per step. */
const ROWS = 2;
const ACCUM = 2;
// float32 summation order is the only difference between the two paths: the weights (updates of ~lr =
// 0.01 per entry) agree to 1e-6, the moments (scaled gradients) to 1e-5 of each tensor's largest entry.
const WEIGHT_TOL = 1e-6;
const MOMENT_TOL = 1e-5;

function config(method: string, gradAccum: number, layer: Record<string, unknown> = {}): SeatConfig {
  return resolveConfig([
    {
      source: "test",
      layer: {
        model: LLAMA,
        dataset: DATA,
        method,
        train: { batchSize: ROWS, gradAccum },
        kl: { lambda: 0.7 },
        device: { provider: "cpu", threads: 1 },
        ...layer,
      },
    },
  ]).config;
}

/** Deterministic ids in [0, V). */
function ids(seed: number, n: number, V: number): number[] {
  const r = new Prng(seed, 5);
  return Array.from({ length: n }, () => r.int(V));
}

// Answer targets and KL positions of the step's four examples: its two micro-batches hold 9 and 5 of
// each, so an unweighted mean of the micro-batch losses would not be the whole batch's loss.
const TARGETS = [1, 8, 3, 2];
const KL_POSITIONS = [2, 7, 4, 1];
/** Target and KL slots per row: the most of any example, as the trainer plans them. */
const A = Math.max(...TARGETS);
const AK = Math.max(...KL_POSITIONS);

function examples(V: number): TrainExample[] {
  return TARGETS.map((n, i) => {
    const e = ids(10 + i, T, V);
    return {
      record: i,
      line: i + 1,
      ids: e,
      targetMask: e.map((_, t) => (t >= T - n ? 1 : 0)),
      promptLength: T - n,
      kind: "fact" as const,
    };
  });
}

function klSequences(V: number): KlSequence[] {
  return KL_POSITIONS.map((n, i) => {
    const e = ids(20 + i, TK, V);
    return { record: i, ids: e, klMask: e.map((_, t) => (t >= 1 && t <= n ? 1 : 0)) };
  });
}

function batchOf(
  exs: TrainExample[],
  kls: KlSequence[],
  kl: boolean,
): { feeds: Record<string, HostTensor>; targets: number; klPositions: number } {
  const b = makeBatch(exs, exs.length, T, A, 0);
  const feeds: Record<string, HostTensor> = batchFeeds(b, exs.length, T, A);
  let klPositions = 0;
  if (kl) {
    const kb = makeKlBatch(kls, kls.length, TK, AK, 0);
    Object.assign(feeds, klFeeds(kb, kls.length, TK, AK));
    klPositions = kb.positions;
  }
  return { feeds, targets: b.targets, klPositions };
}

/** A run's trainable state moved off the base weights (so that the KL term and its gradient are not 0). */
function startState(s: Stepper): Record<string, HostTensor> {
  const st = s.initialState();
  const r = new Prng(7, 9);
  for (const p of s.model.params) {
    const d = (st[p.input.name!].data as Float32Array).slice();
    for (let i = 0; i < d.length; i++) d[i] += (r.next() - 0.5) * 0.05;
    st[p.input.name!] = { ...st[p.input.name!], data: d };
  }
  return st;
}

/** Largest weight difference, and largest moment difference relative to its tensor's largest |entry|. */
function stateDiff(
  a: Record<string, { data: HostTensor["data"] }>,
  b: Record<string, { data: HostTensor["data"] }>,
): { weights: number; moments: number } {
  let weights = 0,
    moments = 0;
  for (const k of Object.keys(a)) {
    const x = a[k].data as Float32Array,
      y = b[k].data as Float32Array;
    let d = 0,
      scale = 0;
    for (let i = 0; i < x.length; i++) {
      d = Math.max(d, Math.abs(x[i] - y[i]));
      scale = Math.max(scale, Math.abs(x[i]));
    }
    if (k.endsWith(".m") || k.endsWith(".v")) moments = Math.max(moments, scale > 0 ? d / scale : d);
    else weights = Math.max(weights, d);
  }
  return { weights, moments };
}

function maxAbsDiff(a: Record<string, HostTensor>, b: Record<string, HostTensor>): number {
  let m = 0;
  for (const k of Object.keys(a)) {
    const x = a[k].data as Float32Array,
      y = b[k].data as Float32Array;
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  }
  return m;
}

async function setup(method: string, gradAccum: number, layer: Record<string, unknown> = {}) {
  const folder = loadModelFolder(LLAMA);
  const c = config(method, gradAccum, layer);
  const kl = method === "seat";
  const names = selectTensors([...folder.weights.entries.keys()], c.mask.modules, "mask.modules");
  const mask =
    method === "seat"
      ? drawMask(
          names.map((name) => ({ name, shape: folder.weights.entries.get(name)!.shape })),
          c.mask,
          new Prng(3, 3),
        )
      : undefined;
  const specs = weightSpecs(c, folder, mask);
  const rows = ROWS * (gradAccum === 1 ? ACCUM : 1);
  const spec: TrainGraphSpec = {
    B: rows,
    T,
    A,
    ...(kl ? { kl: { K: rows, Tk: TK, Ak: AK, lambda: c.kl.lambda, direction: c.kl.direction } } : {}),
    ...(method === "ewc"
      ? {
          ewc: {
            lambda: 50,
            fisher: new Map(
              [...specs.keys()].map((n) => [
                n,
                new Float32Array(folder.weights.entries.get(n)!.shape.reduce((a, b) => a * b, 1)).fill(0.5),
              ]),
            ),
          },
        }
      : {}),
  };
  const stepper = await openStepper(folder, specs, spec, c, { provider: "cpu", threads: 1, log: () => {} });
  return { stepper, V: folder.config.vocabSize, kl };
}

/** The step's four examples as one big batch (gradAccum 1) or as two micro-batches with the given shares. */
function stepBatches(
  V: number,
  kl: boolean,
  split: boolean,
  shares?: (parts: { targets: number; klPositions: number }[]) => LossShare[],
): MicroBatch[] {
  const exs = examples(V),
    kls = klSequences(V);
  if (!split) return [{ ...batchOf(exs, kls, kl), share: { ce: 1, kl: 1, ewc: 1 } }];
  const parts = [0, ROWS].map((at) => batchOf(exs.slice(at, at + ROWS), kls.slice(at, at + ROWS), kl));
  const sh = (shares ?? lossShares)(parts);
  return parts.map((p, i) => ({ feeds: p.feeds, share: sh[i] }));
}

const NO_SIGNAL = new AbortController().signal;

test("one accumulated step (2 micro-batches of unequal token counts) equals the step on the whole batch: full, seat (sparse + KL), lora, ewc", async () => {
  const micro = [0, ROWS].map((at) => TARGETS.slice(at, at + ROWS).reduce((a, b) => a + b, 0));
  assert.notEqual(micro[0], micro[1], "the fixture's micro-batches differ in target tokens");
  for (const method of ["full", "seat", "lora", "ewc"]) {
    // Clipping engaged (threshold below every norm here), weight decay on: all of the update is compared.
    const layer = { optim: { clipNorm: 0.05, weightDecay: 0.1, lr: 0.01 } };
    const big = await setup(method, 1, layer);
    const acc = await setup(method, ACCUM, layer);
    try {
      const start = startState(big.stepper);
      await big.stepper.setState(start);
      await acc.stepper.setState(start);
      const outs: [StepOutputs, StepOutputs][] = [];
      const names = [...big.stepper.stateNames];
      // Two steps: the second also checks that the first step's sums were restarted, not added to. Each
      // starts from the same state, so that only the accumulation is compared, not how a first-step
      // difference in the last bits grows through a second step.
      for (const step of [1, 2]) {
        if (step > 1) await acc.stepper.setState(await big.stepper.getState(names));
        const a = (await big.stepper.step(stepBatches(big.V, big.kl, false), 0.01, step, NO_SIGNAL))!;
        const b = (await acc.stepper.step(stepBatches(acc.V, acc.kl, true), 0.01, step, NO_SIGNAL))!;
        outs.push([a, b]);
      }
      for (const [a, b] of outs) {
        assert.ok(a.gradNorm > 0.05, `${method}: clipping engaged (norm ${a.gradNorm})`);
        for (const k of ["loss", "ce", "kl", "ewc", "gradNorm"] as const) {
          const x = a[k] ?? 0,
            y = b[k] ?? 0;
          assert.ok(
            Math.abs(x - y) <= 1e-5 * Math.max(1, Math.abs(x)),
            `${method} ${k}: big batch ${x} vs accumulated ${y}`,
          );
        }
        assert.deepEqual(Array.from(b.answerOk), Array.from(a.answerOk));
      }
      if (method === "seat") assert.ok(outs[0][0].kl! > 1e-4, `the KL term is active (${outs[0][0].kl})`);
      if (method === "ewc") assert.ok(outs[1][0].ewc! > 0, "the EWC term is active");
      const d = stateDiff(await big.stepper.getState(names), await acc.stepper.getState(names));
      console.log(
        `${method}: weights differ by at most ${d.weights}, moments by ${d.moments} of their tensor's largest value`,
      );
      assert.ok(
        d.weights <= WEIGHT_TOL && d.moments <= MOMENT_TOL,
        `${method}: weights differ by ${d.weights}, moments by ${d.moments} (relative)`,
      );
      const moved = maxAbsDiff(await big.stepper.getState(names), start);
      assert.ok(moved > 1e-3, `${method}: the steps moved the weights (${moved})`);
    } finally {
      await big.stepper.release();
      await acc.stepper.release();
    }
  }
});

test("weighting micro-batches equally instead of by their tokens gives a measurably different update", async () => {
  // The check above would also pass with equal shares if the token counts did not matter: they do.
  const big = await setup("seat", 1);
  const naive = await setup("seat", ACCUM);
  try {
    const start = startState(big.stepper);
    await big.stepper.setState(start);
    await naive.stepper.setState(start);
    const equal = (parts: unknown[]) =>
      parts.map(() => ({ ce: 1 / parts.length, kl: 1 / parts.length, ewc: 1 / parts.length }));
    await big.stepper.step(stepBatches(big.V, true, false), 0.01, 1, NO_SIGNAL);
    await naive.stepper.step(stepBatches(naive.V, true, true, equal), 0.01, 1, NO_SIGNAL);
    const names = [...big.stepper.stateNames];
    const d = stateDiff(await big.stepper.getState(names), await naive.stepper.getState(names));
    console.log(`equal shares: weights differ by ${d.weights}, moments by ${d.moments} (relative)`);
    assert.ok(d.moments > 100 * MOMENT_TOL, `moments differ by only ${d.moments}`);
  } finally {
    await big.stepper.release();
    await naive.stepper.release();
  }
});

test("each graph run holds one micro-batch: the gradient graph takes [batchSize, T] and rejects the whole step's batch", async () => {
  const { stepper, V, kl } = await setup("seat", ACCUM);
  try {
    await stepper.setState(stepper.initialState());
    const whole = stepBatches(V, kl, false);
    assert.deepEqual(whole[0].feeds.ids.dims, [ROWS * ACCUM, T]);
    await assert.rejects(
      stepper.step(whole, 0.01, 1, NO_SIGNAL),
      (e: unknown) => e instanceof FeedError && /ids/.test((e as Error).message),
    );
    const out = await stepper.step(stepBatches(V, kl, true), 0.01, 1, NO_SIGNAL);
    assert.equal(out?.answerOk.length, ROWS * ACCUM, "one answer_ok row per example of the step");
  } finally {
    await stepper.release();
  }
});

test("a cancel between micro-batches leaves weights and moments untouched, and the next step starts its sums afresh", async () => {
  const { stepper, V, kl } = await setup("seat", ACCUM);
  const fresh = await setup("seat", ACCUM);
  try {
    const start = startState(stepper);
    await stepper.setState(start);
    await fresh.stepper.setState(start);
    const ac = new AbortController();
    const batches = stepBatches(V, kl, true);
    let hookRan = false;
    const first = batches[0];
    // The abort arrives while the first micro-batch is handed to the session: the stepper sees it before
    // the second one.
    const cut: MicroBatch[] = [
      {
        get feeds() {
          ac.abort();
          return first.feeds;
        },
        share: first.share,
      },
      batches[1],
    ];
    const r = await stepper.step(cut, 0.01, 1, ac.signal, async () => {
      hookRan = true;
      return async () => {};
    });
    assert.equal(r, undefined);
    assert.equal(hookRan, false, "no update hook (random-per-step draw) for a cancelled step");
    const names = [...stepper.stateNames];
    assert.equal(maxAbsDiff(await stepper.getState(names), start), 0);
    // The first micro-batch's gradient is still in the accumulators; the next step must not add to it.
    const a = (await stepper.step(stepBatches(V, kl, true), 0.01, 1, NO_SIGNAL))!;
    const b = (await fresh.stepper.step(stepBatches(V, kl, true), 0.01, 1, NO_SIGNAL))!;
    assert.equal(a.gradNorm, b.gradNorm);
    assert.equal(maxAbsDiff(await stepper.getState(names), await fresh.stepper.getState(names)), 0);
  } finally {
    await stepper.release();
    await fresh.stepper.release();
  }
});

const steps = (ev: TrainEvent[]) => ev.filter((e): e is StepEvent => e.type === "step");

test("trainer: batchSize 2 x gradAccum 2 matches batchSize 4 step for step (full, seat), counting optimizer steps", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-accum-"));
  try {
    for (const method of ["full", "seat"]) {
      const runs = [];
      for (const [batchSize, gradAccum] of [
        [ROWS * ACCUM, 1],
        [ROWS, ACCUM],
      ]) {
        const out = join(dir, `${method}-${batchSize}x${gradAccum}`);
        const events: TrainEvent[] = [];
        // 6 training records, 4 per step: steps 1 and 3 hold two micro-batches, step 2 one (the epoch's rest).
        const r = await train(
          {
            ...config(method, gradAccum, {
              train: { epochs: 2, batchSize, gradAccum },
              kl: { maxResponseTokens: 4 },
              eval: { samples: 0 },
            }),
            outDir: out,
          },
          { onEvent: (e) => events.push(e) },
        );
        runs.push({ r, events, ck: readCheckpoint(join(out, "checkpoints", checkpointName(4))) });
      }
      const [a, b] = runs;
      assert.equal(b.r.step, 4);
      const start = b.events.find((e) => e.type === "run-start");
      assert.ok(start?.type === "run-start" && start.totalSteps === 4 && start.stepsPerEpoch === 2);
      assert.deepEqual(
        steps(b.events).map((s) => s.step),
        [1, 2, 3, 4],
      );
      for (const [x, y] of steps(a.events).map((s, i) => [s, steps(b.events)[i]])) {
        for (const k of ["loss", "ce", "kl", "gradNorm"] as const) {
          assert.ok(
            Math.abs(x[k] - y[k]) <= 1e-5 * Math.max(1, Math.abs(x[k])),
            `${method} step ${x.step} ${k}: ${x[k]} vs ${y[k]}`,
          );
        }
      }
      if (method === "seat") assert.ok(steps(a.events)[2].kl > 0, "KL active on the compared steps");
      assert.deepEqual(
        [...b.ck.tensors.keys()].sort(),
        [...a.ck.tensors.keys()].sort(),
        "the same checkpoint contents (no accumulators)",
      );
      const state = (ck: typeof a.ck) => Object.fromEntries([...ck.tensors].filter(([k]) => k.startsWith("state/")));
      for (const [k, t] of a.ck.tensors)
        if (k.startsWith("mask/")) assert.deepEqual(b.ck.tensors.get(k)!.data, t.data, k);
      // Four steps: here first-step differences in the last bits also travel through the later steps.
      const d = stateDiff(state(a.ck), state(b.ck));
      console.log(`${method}, 4 steps: weights differ by at most ${d.weights}, moments by ${d.moments} (relative)`);
      assert.ok(
        d.weights <= WEIGHT_TOL && d.moments <= MOMENT_TOL,
        `${method}: weights differ by ${d.weights}, moments by ${d.moments} (relative)`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
