// The real-shape rows' pure parts and their memory guard: parameter counts against the fixtures' own
// tensor list, the peak estimate, MemAvailable/VmHWM parsing, the start refusal, the watchdog that
// stops a child before the machine runs out, and the issue's targets in the report. No timing here.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  paramCounts,
  estimateTrainPeakMb,
  parseMemAvailableMb,
  memoryRefusal,
  MEM_FLOOR_MB,
  SCALE_TRAIN,
  SCALE_MODELS,
  SCALE_ORDER,
  SCALE_GENERATE,
  SCALE_PROBE,
  scaleCaseKey,
} from "../../../src/bench/scale";
import { hfConfigOf } from "../../../src/bench/train";
import { stepFlops, type HfLlamaConfig } from "../../../src/bench/flops";
import { parseVmHwmMb, runJsonChild } from "../../../src/bench/stats";
import { oneLine } from "../../../src/bench/scaleRun";
import { realShapeConfig, realShapeParams, REAL_SHAPES } from "../../fixtures/realShapes";

test("parameter counts match the fixtures' own tensor lists for all three real shapes", () => {
  for (const shape of REAL_SHAPES) {
    const c = realShapeConfig(shape);
    assert.equal(paramCounts(hfConfigOf(c), c.qkvBias).total, realShapeParams(shape), shape);
  }
  // Qwen2.5-0.5B's published size: 494M parameters (tied embeddings counted once)
  const q = realShapeConfig("qwen2.5-0.5b");
  assert.ok(Math.abs(paramCounts(hfConfigOf(q), true).total / 494.03e6 - 1) < 0.001);
});

test("every training row names a real shape, and 0.5B SEAT is the issue's 4 x 256 reference workload", () => {
  for (const c of SCALE_TRAIN) assert.ok(Object.hasOwn(SCALE_MODELS, c.model), c.model);
  assert.deepEqual(SCALE_TRAIN.find((c) => c.model === "0.5b" && c.method === "seat")!.B, 4);
  assert.deepEqual(SCALE_TRAIN.find((c) => c.model === "0.5b" && c.method === "seat")!.T, 256);
  assert.ok(SCALE_TRAIN.some((c) => c.model === "1b" && c.method === "lora"));
  const rc = SCALE_TRAIN.find((c) => scaleCaseKey(c) === "0.5b:seat+recompute")!;
  assert.deepEqual([rc.B, rc.T, rc.recompute], [4, 256, true], "the reference workload again, recomputing");
  assert.equal(new Set(SCALE_TRAIN.map(scaleCaseKey)).size, SCALE_TRAIN.length, "keys are unique");
});

const TINY: HfLlamaConfig = {
  hidden_size: 4,
  intermediate_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: 10,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: true,
};

test("peak estimate by hand for a tiny config, and ordered full > seat > lora at real size", () => {
  // params: linear 144, head 40, norms 2*4 + 4 = 12 -> 196; per token and layer 12*4 + 4*8 + 2*T floats
  const T = 3;
  const acts = 2 * T * (48 + 32 + 2 * T) + 5 * 2 * T * 10;
  assert.equal(estimateTrainPeakMb(TINY, "lora", 2, T), (4 * (196 + acts)) / 2 ** 20 + 400);
  assert.equal(estimateTrainPeakMb(TINY, "full", 2, T), (4 * (4 * 196 + acts)) / 2 ** 20 + 400);
  assert.equal(
    estimateTrainPeakMb(TINY, "seat", 2, T, T, 0.05),
    (4 * (196 + 144 + 3 * 0.05 * 144 + 2 * acts)) / 2 ** 20 + 400,
  );
  const q = hfConfigOf(realShapeConfig("qwen2.5-0.5b"));
  // the perturbed copy is the prompt + a short response (~60 tokens), as the trainer pads it
  const [full, seat, lora] = (["full", "seat", "lora"] as const).map((m) => estimateTrainPeakMb(q, m, 4, 256, 60));
  assert.ok(full > seat && seat > lora, `${full} ${seat} ${lora}`);
  // 0.5B full: 16 bytes x 494M = 7.4 GB of weights + state before activations
  assert.ok(full > 7.4 * 1024 && full < 24 * 1024, `${full}`);
});

test("LoRA step FLOPs: input gradients only, no weight gradient of the base", () => {
  const lora = stepFlops(TINY, "lora", { B: 2, T: 3 });
  const seat = stepFlops(TINY, "seat", { B: 2, T: 3 });
  assert.equal(lora.forward, seat.forward);
  // SEAT's batch backward has the 288 FLOPs/token of linear weight gradients; LoRA's does not
  assert.equal(seat.backward - lora.backward, 2 * 3 * 288);
  assert.equal(lora.baseForward + lora.perturbed, 0);
});

test("MemAvailable and VmHWM parsing; absent fields are undefined", () => {
  assert.equal(
    parseMemAvailableMb("MemTotal:       24576000 kB\nMemFree:  100 kB\nMemAvailable:   20971520 kB\n"),
    20480,
  );
  assert.equal(parseMemAvailableMb("MemTotal: 1 kB\n"), undefined);
  assert.equal(parseVmHwmMb("Name:\tnode\nVmPeak:\t 9999 kB\nVmHWM:\t  524288 kB\nVmRSS:\t 1 kB\n"), 512);
  assert.equal(parseVmHwmMb("Name:\tx\n"), undefined);
});

test("a case is refused with its need and what is available, keeping the floor free", () => {
  assert.equal(memoryRefusal(4096, 20480), null);
  assert.equal(memoryRefusal(4096, undefined), null);
  assert.equal(memoryRefusal(4096, 4096 + MEM_FLOOR_MB), null);
  assert.equal(
    memoryRefusal(10 * 1024, 9.55 * 1024),
    "not run: needs ~10.0 GB, 9.6 GB available (keeping 1.5 GB free)",
  );
  assert.match(memoryRefusal(4096, 4096 + MEM_FLOOR_MB - 1)!, /^not run: needs ~4\.0 GB/);
});

const NODE = process.execPath;
// a child that reads its job, holds ~64 MB, and prints one JSON line
const HOLD =
  "let j='';process.stdin.on('data',d=>j+=d).on('end',()=>{const b=Buffer.alloc(64*2**20,1);setTimeout(()=>{console.log(JSON.stringify({ok:JSON.parse(j).n,len:b.length}))},400)})";

test("watched child: its kernel peak (VmHWM) is returned next to its own result", async () => {
  const out = await runJsonChild(NODE, ["-e", HOLD], { n: 7 }, undefined, undefined, {
    floorMb: 0,
    memAvailableMb: () => 1e9,
    everyMs: 20,
  });
  assert.equal(out.ok, 7);
  assert.ok(out.childPeakRssMb > 64, `${out.childPeakRssMb}`);
});

test("watched child is stopped, with a clear error, when available memory falls under the floor", async () => {
  let polls = 0;
  const started = Date.now();
  await assert.rejects(
    runJsonChild(NODE, ["-e", "setInterval(()=>{},1000)"], {}, undefined, undefined, {
      floorMb: 1536,
      memAvailableMb: () => (++polls > 3 ? 1000 : 8000),
      everyMs: 20,
    }),
    /^Error: stopped at \d+\.\d GB peak RSS: the machine's available memory fell to 1\.0 GB \(floor 1\.5 GB\)$/,
  );
  assert.ok(polls > 3);
  assert.ok(Date.now() - started < 10_000);
});

test("a child's failure becomes one line: exit status and its first stderr line", () => {
  assert.equal(
    oneLine(
      new Error(
        "/usr/bin/node dist/cli.js bench --case x exited with 1: \n  seat: model.safetensors: too big\n    at foo (x.js:1)",
      ),
    ),
    "exit 1: seat: model.safetensors: too big",
  );
  assert.equal(oneLine(new Error("not run\nmore")), "not run");
  assert.equal(oneLine(new Error("x".repeat(400))).length, 300);
});

test("the run order covers every real-shape row exactly once", () => {
  const rows = [
    ...SCALE_TRAIN.map((c) => `train:${scaleCaseKey(c)}`),
    `generate:${SCALE_GENERATE.model}`,
    `probe:${SCALE_PROBE.model}`,
  ].sort();
  assert.deepEqual([...SCALE_ORDER].sort(), rows);
});
