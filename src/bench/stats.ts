// Small statistics and process helpers shared by the benchmark parts.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";

export function median(xs: number[]): number {
  if (xs.length === 0) throw new Error("median of no samples");
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs `fn` `warmup + reps` times and returns the timings (seconds) of the measured reps. */
export async function timeReps(reps: number, warmup: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (i >= warmup) out.push(s);
  }
  return out;
}

/** Samples this process's RSS every few ms while `fn` runs; returns fn's result and the peak. */
export async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ value: T; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, peakRssMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** VmHWM (the kernel's peak resident set of the process so far) from /proc/<pid>/status, in MB. */
export function parseVmHwmMb(status: string): number | undefined {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) / 1024 : undefined;
}

export interface ChildWatch {
  /** Stop the child when MemAvailable falls under this (MB). */
  floorMb: number;
  memAvailableMb: () => number | undefined;
  /** Poll period, ms. */
  everyMs?: number;
}

/**
 * Runs a program with a JSON job on stdin and parses the last stdout line as JSON. With `watch`, the
 * child's VmHWM is polled (returned as `childPeakRssMb`, the peak as the kernel counted it, next to
 * whatever the child reports itself) and the child is killed, with a clear error, when the machine's
 * available memory falls under the floor: a benchmark must never wake the kernel's OOM killer.
 */
export function runJsonChild(
  cmd: string,
  args: string[],
  job: unknown,
  signal?: AbortSignal,
  env?: Record<string, string>,
  watch?: ChildWatch,
): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["pipe", "pipe", "pipe"],
      signal,
      ...(env ? { env: { ...process.env, ...env } } : {}),
    });
    let out = "";
    let err = "";
    let hwm = 0;
    let stopped: string | null = null;
    const poll = () => {
      try {
        hwm = Math.max(hwm, parseVmHwmMb(readFileSync(`/proc/${child.pid}/status`, "utf8")) ?? 0);
      } catch {
        return; // exited between polls, or no /proc
      }
      const avail = watch?.memAvailableMb();
      if (watch && avail !== undefined && avail < watch.floorMb && !stopped) {
        stopped = `stopped at ${(hwm / 1024).toFixed(1)} GB peak RSS: the machine's available memory fell to ${(avail / 1024).toFixed(1)} GB (floor ${(watch.floorMb / 1024).toFixed(1)} GB)`;
        child.kill("SIGKILL");
      }
    };
    const timer = watch ? setInterval(poll, watch.everyMs ?? 100) : undefined;
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", (e) => {
      if (timer) clearInterval(timer);
      reject(e);
    });
    child.on("close", (code) => {
      if (timer) clearInterval(timer);
      if (stopped) return reject(new Error(stopped));
      if (code !== 0)
        return reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}: ${err.trim().slice(-2000)}`));
      const last = out.trim().split("\n").pop() ?? "";
      try {
        const value = JSON.parse(last);
        if (watch && value && typeof value === "object") value.childPeakRssMb = hwm;
        resolve(value);
      } catch {
        reject(new Error(`${cmd} printed no JSON result: ${out.slice(-500)} ${err.slice(-500)}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}
