// Where CUDA provider libraries come from and where they go, for SEAT: Set Up GPU Execution Provider.
// onnxruntime-node loads them from beside its binding, bin/napi-v6/<platform>/<arch>/ (its postinstall
// puts libonnxruntime_providers_{shared,cuda}.so there from the Microsoft.ML.OnnxRuntime.Gpu.Linux
// NuGet package, runtimes/linux-x64/native/); the VSIX never runs that postinstall, so the user points
// this command at a folder holding them: the libraries themselves, an extracted onnxruntime GPU
// release (lib/) or an extracted NuGet package (runtimes/<rid>/native/). No vscode import: unit-tested.
import * as fs from "node:fs";
import * as path from "node:path";

export function cudaLibraryNames(platform = process.platform): string[] {
  return platform === "win32"
    ? ["onnxruntime_providers_shared.dll", "onnxruntime_providers_cuda.dll"]
    : ["libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"];
}

/** The binding folder inside an onnxruntime-node package root. */
export function ortBindingDir(packageRoot: string, platform = process.platform, arch = process.arch): string {
  return path.join(packageRoot, "bin", "napi-v6", platform, arch);
}

export type CudaSource = { ok: true; dir: string; files: string[] } | { ok: false; message: string };

/** Finds the CUDA provider libraries in `folder` or the sub-folders releases and NuGet packages use. */
export function findCudaLibraries(folder: string, platform = process.platform, arch = process.arch): CudaSource {
  const names = cudaLibraryNames(platform);
  const rid = `${platform === "win32" ? "win" : platform}-${arch}`;
  const candidates = [folder, path.join(folder, "lib"), path.join(folder, "runtimes", rid, "native")];
  for (const dir of candidates) {
    if (names.every((n) => fs.existsSync(path.join(dir, n))))
      return { ok: true, dir, files: names.map((n) => path.join(dir, n)) };
  }
  const partial = candidates.find((d) => names.some((n) => fs.existsSync(path.join(d, n))));
  if (partial) {
    const missing = names.filter((n) => !fs.existsSync(path.join(partial, n)));
    return { ok: false, message: `${partial} has only part of the CUDA provider: ${missing.join(", ")} is missing` };
  }
  return {
    ok: false,
    message: `${folder} holds no ${names.join(" / ")} (looked in it, lib/ and runtimes/${rid}/native/); take them from the onnxruntime 1.30 GPU release for ${rid}`,
  };
}

/** Copies the libraries beside the binding; returns the copied paths. Throws a readable error. */
export function installCudaLibraries(src: { dir: string; files: string[] }, bindingDir: string): string[] {
  if (!fs.existsSync(path.join(bindingDir, "onnxruntime_binding.node"))) {
    throw new Error(`${bindingDir} is not an onnxruntime-node binding folder (no onnxruntime_binding.node)`);
  }
  const out: string[] = [];
  for (const f of src.files) {
    const to = path.join(bindingDir, path.basename(f));
    fs.copyFileSync(f, to);
    out.push(to);
  }
  return out;
}

/** Both CUDA libraries are beside the binding (what onnxruntime-node needs to offer cuda). */
export function cudaInstalled(bindingDir: string, platform = process.platform): boolean {
  return cudaLibraryNames(platform).every((n) => fs.existsSync(path.join(bindingDir, n)));
}
