// Probe throughput: the probe suite a user runs (`seat probe`: greedy answers to each record's question
// and its look-alike neighbours, abstention verdicts, hidden states), on one loaded model, timed once
// without and once with P(abstain) (the sampling-free abstention probability, src/eval). The model is
// loaded once and warmed up first, so the two timings differ by P(abstain)'s work alone.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readDataset } from "../data/index";
import {
  addGeneratedNeighbours,
  loadAbstentionLists,
  makeAbstentionDetector,
  probeInputs,
  runtimeProbeModel,
} from "../eval/index";
import { runProbeSuite } from "../eval/suite";
import { writeFixedLengthDataset } from "./train";

export interface ProbeRun {
  seconds: number;
  cpuSeconds: number;
  /** Questions answered (own + neighbours + unknown), and per second. */
  queries: number;
  queriesPerSec: number;
}

export interface ProbeBenchResult {
  records: number;
  without: ProbeRun;
  with: ProbeRun;
  /** with / without seconds: what P(abstain) adds to a probe's time. */
  abstainTimeRatio: number;
  /** The same in CPU seconds: the two runs are minutes apart, so on a shared machine this is the fair one. */
  abstainCpuRatio: number;
  peakRssMb: number;
}

export async function benchOurProbe(opts: {
  modelDir: string;
  root: string;
  records: number;
  neighbours: number;
  threads: number;
}): Promise<ProbeBenchResult> {
  const work = mkdtempSync(join(tmpdir(), "seat-bench-probe-"));
  const model = await runtimeProbeModel(
    { dir: opts.modelDir, label: "bench", hash: "bench" },
    { provider: "cpu", intraOpThreads: opts.threads },
  );
  try {
    const data = join(work, "data.jsonl");
    writeFixedLengthDataset(data, opts.modelDir, opts.records, 48);
    const ds = await readDataset(data);
    const inputs = probeInputs(ds.records);
    addGeneratedNeighbours(ds.records, inputs.records, opts.neighbours);
    const lists = loadAbstentionLists({ resourcesDir: join(opts.root, "resources") });
    const detector = makeAbstentionDetector(lists.phrases);
    const queries = inputs.records.reduce((n, r) => n + 1 + r.perturbations.length, 0) + inputs.unknown.length;
    const run = async (abstentionProbability: boolean): Promise<ProbeRun> => {
      const t0 = process.hrtime.bigint();
      const c0 = process.cpuUsage();
      await runProbeSuite(
        model,
        { dataset: { path: data, hash: "bench" }, ...inputs },
        { detector, openings: lists.openings, settings: { abstentionProbability } },
      );
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const c = process.cpuUsage(c0);
      return { seconds, cpuSeconds: (c.user + c.system) / 1e6, queries, queriesPerSec: queries / seconds };
    };
    // warm-up: one record, so sessions and arenas are sized before either timing
    await runProbeSuite(
      model,
      { dataset: { path: data, hash: "bench" }, records: inputs.records.slice(0, 1), unknown: [] },
      { detector, openings: lists.openings, settings: { abstentionProbability: true, maxNewTokens: 4 } },
    );
    const without = await run(false);
    const withP = await run(true);
    return {
      records: inputs.records.length,
      without,
      with: withP,
      abstainTimeRatio: withP.seconds / without.seconds,
      abstainCpuRatio: withP.cpuSeconds / without.cpuSeconds,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await model.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}
