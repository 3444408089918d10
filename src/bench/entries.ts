// Report entries assembled from the ours/peer pairs a case measured (medians over rounds).
import type { BenchReport, TrainEntry, GenerateEntry } from "./report";
import { median } from "./stats";

/** The larger of what the child reported itself (getrusage) and the VmHWM its parent polled. */
export function peakOf(x: { peakRssMb?: number; childPeakRssMb?: number }): number {
  return Math.max(x.peakRssMb ?? 0, x.childPeakRssMb ?? 0);
}

/** Medians over rounds: per-side figures, and the ratio as the median of per-round ratios. */
export function trainEntry(
  model: string,
  method: string,
  pairs: { our: any; torch: any }[],
  ceiling: BenchReport["matmulCeilingGflops"],
): TrainEntry {
  const last = pairs[pairs.length - 1];
  const med = (f: (p: { our: any; torch: any }) => number) => median(pairs.map(f));
  const ours = {
    ...last.our,
    stepSeconds: med((p) => p.our.stepSeconds),
    stepCpuSeconds: med((p) => p.our.stepCpuSeconds),
    tokensPerSec: med((p) => p.our.tokensPerSec),
    gflops: med((p) => p.our.gflops),
    peakRssMb: Math.max(...pairs.map((p) => peakOf(p.our))),
  };
  const flops = last.our.flops.total as number;
  const torch = {
    ...last.torch,
    stepSeconds: med((p) => p.torch.stepSeconds),
    stepCpuSeconds: med((p) => p.torch.stepCpuSeconds),
    tokensPerSec: med((p) => p.torch.tokensPerSec),
    peakRssMb: Math.max(...pairs.map((p) => peakOf(p.torch))),
  };
  torch.gflops = flops / torch.stepSeconds / 1e9;
  const entry: TrainEntry = {
    model,
    method,
    batch: last.our.shape.B,
    seq: last.our.shape.T,
    ours,
    torch,
    ratioVsTorch: med((p) => p.our.tokensPerSec / p.torch.tokensPerSec),
    cpuRatioVsTorch: med((p) => p.torch.stepCpuSeconds / p.our.stepCpuSeconds),
    rounds: pairs.map((p) => ({
      ours: p.our.tokensPerSec,
      torch: p.torch.tokensPerSec,
      oursCpuSeconds: p.our.stepCpuSeconds,
      torchCpuSeconds: p.torch.stepCpuSeconds,
    })),
  };
  if (last.our.shape.Tk) entry.klSeq = last.our.shape.Tk;
  if (ceiling) {
    entry.ceilingFraction = ours.gflops / ceiling.median;
    if (ceiling.perCpuSecond) entry.cpuCeilingFraction = flops / ours.stepCpuSeconds / 1e9 / ceiling.perCpuSecond;
  }
  return entry;
}

export function generateEntry(
  model: string,
  gen: { B: number; promptLen: number },
  pairs: { our: any; torch: any }[],
): GenerateEntry {
  const last = pairs[pairs.length - 1];
  const med = (f: (p: { our: any; torch: any }) => number) => median(pairs.map(f));
  return {
    model,
    batch: gen.B,
    prompt: gen.promptLen,
    newTokens: last.our.newTokens,
    ours: {
      ...last.our,
      seconds: med((p) => p.our.seconds),
      cpuSeconds: med((p) => p.our.cpuSeconds),
      tokensPerSec: med((p) => p.our.tokensPerSec),
      peakRssMb: Math.max(...pairs.map((p) => peakOf(p.our))),
    },
    torch: {
      ...last.torch,
      seconds: med((p) => p.torch.seconds),
      cpuSeconds: med((p) => p.torch.cpuSeconds),
      tokensPerSec: med((p) => p.torch.tokensPerSec),
      peakRssMb: Math.max(...pairs.map((p) => peakOf(p.torch))),
    },
    ratioVsTorch: med((p) => p.our.tokensPerSec / p.torch.tokensPerSec),
    cpuRatioVsTorch: med((p) => p.torch.cpuSeconds / p.our.cpuSeconds),
  };
}
