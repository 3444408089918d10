// Runs `seat probe --json --progress-json` in a child process (probing loads a model and runs it: never
// on the extension-host thread) and turns its output into progress callbacks and the final report.
import { spawn } from "node:child_process";
import type { ProbeReport } from "../../eval/types";

export interface ProbeProcessSpec {
  command: string;
  /** Leading args (the CLI script). */
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

export interface ProbeRequest {
  dataset: string;
  base?: string;
  runs: string[];
  unknown?: string;
  cacheDir: string;
  phrases?: string[];
  openings?: string[];
  /** Extra CLI flags (from settings), e.g. ["--neighbours", "3"]. */
  extraArgs?: string[];
}

export interface ProbeProgressLine {
  type: "progress";
  model: string;
  done: number;
  total: number;
  message: string;
  cached: boolean;
}

export class ProbeProcessError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "ProbeProcessError";
  }
}

export function probeArgs(req: ProbeRequest, listFiles: { phrases?: string; openings?: string } = {}): string[] {
  const a = ["probe", "--data", req.dataset, "--json", "--progress-json", "--cache", req.cacheDir];
  if (req.base) a.push("--base", req.base);
  for (const r of req.runs) a.push("--model", r);
  if (req.unknown) a.push("--unknown", req.unknown);
  if (listFiles.phrases) a.push("--phrases", listFiles.phrases);
  if (listFiles.openings) a.push("--openings", listFiles.openings);
  return [...a, ...(req.extraArgs ?? [])];
}

/**
 * Starts the process; resolves with the report, rejects with ProbeProcessError (its last stderr lines
 * explain why). Aborting the signal sends SIGTERM (the CLI stops between queries), then SIGKILL after
 * `killAfterMs`.
 */
export function runProbeProcess(
  spec: ProbeProcessSpec,
  args: readonly string[],
  opts: {
    signal?: AbortSignal;
    onProgress?(p: ProbeProgressLine): void;
    onWarning?(m: string): void;
    killAfterMs?: number;
  } = {},
): Promise<ProbeReport> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(spec.command, [...spec.args, ...args], {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let errText = "";
    let partial = "";
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      child.kill("SIGTERM");
      killTimer = setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs ?? 5000);
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          parsed = undefined;
        }
        const p = parsed as { type?: string; message?: unknown; done?: unknown; total?: unknown } | undefined;
        if (p?.type === "progress" && typeof p.done === "number" && typeof p.total === "number")
          opts.onProgress?.(p as unknown as ProbeProgressLine);
        else if (p?.type === "warning" && typeof p.message === "string") opts.onWarning?.(p.message);
        else if (line.trim()) errText = (errText + line + "\n").slice(-8000);
      }
    });
    child.on("error", (e) => {
      clearTimeout(killTimer);
      reject(new ProbeProcessError(`could not start the probe process (${spec.command}): ${e.message}`, null, errText));
    });
    child.on("close", (code, sig) => {
      clearTimeout(killTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (partial.trim()) errText += partial;
      if (opts.signal?.aborted) return reject(new ProbeProcessError("probing cancelled", code, errText));
      if (code !== 0) {
        const why = errText.trim().split("\n").slice(-3).join(" ") || `exit code ${code ?? sig}`;
        return reject(new ProbeProcessError(`probing failed: ${why}`, code, errText));
      }
      try {
        const report = JSON.parse(Buffer.concat(out).toString("utf8")) as ProbeReport;
        if (report?.kind !== "seat-probe-report")
          throw new Error(`unexpected output kind ${JSON.stringify(report?.kind)}`);
        resolvePromise(report);
      } catch (e) {
        reject(new ProbeProcessError(`probe process printed no report: ${(e as Error).message}`, code, errText));
      }
    });
  });
}
