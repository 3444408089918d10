// Runtime: provider fallback with a readable reason, feed validation messages, worker-thread sessions,
// session-held state, and models with external data (our own data file and a .safetensors blob).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, existsSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "../../../src/engine";
import {
  createSession,
  createWorkerSession,
  FeedError,
  writeModel,
  builtProviders,
  linkExternal,
  readableProviderError,
} from "../../../src/runtime";

function affine(): E.Graph {
  const g = new E.Graph("affine");
  const x = g.input("x", "float32", ["B", 3]);
  const w = g.input("w", "float32", [3, 2]);
  g.output("y", E.add(E.matMul(x, w), 1));
  return g;
}
const x2 = () => E.hostTensor("float32", [2, 3], [1, 2, 3, 4, 5, 6]);
const w = () => E.hostTensor("float32", [3, 2], [1, 0, 0, 1, 1, 1]);

test("requesting webgpu without a GPU falls back to CPU and says why", async (t) => {
  if (!builtProviders().includes("webgpu")) {
    t.diagnostic("this onnxruntime build has no webgpu: checking the 'not part of this build' reason");
  }
  const logs: string[] = [];
  const s = await createSession(E.toOnnx(affine()), { provider: "webgpu", log: (m) => logs.push(m) });
  // this project's test machines have no GPU; if one appears the session is simply on webgpu
  if (s.provider === "webgpu") {
    assert.equal(s.fallbackReason, undefined);
    await s.release();
    return;
  }
  assert.equal(s.provider, "cpu");
  assert.match(
    s.fallbackReason ?? "",
    /^webgpu: (no usable GPU adapter|no Vulkan loader|not part of this onnxruntime build)/,
  );
  assert.ok(
    logs.some((l) => l.includes("using cpu") && l.includes("requested webgpu fell back")),
    logs.join("\n"),
  );
  const out = await s.run({ x: x2(), w: w() });
  assert.deepEqual(Array.from(out.y!.data as Float32Array), [5, 6, 11, 12]);
  await s.release();
});

test("auto picks a provider and reports every one it skipped", async () => {
  const s = await createSession(E.toOnnx(affine()), { provider: "auto" });
  if (s.provider === "cpu") assert.match(s.fallbackReason ?? "", /webgpu: .*cuda: /);
  await s.release();
  await assert.rejects(
    createSession(E.toOnnx(affine()), { provider: "tpu" as never }),
    /unknown execution provider 'tpu'/,
  );
});

test("feed errors name missing, unknown and mis-shaped inputs", async () => {
  const s = await createSession(E.toOnnx(affine()), { provider: "cpu", label: "affine.onnx" });
  await assert.rejects(
    s.run({ x: x2() }),
    (e: Error) => e instanceof FeedError && /affine\.onnx: missing input w: float32\[3,2\]/.test(e.message),
  );
  await assert.rejects(s.run({ x: x2(), w: w(), z: x2() }), /unknown input z: float32\[2,3\] \(the model takes x, w\)/);
  await assert.rejects(
    s.run({ x: x2(), w: E.hostTensor("float32", [2, 3], [1, 2, 3, 4, 5, 6]) }),
    /input w: dim 0 must be 3, got float32\[2,3\]/,
  );
  await assert.rejects(
    s.run({ x: E.hostTensor("float64", [2, 3], [1, 2, 3, 4, 5, 6]), w: w() }),
    /input x: expected x: float32\[B,3\], got float64\[2,3\]/,
  );
  await assert.rejects(s.run({ x: x2(), w: w() }, ["nope"]), /unknown output nope \(the model returns y\)/);
  await s.release();
});

test("a worker-thread session runs steps with state kept on its side", async () => {
  const g = new E.Graph("counter");
  const c = g.input("c", "float32", [2]);
  const inc = g.input("inc", "float32", []);
  const next = E.add(c, inc);
  g.output("c:next", next);
  g.output("total", E.sumAll(next));
  const s = await createWorkerSession(E.toOnnx(g), { provider: "cpu" });
  await s.setState({ c: E.hostTensor("float32", [2], [1, 2]) });
  let last = 0;
  for (let i = 0; i < 3; i++) {
    const o = await s.step(
      { inc: E.hostTensor("float32", [], [1]) },
      { carry: { "c:next": "c" }, fetch: ["total", "c:next"] },
    );
    assert.deepEqual(Array.from(o["c:next"]!.data as Float32Array), [2 + i, 3 + i]);
    last = (o.total!.data as Float32Array)[0]!;
  }
  assert.equal(last, 3 + 6);
  assert.deepEqual(Array.from((await s.getState(["c"])).c!.data as Float32Array), [4, 5]);
  await assert.rejects(s.run({}), (e: Error) => e instanceof FeedError && /missing input inc/.test(e.message));
  await s.release();
});

test("carried state written in place: into adopted arrays and the session's own buffers, never into the caller's", async () => {
  const g = new E.Graph("decay");
  const c = g.input("c", "float32", [3]);
  g.output("c:next", E.sub(E.mul(c, 2), 1));
  const s = await createSession(E.toOnnx(g), { provider: "cpu" });
  const opts = { carry: { "c:next": "c" }, fetch: [], inPlace: ["c:next"] };
  const kept = new Float32Array([1, 2, 3]);
  await s.setState({ c: E.hostTensor("float32", [3], kept) });
  await s.step({}, opts);
  assert.deepEqual(Array.from(kept), [1, 2, 3], "an array the caller keeps is never written");
  const own = (await s.getState(["c"], { view: true })).c!.data as Float32Array;
  assert.deepEqual(Array.from(own), [1, 3, 5]);
  await s.step({}, opts);
  const after = (await s.getState(["c"], { view: true })).c!.data as Float32Array;
  assert.equal(after.buffer, own.buffer, "the session's buffer is reused, no second copy");
  assert.deepEqual(Array.from(after), [1, 5, 9]);
  const handed = new Float32Array([0, 1, 2]);
  await s.setState({ c: E.hostTensor("float32", [3], handed) }, { adopt: true });
  await s.step({}, opts);
  assert.deepEqual(Array.from(handed), [-1, 1, 3], "an adopted array holds the new state");
  await s.release();
});

test("a model with external data loads from a path and from bytes", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-ext-"));
  try {
    const g = new E.Graph("ext");
    const x = g.input("x", "float32", [4]);
    const big = Float32Array.from({ length: 4096 }, (_, i) => i);
    const table = g.constant("table", E.hostTensor("float32", [1024, 4], big));
    g.output("y", E.matMul(E.reshape(x, [1, 4]), E.transpose(table, [1, 0])));
    const m = E.toOnnx(g, { externalThreshold: 1024, externalFile: "ext.data" });
    assert.equal(m.external.length, 1);
    assert.ok(m.model.byteLength < 4096, `weights were not moved out of the proto (${m.model.byteLength} bytes)`);
    const path = writeModel(dir, "ext.onnx", m);
    assert.ok(existsSync(join(dir, "ext.data")) && statSync(join(dir, "ext.data")).size >= 16384);
    const feeds = { x: E.hostTensor("float32", [4], [1, 0, 0, 1]) };
    const s1 = await createSession(path, { provider: "cpu" });
    const y1 = (await s1.run(feeds)).y!.data as Float32Array;
    assert.deepEqual([y1[0], y1[1], y1[1023]], [0 + 3, 4 + 7, 4092 + 4095]);
    await s1.release();
    const s2 = await createSession(m, { provider: "cpu" });
    assert.deepEqual(Array.from((await s2.run(feeds)).y!.data as Float32Array), Array.from(y1));
    await s2.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an initializer can point straight into a .safetensors file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-st-"));
  try {
    // a minimal safetensors file: u64 header length, JSON header, raw little-endian bytes
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b = Float32Array.from([10, 20]);
    const header = JSON.stringify({
      a: { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] },
      b: { dtype: "F32", shape: [2], data_offsets: [24, 32] },
    });
    const hb = Buffer.from(header);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hb.length));
    writeFileSync(
      join(dir, "model.safetensors"),
      Buffer.concat([len, hb, Buffer.from(a.buffer), Buffer.from(b.buffer)]),
    );
    const base = 8 + hb.length;
    const g = new E.Graph("st");
    const x = g.input("x", "float32", [3]);
    const A = g.constant("a", {
      dtype: "float32",
      dims: [2, 3],
      external: { location: "model.safetensors", offset: base, length: 24 },
    });
    const Bv = g.constant("b", {
      dtype: "float32",
      dims: [2],
      external: { location: "model.safetensors", offset: base + 24, length: 8 },
    });
    g.output("y", E.add(E.reshape(E.matMul(A, E.reshape(x, [3, 1])), [2]), Bv));
    const path = writeModel(dir, "st.onnx", E.toOnnx(g));
    const s = await createSession(path, { provider: "cpu" });
    assert.deepEqual(
      Array.from((await s.run({ x: E.hostTensor("float32", [3], [1, 1, 1]) })).y!.data as Float32Array),
      [16, 35],
    );
    await s.release();
    // from bytes, the runtime reads referenced files from modelDir
    const s2 = await createSession(E.toOnnx(g), { provider: "cpu", modelDir: dir });
    assert.deepEqual(
      Array.from((await s2.run({ x: E.hostTensor("float32", [3], [1, 0, 0]) })).y!.data as Float32Array),
      [11, 24],
    );
    await s2.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a worker session leaves the caller's event loop free; an in-process run blocks it", async () => {
  // ~40 chained 384x384 matmuls: long enough to see the difference, short on an idle machine
  const g = new E.Graph("busy");
  const x = g.input("x", "float32", [384, 384]);
  let y = x;
  for (let i = 0; i < 40; i++) y = E.mul(E.matMul(y, x), 1 / 384);
  g.output("y", E.sumAll(y));
  const feeds = { x: E.hostTensor("float32", [384, 384], new Float32Array(384 * 384).fill(0.5)) };
  const measure = async (s: Awaited<ReturnType<typeof createSession>>) => {
    await s.run(feeds); // warm-up (arena, prepacking)
    let last = performance.now(),
      maxGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 2);
    const t0 = performance.now();
    await s.run(feeds);
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    maxGap = Math.max(maxGap, performance.now() - last);
    await s.release();
    return { maxGap, elapsed };
  };
  const local = await measure(await createSession(E.toOnnx(g), { provider: "cpu" }));
  const worker = await measure(await createWorkerSession(E.toOnnx(g), { provider: "cpu" }));
  assert.ok(
    local.maxGap >= 0.8 * local.elapsed,
    `in-process run should block: gap ${local.maxGap.toFixed(0)} of ${local.elapsed.toFixed(0)} ms`,
  );
  assert.ok(
    worker.maxGap < 0.5 * worker.elapsed,
    `worker run blocked the loop: gap ${worker.maxGap.toFixed(0)} of ${worker.elapsed.toFixed(0)} ms`,
  );
});

test("linkExternal makes a weights file usable beside a model written elsewhere", async () => {
  const src = mkdtempSync(join(tmpdir(), "seat-src-"));
  const dst = mkdtempSync(join(tmpdir(), "seat-dst-"));
  try {
    writeFileSync(join(src, "w.bin"), Buffer.from(Float32Array.of(3, 4).buffer));
    const g = new E.Graph("linked");
    const x = g.input("x", "float32", [2]);
    g.output(
      "y",
      E.mul(x, g.constant("w", { dtype: "float32", dims: [2], external: { location: "w.bin", offset: 0, length: 8 } })),
    );
    linkExternal(dst, "w.bin", join(src, "w.bin"));
    linkExternal(dst, "w.bin", join(src, "w.bin")); // idempotent
    const s = await createSession(writeModel(dst, "m.onnx", E.toOnnx(g)), { provider: "cpu" });
    assert.deepEqual(
      Array.from((await s.run({ x: E.hostTensor("float32", [2], [1, 2]) })).y!.data as Float32Array),
      [3, 8],
    );
    await s.release();
  } finally {
    rmSync(src, { recursive: true, force: true });
    rmSync(dst, { recursive: true, force: true });
  }
});

test("onnxruntime's provider errors are shortened to one readable sentence", () => {
  // messages as onnxruntime-node 1.30 reports them on a machine without a GPU / without CUDA libraries
  const webgpu = new Error(
    "/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters",
  );
  assert.equal(
    readableProviderError("webgpu", webgpu),
    'webgpu: no usable GPU adapter ("Failed to get a WebGPU adapter: No supported adapters")',
  );
  const cuda = new Error("OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library");
  assert.equal(
    readableProviderError("cuda", cuda),
    'cuda: its provider libraries are not installed ("Failed to load shared library")',
  );
});
