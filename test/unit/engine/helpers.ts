// Shared helpers for engine tests: seeded random data and running a graph through onnxruntime.
import * as E from "../../../src/engine";
import { createSession, Session } from "../../../src/runtime";

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Domain = "any" | "pos";
export function sample(r: () => number, n: number, domain: Domain): Float64Array {
  return Float64Array.from({ length: n }, () => (domain === "pos" ? 0.5 + 1.5 * r() : 2 * r() - 1));
}

export function f64(dims: number[], data: ArrayLike<number>): E.HostTensor {
  return { dtype: "float64", dims, data: Float64Array.from(data) };
}
export function i64(dims: number[], data: number[]): E.HostTensor {
  return { dtype: "int64", dims, data: BigInt64Array.from(data.map(BigInt)) };
}

export async function session(g: E.Graph): Promise<Session> {
  return createSession(E.toOnnx(g), { provider: "cpu", intraOpThreads: 1, label: g.name });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}
