// Shared pieces of the reliability suite (issue 11): a `relCase` wrapper that records every case tried
// and its outcome per category, a watchdog so a hang fails instead of stalling CI, hashing for the
// "file byte-identical afterwards" checks, and runners for the `seat` CLI (in process and as a child).
//
// node:test runs each test file in its own process, so each file writes its own record under
// test-artifacts/reliability/ when it exits and then rebuilds test-artifacts/reliability-summary.json
// from all records present (scripts/reliability-summary.ts prints the same table).
import { test, type TestContext } from "node:test";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { spawn, type SpawnOptions } from "node:child_process";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { main } from "../../../src/cli/main";

export const REPO = resolve(__dirname, "../../..");
export const ARTIFACTS = join(REPO, "test-artifacts");
const RECORDS = join(ARTIFACTS, "reliability");

export type Category = "datasets" | "models" | "training" | "trust-webview" | "responsiveness";

interface CaseRecord {
  category: Category;
  name: string;
  passed: boolean;
  error?: string;
  /** Measured figures the case reports (not asserted), e.g. event-loop delay. */
  measured?: Record<string, number | string>;
}

const records: CaseRecord[] = [];
const measuredByCase = new Map<string, Record<string, number | string>>();
let fileTag = "";

/** Attaches a measured figure to the currently running case's record. */
export function measure(caseName: string, key: string, value: number | string): void {
  const m = measuredByCase.get(caseName) ?? {};
  m[key] = value;
  measuredByCase.set(caseName, m);
}

/**
 * One reliability case: a node:test test whose outcome is also recorded for the summary. A case that
 * runs past `timeoutMs` fails (the watchdog for "no hang").
 */
export function relCase(
  category: Category,
  name: string,
  fn: (t: TestContext) => Promise<void> | void,
  timeoutMs = 60_000,
): void {
  if (!fileTag) {
    fileTag = basename(process.argv[1] ?? "unknown").replace(/\.test\.ts$/, "");
    process.on("exit", writeRecords);
  }
  test(`[${category}] ${name}`, { timeout: timeoutMs }, async (t) => {
    try {
      await fn(t);
      records.push({
        category,
        name,
        passed: true,
        ...(measuredByCase.has(name) ? { measured: measuredByCase.get(name) } : {}),
      });
    } catch (e) {
      records.push({
        category,
        name,
        passed: false,
        error: String((e as Error)?.message ?? e).slice(0, 500),
        ...(measuredByCase.has(name) ? { measured: measuredByCase.get(name) } : {}),
      });
      throw e;
    }
  });
}

function writeRecords(): void {
  try {
    mkdirSync(RECORDS, { recursive: true });
    const file = join(RECORDS, `${fileTag}.json`);
    writeFileSync(
      `${file}.tmp-${process.pid}`,
      JSON.stringify({ file: fileTag, finished: new Date().toISOString(), cases: records }, null, 2) + "\n",
    );
    renameSync(`${file}.tmp-${process.pid}`, file);
    const summary = join(ARTIFACTS, "reliability-summary.json");
    writeFileSync(`${summary}.tmp-${process.pid}`, JSON.stringify(buildSummary(), null, 2) + "\n");
    renameSync(`${summary}.tmp-${process.pid}`, summary);
  } catch (e) {
    process.stderr.write(`reliability summary not written: ${(e as Error).message}\n`);
  }
}

/** Per-category tried/passed counts from every file's record (the same logic as the summary script). */
export function buildSummary(): {
  categories: Record<string, { tried: number; passed: number; failed: string[] }>;
  tried: number;
  passed: number;
  files: Record<string, string>;
  measured: Record<string, unknown>;
} {
  const categories: Record<string, { tried: number; passed: number; failed: string[] }> = {};
  const measuredAll: Record<string, unknown> = {};
  const files: Record<string, string> = {};
  let tried = 0;
  let passed = 0;
  for (const f of readdirSync(RECORDS)
    .filter((n) => n.endsWith(".json"))
    .sort()) {
    const rec = JSON.parse(readFileSync(join(RECORDS, f), "utf8")) as {
      file: string;
      finished: string;
      cases: CaseRecord[];
    };
    // When were these results produced (a partial run leaves the other files' older records).
    files[rec.file] = rec.finished;
    for (const c of rec.cases) {
      const cat = (categories[c.category] ??= { tried: 0, passed: 0, failed: [] });
      cat.tried++;
      tried++;
      if (c.passed) {
        cat.passed++;
        passed++;
      } else cat.failed.push(c.name);
      if (c.measured) measuredAll[`${c.category}: ${c.name}`] = c.measured;
    }
  }
  return { categories, tried, passed, files, measured: measuredAll };
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

/** Runs `seat ARGV...` in this process (the CLI's own main()), capturing output. */
export async function seat(
  argv: string[],
  cwd: string,
  signal = new AbortController().signal,
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s), isTty: false, cwd, signal });
  return { code, out: out.join(""), err: err.join("") };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** The `seat` CLI as a separate process (what a terminal or the editor starts). */
export function seatChild(
  argv: string[],
  opts: SpawnOptions & {
    preload?: string;
    onStdoutLine?: (line: string, kill: (s: NodeJS.Signals) => void) => void;
    timeoutMs?: number;
  } = {},
): Promise<ChildResult> {
  const { preload, onStdoutLine, timeoutMs = 90_000, ...spawnOpts } = opts;
  const nodeArgs = [
    "--import",
    "tsx",
    ...(preload ? ["--import", pathToFileURL(preload).href] : []),
    join(REPO, "src/cli/main.ts"),
    ...argv,
  ];
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, nodeArgs, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"], ...spawnOpts });
    let out = "";
    let err = "";
    let pending = "";
    const kill = (s: NodeJS.Signals) => p.kill(s);
    const watchdog = setTimeout(() => {
      p.kill("SIGKILL");
      fail(new Error(`seat ${argv[0]} did not finish within ${timeoutMs} ms (hang); stderr: ${err.slice(-2000)}`));
    }, timeoutMs);
    p.stdout!.setEncoding("utf8");
    p.stdout!.on("data", (d: string) => {
      out += d;
      pending += d;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        onStdoutLine?.(line, kill);
      }
    });
    p.stderr!.setEncoding("utf8");
    p.stderr!.on("data", (d: string) => {
      err += d;
    });
    p.on("error", (e) => {
      clearTimeout(watchdog);
      fail(e);
    });
    p.on("close", (code, signal) => {
      clearTimeout(watchdog);
      done({ code, signal, out, err });
    });
  });
}

/** Resolves `p` or fails after `ms` (for library calls that might hang). */
export async function withWatchdog<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, fail) => {
        timer = setTimeout(() => fail(new Error(`${what}: no result within ${ms} ms (hang)`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
