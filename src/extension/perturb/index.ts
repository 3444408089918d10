// The perturbation features of the editor: CodeLens suggestions above JSONL records, the insert
// command they call, and the whole-file suggestion command. Called by the extension shell.
import * as vscode from "vscode";
import type { SeatShell } from "../shell";
import type { CommandFactories } from "../commands";
import { registerAreaCommands } from "../register";
import { PerturbationLensProvider } from "./codeLens";
import { insertionFor, subjectEditFor, type InsertArgs } from "./lensModel";
import { suggestForFile } from "./suggestFile";

const SELECTOR: vscode.DocumentSelector = [{ language: "jsonl" }, { pattern: "**/*.jsonl" }];

/** Asks which entity is the record's subject: the detected names, or one the user types. */
async function askSubject(options: readonly string[], current: string | undefined): Promise<string | undefined> {
  const other = "$(edit) Another name…";
  const items = [
    ...options.map((o) => ({ label: o, description: o === current ? "current" : undefined })),
    { label: other },
  ];
  const pick = await vscode.window.showQuickPick(items, {
    title: "SEAT: subject entity of this record",
    placeHolder: "The name perturbations replace (written to seat.entities)",
  });
  if (!pick) return undefined;
  if (pick.label !== other) return pick.label;
  return vscode.window.showInputBox({
    title: "SEAT: subject entity",
    prompt: "The name exactly as written in the question",
    value: current,
  });
}

/**
 * The target of every perturbation lens: inserts the lens's entries into its record line, or (for the
 * "subject…" lens) writes the chosen subject to seat.entities, through one undoable WorkspaceEdit that
 * replaces only that line. Returns whether the document changed.
 */
export async function insertPerturbation(args: InsertArgs | undefined): Promise<boolean> {
  if (!args || typeof args.uri !== "string" || !Array.isArray(args.entries)) {
    void vscode.window.showErrorMessage("SEAT: Insert Perturbation is run from a CodeLens above a dataset record.");
    return false;
  }
  const uri = vscode.Uri.parse(args.uri);
  const doc = await vscode.workspace.openTextDocument(uri);
  const lineText = () => (args.line < doc.lineCount ? doc.lineAt(args.line).text : undefined);
  let r: { text: string } | { error: string };
  if (args.subject) {
    const chosen = await askSubject(args.subject.options, args.subject.current);
    if (chosen === undefined) return false;
    r = subjectEditFor(args, lineText(), chosen);
  } else {
    r = insertionFor(args, lineText());
  }
  if ("error" in r) {
    void vscode.window.showWarningMessage(`SEAT: ${r.error}`);
    return false;
  }
  const edit = new vscode.WorkspaceEdit();
  edit.replace(uri, doc.lineAt(args.line).range, r.text);
  return vscode.workspace.applyEdit(edit);
}

export function activatePerturbations(context: vscode.ExtensionContext, shell: SeatShell): void {
  const provider = new PerturbationLensProvider();
  context.subscriptions.push(provider, vscode.languages.registerCodeLensProvider(SELECTOR, provider));
  registerAreaCommands(context, shell, "perturb", PERTURB_COMMANDS, { context, shell });
}

const PERTURB_COMMANDS: CommandFactories<"perturb", { context: vscode.ExtensionContext; shell: SeatShell }> = {
  insertPerturbation: () => (args?: InsertArgs) => insertPerturbation(args),
  suggestPerturbations:
    ({ context, shell }) =>
    (arg?: unknown) =>
      suggestForFile(context, shell, arg),
};
