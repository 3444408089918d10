// SEAT: Set Up GPU Execution Provider. The VSIX never runs onnxruntime-node's postinstall (it would
// download CUDA libraries at install time), so GPU providers are an explicit opt-in here: WebGPU is
// built in and only needs a Vulkan driver; CUDA needs provider libraries the user supplies, which this
// command copies beside the onnxruntime binding after asking.
import * as vscode from "vscode";
import * as fs from "node:fs";
import type { ShellImpl } from "./shellImpl";
import { installedProviders } from "./models/modelInfo";
import { cudaLibraryNames, findCudaLibraries, installCudaLibraries } from "./gpuProviderFiles";
// what kind of Vulkan driver WebGPU would get
import { webgpuAdapterKind } from "../platform/vulkanDrivers";

const CUDA_LIBS = cudaLibraryNames();

export async function setupGpu(context: vscode.ExtensionContext, shell: ShellImpl, ortBin: string): Promise<void> {
  const eps = installedProviders(ortBin);
  const vulkan =
    process.platform === "linux"
      ? [
          "/usr/lib/x86_64-linux-gnu/libvulkan.so.1",
          "/usr/lib/aarch64-linux-gnu/libvulkan.so.1",
          "/usr/lib64/libvulkan.so.1",
        ].some((f) => fs.existsSync(f))
      : true;
  const adapter = webgpuAdapterKind();
  type Pick = vscode.QuickPickItem & { action: "webgpu" | "cuda" | "cpu" | "docs" };
  const items: Pick[] = [
    {
      action: "webgpu",
      label: "Use WebGPU",
      description: !vulkan
        ? "built in; no Vulkan loader found"
        : adapter === "software"
          ? "built in; only a software Vulkan driver found"
          : "built in",
      detail: !vulkan
        ? "Install your GPU's Vulkan driver and libvulkan1 first; without an adapter SEAT falls back to CPU."
        : adapter === "software"
          ? "Only SwiftShader/lavapipe (software) is installed: ~100x slower than CPU, so Auto keeps to the CPU. Install your GPU's Vulkan driver."
          : "Runs on any GPU with a Vulkan (Linux), D3D12 (Windows) or Metal (macOS) driver. Auto uses it once a one-time self-test against the CPU passes.",
    },
    {
      action: "cuda",
      label: eps.includes("cuda") ? "Use CUDA" : "Install CUDA provider libraries…",
      description: eps.includes("cuda") ? "installed" : "NVIDIA, CUDA 12 + cuDNN 9",
      detail: eps.includes("cuda")
        ? "The CUDA provider libraries are beside the onnxruntime binding."
        : `Copies ${CUDA_LIBS.join(" and ")} from a folder you choose (from the onnxruntime 1.30 GPU release for your platform) beside the binding.`,
    },
    { action: "cpu", label: "Use CPU only", detail: "Always works; slowest." },
    { action: "docs", label: "Read the GPU setup notes", detail: "What each provider needs and how SEAT chooses one." },
  ];
  if (process.platform !== "linux" && process.platform !== "win32") items.splice(1, 1);
  const pick = await vscode.window.showQuickPick(items, {
    title: `SEAT: GPU setup — installed here: ${eps.join(", ")}`,
  });
  if (!pick) return;
  const cfg = vscode.workspace.getConfiguration("seatTuner");
  switch (pick.action) {
    case "docs":
      await vscode.commands.executeCommand(
        "markdown.showPreview",
        vscode.Uri.joinPath(context.extensionUri, "media", "gpu-setup.md"),
      );
      return;
    case "cpu":
    case "webgpu":
      await cfg.update("executionProvider", pick.action, vscode.ConfigurationTarget.Global);
      void vscode.window.showInformationMessage(`SEAT: execution provider set to ${pick.action}.`);
      return;
    case "cuda":
      if (!eps.includes("cuda") && !(await installCuda(shell, ortBin))) return;
      await cfg.update("executionProvider", "cuda", vscode.ConfigurationTarget.Global);
      void vscode.window.showInformationMessage(
        "SEAT: execution provider set to cuda (falls back to cpu if CUDA 12/cuDNN 9 cannot be loaded).",
      );
  }
}

async function installCuda(shell: ShellImpl, ortBin: string): Promise<boolean> {
  const src = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    title: `Folder containing ${CUDA_LIBS.join(" and ")}`,
  });
  if (!src?.[0]) return false;
  const found = findCudaLibraries(src[0].fsPath);
  if (!found.ok) {
    void vscode.window.showErrorMessage(`SEAT: ${found.message}.`);
    return false;
  }
  const ok = await vscode.window.showWarningMessage(
    `Copy ${CUDA_LIBS.join(" and ")} into ${ortBin}? They are native libraries that the trainer process will load.`,
    { modal: true },
    "Copy",
  );
  if (ok !== "Copy") return false;
  try {
    installCudaLibraries(found, ortBin);
  } catch (e) {
    void vscode.window.showErrorMessage(`SEAT: could not copy the CUDA provider libraries: ${(e as Error).message}`);
    return false;
  }
  shell.log.info(`copied CUDA provider libraries from ${found.dir} to ${ortBin}`);
  return true;
}
