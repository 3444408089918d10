// LlamaModel (one inference session): generation with the KV cache equals recomputation without it,
// batching and padding do not change results, scores and hidden states match the reference.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as E from "../../../src/engine";
import {
  loadModelFolder,
  allWeightsF32,
  referenceForward,
  logSoftmaxRows,
  logSoftmax,
  logSoftmaxAt,
  LlamaModel,
  createModelGraph,
  llamaForward,
  openModelSession,
} from "../../../src/model";
import { LLAMA, QWEN2, maxAbsDiff, scratchCopy } from "./helpers";

const TOL = 1e-4;

for (const [name, dir] of [
  ["tiny-llama", LLAMA],
  ["tiny-qwen2", QWEN2],
] as const) {
  test(`${name}: cached generation == uncached, batched == one by one, greedy == reference argmax`, async () => {
    const f = loadModelFolder(dir);
    const m = await LlamaModel.load(f, { provider: "cpu" });
    try {
      const prompts = [
        f.tokenizer.encodePrompt("Who founded the company?"),
        f.tokenizer.encodePrompt("Where?"),
        [f.config.bosTokenId ?? 5, 72],
      ];
      const cached = await m.generate(prompts, { maxNewTokens: 12 });
      const uncached = await m.generate(prompts, { maxNewTokens: 12, useCache: false });
      assert.deepEqual(cached, uncached);
      const single = [];
      for (const p of prompts) single.push(...(await m.generate([p], { maxNewTokens: 12 })));
      assert.deepEqual(cached, single, "left padding in a batch does not change any row");
      const concurrent = await Promise.all(prompts.map((p) => m.generate([p], { maxNewTokens: 12 })));
      assert.deepEqual(concurrent.flat(), single, "concurrent calls do not share a KV cache");
      // independent check: greedy continuation from the float64 reference, step by step
      const w = allWeightsF32(f.weights);
      const seq = [...prompts[1]!];
      const V = f.config.vocabSize;
      const expected: number[] = [];
      for (let i = 0; i < cached[1]!.ids.length; i++) {
        const lg = referenceForward(f.config, (n) => w.get(n)!, seq).logits.subarray((seq.length - 1) * V);
        let best = 0;
        for (let j = 1; j < V; j++) if (lg[j]! > lg[best]!) best = j;
        expected.push(best);
        seq.push(best);
      }
      assert.deepEqual(cached[1]!.ids, expected);
      for (const r of cached) {
        assert.ok(r.ids.length <= 12);
        assert.ok(["eos", "length"].includes(r.finish));
        assert.equal(r.text, f.tokenizer.decode(r.ids));
      }
    } finally {
      await m.dispose();
    }
  });
}

test("stop conditions: max tokens, stop strings (text cut before them), extra stop ids, cancellation", async () => {
  const f = loadModelFolder(QWEN2);
  const m = await LlamaModel.load(f, { provider: "cpu" });
  try {
    const p = [f.tokenizer.encodePrompt("Who founded the company?")];
    const [free] = await m.generate(p, { maxNewTokens: 10 });
    assert.equal(free!.finish, "length");
    assert.equal(free!.ids.length, 10);
    const [three] = await m.generate(p, { maxNewTokens: 3 });
    assert.deepEqual(three!.ids, free!.ids.slice(0, 3));
    // stop on the 3rd generated token as an extra stop id: 2 tokens survive, finish "eos"
    const [byId] = await m.generate(p, { maxNewTokens: 10, stopIds: [free!.ids[2]!] });
    const firstAt = free!.ids.indexOf(free!.ids[2]!);
    assert.deepEqual(byId!.ids, free!.ids.slice(0, firstAt));
    assert.equal(byId!.finish, "eos");
    const piece = f.tokenizer.decode(free!.ids.slice(3, 5));
    const [byString] = await m.generate(p, { maxNewTokens: 10, stopStrings: [piece] });
    assert.equal(byString!.finish, "stop-string");
    assert.equal(byString!.text, free!.text.slice(0, free!.text.indexOf(piece)));
    const ac = new AbortController();
    ac.abort();
    const [cancelled] = await m.generate(p, { maxNewTokens: 10, signal: ac.signal });
    assert.equal(cancelled!.finish, "cancelled");
    assert.equal(cancelled!.ids.length, 1, "stops at the first check between decode steps");
  } finally {
    await m.dispose();
  }
});

test("score, nextTokenLogProbs and hiddenStates match the float64 reference", async () => {
  const f = loadModelFolder(LLAMA);
  const m = await LlamaModel.load(f, { provider: "cpu", batchSize: 2 });
  try {
    const w = allWeightsF32(f.weights);
    const V = f.config.vocabSize,
      D = f.config.hiddenSize;
    const prompt = f.tokenizer.encodePrompt("Where was she born?");
    const conts = [f.tokenizer.encode(" I don't know."), f.tokenizer.encode(" In Lintel."), [7]];
    const [res] = await m.score([{ prompt, continuations: conts }]);
    conts.forEach((cont, k) => {
      const full = [...prompt, ...cont];
      const lp = logSoftmaxRows(referenceForward(f.config, (n) => w.get(n)!, full).logits, V);
      const expected = cont.map((tok, j) => lp[(prompt.length - 1 + j) * V + tok]!);
      assert.ok(maxAbsDiff(res!.tokenLogProbs[k]!, expected) < TOL, `continuation ${k}`);
      assert.ok(Math.abs(res!.total[k]! - expected.reduce((a, b) => a + b, 0)) < TOL * cont.length);
    });
    const [next] = await m.nextTokenLogProbs([prompt]);
    const ref = referenceForward(f.config, (n) => w.get(n)!, prompt);
    assert.ok(maxAbsDiff(next!, logSoftmaxRows(ref.logits, V).subarray((prompt.length - 1) * V)) < TOL);
    const short = prompt.slice(0, 5);
    const hs = await m.hiddenStates([
      { ids: prompt, positions: [-1, 0], layers: [0, 1, -1] },
      { ids: short, positions: [2], layers: [2] },
    ]);
    const refShort = referenceForward(f.config, (n) => w.get(n)!, short);
    const at = (h: Float64Array, t: number) => h.subarray(t * D, (t + 1) * D);
    assert.ok(maxAbsDiff(hs[0]![0]![0]!, at(ref.hiddenStates[0]!, prompt.length - 1)) < TOL);
    assert.ok(maxAbsDiff(hs[0]![1]![1]!, at(ref.hiddenStates[1]!, 0)) < TOL);
    assert.ok(maxAbsDiff(hs[0]![2]![0]!, at(ref.hiddenStates[2]!, prompt.length - 1)) < TOL);
    assert.ok(maxAbsDiff(hs[1]![0]![0]!, at(refShort.hiddenStates[2]!, 2)) < TOL, "second row of a padded batch");
    await assert.rejects(m.generate([[V + 3]]), /token id \d+ is outside the vocabulary/);
  } finally {
    await m.dispose();
  }
});

test("a worker-thread session (for the extension host) gives the same generations", async () => {
  const f = loadModelFolder(LLAMA);
  const inProcess = await LlamaModel.load(f, { provider: "cpu" });
  const worker = await LlamaModel.load(f, { provider: "cpu", worker: true });
  try {
    const prompts = [f.tokenizer.encodePrompt("Who?"), f.tokenizer.encodePrompt("Where was she born?")];
    assert.deepEqual(
      await worker.generate(prompts, { maxNewTokens: 8 }),
      await inProcess.generate(prompts, { maxNewTokens: 8 }),
    );
  } finally {
    await inProcess.dispose();
    await worker.dispose();
  }
});

test("Mistral sliding-window attention: training graph, inference graph and cached generation follow the window", async () => {
  const { dir, cleanup } = scratchCopy(LLAMA);
  try {
    const cfgFile = join(dir, "config.json");
    writeFileSync(
      cfgFile,
      JSON.stringify({
        ...JSON.parse(readFileSync(cfgFile, "utf8")),
        architectures: ["MistralForCausalLM"],
        sliding_window: 3,
      }),
    );
    const f = loadModelFolder(dir);
    assert.equal(f.config.slidingWindow, 3);
    const w = allWeightsF32(f.weights);
    const ids = [304, 40, 41, 42, 43, 44, 45, 46];
    const ref = referenceForward(f.config, (n) => w.get(n)!, ids);
    const full = referenceForward({ ...f.config, slidingWindow: null }, (n) => w.get(n)!, ids);
    assert.ok(maxAbsDiff(ref.logits, full.logits) > 1e-3, "the window changes the result (the test can fail)");
    const m = createModelGraph(f);
    const idt = m.graph.input("ids", "int64", [1, ids.length]);
    m.graph.output("logits", llamaForward(m.tuned, idt).logits);
    const s = await openModelSession(E.toOnnx(m.graph), f.weights, { provider: "cpu" });
    try {
      const r = await s.run({ ids: E.hostTensor("int64", [1, ids.length], ids) });
      assert.ok(maxAbsDiff(r.logits!.data as Float32Array, ref.logits) < TOL, "training graph");
    } finally {
      await s.release();
    }
    const model = await LlamaModel.load(f, { provider: "cpu" });
    try {
      const [lg] = await model.logits([ids]);
      assert.ok(maxAbsDiff(lg!, ref.logits) < TOL, "inference graph");
      const prompts = [ids.slice(0, 2), ids];
      assert.deepEqual(
        await model.generate(prompts, { maxNewTokens: 6 }),
        await model.generate(prompts, { maxNewTokens: 6, useCache: false }),
      );
    } finally {
      await model.dispose();
    }
  } finally {
    cleanup();
  }
});

test("overrides (fine-tuned weights not yet exported) change the loaded model like the reference says", async () => {
  const f = loadModelFolder(QWEN2);
  const w = allWeightsF32(f.weights);
  const name = "model.embed_tokens.weight"; // tied: changes both the embedding and the LM head
  const changed = w.get(name)!.map((v, i) => (i % 5 === 0 ? -v : v));
  const m = await LlamaModel.load(f, { provider: "cpu", overrides: new Map([[name, changed]]) });
  try {
    const ids = [3, 50, 120, 7];
    const [lg] = await m.logits([ids]);
    const all = new Map([...w, [name, changed]]);
    assert.ok(maxAbsDiff(lg!, referenceForward(f.config, (n) => all.get(n)!, ids).logits) < TOL);
  } finally {
    await m.dispose();
  }
});

test("logSoftmaxAt is logSoftmax's entry to the bit, for rows inside a larger buffer", () => {
  const V = 997;
  const rows = 5;
  const data = new Float32Array(rows * V);
  // Logits of several scales, with ties at the maximum and a very negative tail.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  for (let i = 0; i < data.length; i++) data[i] = rand() * (1 + (i % 3) * 20);
  data[2 * V + 5] = data[2 * V + 9] = 99;
  data[3 * V + 1] = -1e30;
  for (let r = 0; r < rows; r++) {
    const full = logSoftmax(data.subarray(r * V, (r + 1) * V));
    for (let i = 0; i < V; i++) assert.equal(logSoftmaxAt(data, r * V, V, i), full[i], `row ${r} entry ${i}`);
  }
});
