// Small statistics and process helpers shared by the benchmark parts.
import { spawn } from "node:child_process";

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
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, peakRssMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** Runs a program with a JSON job on stdin and parses the last stdout line as JSON. */
export function runJsonChild(cmd: string, args: string[], job: unknown, signal?: AbortSignal, env?: Record<string, string>): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], signal, ...(env ? { env: { ...process.env, ...env } } : {}) });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}: ${err.trim().slice(-2000)}`));
      const last = out.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${cmd} printed no JSON result: ${out.slice(-500)} ${err.slice(-500)}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}
