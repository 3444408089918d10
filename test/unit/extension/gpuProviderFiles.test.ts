// SEAT: Set Up GPU Execution Provider's file handling against onnxruntime-node's real layout: the
// binding folder is bin/napi-v6/<platform>/<arch> of the installed package (checked here against the
// package itself), and CUDA libraries are found in a plain folder, an extracted GPU release (lib/) or
// an extracted NuGet package (runtimes/<rid>/native/), then copied beside the binding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import {
  cudaInstalled,
  cudaLibraryNames,
  findCudaLibraries,
  installCudaLibraries,
  ortBindingDir,
} from "../../../src/extension/gpuProviderFiles";
import { installedProviders, autoProviderText } from "../../../src/extension/models/modelInfo";

test("the binding folder is where the installed onnxruntime-node keeps its binding", () => {
  const root = dirname(dirname(require.resolve("onnxruntime-node")));
  const dir = ortBindingDir(root);
  assert.ok(existsSync(join(dir, "onnxruntime_binding.node")), dir);
  // its own install script copies the CUDA libraries to this folder under these names
  const meta = readFileSync(join(root, "script", "install-metadata.js"), "utf8");
  for (const n of cudaLibraryNames("linux")) assert.ok(meta.includes(`'./${n}'`), n);
  assert.match(
    readFileSync(join(root, "script", "install.js"), "utf8"),
    /path\.join\(__dirname, '\.\.', 'bin\/napi-v6', PLATFORM\)/,
  );
});

test("CUDA libraries are found in the three layouts, a half set is named, and install copies beside the binding", () => {
  const dir = mkdtempSync(join(tmpdir(), "seat-cuda-"));
  try {
    const binding = ortBindingDir(join(dir, "ort"), "linux", "x64");
    mkdirSync(binding, { recursive: true });
    writeFileSync(join(binding, "onnxruntime_binding.node"), "");
    const put = (d: string, names: string[]) => {
      mkdirSync(d, { recursive: true });
      for (const n of names) writeFileSync(join(d, n), `lib ${n}`);
    };
    const names = cudaLibraryNames("linux");
    put(join(dir, "plain"), names);
    put(join(dir, "release", "lib"), names);
    put(join(dir, "nuget", "runtimes", "linux-x64", "native"), names);
    put(join(dir, "half"), [names[1]!]);
    for (const [src, at] of [
      ["plain", "plain"],
      ["release", "release/lib"],
      ["nuget", "nuget/runtimes/linux-x64/native"],
    ] as const) {
      const f = findCudaLibraries(join(dir, src), "linux", "x64");
      assert.ok(f.ok, src);
      assert.equal(f.dir, join(dir, at));
    }
    const half = findCudaLibraries(join(dir, "half"), "linux", "x64");
    assert.ok(
      !half.ok && /only part of the CUDA provider: libonnxruntime_providers_shared\.so is missing/.test(half.message),
    );
    const none = findCudaLibraries(join(dir, "ort"), "linux", "x64");
    assert.ok(
      !none.ok &&
        /holds no libonnxruntime_providers_shared\.so \/ libonnxruntime_providers_cuda\.so/.test(none.message),
    );

    assert.equal(cudaInstalled(binding, "linux"), false);
    assert.deepEqual(installedProviders(binding, "linux"), ["cpu", "webgpu"]);
    const f = findCudaLibraries(join(dir, "nuget"), "linux", "x64");
    assert.ok(f.ok);
    installCudaLibraries(f, binding);
    assert.equal(cudaInstalled(binding, "linux"), true);
    assert.deepEqual(installedProviders(binding, "linux"), ["cpu", "webgpu", "cuda"]);
    assert.equal(readFileSync(join(binding, names[1]!), "utf8"), `lib ${names[1]}`);
    assert.throws(() => installCudaLibraries(f, join(dir, "plain")), /not an onnxruntime-node binding folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the Models view says why auto runs where it does", () => {
  const v = (provider: string, ok: boolean, reason: string, at: string) => ({
    provider,
    ok,
    reason,
    key: `${provider}${at}`,
    at,
  });
  assert.equal(
    autoProviderText(["webgpu"], {}, "software"),
    "auto: cpu (webgpu: only a software Vulkan driver (~100x slower than CPU))",
  );
  assert.equal(autoProviderText([], {}, "none"), "auto: cpu (no GPU provider installed)");
  const verdicts = {
    a: v("cuda", false, "self-test: a training step took 9 ms, the CPU's 4 ms", "2026-01-01"),
    b: v("webgpu", true, "self-test passed: 2 ms per step vs CPU 40 ms, results within 1e-6", "2026-01-02"),
  };
  assert.equal(
    autoProviderText(["webgpu", "cuda"], verdicts, "hardware"),
    "auto: webgpu (self-test passed: 2 ms per step vs CPU 40 ms, results within 1e-6)",
  );
  assert.equal(
    autoProviderText(["cuda"], verdicts, "none"),
    "auto: cpu (cuda: self-test: a training step took 9 ms, the CPU's 4 ms)",
  );
  assert.match(autoProviderText(["webgpu"], {}, "hardware"), /webgpu: not self-tested yet/);
});
