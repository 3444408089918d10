// Runtime and generation checks on SwiftShader (software Vulkan), run by webgpu.test.ts in a child
// process whose environment selects that adapter (training is checked there, through
// scripts/gpu-check.sh). Shapes are tiny: SwiftShader is ~100x slower than the CPU provider.
// Proves: device read-back, placement reporting, `auto` refusing a software adapter, the self-test
// comparing with the CPU, and generation of the embedded model with the KV cache on the device and
// no node falling back.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as E from "../../../src/engine";
import { createSession, selfTest, webgpuAdapterKind, releaseReaders } from "../../../src/runtime";
import { LlamaModel } from "../../../src/model/index";
import { EMBEDDED_MODEL_DIR } from "../../../src/world/paths";

test("the software adapter is what this process sees, and webgpu opens on it", async () => {
  assert.equal(webgpuAdapterKind(), "software", `VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES}`);
  const g = new E.Graph("probe");
  g.output("y", E.add(g.input("x", "float32", [2]), 1));
  const s = await createSession(E.toOnnx(g), { provider: "webgpu" });
  assert.equal(s.provider, "webgpu", s.fallbackReason);
  await s.release();
});

test("device-resident state: carried outputs stay on the device, read back exactly, placement is reported", async () => {
  const g = new E.Graph("counter");
  const c = g.input("c", "float32", [3]);
  const k = g.input("k", "int32", [3]);
  const next = E.add(E.mul(c, 2), E.cast(k, "float32"));
  g.output("c:next", next);
  g.output("total", E.sumAll(next));
  const logs: string[] = [];
  const s = await createSession(E.toOnnx(g), {
    provider: "webgpu",
    keepOnDevice: ["c:next"],
    log: (m) => logs.push(m),
    label: "counter",
  });
  await s.setState({ c: E.hostTensor("float32", [3], [1, -2, 0.5]) });
  const totals: number[] = [];
  for (let i = 0; i < 3; i++) {
    const out = await s.step(
      { k: { dtype: "int32", dims: [3], data: new Int32Array([1, 0, -1]) } },
      { carry: { "c:next": "c" }, fetch: ["total"] },
    );
    totals.push(Number(out.total!.data[0]));
  }
  assert.deepEqual(await s.stateLocations(), { c: "gpu-buffer" });
  // c -> 2c + k three times: [1,-2,0.5] -> [3,-4,0] -> [7,-8,-1] -> [15,-16,-3]
  assert.deepEqual(Array.from((await s.getState(["c"])).c!.data as Float32Array), [15, -16, -3]);
  assert.deepEqual(totals, [-1, -2, -4]);
  const p = await s.placement();
  assert.ok(p && p.nodes >= 3, JSON.stringify(p));
  assert.deepEqual(p.cpuNodes, [], "int32 Cast, Mul, Add, ReduceSum all have WebGPU kernels");
  assert.ok(
    logs.some((l) => /counter on webgpu: no node fell back: all \d+ compute nodes on webgpu/.test(l)),
    logs.join("\n"),
  );
  await s.release();

  // An int64 Cast has no WebGPU kernel: the placement names it, as an integer index op (a 1-D one
  // would count as shape arithmetic).
  const g2 = new E.Graph("int64");
  g2.output("y", E.cast(g2.input("i", "int64", [2, 2]), "float32"));
  const s2 = await createSession(E.toOnnx(g2), { provider: "webgpu" });
  await s2.run({ i: E.hostTensor("int64", [2, 2], [1, 2, 3, 4]) });
  const p2 = await s2.placement();
  assert.deepEqual(
    p2?.fallbacks.map((n) => `${n.op} ${n.inputs}`),
    ["Cast int64[2,2]"],
  );
  assert.deepEqual(p2?.floatFallbacks, []);
  await s2.release();
});

test("auto never picks the software adapter; the self-test compares a training step with the CPU", async () => {
  const s = await createSession(
    E.toOnnx(
      (() => {
        const g = new E.Graph("p");
        g.output("y", E.add(g.input("x", "float32", [1]), 1));
        return g;
      })(),
    ),
    { provider: "auto" },
  );
  assert.equal(s.provider, "cpu");
  assert.match(s.fallbackReason ?? "", /webgpu: only a software Vulkan driver/);
  await s.release();
  const refused = await selfTest("webgpu", "test");
  assert.equal(refused.ok, false);
  assert.equal(refused.relDiff, undefined, "a software adapter is refused before any test run");
  // Forced through on a small shape: same result as the CPU, but slower, so still refused.
  const v = await selfTest("webgpu", "test", { B: 8, D: 32, allowSoftware: true });
  assert.ok(v.relDiff !== undefined && v.relDiff <= 1e-3, JSON.stringify(v));
  assert.equal(v.ok, false, JSON.stringify(v));
  assert.match(v.reason, /took [\d.]+ ms, the CPU's [\d.]+ ms/);
});

test("generation on webgpu keeps the KV cache on the device and matches the CPU's greedy tokens", async () => {
  const logs: string[] = [];
  const gpu = await LlamaModel.load(EMBEDDED_MODEL_DIR, { provider: "webgpu", log: (m) => logs.push(m) });
  const cpu = await LlamaModel.load(EMBEDDED_MODEL_DIR, { provider: "cpu" });
  try {
    assert.equal(gpu.provider, "webgpu", gpu.fallbackReason);
    const prompt = gpu.tokenizer.encodePrompt("Where was Greifes Meizei born?");
    const [a] = await gpu.generate([prompt], { maxNewTokens: 4 });
    const [b] = await cpu.generate([prompt], { maxNewTokens: 4 });
    assert.deepEqual(a!.ids, b!.ids);
    assert.equal(gpu.kvCacheLocation, "gpu-buffer");
    assert.equal(cpu.kvCacheLocation, "cpu");
    const p = await gpu.placement();
    assert.ok(p, "placement known after the first run");
    assert.deepEqual(p.fallbacks, [], logs.join("\n"));
  } finally {
    await gpu.dispose();
    await cpu.dispose();
    await releaseReaders();
  }
});
