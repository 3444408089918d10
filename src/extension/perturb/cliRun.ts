// Running `seat perturb` outside the extension host: the model (for --verify) and whole-file work never
// run on the editor's thread. Node only (no vscode), so it is tested headless.
import { spawn } from "node:child_process";

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stderr lines that were not consumed by `onStderrLine`. */
  stderr: string;
}

/**
 * Runs `command args`, writes `stdin` to it, calls `onStderrLine` for every stderr line (return true
 * to mark a line consumed, e.g. a progress line), and kills the process when `signal` aborts.
 */
export function runCli(
  command: string,
  args: readonly string[],
  opts: {
    stdin?: string;
    env?: Record<string, string>;
    cwd?: string;
    signal?: AbortSignal;
    onStderrLine?: (line: string) => boolean;
  },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let pending = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      pending += d;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!opts.onStderrLine?.(line)) stderr += line + "\n";
      }
    });
    const onAbort = () => child.kill("SIGTERM");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      opts.signal?.removeEventListener("abort", onAbort);
      reject(new Error(`cannot start ${command}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      opts.signal?.removeEventListener("abort", onAbort);
      if (pending && !opts.onStderrLine?.(pending)) stderr += pending;
      resolve({ code, signal, stdout, stderr });
    });
    // A child that exits before reading stdin closes the pipe; that is reported through its exit code.
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.stdin ?? "");
  });
}
