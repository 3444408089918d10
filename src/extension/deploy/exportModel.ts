// SEAT: Export Model…: pick a run, a format and a folder, then `seat export` runs as a child process
// (the extension host never does the work) with its progress lines in a cancellable notification.
// Cancelling kills the child; the export writes every file under a temporary name and renames it last,
// so nothing half-written is left at the destination (stray temporaries are removed here).
import * as vscode from "vscode";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import type { RunDetails } from "../runs/runFolders";

export interface ExportPick {
  format: string;
  quant?: string;
  label: string;
}

export const EXPORT_PICKS: readonly (vscode.QuickPickItem & ExportPick)[] = [
  { label: "GGUF (f16)", description: "llama.cpp, Ollama (with a Modelfile), LM Studio", format: "gguf", quant: "f16" },
  { label: "GGUF (q8_0)", description: "8-bit: half the size of f16", format: "gguf", quant: "q8_0" },
  { label: "Hugging Face folder", description: "merged safetensors, tokenizer files, README of the run", format: "hf" },
  {
    label: "LoRA adapter (PEFT)",
    description: "adapter_config.json + adapter_model.safetensors (LoRA runs)",
    format: "adapter",
  },
  { label: "ONNX", description: "the inference model SEAT Tuner runs", format: "onnx" },
];

export interface Cli {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** Runs `seat export` for `run`; resolves with the folder written, or undefined when cancelled. */
export function runExport(
  cli: Cli,
  run: RunDetails,
  pick: ExportPick,
  outDir: string,
  log: (line: string) => void,
): Thenable<string | undefined> {
  const args = [
    ...cli.args,
    "export",
    run.dir,
    "--format",
    pick.format,
    ...(pick.quant ? ["--quant", pick.quant] : []),
    "--out",
    outDir,
  ];
  log(`running: ${cli.command} ${args.join(" ")}`);
  return vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `SEAT: exporting ${run.name} (${pick.label})`,
      cancellable: true,
    },
    (progress, token) =>
      new Promise<string | undefined>((resolve, reject) => {
        const child = spawn(cli.command, args, {
          env: { ...process.env, ...cli.env },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "",
          lastErr = "",
          done = 0;
        child.stdout.on("data", (b: Buffer) => {
          stdout += b.toString();
        });
        child.stderr.on("data", (b: Buffer) => {
          for (const line of b
            .toString()
            .split("\n")
            .filter((l) => l.trim())) {
            log(line);
            lastErr = line.replace(/^seat( export)?: /, "");
            const m = /tensor (\d+)\/(\d+)/.exec(line);
            const frac = m ? Number(m[1]) / Number(m[2]) : undefined;
            const inc = frac !== undefined ? Math.max(0, Math.round(frac * 100) - done) : 0;
            done += inc;
            progress.report({ message: lastErr, ...(inc ? { increment: inc } : {}) });
          }
        });
        token.onCancellationRequested(() => {
          child.kill("SIGTERM");
          // The export is synchronous work in the child: it may not see SIGTERM until it finishes a file.
          setTimeout(() => {
            if (child.exitCode === null) child.kill("SIGKILL");
          }, 2000);
        });
        child.on("error", reject);
        child.on("close", (code) => {
          if (token.isCancellationRequested) {
            removeTemporaries(outDir, child.pid);
            resolve(undefined);
          } else if (code === 0) resolve(stdout.trim() || outDir);
          else reject(new Error(lastErr || `seat export exited with code ${code}`));
        });
      }),
  );
}

function removeTemporaries(dir: string, pid: number | undefined): void {
  if (pid === undefined || !fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir))
    if (f.includes(`.tmp-${pid}`)) fs.rmSync(path.join(dir, f), { force: true, recursive: true });
}
