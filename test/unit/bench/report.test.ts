// The benchmark's pure parts: FLOP accounting, statistics, profile summary, targets and the markdown
// table. Timings themselves are never asserted here (they belong to `npm run bench`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { stepFlops, klSeqLen, LLAMA_100M, type HfLlamaConfig } from "../../../src/bench/flops";
import { median } from "../../../src/bench/stats";
import { summarizeProfile } from "../../../src/bench/profile";
import { benchMarkdown, checkTargets, type BenchReport } from "../../../src/bench/report";

// D=4, 2 heads (hd 2), 1 kv head (kvD 2), F=8, 1 layer, V=10:
//   linear weights 2*16 + 2*4*2 + 3*4*8 = 144, head 40; forward per token 2*144 + 2*40 + 4*T*4 = 368 + 16T.
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

test("full step FLOPs: forward by hand, and backward = 2x forward when everything trains", () => {
  const f = stepFlops(TINY, "full", { B: 2, T: 3 });
  assert.equal(f.forward, 2 * 3 * (368 + 16 * 3));
  assert.equal(f.backward, 2 * f.forward);
  assert.equal(f.baseForward, 0);
  assert.equal(f.perturbed, 0);
  assert.equal(f.total, 3 * f.forward);
});

test("SEAT step FLOPs: no lm_head weight gradient, plus base forward and tuned fwd+bwd on the perturbed batch", () => {
  const f = stepFlops(TINY, "seat", { B: 2, T: 3, K: 2, Tk: 5 });
  const fwd3 = 368 + 16 * 3;
  const fwd5 = 368 + 16 * 5;
  assert.equal(f.forward, 6 * fwd3);
  // input gradients (= forward) + attention's second half (48) + linear weight gradients (288), no head dW
  assert.equal(f.backward, 6 * (fwd3 + 48 + 288));
  assert.equal(f.baseForward, 10 * fwd5);
  assert.equal(f.perturbed, 10 * (fwd5 + fwd5 + 80 + 288));
  assert.equal(f.total, f.forward + f.backward + f.baseForward + f.perturbed);
  // without explicit K/Tk the perturbed batch is the training batch's shape
  const same = stepFlops(TINY, "seat", { B: 2, T: 3 });
  assert.equal(same.baseForward, same.forward);
});

test("the 100M config really has about 100M parameters", () => {
  const c = LLAMA_100M;
  const hd = c.hidden_size / c.num_attention_heads;
  const perLayer =
    2 * c.hidden_size ** 2 + 2 * c.hidden_size * hd * c.num_key_value_heads + 3 * c.hidden_size * c.intermediate_size;
  const params = c.num_hidden_layers * perLayer + c.vocab_size * c.hidden_size;
  assert.ok(params > 95e6 && params < 105e6, `${params}`);
  // forward FLOPs per token ~ 2 x params for short sequences
  const perToken = stepFlops(c, "full", { B: 1, T: 1 }).forward;
  assert.ok(Math.abs(perToken / (2 * params) - 1) < 0.01, `${perToken}`);
});

test("perturbed length follows the trainer's rule and is capped by the sequence limit", () => {
  assert.equal(klSeqLen(20, 128), 20 + 16 + 8);
  assert.equal(klSeqLen(60, 64), 64);
  assert.equal(klSeqLen(10, 128, 32), 58);
});

test("median: odd and even counts, input untouched, empty refused", () => {
  const xs = [5, 1, 3];
  assert.equal(median(xs), 3);
  assert.deepEqual(xs, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /no samples/);
});

test("profile summary: per-op ms per run after the warm-up run, shares and slowest nodes", () => {
  const node = (name: string, op: string, dur: number) => ({
    cat: "Node",
    name: `${name}_kernel_time`,
    dur,
    args: { op_name: op },
  });
  const run = (dur: number) => ({ cat: "Session", name: "model_run", dur });
  const events = [
    node("mm0", "MatMul", 9999),
    run(99999), // warm-up, skipped
    node("mm0", "MatMul", 3000),
    node("mm1", "MatMul", 1000),
    node("sm", "Softmax", 1000),
    { cat: "Node", name: "mm0_fence_before", dur: 5 },
    run(6000),
    node("mm0", "MatMul", 5000),
    node("mm1", "MatMul", 1000),
    node("sm", "Softmax", 3000),
    run(10000),
  ];
  const s = summarizeProfile(events);
  assert.equal(s.runs, 2);
  assert.equal(s.msPerRun, 8);
  assert.equal(s.kernelMsPerRun, 7);
  assert.deepEqual(
    s.ops.map((o) => [o.op, o.msPerRun, o.nodes]),
    [
      ["MatMul", 5, 2],
      ["Softmax", 2, 1],
    ],
  );
  assert.ok(Math.abs(s.ops[0].share - 5 / 7) < 1e-12);
  assert.deepEqual(s.topNodes[0], { node: "mm0", op: "MatMul", msPerRun: 4 });
  assert.throws(() => summarizeProfile([run(1)]), /none after the 1 skipped/);
});

function report(): BenchReport {
  return {
    machine: {
      cpus: "Test CPU",
      cores: 2,
      threads: 2,
      node: "v20.0.0",
      quick: false,
      date: "2026-11-25T16:45:00.000Z",
    },
    models: { embedded: "models/seat-tiny-world", "100m": "random" },
    matmulCeilingGflops: { best: 40, median: 30, perCpuSecond: 20, shape: [512, 2048, 2048] },
    train: {
      "100m:seat": {
        model: "100m",
        method: "seat",
        batch: 4,
        seq: 120,
        klSeq: 128,
        ours: { stepSeconds: 2, tokensPerSec: 240, gflops: 12, peakRssMb: 900, stepCpuSeconds: 4 },
        torch: {
          stepSeconds: 3,
          tokensPerSec: 160,
          peakRssMb: 800,
          stepCpuSeconds: 5,
          torch: "1.13",
          blas: "openblas",
        },
        ratioVsTorch: 1.5,
        cpuRatioVsTorch: 1.25,
        ceilingFraction: 0.4,
        cpuCeilingFraction: 0.55,
      },
      "100m:full": {
        model: "100m",
        method: "full",
        batch: 4,
        seq: 120,
        ours: { stepSeconds: 1, tokensPerSec: 480, gflops: 18, peakRssMb: 1500 },
        ceilingFraction: 0.6,
      },
    },
    generate: {
      embedded: {
        model: "embedded",
        batch: 4,
        prompt: 24,
        newTokens: 48,
        ours: { seconds: 1, tokensPerSec: 192, peakRssMb: 300 },
        torch: { seconds: 0.5, tokensPerSec: 384, peakRssMb: 300 },
        ratioVsTorch: 0.5,
      },
    },
    jsonl: {
      bytes: 270e6,
      lines: 1e6,
      mbPerSec: 250,
      mbPerCpuSec: 260,
      peakRssBytes: 200 * 2 ** 20,
      startRssBytes: 100 * 2 ** 20,
    },
    activationMs: { medianMs: 60, requireMs: 55, activateMs: 5, reps: 7 },
    errors: { "train:embedded:full": "peer | exploded\nsecond line" },
  };
}

test("targets: each checked against its threshold; unmeasured ones say so", () => {
  const t = checkTargets(report());
  const by = (s: string) => t.find((x) => x.target.startsWith(s))!;
  assert.equal(by("100m:seat: SEAT step").met, true);
  assert.equal(by("100m:seat: >= 50%").met, false);
  assert.equal(by("100m:full: >= 50%").met, true);
  assert.equal(by("generate embedded").met, false);
  // 250 MB/s but RSS grew 100 MB: not flat
  assert.equal(by("JSONL").met, false);
  assert.equal(by("activation").met, true);
  const r = report();
  delete r.train["100m:seat"].ratioVsTorch;
  assert.equal(checkTargets(r).find((x) => x.target.startsWith("100m:seat: SEAT"))!.met, undefined);
});

test("markdown: one row per case with ratios, missing peers as dashes, errors on one line", () => {
  const md = benchMarkdown(report());
  assert.match(md, /^Measured 2026-11-25 16:45 UTC on 2 × Test CPU, 2 threads/);
  assert.match(md, /BLAS openblas/);
  assert.match(md, /median 30\.0 GFLOP\/s, best 40\.0, 20\.0 GFLOP per CPU-second/);
  assert.match(
    md,
    /\| 100m:seat \| 4×120 \(\+ 4×128\) \| 240 \| 160 \| 1\.50× \| 1\.25× \| 12\.0 \| 40% \(55%\) \| 900 \| 800 \|/,
  );
  assert.match(md, /\| 100m:full \| 4×120 \| 480 \| – \| –× \| –× \| 18\.0 \| 60% \(–\) \| 1500 \| – \|/);
  assert.match(md, /\| embedded \| 4, 24 → 48 \| 192 \| 384 \| 0\.50× \|/);
  assert.match(md, /1,000,000 lines, 270 MB at 250\.0 MB\/s/);
  assert.match(md, /\| activation < 150 ms \| 60\.0 ms \| yes \|/);
  assert.match(md, /\| 100m:seat: >= 50% of the MatMul ceiling \| 40% \(CPU-time basis 55%\) \| \*\*no\*\* \|/);
  assert.match(md, /\*\*train:embedded:full failed:\*\* peer \| exploded\n/);
  assert.ok(!md.includes("second line"));
});

test("markdown: JSONL on worker threads with its one-thread row from the same run", () => {
  const r = report();
  r.jsonl = {
    ...r.jsonl!,
    threads: 2,
    sequential: { mbPerSec: 120, mbPerCpuSec: 118, peakRssBytes: 140 * 2 ** 20, startRssBytes: 110 * 2 ** 20 },
  };
  const md = benchMarkdown(r);
  assert.match(
    md,
    /270 MB on 2 worker threads at 250\.0 MB\/s \(260\.0 MB per CPU-second\), peak RSS 200 MB \(start 100 MB\); on one thread, same run: 120\.0 MB\/s \(118\.0 MB per CPU-second\), peak RSS 140 MB \(start 110 MB\)\./,
  );
  assert.match(md, /RSS \+100 MB, 2 threads \| \*\*no\*\* \|/);
});

test("real-size targets: measured rows checked, missing rows listed with their recorded reason", () => {
  const r = report();
  r.machine.scale = true;
  r.train["0.5b:seat"] = {
    model: "0.5b",
    method: "seat",
    batch: 4,
    seq: 256,
    klSeq: 60,
    ours: { stepSeconds: 10, tokensPerSec: 102.4, gflops: 100, peakRssMb: 7 * 1024 },
    torch: { stepSeconds: 13, tokensPerSec: 78.8, peakRssMb: 10 * 1024 },
    ratioVsTorch: 1.3,
    cpuRatioVsTorch: 1.4,
  };
  r.errors["train:1b:seat (ours)"] = "exit 1: seat: out of memory\nstack";
  r.skipped = { "train:0.5b:full (ours)": "not run: needs ~14.0 GB, 9.0 GB available (keeping 1.5 GB free)" };
  r.peers = {
    "0.5b:full": {
      model: "0.5b",
      method: "full",
      batch: 4,
      seq: 128,
      torch: { stepSeconds: 5, tokensPerSec: 102.4, peakRssMb: 12000 },
    },
  };
  r.probe = {
    "0.5b": {
      model: "0.5b",
      records: 8,
      without: { seconds: 10, cpuSeconds: 18, queries: 24, queriesPerSec: 2.4 },
      with: { seconds: 16, cpuSeconds: 30, queries: 24, queriesPerSec: 1.5 },
      abstainTimeRatio: 1.6,
      abstainCpuRatio: 30 / 18,
      peakRssMb: 3000,
    },
  };
  const t = checkTargets(r);
  const by = (s: string) => t.filter((x) => x.target.startsWith(s));
  assert.equal(by("0.5b:seat (4 x 256 + perturbed copies): peak RSS <= 8 GB")[0].met, true);
  assert.equal(by("0.5b:seat: peak RSS <= 0.8x")[0].met, true); // 7 / 10 = 0.70
  assert.equal(by("0.5b:seat: SEAT step >= 1.2x")[0].met, true);
  // the generic per-row rule does not add a second line for a real-shape row
  assert.equal(t.filter((x) => x.target.startsWith("0.5b:seat: SEAT")).length, 1);
  assert.equal(by("1b:seat: peak RSS <= 14 GB")[0].met, undefined);
  assert.equal(by("1b:seat: peak RSS <= 14 GB")[0].detail, "train:1b:seat (ours): exit 1: seat: out of memory");
  assert.equal(
    by("0.5b:full: full FT step >= 1.0x")[0].detail,
    "train:0.5b:full (ours): not run: needs ~14.0 GB, 9.0 GB available (keeping 1.5 GB free)",
  );
  assert.equal(by("135m:seat: SEAT step")[0].detail, "not measured in this run");
  const probe = by("probe 0.5b")[0];
  assert.equal(probe.met, false);
  assert.equal(probe.detail, "+67% CPU time (30.0 vs 18.0 CPU-s); wall 16.0 s vs 10.0 s");
  const md = benchMarkdown(r);
  assert.match(md, /\| 0\.5b:full \| 4×128 \| not run \| 102 \| – \| – \| – \| – \| not run \| 12000 \|/);
  assert.match(
    md,
    /\| 0\.5b \| 8, 24 \| 10\.0 s \(2\.40 questions\/s, 18\.0 CPU-s\) \| 16\.0 s \(1\.50 questions\/s, 30\.0 CPU-s\) \| \+67% \| \+60% \| 3000 \|/,
  );
  assert.match(md, /\*\*train:0\.5b:full \(ours\)\*\* not run: needs ~14\.0 GB/);
  assert.match(md, /\*\*train:1b:seat \(ours\) failed:\*\* exit 1: seat: out of memory\n/);
  // without the real-shape rows in the run, their targets are not listed at all
  r.machine.scale = false;
  assert.equal(checkTargets(r).filter((x) => x.target.startsWith("1b:")).length, 0);
});
