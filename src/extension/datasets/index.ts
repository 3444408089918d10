// The Datasets area of the editor: diagnostics and quick fixes for JSONL datasets, the Datasets tree,
// and the dataset commands. Writes only ever create new files the user named (save dialogs) or go
// through undoable WorkspaceEdits (quick fixes); the user's dataset is never rewritten behind their back.
import * as vscode from "vscode";
import { basename, dirname, join } from "node:path";
import {
  convertJsonlText,
  datasetStats,
  exportCsvFile,
  importCsvFile,
  validateFile,
  TARGET_FORMATS,
  type TargetFormat,
} from "../../data/index";
import type { CommandFactories } from "../commands";
import { registerAreaCommands } from "../register";
import { VIEW } from "../contextValues";
import type { SeatShell } from "../shell";
import { DatasetDiagnostics, DatasetQuickFixes, isDatasetDocument } from "./diagnostics";
import { DatasetWorker, DatasetWorkerUnavailable } from "./datasetWorkerClient";
import { toValidateOptions, type PlainValidateOptions } from "./datasetWorkerProtocol";
import { convertedName, datasetDetails, describeDataset } from "./model";
import { DatasetItem, DatasetsTree } from "./tree";
import { RECORD_VIEW_ID, RecordView } from "../record/recordView";

const SELECTOR: vscode.DocumentSelector = [{ language: "jsonl" }, { pattern: "**/*.jsonl" }];

/** The dataset a command is about: a tree item, an explorer Uri, or the active editor's document. */
function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof DatasetItem) return arg.uri;
  if (arg instanceof vscode.Uri) return arg;
  const doc = vscode.window.activeTextEditor?.document;
  return doc && (isDatasetDocument(doc) || /\.json$/i.test(doc.fileName)) ? doc.uri : undefined;
}

function requireTarget(arg: unknown, action: string): vscode.Uri | undefined {
  const uri = targetUri(arg);
  if (!uri)
    void vscode.window.showWarningMessage(
      `SEAT: open a dataset (.jsonl) or pick one in the Datasets view to ${action}.`,
    );
  return uri;
}

function withProgress<T>(title: string, work: (signal: AbortSignal) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    (_p, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort(new Error("cancelled")));
      return work(ac.signal);
    },
  );
}

const validationOptions = (): PlainValidateOptions => ({ detectEntities: true });

export function activateDatasets(context: vscode.ExtensionContext, shell: SeatShell): void {
  const log = (m: string) => shell.log.info(m);
  // Parsing records (JSON.parse, per line) happens on a worker thread, never on the extension host's.
  const worker = new DatasetWorker(undefined, log);
  context.subscriptions.push({ dispose: () => void worker.dispose() });
  const diagnostics = new DatasetDiagnostics(validationOptions, worker, log);
  const tree = new DatasetsTree(() => shell.runsRoot(), worker);
  const view = vscode.window.createTreeView(VIEW.datasets, { treeDataProvider: tree, showCollapseAll: true });

  const record = new RecordView(context, shell);

  context.subscriptions.push(
    diagnostics,
    tree,
    view,
    record,
    vscode.window.registerWebviewViewProvider(RECORD_VIEW_ID, record),
    vscode.languages.registerCodeActionsProvider(SELECTOR, new DatasetQuickFixes(diagnostics), {
      providedCodeActionKinds: DatasetQuickFixes.kinds,
    }),
    vscode.workspace.onDidSaveTextDocument((d) => {
      if (isDatasetDocument(d)) tree.invalidate(d.uri);
    }),
  );

  const factories: CommandFactories<"datasets", void> = {
    nextRecord: () => () => record.command("next"),
    previousRecord: () => () => record.command("previous"),
    addRecord: () => () => record.command("add"),
    duplicateRecord: () => () => record.command("duplicate"),
    deleteRecord: () => () => record.command("delete"),

    validateDataset: () => async (arg?: unknown) => {
      const uri = requireTarget(arg, "validate it");
      if (!uri) return;
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      let errors: number;
      let warnings: number;
      if (open && isDatasetDocument(open)) {
        const ps = await diagnostics.validateNow(open);
        errors = ps.filter((p) => p.severity === "error").length;
        warnings = ps.filter((p) => p.severity === "warning").length;
      } else {
        const v = await withProgress(`Validating ${basename(uri.fsPath)}`, (signal) =>
          worker
            .validateFile(uri.fsPath, { ...validationOptions(), chunkBytes: 4 * 1024 * 1024 }, signal)
            .catch((e: Error) => {
              if (!(e instanceof DatasetWorkerUnavailable)) throw e;
              log(`dataset worker unavailable, validating on the extension host: ${e.message}`);
              return validateFile(uri.fsPath, {
                ...toValidateOptions(validationOptions()),
                signal,
                chunkBytes: 512 * 1024,
              });
            }),
        );
        diagnostics.publish(uri, v.problems);
        errors = v.summary.errors;
        warnings = v.summary.warnings;
      }
      tree.invalidate(uri);
      const msg = `${basename(uri.fsPath)}: ${errors} errors, ${warnings} warnings.`;
      log(`validate ${uri.fsPath}: ${msg}`);
      if (errors || warnings) {
        const choice = await vscode.window.showWarningMessage(`SEAT: ${msg}`, "Show Problems");
        if (choice) await vscode.commands.executeCommand("workbench.actions.view.problems");
      } else void vscode.window.showInformationMessage(`SEAT: ${msg}`);
    },

    convertDataset: () => async (arg?: unknown) => {
      const uri = requireTarget(arg, "convert it");
      if (!uri) return;
      const pick = await vscode.window.showQuickPick(
        TARGET_FORMATS.map((f) => ({
          label: f,
          description:
            f === "chat"
              ? '{"messages": [...]}'
              : f === "qa"
                ? '{"question", "answer"}'
                : '{"instruction", "input", "output"}',
        })),
        { title: "Convert dataset to" },
      );
      if (!pick) return;
      const to = pick.label as TargetFormat;
      const out = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(join(dirname(uri.fsPath), convertedName(basename(uri.fsPath), to))),
        filters: { "JSON Lines": ["jsonl"] },
        title: `Save the ${to} copy as`,
      });
      if (!out) return;
      if (out.toString() === uri.toString()) {
        void vscode.window.showErrorMessage("SEAT: the converted copy must be a new file, not the dataset itself.");
        return;
      }
      // Unsaved edits count: convert what the user sees.
      const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      const text = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      const r = convertJsonlText(text, to);
      await vscode.workspace.fs.writeFile(out, new TextEncoder().encode(r.text));
      await vscode.window.showTextDocument(out);
      const note = `${r.converted} converted, ${r.unchanged} already ${to}`;
      if (r.failures.length) {
        const first = r.failures[0];
        void vscode.window.showWarningMessage(
          `SEAT: ${note}; ${r.failures.length} copied unchanged (first at line ${first.line}: ${first.message}).`,
        );
      } else void vscode.window.showInformationMessage(`SEAT: ${note}.`);
    },

    importCsv: () => async (arg?: unknown) => {
      let src = arg instanceof vscode.Uri && /\.csv$/i.test(arg.fsPath) ? arg : undefined;
      if (!src) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          filters: { CSV: ["csv"] },
          title: "Import CSV as dataset",
        });
        src = picked?.[0];
      }
      if (!src) return;
      const out = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(src.fsPath.replace(/\.csv$/i, ".jsonl")),
        filters: { "JSON Lines": ["jsonl"] },
        title: "Save the dataset as",
      });
      if (!out) return;
      // The save dialog already asked about replacing an existing file.
      const r = await withProgress(`Importing ${basename(src.fsPath)}`, (signal) =>
        importCsvFile(src!.fsPath, out.fsPath, { signal, overwrite: true }),
      );
      tree.refresh();
      await vscode.window.showTextDocument(out);
      const skipped = r.skipped.length
        ? `; ${r.skipped.length} skipped (first: row ${r.skipped[0].line}: ${r.skipped[0].message})`
        : "";
      void (skipped ? vscode.window.showWarningMessage : vscode.window.showInformationMessage)(
        `SEAT: imported ${r.records} records from ${r.rows} rows${skipped}.`,
      );
    },

    exportCsv: () => async (arg?: unknown) => {
      const uri = requireTarget(arg, "export it");
      if (!uri) return;
      const out = await vscode.window.showSaveDialog({
        defaultUri: vscode.Uri.file(uri.fsPath.replace(/\.jsonl?$/i, "") + ".csv"),
        filters: { CSV: ["csv"] },
        title: "Export dataset as CSV",
      });
      if (!out) return;
      const r = await withProgress(`Exporting ${basename(uri.fsPath)}`, (signal) =>
        exportCsvFile(uri.fsPath, out.fsPath, { signal, overwrite: true }),
      );
      const skipped = r.skipped.length
        ? `; ${r.skipped.length} problem(s), records left out (first: line ${r.skipped[0].line}${r.skipped[0].col ? `:${r.skipped[0].col}` : ""}: ${r.skipped[0].message})`
        : "";
      void (skipped ? vscode.window.showWarningMessage : vscode.window.showInformationMessage)(
        `SEAT: exported ${r.rows} rows to ${basename(out.fsPath)}${skipped}.`,
      );
    },

    datasetStats: () => async (arg?: unknown) => {
      const uri = requireTarget(arg, "see its statistics");
      if (!uri) return;
      const s = await withProgress(`Reading ${basename(uri.fsPath)}`, (signal) =>
        datasetStats(uri.fsPath, { signal, chunkBytes: 512 * 1024 }),
      );
      const rows = datasetDetails(s).map((d) => `| ${d.label} | ${d.description} |`);
      const md = [
        `# ${basename(uri.fsPath)}`,
        "",
        describeDataset(s.summary),
        "",
        "| | |",
        "|---|---|",
        ...rows,
        `| Question length (chars) | min ${s.questionChars.min}, mean ${s.questionChars.mean.toFixed(1)}, max ${s.questionChars.max} |`,
        `| Answer length (chars) | min ${s.answerChars.min}, mean ${s.answerChars.mean.toFixed(1)}, max ${s.answerChars.max} |`,
        `| Turns | min ${s.turns.min}, mean ${s.turns.mean.toFixed(1)}, max ${s.turns.max} |`,
        "",
        s.topEntities.length
          ? `Top entities: ${s.topEntities.map(([e, n]) => `${e} (${n})`).join(", ")}`
          : "No `seat.entities` in this dataset yet.",
        "",
      ].join("\n");
      // An untitled document: nothing is written to disk unless the user saves it.
      const doc = await vscode.workspace.openTextDocument({ content: md, language: "markdown" });
      await vscode.window.showTextDocument(doc, { preview: true });
    },

    refreshDatasets: () => () => tree.refresh(),
  };
  registerAreaCommands(context, shell, "datasets", factories, undefined);
}
