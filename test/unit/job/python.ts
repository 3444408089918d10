// The Python interpreter the job tests drive (Debian's python3-torch is installed for /usr/bin/python3;
// SEAT_TEST_PYTHON overrides) and a runner for the job's launch scripts. Tests fail, never skip, when
// torch is missing: CI installs python3-torch.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync } from "node:fs";

export const PYTHON = process.env.SEAT_TEST_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

export function python(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  return spawnSync(PYTHON, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 240_000,
  });
}

/** torch's version, or a thrown error saying how to install it. */
export function torchVersion(): string {
  const r = python(["-c", "import torch; print(torch.__version__)"]);
  if (r.status !== 0)
    throw new Error(
      `${PYTHON} cannot import torch (install Debian's python3-torch, as .ci/run does): ${r.stderr.trim().split("\n").pop()}`,
    );
  return r.stdout.trim();
}

/** Runs the job's run_local.sh with N processes; throws with the job's output when it fails. */
export function runLocal(jobDir: string, n: number, extra: string[] = []): string {
  const r = spawnSync("bash", ["run_local.sh", String(n), ...extra], {
    cwd: jobDir,
    env: { ...process.env, PYTHON },
    encoding: "utf8",
    timeout: 300_000,
  });
  if (r.status !== 0)
    throw new Error(
      `run_local.sh ${n} ${extra.join(" ")} exited ${r.status ?? r.signal}:\n${(r.stdout + r.stderr).slice(-4000)}`,
    );
  return r.stdout + r.stderr;
}
