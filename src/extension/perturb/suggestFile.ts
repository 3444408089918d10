// `SEAT: Suggest Perturbations for File`: runs `seat perturb - --json` in a child process (with
// --verify against the selected model when the user asks), shows cancellable progress, and applies all
// insertions as one undoable WorkspaceEdit.
import * as vscode from "vscode";
import * as path from "node:path";
import type { SeatShell } from "../shell";
import { editsFromReport, parseProgressLine, type CliRecordReport } from "./lensModel";
import { runCli } from "./cliRun";
import { LENS_K, LENS_SEED } from "./codeLens";

function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const r = (arg as { resourceUri?: unknown } | undefined)?.resourceUri;
  if (r instanceof vscode.Uri) return r;
  return vscode.window.activeTextEditor?.document.uri;
}

function cliCommand(
  context: vscode.ExtensionContext,
  shell: SeatShell | undefined,
): { command: string; args: string[]; env: Record<string, string> } {
  if (shell) return shell.cliCommand();
  return {
    command: process.execPath,
    args: [path.join(context.extensionUri.fsPath, "dist", "cli.js")],
    env: { ELECTRON_RUN_AS_NODE: "1" },
  };
}

/** Asks whether to check the stand-ins with the selected model; undefined when the user dismissed the pick. */
async function chooseVerification(shell: SeatShell | undefined): Promise<{ model?: string } | undefined> {
  const model = shell?.isTrusted() ? shell.selectedModel() : undefined;
  if (!model) return {};
  const fast = { label: "$(sparkle) Suggest", description: "detect subjects and generate stand-ins (seconds)" };
  const verify = {
    label: `$(beaker) Suggest and check with ${model.name}`,
    description: "keep stand-ins the base model says it does not know (slower)",
  };
  const pick = await vscode.window.showQuickPick([fast, verify], { title: "SEAT: Suggest Perturbations" });
  if (!pick) return undefined;
  return pick === verify ? { model: model.path } : {};
}

export async function suggestForFile(
  context: vscode.ExtensionContext,
  shell: SeatShell | undefined,
  arg: unknown,
): Promise<void> {
  const uri = targetUri(arg);
  if (!uri) {
    void vscode.window.showErrorMessage("SEAT: open a .jsonl dataset first, then suggest perturbations.");
    return;
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  if (doc.languageId !== "jsonl" && !uri.path.endsWith(".jsonl")) {
    void vscode.window.showErrorMessage(`SEAT: ${path.basename(uri.path)} is not a JSON Lines dataset.`);
    return;
  }
  const choice = await chooseVerification(shell);
  if (!choice) return;
  const version = doc.version;
  const cli = cliCommand(context, shell);
  const args = [
    ...cli.args,
    "perturb",
    "-",
    "--json",
    "--fill",
    "--progress",
    "--k",
    String(LENS_K),
    "--seed",
    String(LENS_SEED),
  ];
  if (choice.model) args.push("--verify", "--model", choice.model);
  const cwd =
    vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ??
    (uri.scheme === "file" ? path.dirname(uri.fsPath) : undefined);
  shell?.log.info(`perturb: ${cli.command} ${args.join(" ")}`);

  const result = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `SEAT: suggesting perturbations for ${path.basename(uri.path)}`,
      cancellable: true,
    },
    async (progress, token) => {
      const ac = new AbortController();
      token.onCancellationRequested(() => ac.abort());
      let last = 0;
      const res = await runCli(cli.command, args, {
        stdin: doc.getText(),
        env: cli.env,
        cwd,
        signal: ac.signal,
        onStderrLine: (line) => {
          const p = parseProgressLine(line);
          if (!p) return false;
          const pct = p.total ? (100 * p.done) / p.total : 100;
          progress.report({ increment: pct - last, message: `${p.done} / ${p.total} records` });
          last = pct;
          return true;
        },
      });
      return { res, cancelled: ac.signal.aborted };
    },
  );
  if (result.cancelled) {
    void vscode.window.showInformationMessage("SEAT: perturbation suggestions cancelled; the file was not changed.");
    return;
  }
  const { res } = result;
  if (res.code !== 0) {
    shell?.log.error(`perturb failed (exit ${res.code}): ${res.stderr}`);
    void vscode.window.showErrorMessage(
      `SEAT: suggesting perturbations failed: ${res.stderr.trim().split("\n").slice(-3).join(" ") || `exit code ${res.code}`}`,
    );
    return;
  }
  let report: { records: CliRecordReport[] };
  try {
    report = JSON.parse(res.stdout) as { records: CliRecordReport[] };
  } catch (e) {
    void vscode.window.showErrorMessage(`SEAT: unexpected output from 'seat perturb': ${(e as Error).message}`);
    return;
  }
  if (doc.version !== version) {
    void vscode.window.showWarningMessage(
      "SEAT: the file changed while suggestions were computed; nothing was inserted. Run the command again.",
    );
    return;
  }
  const { edits, skipped } = editsFromReport(report.records, (i) =>
    i < doc.lineCount ? doc.lineAt(i).text : undefined,
  );
  if (!edits.length) {
    void vscode.window.showInformationMessage(
      "SEAT: no new perturbations to add (records without a subject entity in the question are skipped).",
    );
    return;
  }
  const we = new vscode.WorkspaceEdit();
  for (const e of edits) we.replace(uri, doc.lineAt(e.line).range, e.text);
  const ok = await vscode.workspace.applyEdit(we);
  const added = edits.reduce((n, e) => n + e.added, 0);
  const none = report.records.filter((r) => !r.candidates.length).length;
  if (ok)
    void vscode.window.showInformationMessage(
      `SEAT: added ${added} perturbation(s) to ${edits.length} record(s)${none ? `; ${none} record(s) got none` : ""}${skipped.length ? `; ${skipped.length} line(s) skipped` : ""}. Undo reverts all.`,
    );
  else void vscode.window.showErrorMessage("SEAT: the editor refused the edit; nothing was inserted.");
}
