// Activation recompute (gradient checkpointing, engine grad({recompute})): the backward pass of each
// decoder layer reruns that layer's forward from its kept input. Checked here: the graph's backward
// nodes read no intermediate of a layer's original forward (so those die in the forward pass), and
// training with it is bit-identical to training without it, for SEAT with KL, with gradient
// accumulation and for LoRA (tiny-llama fixture, CPU). What it saves at real size is in the README's
// memory table (measured with /usr/bin/time -v, not here).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as E from "../../../src/engine";
import { loadModelFolder } from "../../../src/model/index";
import { resolveConfig, type SeatConfig } from "../../../src/seat/index";
import { randomBatch, T, TK, A, AK } from "./randomBatch";
import { drawMask, selectTensors } from "../../../src/seat/masks";
import { weightSpecs } from "../../../src/seat/specs";
import { openStepper, type MicroBatch } from "../../../src/seat/stepper";
import { buildTrainGraph } from "../../../src/seat/graphs";
import { Prng } from "../../../src/util/rng";

const LLAMA = "test/fixtures/models/tiny-llama";
const DATA = "test/fixtures/seat/facts.jsonl";
const ROWS = 2;

function config(method: SeatConfig["method"], gradAccum = 1): SeatConfig {
  return resolveConfig([
    {
      source: "test",
      layer: {
        model: LLAMA,
        dataset: DATA,
        method,
        train: { batchSize: ROWS * gradAccum, gradAccum },
        kl: { lambda: 0.7 },
        device: { provider: "cpu", threads: 1 },
      },
    },
  ]).config;
}

function setup(method: SeatConfig["method"], gradAccum = 1) {
  const folder = loadModelFolder(LLAMA);
  const c = config(method, gradAccum);
  const names = selectTensors([...folder.weights.entries.keys()], c.mask.modules, "mask.modules");
  const mask = drawMask(
    names.map((name) => ({ name, shape: folder.weights.entries.get(name)!.shape })),
    c.mask,
    new Prng(3, 3),
  );
  const kl = c.kl.lambda > 0 && method !== "lora" && method !== "full" ? true : false;
  const spec = {
    B: ROWS,
    T,
    A,
    ...(kl ? { kl: { K: ROWS, Tk: TK, Ak: AK, lambda: c.kl.lambda, direction: c.kl.direction } } : {}),
  };
  return { folder, c, specs: weightSpecs(c, folder, mask), spec, V: folder.config.vocabSize, kl };
}

/** The intermediates of every layer's forward: what a segment computes from its input, minus the layer outputs. */
function intermediates(g: E.Graph): Set<E.Tensor> {
  const segs = g.segments.filter((s) => s.endId >= 0);
  const inputs = new Set(segs.map((s) => s.input));
  const out = new Set<E.Tensor>();
  for (const s of segs) {
    const dep = new Set<E.Tensor>([s.input]);
    for (const n of g.nodes) {
      if (n.id < s.firstId || n.id >= s.endId || !n.inputs.some((x) => dep.has(x))) continue;
      n.outputs.forEach((o) => dep.add(o));
    }
    for (const t of dep) if (!inputs.has(t)) out.add(t);
  }
  // each pass's last layer output feeds the final norm: kept like a layer input
  for (const t of [...out]) if (segs.some((s) => t.id === s.endId - 1)) out.delete(t);
  return out;
}

test("recompute: no backward node reads an intermediate of a layer's original forward; each layer's forward is run twice", () => {
  const { folder, c, specs, spec } = setup("seat");
  const L = folder.config.numLayers;
  const plain = buildTrainGraph(folder, specs, spec, c).model.graph;
  const g = buildTrainGraph(folder, specs, { ...spec, recompute: true }, c).model.graph;
  assert.ok(plain.segments.length >= 2 * L && plain.segments.length % L === 0, `${plain.segments.length} segments`);
  const backwardReaders = (graph: E.Graph, internal: Set<E.Tensor>, after: number) =>
    graph.nodes.filter((n) => n.id >= after && n.inputs.some((x) => internal.has(x))).length;
  // the backward pass is everything grad() appended: after the objective's output node
  const lossNode = (graph: E.Graph) => graph.outputs.find((o) => o.name === "loss")!.tensor.producer!.id;
  const plainReads = backwardReaders(plain, intermediates(plain), lossNode(plain) + 1);
  const recomputeReads = backwardReaders(g, intermediates(g), lossNode(g) + 1);
  assert.ok(plainReads > 20 * L, `without recompute the backward reads ${plainReads} forward intermediates`);
  assert.equal(recomputeReads, 0, "backward nodes reading original intermediates with recompute");
  const mm = (graph: E.Graph) => graph.nodes.filter((n) => n.op.name === "MatMul" || n.op.name === "Gemm").length;
  // the tuned passes (batch and perturbed copies) run their 7 projections + 2 attention products again
  assert.ok(mm(g) - mm(plain) >= 2 * L * 9, `${mm(g) - mm(plain)} more matrix products with recompute`);
});

const never = new AbortController().signal;
const bytes = (t: E.HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

async function train(method: SeatConfig["method"], recompute: boolean, gradAccum = 1) {
  const { folder, c, specs, spec, V, kl } = setup(method, gradAccum);
  const stepper = await openStepper(folder, specs, { ...spec, recompute }, c, {
    provider: "cpu",
    threads: 1,
    log: () => {},
  });
  try {
    await stepper.setState(stepper.initialState());
    const losses: number[] = [];
    for (let s = 1; s <= 3; s++) {
      const micro: MicroBatch[] = Array.from({ length: gradAccum }, (_, i) => ({
        feeds: randomBatch(V, ROWS, 40 + 10 * s + i, kl),
        share: { ce: 1 / gradAccum, kl: 1 / gradAccum, ewc: 1 },
      }));
      const out = (await stepper.step(micro, 0.01, s, never))!;
      losses.push(out.loss, out.gradNorm);
    }
    return { losses, state: await stepper.getState(stepper.stateNames) };
  } finally {
    await stepper.release();
  }
}

for (const [method, gradAccum] of [
  ["seat", 1],
  ["seat", 2],
  ["lora", 1],
  ["full", 1],
] as const) {
  test(`recompute: ${method}${gradAccum > 1 ? ` with --grad-accum ${gradAccum}` : ""} trains bit-identically with and without it`, async () => {
    const a = await train(method, false, gradAccum);
    const b = await train(method, true, gradAccum);
    assert.deepEqual(b.losses, a.losses);
    assert.ok(a.losses.every(Number.isFinite) && a.losses[0] !== a.losses[2], `losses move: ${a.losses}`);
    assert.deepEqual(Object.keys(b.state).sort(), Object.keys(a.state).sort());
    for (const [name, t] of Object.entries(a.state)) {
      assert.deepEqual(b.state[name]!.dims, t.dims, name);
      assert.ok(bytes(b.state[name]!).equals(bytes(t)), `${name} differs`);
    }
  });
}
