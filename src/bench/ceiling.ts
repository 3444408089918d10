// The physical limit the training figures are compared with: the fp32 MatMul rate onnxruntime reaches
// on this machine, measured now (a datasheet number would not reflect a shared, noisy VM).
import * as E from "../engine";
import { createSession } from "../runtime";
import { median, timeReps } from "./stats";

export interface CeilingResult {
  shape: [number, number, number];
  threads: number;
  bestGflops: number;
  medianGflops: number;
  /**
   * GFLOP per CPU-second (all threads): what the kernel does with the CPU it actually got. On a shared
   * machine wall-clock rates swing with the neighbours; this one much less (threads do not spin).
   */
  cpuGflops: number;
}

export async function matmulCeiling(opts: {
  m?: number;
  k?: number;
  n?: number;
  threads: number;
  reps: number;
}): Promise<CeilingResult> {
  const { m = 512, k = 2048, n = 2048, threads, reps } = opts;
  const g = new E.Graph("matmul-ceiling");
  const a = g.input("a", "float32", [m, k]);
  const b = g.input("b", "float32", [k, n]);
  g.output("c", E.matMul(a, b));
  const s = await createSession(E.toOnnx(g), {
    provider: "cpu",
    intraOpThreads: threads,
    interOpThreads: 1,
    label: "matmul-ceiling",
  });
  try {
    const fill = (len: number) => Float32Array.from({ length: len }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
    const feeds = { a: E.hostTensor("float32", [m, k], fill(m * k)), b: E.hostTensor("float32", [k, n], fill(k * n)) };
    const cpu: number[] = [];
    const times = await timeReps(reps, 2, async () => {
      const c0 = process.cpuUsage();
      await s.run(feeds, ["c"]);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1e6);
    });
    const flop = 2 * m * k * n;
    return {
      shape: [m, k, n],
      threads,
      bestGflops: flop / Math.min(...times) / 1e9,
      medianGflops: flop / median(times) / 1e9,
      cpuGflops: flop / median(cpu.slice(2)) / 1e9,
    };
  } finally {
    await s.release();
  }
}
