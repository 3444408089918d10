// The host side of the panel's Chat tab: one `seat chat --serve` child process per (tuned, base) pair,
// so models load and generate outside the extension host; its JSON lines become chat-token messages.
// Add to dataset appends a {question, answer} record to the panel's dataset as a WorkspaceEdit, so it
// is undoable like any edit and never bypasses an unsaved editor.
import * as vscode from "vscode";
import { spawn, type ChildProcess } from "node:child_process";
import type { HostMessage } from "../../presentation/webview";
import type { SeatShell } from "../shell";

export interface ChatTarget {
  tuned: string;
  base?: string;
}

export class ChatHost implements vscode.Disposable {
  private child: ChildProcess | undefined;
  private target: ChatTarget | undefined;
  private ready = false;
  private queue: string[] = [];

  constructor(
    private readonly shell: SeatShell,
    private readonly post: (m: HostMessage) => void,
    private readonly cli: () => { command: string; args: string[]; env: Record<string, string> },
  ) {}

  /** Starts (or keeps) the child for `t`; a different pair replaces the running one. */
  configure(t: ChatTarget): void {
    if (this.child && this.target?.tuned === t.tuned && this.target.base === t.base) return;
    this.stopChild();
    this.target = t;
    const cli = this.cli();
    const args = [...cli.args, "chat", "--model", t.tuned, ...(t.base ? ["--base", t.base] : []), "--serve"];
    this.shell.log.info(`chat: ${cli.command} ${args.join(" ")}`);
    this.post({
      type: "chat-status",
      status: "loading",
      message: "Loading the models…",
      tuned: t.tuned,
      ...(t.base ? { base: t.base } : {}),
    });
    const child = spawn(cli.command, args, { env: { ...process.env, ...cli.env }, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    this.ready = false;
    let buf = "",
      lastErr = "";
    child.stdout!.on("data", (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split("\n");
      buf = lines.pop()!;
      for (const l of lines) if (l.trim()) this.onLine(l, t);
    });
    child.stderr!.on("data", (b: Buffer) => {
      for (const l of b
        .toString()
        .split("\n")
        .filter((x) => x.trim())) {
        lastErr = l.replace(/^seat( chat)?: /, "");
        this.shell.log.info(`chat: ${l}`);
      }
    });
    child.on("error", (e) =>
      this.post({ type: "chat-status", status: "failed", message: `cannot start the chat process: ${e.message}` }),
    );
    child.on("close", (code) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.ready = false;
      this.post({
        type: "chat-status",
        status: code === 0 || code === null ? "closed" : "failed",
        message: code === 0 || code === null ? "Chat stopped." : `Chat failed: ${lastErr || `exit code ${code}`}`,
      });
    });
  }

  private onLine(line: string, t: ChatTarget): void {
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.shell.log.warn(`chat: not JSON: ${line.slice(0, 120)}`);
      return;
    }
    if (m["ready"] === true) {
      this.ready = true;
      this.post({
        type: "chat-status",
        status: "ready",
        message: t.base
          ? "Ready: the tuned and the base model answer side by side."
          : "Ready (no base model to compare with).",
        tuned: t.tuned,
        ...(t.base ? { base: t.base } : {}),
      });
      for (const q of this.queue.splice(0)) this.child?.stdin?.write(q);
      return;
    }
    if (typeof m["id"] !== "string" || (m["who"] !== "tuned" && m["who"] !== "base")) {
      if (typeof m["error"] === "string") this.shell.log.warn(`chat: ${m["error"]}`);
      return;
    }
    this.post({
      type: "chat-token",
      id: m["id"],
      who: m["who"],
      text: typeof m["text"] === "string" ? m["text"] : "",
      ...(m["done"] === true ? { done: true } : {}),
      ...(typeof m["pAbstain"] === "number" ? { pAbstain: m["pAbstain"] } : {}),
      ...(typeof m["finish"] === "string" ? { finish: m["finish"] } : {}),
      ...(typeof m["error"] === "string" ? { error: m["error"], done: true } : {}),
    });
  }

  ask(id: string, prompt: string): void {
    const line = JSON.stringify({ id, prompt }) + "\n";
    if (this.ready) this.child?.stdin?.write(line);
    else this.queue.push(line);
  }

  stop(id: string): void {
    this.child?.stdin?.write(JSON.stringify({ stop: id }) + "\n");
  }

  /** Appends {question, answer} to `dataset` as one undoable edit; returns the new record's 1-based line. */
  async addToDataset(dataset: string, question: string, answer: string): Promise<number | undefined> {
    if (!question.trim() || !answer.trim()) {
      void vscode.window.showWarningMessage("SEAT: Add to dataset needs a question and an answer.");
      return undefined;
    }
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(dataset));
    const text = doc.getText();
    const eol = doc.eol === vscode.EndOfLine.CRLF ? "\r\n" : "\n";
    const needsBreak = text.length > 0 && !text.endsWith("\n");
    const edit = new vscode.WorkspaceEdit();
    edit.insert(
      doc.uri,
      doc.positionAt(text.length),
      `${needsBreak ? eol : ""}${JSON.stringify({ question, answer })}${eol}`,
    );
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error(`could not edit ${dataset}`);
    return needsBreak ? doc.lineCount : doc.lineCount - 1;
  }

  private stopChild(): void {
    const c = this.child;
    this.child = undefined;
    this.queue = [];
    if (c) {
      c.stdin?.end();
      setTimeout(() => {
        if (c.exitCode === null) c.kill();
      }, 1000);
    }
  }

  dispose(): void {
    this.stopChild();
  }
}
