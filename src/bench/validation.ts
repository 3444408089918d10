// Validation throughput for the benchmark suite: writes a synthetic QA dataset of simple lines and times
// the streaming validator on it (on one thread or on worker threads), sampling RSS while it runs (flat
// memory means the peak stays near the starting RSS plus the read buffers and duplicate table, whatever
// the file size; RSS and CPU time cover every thread of the process).
import { createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { once } from "node:events";
import { validateFile, type StreamOptions } from "../data/index";
import { defaultValidationThreads } from "../data/parallel";

/** Streams `n` lines produced by `line(i)` to `path` in batches (flat memory for millions of lines). */
export async function writeLinesFile(path: string, n: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  let batch: string[] = [];
  for (let i = 0; i < n; i++) {
    batch.push(line(i));
    if (batch.length === 4096) {
      if (!out.write(batch.join("\n") + "\n")) await once(out, "drain");
      batch = [];
    }
  }
  if (batch.length) out.write(batch.join("\n") + "\n");
  out.end();
  await once(out, "finish");
}

/** Writes `lines` distinct QA records (with seat metadata) to `path`; returns the byte count. */
export async function writeBenchDataset(path: string, lines: number): Promise<number> {
  const first = ["Qorvath", "Belmora", "Tesk", "Ilvane", "Durro", "Maelis", "Corvane", "Ostrid"];
  const last = ["Lintel", "Ashgrove", "Venn", "Marrow", "Quill", "Hale", "Dunmere", "Soll"];
  await writeLinesFile(path, lines, (i) => {
    const name = `${first[i % 8]} ${last[(i >> 3) % 8]}`;
    const year = 1800 + (i % 200);
    return JSON.stringify({
      question: `In which year was ${name} (record ${i}) born, and where did they first exhibit their work?`,
      answer: `${name} was born in ${year} and first exhibited at the Hall of ${last[i % 8]} in the city of ${first[(i >> 6) % 8]}port.`,
      seat: { entities: [name] },
    });
  });
  return (await stat(path)).size;
}

export interface ValidationBenchResult {
  bytes: number;
  lines: number;
  seconds: number;
  mbPerSec: number;
  /**
   * Throughput per second of this process's CPU time (user + system): on a shared, oversubscribed
   * machine wall time measures the neighbours, CPU time still measures the validator.
   */
  cpuSeconds: number;
  mbPerCpuSec: number;
  /** Highest RSS sampled during the run, and the RSS just before it started. */
  peakRssBytes: number;
  startRssBytes: number;
  errors: number;
  warnings: number;
  /** Worker threads asked for (1: validated on the calling thread; files under two parts stay there too). */
  threads: number;
}

/** Times one validation of `path` (1 MB = 1e6 bytes). */
export async function benchValidation(
  path: string,
  options: Omit<StreamOptions, "onProgress"> = {},
): Promise<ValidationBenchResult> {
  const startRss = process.memoryUsage().rss;
  let peak = startRss;
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const v = await validateFile(path, {
    ...options,
    onProgress: () => {
      const r = process.memoryUsage().rss;
      if (r > peak) peak = r;
    },
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const end = process.memoryUsage().rss;
  if (end > peak) peak = end;
  return {
    bytes: v.summary.bytes,
    lines: v.summary.lines,
    seconds,
    mbPerSec: v.summary.bytes / 1e6 / seconds,
    cpuSeconds,
    mbPerCpuSec: v.summary.bytes / 1e6 / cpuSeconds,
    peakRssBytes: peak,
    startRssBytes: startRss,
    errors: v.summary.errors,
    warnings: v.summary.warnings,
    threads: options.threads ?? defaultValidationThreads(),
  };
}
