// GPU support pieces that need no GPU: reading node placement from an onnxruntime profile, telling
// hardware from software Vulkan drivers by their manifests, the SwiftShader test environment, and
// `auto` explaining why it stayed on the CPU.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  describePlacement,
  parseProfile,
  softwareAdapterEnv,
  vulkanDrivers,
  webgpuAdapterKind,
} from "../../../src/runtime";

const ev = (name: string, op: string, provider: string, inputs: Record<string, number[]>[] = [{ float: [2, 3] }]) => ({
  cat: "Node",
  name: `${name}_kernel_time`,
  args: { op_name: op, provider, input_type_shape: inputs },
});

test("placement: CPU nodes of a GPU session's profile, copies counted apart, repeats once", () => {
  const events = [
    { cat: "Session", name: "session_initialization", args: {} },
    ev("Cast_1", "Cast", "CPUExecutionProvider"),
    ev("Memcpy", "MemcpyFromHost", "WebGpuExecutionProvider"),
    ev("MatMul_0", "MatMul", "WebGpuExecutionProvider"),
    ev("Equal_4", "Equal", "CPUExecutionProvider", [{ int64: [2, 8] }, { int64: [] }]),
    ev("Concat_9", "Concat", "CPUExecutionProvider", [{ int64: [2] }, { int64: [1] }]), // shape arithmetic
    ev("MatMul_0", "MatMul", "WebGpuExecutionProvider"), // a second run repeats the nodes
    { cat: "Node", name: "MatMul_0_fence_before", args: {} },
  ];
  const p = parseProfile(events);
  const cast = { name: "Cast_1", op: "Cast", inputs: "float[2,3]", shape: false, integer: false };
  const equal = { name: "Equal_4", op: "Equal", inputs: "int64[2,8], int64[]", shape: false, integer: true };
  const concat = { name: "Concat_9", op: "Concat", inputs: "int64[2], int64[1]", shape: true, integer: true };
  assert.deepEqual(p, {
    nodes: 4,
    cpuNodes: [cast, equal, concat],
    fallbacks: [cast, equal],
    floatFallbacks: [cast],
    copies: 1,
  });
  assert.equal(
    describePlacement("webgpu", p),
    "2 of 4 nodes fell back to CPU (1 with floating-point inputs): Cast x1 (Cast_1: float[2,3]), Equal x1 (Equal_4: int64[2,8], int64[]); 1 shape computations on the CPU as onnxruntime intends; 1 host<->device copies",
  );
  assert.match(
    describePlacement("webgpu", { ...p, fallbacks: [equal], floatFallbacks: [] }),
    /^1 of 4 nodes fell back to CPU \(none with floating-point inputs\): Equal x1/,
  );
  assert.equal(
    describePlacement("webgpu", { nodes: 7, cpuNodes: [concat], fallbacks: [], floatFallbacks: [], copies: 2 }),
    "no node fell back: all 6 compute nodes on webgpu; 1 shape computations on the CPU as onnxruntime intends; 2 host<->device copies",
  );
});

test("Vulkan drivers: software rasterizers are told apart from GPUs by their manifests", () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-icd-"));
  try {
    const icd = (n: string, lib: string) => {
      const f = join(dir, n);
      writeFileSync(f, JSON.stringify({ file_format_version: "1.0.0", ICD: { library_path: lib } }));
      return f;
    };
    const sw = icd("vk_swiftshader_icd.json", "./libvk_swiftshader.so");
    const lvp = icd("lvp_icd.x86_64.json", "/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so");
    const nv = icd("nvidia_icd.json", "libGLX_nvidia.so.0");
    assert.equal(webgpuAdapterKind("linux", { VK_ICD_FILENAMES: `${sw}:${lvp}` }), "software");
    assert.equal(webgpuAdapterKind("linux", { VK_ICD_FILENAMES: `${sw}:${nv}` }), "hardware");
    assert.equal(webgpuAdapterKind("linux", { VK_DRIVER_FILES: join(dir, "absent.json") }), "none");
    assert.deepEqual(
      vulkanDrivers({ VK_ICD_FILENAMES: nv }).map((d) => [d.library, d.software]),
      [["libGLX_nvidia.so.0", false]],
    );
    // the standard folders, found through XDG_DATA_DIRS
    mkdirSync(join(dir, "share", "vulkan", "icd.d"), { recursive: true });
    writeFileSync(
      join(dir, "share", "vulkan", "icd.d", "radeon_icd.json"),
      JSON.stringify({ ICD: { library_path: "libvulkan_radeon.so" } }),
    );
    assert.equal(
      webgpuAdapterKind("linux", { XDG_DATA_DIRS: join(dir, "share"), XDG_CONFIG_DIRS: join(dir, "none") }),
      "hardware",
    );
    assert.equal(webgpuAdapterKind("darwin", {}), "hardware");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the SwiftShader environment needs both the driver and the loader", () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-chromium-"));
  try {
    assert.equal(softwareAdapterEnv({}, dir), null);
    writeFileSync(join(dir, "vk_swiftshader_icd.json"), "{}");
    assert.equal(softwareAdapterEnv({}, dir), null);
    writeFileSync(join(dir, "libvulkan.so.1"), "");
    const env = softwareAdapterEnv({ LD_LIBRARY_PATH: "/opt/x" }, dir)!;
    assert.equal(env.LD_LIBRARY_PATH, `${dir}:/opt/x`);
    assert.equal(env.VK_ICD_FILENAMES, join(dir, "vk_swiftshader_icd.json"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
