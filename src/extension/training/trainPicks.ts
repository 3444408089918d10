// SEAT: Train… — quick picks for dataset, model, method and its key settings (or a saved config).
import * as vscode from "vscode";
import * as path from "node:path";
import { METHODS, PRESETS, SCHEMA, type Method } from "../../seat/configSchema";
import type { ShellImpl } from "../shellImpl";
import type { ModelsView } from "../models/modelsView";
import { TASK_TYPE, type SeatTaskDefinition } from "./trainTask";

const METHOD_DETAIL: Record<Method, string> = {
  seat: 'Sparse masked updates + KL to the base model on entity-perturbed prompts (keeps "I don\'t know")',
  full: "Full fine-tuning (baseline)",
  lora: "LoRA adapters (baseline)",
  sparse: "Sparse masked updates without the KL term (ablation)",
  "full+kl": "Full fine-tuning + entity-perturbed KL (ablation)",
  ewc: "Elastic weight consolidation (baseline)",
  replay: "Mix abstention examples into training (baseline)",
};

/** Where the picked run goes: trained here as a task, or written out as a torchrun job (Run Elsewhere…). */
export interface PickedTraining {
  def: SeatTaskDefinition;
  elsewhere: boolean;
}

/** `opts.elsewhere`: the flow of SEAT: Run Elsewhere… (the result is always exported as a job). */
export async function pickTraining(
  shell: ShellImpl,
  models: ModelsView,
  datasetArg?: vscode.Uri,
  opts: { elsewhere?: boolean } = {},
): Promise<PickedTraining | undefined> {
  const title = opts.elsewhere ? "SEAT: Run Elsewhere" : "SEAT: Train";
  const dataset = datasetArg ?? (await pickDataset(title));
  if (!dataset) return undefined;

  const usable = models.models().filter((m) => !m.info.error);
  const selected = shell.selectedModel();
  if (usable.length === 0 && !selected) {
    void vscode.window.showErrorMessage("SEAT: no usable model found. Add a model folder in the Models view.");
    return undefined;
  }
  const modelItems = usable
    .map((m) => ({
      label: m.info.name,
      description:
        `${m.bundled ? "embedded" : ""}${selected && path.resolve(selected.path) === m.info.dir ? " (selected)" : ""}`.trim(),
      detail: m.info.dir,
      dir: m.info.dir,
    }))
    .sort((a, b) => Number(b.description.includes("selected")) - Number(a.description.includes("selected")));
  const model =
    modelItems.length === 1
      ? modelItems[0]
      : await vscode.window.showQuickPick(modelItems, {
          title: `${title} (2/4): model`,
          placeHolder: "Model to fine-tune",
        });
  if (!model) return undefined;

  const defaultMethod = vscode.workspace.getConfiguration("seatTuner").get<string>("training.method", "seat");
  const methodItems = METHODS.map((m) => ({
    label: m,
    description: m === defaultMethod ? "default" : undefined,
    detail: METHOD_DETAIL[m],
    method: m as Method,
  }));
  methodItems.sort((a, b) => Number(b.method === defaultMethod) - Number(a.method === defaultMethod));
  const method = await vscode.window.showQuickPick(methodItems, {
    title: `${title} (3/4): method`,
    placeHolder: "Training method",
  });
  if (!method) return undefined;

  type How = vscode.QuickPickItem & { how: "defaults" | "adjust" | "config" | "elsewhere" };
  const how = await vscode.window.showQuickPick<How>(
    [
      {
        how: "defaults",
        label: opts.elsewhere ? "Export" : "Start",
        detail: "With the seatTuner.training.* settings and the method's preset",
      },
      {
        how: "adjust",
        label: "Adjust key settings…",
        detail: method.method === "seat" ? "epochs, learning rate, mask ratio, KL weight" : "epochs, learning rate",
      },
      { how: "config", label: "Use a saved config…", detail: "A JSON training config file" },
      ...(opts.elsewhere
        ? []
        : [
            {
              how: "elsewhere" as const,
              label: "Run Elsewhere…",
              detail: "Write a torchrun job folder (PyTorch DDP/FSDP, Slurm) for GPU machines, with these settings",
            },
          ]),
    ],
    { title: `${title} (4/4): settings` },
  );
  if (!how) return undefined;
  const elsewhere = Boolean(opts.elsewhere) || how.how === "elsewhere";

  const def: SeatTaskDefinition = {
    type: TASK_TYPE,
    dataset: vscode.workspace.asRelativePath(dataset, false),
    model: model.dir,
    method: method.method,
  };
  if (how.how === "config") {
    const files = await vscode.workspace.findFiles("**/*.json", "{**/node_modules/**,**/.vscode/**,**/runs/**}", 200);
    const configs = files.filter((f) => /(^|[./-])(seat|train)[\w.-]*\.json$/i.test(path.basename(f.fsPath)));
    const pick = await vscode.window.showQuickPick(
      [
        ...configs.map((f) => ({ label: vscode.workspace.asRelativePath(f), uri: f as vscode.Uri | undefined })),
        { label: "Browse…", uri: undefined },
      ],
      { title: `${title}: saved config` },
    );
    if (!pick) return undefined;
    const uri =
      pick.uri ??
      (await vscode.window.showOpenDialog({ filters: { "Training config": ["json"] }, canSelectMany: false }))?.[0];
    if (!uri) return undefined;
    def.config = uri.fsPath;
  } else if (how.how === "adjust") {
    const settings: Record<string, unknown> = {};
    const cfg = vscode.workspace.getConfiguration("seatTuner");
    // Prefill with what the run would use: the user's setting if set, else the method's preset, else the trainer default.
    const current = (setting: string, path: string): number => {
      const i = cfg.inspect<number>(setting);
      const set = i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
      if (set !== undefined) return set;
      const preset = PRESETS[method.method].values[path];
      return Number(preset ?? SCHEMA.find((x) => x.path === path)?.default);
    };
    const ask = async (
      key: string,
      prompt: string,
      current: number,
      integer: boolean,
      check: (n: number) => boolean,
    ) => {
      const v = await vscode.window.showInputBox({
        title: `${title}: ${prompt}`,
        value: String(current),
        validateInput: (s) => {
          const n = Number(s);
          return s.trim() && Number.isFinite(n) && (!integer || Number.isInteger(n)) && check(n)
            ? undefined
            : `Enter ${integer ? "an integer" : "a number"} in range`;
        },
      });
      if (v === undefined) return false;
      settings[key] = Number(v);
      return true;
    };
    {
      // Epochs take "auto" (the default) or a positive integer.
      const i = cfg.inspect<number | string>("training.epochs");
      const set = i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
      const v = await vscode.window.showInputBox({
        title: `${title}: epochs (a number, or auto: until the facts are learned)`,
        value: String(set ?? SCHEMA.find((x) => x.path === "train.epochs")?.default),
        validateInput: (s) =>
          s.trim() === "auto" || (Number.isInteger(Number(s)) && Number(s) >= 1)
            ? undefined
            : "Enter auto or an integer >= 1",
      });
      if (v === undefined) return undefined;
      settings["train.epochs"] = v.trim() === "auto" ? "auto" : Number(v);
    }
    if (!(await ask("optim.lr", "learning rate", current("training.lr", "optim.lr"), false, (n) => n > 0)))
      return undefined;
    if (method.method === "seat" || method.method === "sparse") {
      if (
        !(await ask(
          "mask.ratio",
          "mask ratio (share of weights updated, 0..1]",
          current("training.maskRatio", "mask.ratio"),
          false,
          (n) => n > 0 && n <= 1,
        ))
      )
        return undefined;
    }
    if (method.method === "seat" || method.method === "full+kl") {
      if (!(await ask("kl.lambda", "KL weight λ", current("training.klLambda", "kl.lambda"), false, (n) => n >= 0)))
        return undefined;
    }
    def.settings = settings;
  }
  return { def, elsewhere };
}

async function pickDataset(title: string): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const files = await vscode.workspace.findFiles("**/*.jsonl", "{**/node_modules/**,**/runs/**,**/.git/**}", 500);
  const items = files
    .map((f) => ({
      label: path.basename(f.fsPath),
      description: vscode.workspace.asRelativePath(path.dirname(f.fsPath)),
      uri: f,
    }))
    .sort(
      (a, b) =>
        Number(b.uri.toString() === active?.toString()) - Number(a.uri.toString() === active?.toString()) ||
        a.description.localeCompare(b.description),
    );
  if (items.length === 0) {
    void vscode.window.showErrorMessage(
      "SEAT: no .jsonl dataset in this workspace. Import a CSV or open the example dataset first.",
    );
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(items, {
    title: `${title} (1/4): dataset`,
    placeHolder: "Dataset to learn",
    matchOnDescription: true,
  });
  return pick?.uri;
}
