// The Models view: the bundled model, the workspace's models/ folder, `seatTuner.modelFolders` and
// `seatTuner.modelPath`. Items show architecture, size, dtype, tokenizer and execution provider;
// the selected model has a check. Reads headers only (see modelInfo.ts).
import * as vscode from "vscode";
import * as path from "node:path";
import * as fs from "node:fs";
import { CONTEXT_VALUE } from "../contextValues";
import { COMMANDS } from "../commands";
import type { ShellImpl } from "../shellImpl";
import { bundledModelsDir, resolveWorkspacePath } from "../shellImpl";
import { autoProviderText, discoverModelFolders, formatBytes, formatCount, inspectModelFolder, installedProviders, type ModelInfo } from "./modelInfo";
// shared with the trainer, without the runtime layer (the extension host never loads onnxruntime)
import { readVerdicts } from "../../platform/gpuVerdicts";
import { webgpuAdapterKind } from "../../platform/vulkanDrivers";

type Node = { kind: "model"; info: ModelInfo; bundled: boolean } | { kind: "detail"; label: string; value: string; icon: string };

export class ModelsView implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private cache: { info: ModelInfo; bundled: boolean }[] | undefined;

  constructor(private readonly context: vscode.ExtensionContext, private readonly shell: ShellImpl) {
    context.subscriptions.push(
      this.changed,
      shell.onDidChangeModel(() => this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("seatTuner.modelFolders") || e.affectsConfiguration("seatTuner.executionProvider")) this.refresh();
      }),
    );
  }

  refresh(): void {
    this.cache = undefined;
    this.changed.fire();
  }

  /** Every model folder the view lists (also offered by SEAT: Select Model and SEAT: Train). */
  models(): { info: ModelInfo; bundled: boolean }[] {
    if (!vscode.workspace.isTrusted) return [];
    if (this.cache) return this.cache;
    const bundledRoot = bundledModelsDir(this.context);
    const cfg = vscode.workspace.getConfiguration("seatTuner");
    const sources = [bundledRoot];
    for (const f of vscode.workspace.workspaceFolders ?? []) sources.push(path.join(f.uri.fsPath, "models"));
    for (const s of cfg.get<string[]>("modelFolders", [])) sources.push(resolveWorkspacePath(s));
    const selected = cfg.get<string>("modelPath", "").trim();
    if (selected) sources.push(resolveWorkspacePath(selected));
    this.cache = discoverModelFolders(sources).map((dir) => ({
      info: inspectModelFolder(dir),
      bundled: path.dirname(dir) === path.resolve(bundledRoot),
    }));
    return this.cache;
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.models().map((m) => ({ kind: "model", ...m }));
    if (node.kind !== "model") return [];
    const { info } = node;
    if (info.error) return [{ kind: "detail", label: "problem", value: info.error, icon: "error" }];
    const c = info.config!;
    return [
      { kind: "detail", label: "architecture", value: `${c.architecture}: ${c.numLayers} layers, d=${c.hiddenSize}, ${c.numHeads} heads (${c.numKvHeads} kv), vocab ${c.vocabSize}`, icon: "symbol-class" },
      { kind: "detail", label: "size", value: `${formatCount(info.params)} parameters, ${formatBytes(info.bytes)}`, icon: "database" },
      { kind: "detail", label: "dtype", value: info.dtypes.join(", ") || "unknown", icon: "symbol-numeric" },
      { kind: "detail", label: "tokenizer", value: `${info.tokenizer}${info.chatTemplate ? " + chat template" : ", no chat template"}`, icon: "symbol-text" },
      { kind: "detail", label: "runs on", value: this.providerText(), icon: "chip" },
    ];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === "detail") {
      const item = new vscode.TreeItem(node.label);
      item.description = node.value;
      item.tooltip = node.value;
      item.iconPath = new vscode.ThemeIcon(node.icon);
      return item;
    }
    const { info, bundled } = node;
    const selected = this.shell.selectedModel();
    const isSelected = selected !== undefined && path.resolve(selected.path) === info.dir;
    const item = new vscode.TreeItem(info.name, isSelected ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `model:${info.dir}`;
    item.resourceUri = vscode.Uri.file(info.dir);
    item.contextValue = info.error ? CONTEXT_VALUE.modelBroken : bundled ? CONTEXT_VALUE.modelBundled : CONTEXT_VALUE.model;
    item.description = info.error
      ? "cannot be used"
      : `${formatCount(info.params)} · ${info.dtypes[0] ?? "?"}${bundled ? " · embedded" : ""}${isSelected ? " · selected" : ""}`;
    item.iconPath = new vscode.ThemeIcon(info.error ? "warning" : isSelected ? "pass-filled" : "circle-large-outline");
    item.tooltip = new vscode.MarkdownString(info.error ? `**${info.name}**\n\n${info.error}` : `**${info.name}**\n\n${info.dir}\n\n${this.providerText()}`);
    if (!info.error && !isSelected) item.command = { command: COMMANDS.selectModel, title: "Select Model", arguments: [info.dir] };
    return item;
  }

  private providerText(): string {
    const configured = vscode.workspace.getConfiguration("seatTuner").get<string>("executionProvider", "auto");
    const eps = installedProviders(ortBinaryDir(this.context));
    if (configured === "auto") return autoProviderText(eps.filter((e) => e !== "cpu"), readVerdicts(), webgpuAdapterKind());
    return eps.includes(configured) ? configured : `${configured} (not installed here: falls back to cpu)`;
  }
}

/** The onnxruntime binding's folder: dist/node_modules in the VSIX (see scripts/package.mjs), node_modules in a clone. */
export function ortBinaryDir(context: vscode.ExtensionContext): string {
  const rel = ["onnxruntime-node", "bin", "napi-v6", process.platform, process.arch];
  const packaged = path.join(context.extensionUri.fsPath, "dist", "node_modules", ...rel);
  return fs.existsSync(packaged) ? packaged : path.join(context.extensionUri.fsPath, "node_modules", ...rel);
}
